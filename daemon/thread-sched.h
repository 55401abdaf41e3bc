/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* How each of the daemon's threads asks the CPU scheduler to treat it. All of them only ever
 * make a thread politer or ask for shorter time slices: the unit grants no CAP_SYS_NICE.
 * Every call works on the calling thread, and a failure (an old kernel, a seccomp filter)
 * only costs responsiveness, so none reports one. */

/* The loop thread, which answers the bus: wakes often, runs for tens of microseconds. */
#define THREAD_SCHED_LOOP_SLICE_NS 100000u

/* The loop thread: nice unchanged, the shortest time slice the kernel takes (EEVDF,
 * Linux ≥ 6.12; older kernels ignore it). A woken thread with a shorter slice gets an earlier
 * deadline and preempts a CPU-bound one sooner: with two Recover jobs' loop-device workers
 * busy on every CPU, a QueryStatus otherwise waits up to their whole slice. */
void thread_sched_loop(void);

/* A thread that works for the loop thread (the prober): nice unchanged, the kernel's default
 * slice, not the loop thread's short one, which threads inherit when they are created. */
void thread_sched_default(void);

/* A background thread (the repair workers): the given nice and the default slice. */
void thread_sched_background(int nice);
