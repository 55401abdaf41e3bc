/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* scan-bench: a stopwatch for reading LDM metadata, ours and anybody else's.
 *
 *   scan-bench [--runs N] [--drop-caches] [--threads N|auto] [--batch N] [--light] PATH...
 *       times ldm_scan_paths() over PATHs inside this process, N times (the scan is freed
 *       between runs), and prints the packs, devices and invalid disks it found. With
 *       --threads N (auto: as many as ldmd takes, ldm_device_probe_threads()) the devices
 *       are probed by N threads in parallel, each taking batches of
 *       devices (ldm_device_probe_batch(): one batch per thread unless --batch N says how
 *       many; --batch 1 probes one device after the other, as before batches),
 *       and then grouped by one ldm_scan_build(), as ldmd's probe thread does;
 *       --light probes with LDM_PROBE_NO_RAW (no raw config/log kept, as ldmd does);
 *   scan-bench --exec [--runs N] [--drop-caches] -- COMMAND [ARG...]
 *       times COMMAND from fork to exit, N times (stdout to /dev/null), e.g. `ldmtool scan`
 *       or `scan-bench --runs 1` itself, so that both sides pay for process start-up;
 *   scan-bench --hold PATH...
 *       opens every PATH and sleeps until killed: the kernel drops a block device's page
 *       cache on its last close, so only while someone holds it open is a second read "hot";
 *
 * --drop-caches writes 3 to /proc/sys/vm/drop_caches (after sync) before every run, so every
 * run reads from the disk (root only). Output, one fact per line, for bench/run-scan.sh:
 *   run I SECONDS / median SECONDS / min SECONDS / max SECONDS
 *   found packs N devices N invalid N   (in-process mode)
 *   maxrss KIB                          (--exec: the largest child's peak RSS)
 * Not a test; numbers depend on the machine and the page cache. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scan.h"
#include "stats.h"

#define MAX_RUNS 1000

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int drop_caches(void) {
        int fd;

        sync();
        fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, "3\n", 2) != 2) {
                int r = -errno;
                close(fd);
                return r;
        }
        close(fd);
        return 0;
}

static void print_stats(double *t, size_t n) {
        /* stats_median() sorts t: its ends are the min and the max. */
        printf("median %.6f\n", stats_median(t, n));
        printf("min %.6f\nmax %.6f\n", t[0], t[n - 1]);
}

typedef struct ProbeJob {
        char **paths;
        size_t n;
        LdmProbeFlags flags;
        size_t batch;              /* paths per ldm_device_probe_batch() */
        LdmDevice **devices;       /* [i]: the device of paths[i], NULL when not LDM */
        int *verdicts;
        LdmDiag *diags;
        atomic_size_t next;
} ProbeJob;

static void *probe_worker(void *userdata) {
        ProbeJob *j = userdata;

        for (size_t i; (i = atomic_fetch_add(&j->next, j->batch)) < j->n;)
                (void) ldm_device_probe_batch(j->paths + i, MIN(j->batch, j->n - i), j->flags,
                                              j->verdicts + i, j->devices + i, j->diags + i);
        return NULL;
}

/* Probes with `threads` threads, then one ldm_scan_build() over the LDM devices in path order
 * (what ldmd's probe thread does). Devices that cannot be read are skipped, as by
 * ldm_scan_paths(). */
static int scan_parallel(char **paths, size_t n, size_t threads, size_t batch, LdmProbeFlags flags,
                         LdmScan **ret) {
        ProbeJob j = { .paths = paths, .n = n, .flags = flags };
        pthread_t tids[64];
        size_t n_tids = 0, n_ldm = 0;
        int r = 0;

        j.devices = calloc(n ?: 1, sizeof(LdmDevice *));
        j.verdicts = calloc(n ?: 1, sizeof(int));
        j.diags = calloc(n ?: 1, sizeof(LdmDiag));
        if (!j.devices || !j.verdicts || !j.diags) {
                free(j.devices);
                free(j.verdicts);
                free(j.diags);
                return -ENOMEM;
        }
        /* As ldmd (daemon/probe.c) unless --batch says otherwise. */
        j.batch = batch ?: ldm_device_probe_batch_size(n, threads);
        atomic_init(&j.next, 0);
        for (size_t i = 0; i < threads && i < ELEMENTSOF(tids); i++) {
                if (pthread_create(&tids[n_tids], NULL, probe_worker, &j) != 0)
                        break;
                n_tids++;
        }
        if (n_tids == 0)
                probe_worker(&j);
        for (size_t i = 0; i < n_tids; i++)
                pthread_join(tids[i], NULL);
        for (size_t i = 0; i < n; i++) {
                if (j.verdicts[i] == -ENOMEM)
                        r = -ENOMEM;
                if (j.verdicts[i] > 0)
                        j.devices[n_ldm++] = j.devices[i];
        }
        free(j.verdicts);
        free(j.diags);
        if (r < 0) {
                for (size_t i = 0; i < n_ldm; i++)
                        ldm_device_free(j.devices[i]);
                free(j.devices);
                return r;
        }
        return ldm_scan_build(j.devices, n_ldm, ret);
}

