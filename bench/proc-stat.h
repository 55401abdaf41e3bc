/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* proc-stat.h: what the benchmarks read about the daemon under test from /proc. */

#include <sys/types.h>

/* The number on one "Key:   value kB" line of /proc/PID/status (e.g. "VmRSS"), -1 if absent. */
long proc_status(pid_t pid, const char *key);
/* utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat, after the comm), -1 on error. */
long proc_cpu_ticks(pid_t pid);
