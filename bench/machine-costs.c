/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* machine-costs: what this machine charges for the two things a short-lived reader does most,
 * so that results from different machines can be told apart (bench/run-all.sh and
 * bench/run-scan.sh print its line beside their tables).
 *
 *   machine-costs [PAGES]
 *
 * Prints one line:
 *   costs: page first touch T µs, after MADV_POPULATE_WRITE P+U µs, system call S µs
 * T is the first write to each page of a fresh anonymous mapping (the page fault and whatever
 * the hypervisor adds), P the populate call per page, U the first write after it, S a
 * getppid(2). Medians of 5 rounds of PAGES pages (default 1000) and 1000 calls.
 *
 * Why: a 64-disk scan in a fresh process touches ~500 new pages and makes ~1 800 system calls;
 * on a guest with shadow page tables each first touch of a page costs a trip to the host,
 * even after the guest kernel populated it (U then stays close to T), and the scan's time
 * follows. Not a test. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define ROUNDS 5
#define CALLS 1000

static double now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

/* Writes one byte to each page; returns µs per page. */
static double touch_pages(volatile char *p, size_t pages, char value) {
        double t = now_us();

        for (size_t i = 0; i < pages; i++)
                p[i * 4096] = value;
        return (now_us() - t) / (double) pages;
}

static int measure_pages(size_t pages, double *ret_touch, double *ret_populate, double *ret_after) {
        size_t len = pages * 4096;
        char *fresh, *populated;
        double t;

        fresh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fresh == MAP_FAILED)
                return -errno;
        populated = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (populated == MAP_FAILED) {
                int r = -errno;
                munmap(fresh, len);
                return r;
        }
        *ret_touch = touch_pages(fresh, pages, 1);
        t = now_us();
        /* Kernels before 5.14 have no MADV_POPULATE_WRITE: the column then says so. */
        if (madvise(populated, len, MADV_POPULATE_WRITE) < 0) {
                *ret_populate = *ret_after = -1;
        } else {
                *ret_populate = (now_us() - t) / (double) pages;
                *ret_after = touch_pages(populated, pages, 1);
        }
        munmap(fresh, len);
        munmap(populated, len);
        return 0;
}

static double measure_syscall(void) {
        double t = now_us();

        for (int i = 0; i < CALLS; i++)
                (void) syscall(SYS_getppid);
        return (now_us() - t) / CALLS;
}

int main(int argc, char *argv[]) {
        double touch[ROUNDS], populate[ROUNDS], after[ROUNDS], call[ROUNDS];
        size_t pages = 1000;

        if (argc > 1) {
                char *end;

                errno = 0;
                pages = strtoul(argv[1], &end, 10);
                if (errno != 0 || *end != '\0' || pages == 0 || pages > 1000000) {
                        fprintf(stderr, "machine-costs: PAGES must be 1..1000000, not \"%s\"\n", argv[1]);
                        return 2;
                }
        }
        for (int i = 0; i < ROUNDS; i++) {
                int r = measure_pages(pages, &touch[i], &populate[i], &after[i]);

                if (r < 0) {
                        fprintf(stderr, "machine-costs: cannot map %zu pages: %s\n", pages, strerror(-r));
                        return 1;
                }
                call[i] = measure_syscall();
        }
        if (stats_median(populate, ROUNDS) < 0)
                printf("costs: page first touch %.2f µs, MADV_POPULATE_WRITE unsupported, system call %.2f µs\n",
                       stats_median(touch, ROUNDS), stats_median(call, ROUNDS));
        else
                printf("costs: page first touch %.2f µs, after MADV_POPULATE_WRITE %.2f+%.2f µs, system call %.2f µs\n",
                       stats_median(touch, ROUNDS), stats_median(populate, ROUNDS), stats_median(after, ROUNDS),
                       stats_median(call, ROUNDS));
        return 0;
}
