/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* log.c: stderr logging with journal priority prefixes (see log.h). Thread-safe enough for
 * the probe thread's rare messages: each message is written with one write() call. Every
 * message is escaped (utf8.h) on its way out. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

static int max_level = LOG_INFO;
static int journal_prefix = -1; /* -1: not yet known */

static const char *const level_names[] = {
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        if (!s || !*s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int) i;
        if (strcmp(s, "error") == 0)
                return LOG_ERR;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == 0)
                return s[0] - '0';
        return -EINVAL;
}

/* systemd sets $JOURNAL_STREAM to "dev:ino" of the stream it connected to our stderr. */
static int stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return 0;
        if (fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(void) {
        int l = log_level_from_string(getenv("LDMD_LOG_LEVEL"));

        if (l >= 0)
                max_level = l;
        journal_prefix = stderr_is_journal();
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char raw[1024], msg[1024], out[1200];
        int saved = errno;
        va_list ap;

        error = error < 0 ? -error : error;
        if (level > max_level)
                return -error;
        if (journal_prefix < 0)
                journal_prefix = stderr_is_journal();

        errno = error;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        /* One message, one line: a newline in a name from disk must not start a line of its
         * own (in the journal, "\n<0>" would forge an emergency). */
        utf8_escape_buf(raw, msg, sizeof(msg));

        int n;
        if (journal_prefix)
                n = snprintf(out, sizeof(out), "<%i>%s\n", level, msg);
        else if (max_level >= LOG_DEBUG)
                n = snprintf(out, sizeof(out), "ldmd: %s:%i: %s\n", file, line, msg);
        else
                n = snprintf(out, sizeof(out), "ldmd: %s\n", msg);
        if (n > 0)
                (void) !write(STDERR_FILENO, out, MIN((size_t) n, sizeof(out) - 1));

        errno = saved;
        return -error;
}
