/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* xor-bench: RAID-5 parity arithmetic, ldmd's xor_blocks()/xor_into() (ldm/xor.h) against
 * ISA-L's xor_gen() over the very same buffers. For each source count and block length it
 * alternates trials of the two, checks that both produce the same bytes, and prints the best
 * and the median rate of each (GB/s of source data XOR-ed: n × len bytes per call). Best-of
 * is what the ratio uses: on a shared machine the slow trials measure the other tenants.
 *
 *   xor-bench [--trials N] [--mib-per-trial M]
 *
 * Sizes: 64 KiB blocks stay in L2/L3 (the reader's scratch-to-chunk XOR of small stripes),
 * 1 MiB is the repair engine's chunk, 16 MiB blocks (up to 144 MiB touched per call) leave
 * every cache, so that case measures memory bandwidth. "engine" is the repair engine's
 * pattern (resync.c xor_columns(): the first column is read into the chunk buffer, the
 * others into slices of the scratch buffer, then one xor_blocks() whose destination is also
 * its first source) against one xor_gen() over all sources: the same result, each side
 * computing it the way it is built to.
 *
 * Output: one "xor …" line per case, then "RESULT metric ours isal ratio target" lines
 * (GB/s) for bench/run-all.sh. Not a test; exits 1 only when the results differ. */

#include <errno.h>
#include <getopt.h>
#include <isa-l/raid.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "stats.h"
#include "xor.h"

#define MAX_SOURCES 8
#define MAX_TRIALS 64

static unsigned arg_trials = 11;
static uint64_t arg_bytes_per_trial = 256ull << 20;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* xorshift64*: cheap, reproducible, not all-zero data. */
static void fill_random(uint8_t *p, size_t len, uint64_t seed) {
        uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

        for (size_t i = 0; i + 8 <= len; i += 8) {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                uint64_t v = x * 0x2545F4914F6CDD1Dull;
                memcpy(p + i, &v, 8);
        }
}

typedef enum Mode {
        MODE_GEN,        /* dst = s0 ^ … ^ s(n-1) */
        MODE_ACCUMULATE, /* dst = s0, then dst ^= s(k) one source at a time (resync.c) */
} Mode;

typedef struct Case {
        Mode mode;
        unsigned n;        /* sources */
        size_t len;
        uint8_t *src[MAX_SOURCES];
        uint8_t *dst_ours, *dst_isal;
        const uint8_t *in_place[MAX_SOURCES]; /* dst_ours, then src[1…n) */
        unsigned iters;
} Case;

static int run_ours(Case *c) {
        for (unsigned it = 0; it < c->iters; it++) {
                if (c->mode == MODE_GEN)
                        xor_blocks(c->dst_ours, (const void *const *) c->src, c->n, c->len);
                else
                        /* The engine reads the first column straight into the chunk
                         * buffer (here: dst already holds it) and XORs the others into
                         * it in one pass. */
                        xor_blocks(c->dst_ours, (const void *const *) c->in_place, c->n, c->len);
        }
        return 0;
}

static int run_isal(Case *c) {
        void *v[MAX_SOURCES + 1];

        /* Both modes: one xor_gen() over all sources, the way ISA-L is meant to be used
         * (calling it per source in place is 3-4x slower: its non-temporal stores push the
         * destination out of the cache before the next call reads it back). */
        for (unsigned k = 0; k < c->n; k++)
                v[k] = c->src[k];
        v[c->n] = c->dst_isal;
        for (unsigned it = 0; it < c->iters; it++)
                if (xor_gen((int) c->n + 1, (int) c->len, v) != 0)
                        return -EINVAL;
        return 0;
}

/* Rate in GB/s of source bytes for one trial of f. */
static int trial(Case *c, int (*f)(Case *), double *ret) {
        double t0 = now(), t;
        int r = f(c);

        if (r < 0)
                return r;
        t = now() - t0;
        *ret = (double) c->iters * c->n * c->len / t / 1e9;
        return 0;
}

static int run_case(Mode mode, unsigned n, size_t len, const char *metric) {
        Case c = { .mode = mode, .n = n, .len = len };
        double ours[MAX_TRIALS], isal[MAX_TRIALS];
        uint64_t per_call = (uint64_t) n * len;
        int r = -ENOMEM;

        c.iters = (unsigned) (arg_bytes_per_trial / per_call ?: 1);
        for (unsigned k = 0; k < n; k++) {
                c.src[k] = aligned_alloc(4096, len);
                if (!c.src[k])
                        goto out;
                fill_random(c.src[k], len, k + 1);
        }
        c.dst_ours = aligned_alloc(4096, len);
        c.dst_isal = aligned_alloc(4096, len);
        if (!c.dst_ours || !c.dst_isal)
                goto out;
        c.in_place[0] = c.dst_ours;
        for (unsigned k = 1; k < n; k++)
                c.in_place[k] = c.src[k];
        /* Touch the destinations once so page faults stay out of the first trial. */
        memset(c.dst_ours, 0, len);
        memset(c.dst_isal, 0, len);

        /* Correctness first, on one call each from the same starting bytes. */
        {
                unsigned saved = c.iters;
                c.iters = 1;
                if (mode == MODE_ACCUMULATE)
                        memcpy(c.dst_ours, c.src[0], len);
                r = run_ours(&c);
                if (r >= 0)
                        r = run_isal(&c);
                c.iters = saved;
                if (r < 0) {
                        fprintf(stderr, "xor_gen failed (n=%u len=%zu)\n", n, len);
                        goto out;
                }
                if (memcmp(c.dst_ours, c.dst_isal, len) != 0) {
                        fprintf(stderr, "results differ (n=%u len=%zu)\n", n, len);
                        r = -EBADMSG;
                        goto out;
                }
        }

        for (unsigned t = 0; t < arg_trials; t++) {
                /* Alternate which goes first, so neither always follows the other's cache. */
                if (t % 2 == 0) {
                        r = trial(&c, run_ours, &ours[t]);
                        if (r >= 0)
                                r = trial(&c, run_isal, &isal[t]);
                } else {
                        r = trial(&c, run_isal, &isal[t]);
                        if (r >= 0)
                                r = trial(&c, run_ours, &ours[t]);
                }
                if (r < 0)
                        goto out;
        }
        /* stats_median() sorts: the best rate is then the last. */
        double om = stats_median(ours, arg_trials), im = stats_median(isal, arg_trials);
        double ob = ours[arg_trials - 1], ib = isal[arg_trials - 1];
        printf("xor %-10s sources=%u len=%-8zu ours best %6.2f median %6.2f GB/s  isal best %6.2f median %6.2f GB/s  ratio %.2f (median %.2f)\n",
               mode == MODE_GEN ? "gen" : "engine", n, len, ob, om, ib, im, ob / ib, om / im);
        if (metric)
                printf("RESULT %s %.2f %.2f %.2f >=0.9\n", metric, ob, ib, ob / ib);
        fflush(stdout);
        r = 0;
out:
        for (unsigned k = 0; k < n; k++)
                free(c.src[k]);
        free(c.dst_ours);
        free(c.dst_isal);
        return r;
}

static const char *size_name(size_t len, char *buf, size_t n) {
        if (len >= (1u << 20))
                snprintf(buf, n, "%zuMiB", len >> 20);
        else
                snprintf(buf, n, "%zuKiB", len >> 10);
        return buf;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "trials", required_argument, NULL, 't' },
                { "mib-per-trial", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        static const unsigned sources[] = { 2, 3, 4, 7 };
        static const size_t lens[] = { 64u << 10, 1u << 20, 16u << 20 };
        int c, r, failed = 0;

        while ((c = getopt_long(argc, argv, "t:m:h", options, NULL)) >= 0)
                switch (c) {
                case 't':
                        arg_trials = (unsigned) strtoul(optarg, NULL, 10);
                        if (arg_trials == 0 || arg_trials > MAX_TRIALS) {
                                fprintf(stderr, "--trials: 1..%d\n", MAX_TRIALS);
                                return 2;
                        }
                        break;
                case 'm':
                        arg_bytes_per_trial = strtoull(optarg, NULL, 10) << 20;
                        if (arg_bytes_per_trial == 0)
                                return 2;
                        break;
                case 'h':
                        printf("Usage: %s [--trials N] [--mib-per-trial M]\n", argv[0]);
                        return 0;
                default:
                        return 2;
                }

        printf("xor-bench: %u trials of %llu MiB of sources each, alternating; GB/s = source bytes per second\n",
               arg_trials, (unsigned long long) (arg_bytes_per_trial >> 20));
        /* RESULT rows: 3 and 7 sources (RAID-5 of 4 and 8 disks) at every size, and the
         * engine's in-place pattern at 1 MiB; the other rows are for the log. */
        for (size_t i = 0; i < ELEMENTSOF(lens); i++)
                for (size_t k = 0; k < ELEMENTSOF(sources); k++) {
                        char metric[64], sz[24];
                        bool row = sources[k] == 3 || sources[k] == 7;

                        snprintf(metric, sizeof(metric), "xor-%usrc-%s-GBps", sources[k],
                                 size_name(lens[i], sz, sizeof(sz)));
                        r = run_case(MODE_GEN, sources[k], lens[i], row ? metric : NULL);
                        if (r < 0)
                                failed = 1;
                }
        for (size_t i = 0; i < ELEMENTSOF(lens); i++)
                for (unsigned n = 3; n <= 7; n += 4) {
                        char metric[64], sz[24];

                        snprintf(metric, sizeof(metric), "xor-engine-%usrc-%s-GBps", n,
                                 size_name(lens[i], sz, sizeof(sz)));
                        r = run_case(MODE_ACCUMULATE, n, lens[i], lens[i] == (1u << 20) ? metric : NULL);
                        if (r < 0)
                                failed = 1;
                }
        return failed;
}
