/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc-stat.h"

long proc_status(pid_t pid, const char *key) {
        char path[64], line[256];
        size_t kl = strlen(key);
        long v = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
                        v = strtol(line + kl + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

long proc_cpu_ticks(pid_t pid) {
        char path[64], buf[1024];
        unsigned long ut, st;
        char *p;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        /* The comm may contain spaces and parentheses: the fields start after the last ')'. */
        if (!p || !(p = strrchr(buf, ')')))
                return -1;
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
                return -1;
        return (long) (ut + st);
}
