/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* conf.h: the daemon's settings from /etc/ldmd/ldmd.conf (ldmd.conf(5)): an INI file with
 * one [Daemon] section. Every key has a compiled-in default, so the file may be absent. */

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_WORKER_THREADS_MAX 64u
#define CONFIG_MAX_FINISHED_JOBS_MAX 4096u
#define CONFIG_RATE_LIMIT_MIB_MAX (1024u * 1024u)

typedef struct Config {
        bool auto_recover;                 /* AutoRecover= */
        unsigned worker_threads;           /* WorkerThreads= (1…64), 0: one per CPU */
        uint64_t finished_job_lifetime_usec; /* FinishedJobLifetimeSec= */
        unsigned max_finished_jobs;        /* MaxFinishedJobs= (1…4096) */
        uint64_t repair_rate_limit;        /* RepairRateLimitMiB= in bytes/s, 0: none */
} Config;

/* The compiled-in defaults (AutoRecover=no, WorkerThreads= one per CPU, FinishedJobLifetimeSec=300,
 * MaxFinishedJobs=64). */
void config_init(Config *c);

/* Reads path over the values already in *c. A missing file is fine (returns 0) unless
 * `must_exist`. Unknown sections or keys are logged as warnings and ignored; a bad value is
 * an error naming file:line (returns -EINVAL and leaves *c partly updated). */
int config_load(Config *c, const char *path, bool must_exist);

/* Parses "yes/no/true/false/on/off/1/0". */
int config_parse_bool(const char *s, bool *ret);
/* Parses a decimal unsigned integer in [min, max]. */
int config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
