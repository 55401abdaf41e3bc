/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "thread-sched.h"

/* glibc 2.36 has no wrapper and <linux/sched/types.h> clashes with <sched.h>: the fields up
 * to sched_period are the first version of the structure, which every kernel with
 * sched_setattr() accepts. */
typedef struct ThreadSchedAttr {
        uint32_t size;
        uint32_t sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime;    /* SCHED_OTHER: the slice asked for, 0 for the default */
        uint64_t sched_deadline;
        uint64_t sched_period;
} ThreadSchedAttr;

#define THREAD_SCHED_OTHER 0

static int set_fair(int nice, uint64_t slice_ns) {
        ThreadSchedAttr attr = {
                .size = sizeof(attr),
                .sched_policy = THREAD_SCHED_OTHER,
                .sched_nice = nice,
                .sched_runtime = slice_ns,
        };

        return syscall(SYS_sched_setattr, 0, &attr, 0) < 0 ? -errno : 0;
}

/* The calling thread's nice (getpriority() on a thread id: nice is per thread on Linux). */
static int current_nice(void) {
        int nice;

        errno = 0;
        nice = getpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid));
        return errno != 0 ? 0 : nice;
}

void thread_sched_loop(void) {
        (void) set_fair(current_nice(), THREAD_SCHED_LOOP_SLICE_NS);
}

void thread_sched_default(void) {
        (void) set_fair(current_nice(), 0);
}

void thread_sched_background(int nice) {
        /* setpriority() where sched_setattr() is missing or filtered. */
        if (set_fair(nice, 0) < 0)
                (void) setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), nice);
}
