/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* conf.c: the ldmd.conf reader (see conf.h). Line oriented: comments start with '#' or
 * ';', sections are "[Name]", settings "Key=Value" with blanks around both trimmed. */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"

#define USEC_PER_SEC 1000000ull
#define CONFIG_LINE_MAX 4096

void config_init(Config *c) {
        *c = (Config) {
                .auto_recover = false,
                .worker_threads = 0, /* one per CPU */
                .finished_job_lifetime_usec = 300 * USEC_PER_SEC,
                .max_finished_jobs = 64,
        };
}

int config_parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

int config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                if (mul_u64_overflow(v, 10, &v) || add_u64_overflow(v, (uint64_t) (*p - '0'), &v))
                        return -ERANGE;
        }
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

/* Applies one Key=Value of [Daemon]. Returns 1 when applied, 0 for an unknown key, <0 for a
 * bad value. */
static int config_set(Config *c, const char *key, const char *value) {
        uint64_t u;
        int r;

        if (strcmp(key, "AutoRecover") == 0)
                return config_parse_bool(value, &c->auto_recover) ?: 1;
        if (strcmp(key, "WorkerThreads") == 0) {
                r = config_parse_uint(value, 1, CONFIG_WORKER_THREADS_MAX, &u);
                if (r < 0)
                        return r;
                c->worker_threads = (unsigned) u;
                return 1;
        }
        if (strcmp(key, "FinishedJobLifetimeSec") == 0) {
                r = config_parse_uint(value, 0, UINT64_MAX / USEC_PER_SEC, &u);
                if (r < 0)
                        return r;
                c->finished_job_lifetime_usec = u * USEC_PER_SEC;
                return 1;
        }
        if (strcmp(key, "RepairRateLimitMiB") == 0) {
                r = config_parse_uint(value, 0, CONFIG_RATE_LIMIT_MIB_MAX, &u);
                if (r < 0)
                        return r;
                c->repair_rate_limit = u * 1024 * 1024;
                return 1;
        }
        if (strcmp(key, "MaxFinishedJobs") == 0) {
                r = config_parse_uint(value, 1, CONFIG_MAX_FINISHED_JOBS_MAX, &u);
                if (r < 0)
                        return r;
                c->max_finished_jobs = (unsigned) u;
                return 1;
        }
        return 0;
}

static int config_line(Config *c, const char *path, unsigned line, char *l, bool *in_daemon) {
        char *s = strip(l), *eq;
        int r;

        if (!*s || *s == '#' || *s == ';')
                return 0;
        if (*s == '[') {
                size_t n = strlen(s);
                if (n < 3 || s[n - 1] != ']')
                        return log_error_errno(EINVAL, "%s:%u: malformed section header \"%s\".", path, line, s);
                s[n - 1] = 0;
                *in_daemon = strcmp(s + 1, "Daemon") == 0;
                if (!*in_daemon)
                        log_warning("%s:%u: unknown section [%s], ignoring.", path, line, s + 1);
                return 0;
        }
        eq = strchr(s, '=');
        if (!eq)
                return log_error_errno(EINVAL, "%s:%u: expected Key=Value, got \"%s\".", path, line, s);
        *eq = 0;
        const char *key = strip(s), *value = strip(eq + 1);
        if (!*in_daemon) {
                log_warning("%s:%u: %s= outside of [Daemon], ignoring.", path, line, key);
                return 0;
        }
        r = config_set(c, key, value);
        if (r == 0)
                log_warning("%s:%u: unknown key %s=, ignoring.", path, line, key);
        else if (r < 0)
                return log_error_errno(EINVAL, "%s:%u: invalid value \"%s\" for %s=.", path, line, value, key);
        return 0;
}

int config_load(Config *c, const char *path, bool must_exist) {
        _cleanup_free_ char *buf = NULL;
        bool in_daemon = false;
        unsigned line = 0;
        size_t size = 0;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT && !must_exist) {
                        log_debug("No %s, using built-in defaults.", path);
                        return 0;
                }
                return log_error_errno(errno, "Failed to open %s: %m", path);
        }
        while (getline(&buf, &size, f) >= 0) {
                line++;
                if (strlen(buf) > CONFIG_LINE_MAX) {
                        r = log_error_errno(EINVAL, "%s:%u: line too long.", path, line);
                        break;
                }
                r = config_line(c, path, line, buf, &in_daemon);
                if (r < 0)
                        break;
        }
        if (r >= 0 && ferror(f))
                r = log_error_errno(EIO, "Failed to read %s: %m", path);
        fclose(f);
        return r < 0 ? r : 0;
}
