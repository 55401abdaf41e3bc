/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Runs a fuzz target over the files (or directories of files) named on the command line:
 * the corpus regression test, built with any compiler. */

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
        _cleanup_free_ uint8_t *buf = NULL;
        FILE *f;
        long size;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                fclose(f);
                return -EIO;
        }
        buf = malloc((size_t) size + 1);
        if (!buf || fread(buf, 1, (size_t) size, f) != (size_t) size) {
                fclose(f);
                return -EIO;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t) size);
        return 0;
}

static int run_path(const char *path, unsigned *count) {
        struct stat st;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode)) {
                (*count)++;
                return run_file(path);
        }
        d = opendir(path);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char sub[4096];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                r = run_path(sub, count);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

int main(int argc, char *argv[]) {
        unsigned count = 0;

        for (int i = 1; i < argc; i++) {
                int r = run_path(argv[i], &count);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
                        return 1;
                }
        }
        printf("ran %u inputs\n", count);
        return 0;
}