/* One scan of every path; fills *ret_time and the counts of the last run. */
static int scan_once(char **paths, size_t n, size_t threads, size_t batch, LdmProbeFlags flags,
                     double *ret_time, LdmScan **ret_scan) {
        LdmScan *s = NULL;
        double t = now();
        int r = threads > 0 || flags != 0 ? scan_parallel(paths, n, threads, batch, flags, &s) :
                                            ldm_scan_paths(paths, n, &s);

        *ret_time = now() - t;
        if (r < 0)
                return r;
        *ret_scan = s;
        return 0;
}

/* Runs argv once, stdout to /dev/null; returns its wall time and peak RSS. */
static int exec_once(char **argv, double *ret_time, long *ret_maxrss) {
        struct rusage ru;
        int status;
        double t = now();
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (fd >= 0)
                        dup2(fd, STDOUT_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        if (wait4(pid, &status, 0, &ru) < 0)
                return -errno;
        *ret_time = now() - t;
        *ret_maxrss = ru.ru_maxrss;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "%s exited with status %d\n", argv[0], status);
                return -EIO;
        }
        return 0;
}

/* Keeps every path open until a signal ends the process. */
static int hold(char **paths, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (open(paths[i], O_RDONLY | O_CLOEXEC) < 0) {
                        fprintf(stderr, "cannot open %s: %m\n", paths[i]);
                        return 1;
                }
        printf("held %zu\n", n);
        fflush(stdout);
        for (;;)
                pause();
}

static void help(void) {
        printf("Usage: scan-bench [--runs N] [--drop-caches] [--threads N|auto] [--batch N] [--light] PATH...\n"
               "       scan-bench --exec [--runs N] [--drop-caches] -- COMMAND [ARG...]\n"
               "       scan-bench --hold PATH...\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "runs", required_argument, NULL, 'r' },
                { "drop-caches", no_argument, NULL, 'd' },
                { "exec", no_argument, NULL, 'e' },
                { "hold", no_argument, NULL, 'H' },
                { "threads", required_argument, NULL, 't' },
                { "light", no_argument, NULL, 'l' },
                { "batch", required_argument, NULL, 'b' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        bool drop = false, exec_mode = false, hold_mode = false;
        size_t runs = 5, threads = 0, batch = 0;
        LdmProbeFlags flags = 0;
        double *times;
        long maxrss = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        runs = strtoul(optarg, NULL, 10);
                        if (runs == 0 || runs > MAX_RUNS) {
                                fprintf(stderr, "--runs must be 1..%d\n", MAX_RUNS);
                                return 2;
                        }
                        break;
                case 'b':
                        batch = strtoul(optarg, NULL, 10);
                        if (batch == 0 || batch > LDM_PROBE_BATCH_MAX) {
                                fprintf(stderr, "--batch must be 1..%u\n", LDM_PROBE_BATCH_MAX);
                                return 2;
                        }
                        break;
                case 't':
                        threads = strcmp(optarg, "auto") == 0 ? ldm_device_probe_threads() : strtoul(optarg, NULL, 10);
                        if (threads == 0 || threads > 64) {
                                fprintf(stderr, "--threads must be 1..64 or auto\n");
                                return 2;
                        }
                        break;
                case 'l': flags |= LDM_PROBE_NO_RAW; break;
                case 'd': drop = true; break;
                case 'e': exec_mode = true; break;
                case 'H': hold_mode = true; break;
                case 'h': help(); return 0;
                default: return 2;
                }
        if (optind >= argc) {
                help();
                return 2;
        }
        if (hold_mode)
                return hold(argv + optind, (size_t) (argc - optind));
        times = calloc(runs, sizeof(double));
        if (!times)
                return 1;

        for (size_t i = 0; i < runs; i++) {
                LdmScan *s = NULL;

                if (drop && (r = drop_caches()) < 0) {
                        fprintf(stderr, "cannot drop caches: %s\n", strerror(-r));
                        return 1;
                }
                if (exec_mode) {
                        long rss = 0;
                        r = exec_once(argv + optind, &times[i], &rss);
                        if (rss > maxrss)
                                maxrss = rss;
                } else
                        r = scan_once(argv + optind, (size_t) (argc - optind), threads, batch, flags,
                                      &times[i], &s);
                if (r < 0) {
                        fprintf(stderr, "run %zu failed: %s\n", i, strerror(-r));
                        return 1;
                }
                printf("run %zu %.6f\n", i, times[i]);
                if (s && i == runs - 1)
                        printf("found packs %zu devices %zu invalid %zu\n",
                               s->n_packs, s->n_devices, s->n_invalid);
                ldm_scan_free(s);
        }
        print_stats(times, runs);
        if (exec_mode)
                printf("maxrss %ld\n", maxrss);
        free(times);
        return 0;
}
