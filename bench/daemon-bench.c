/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* daemon-bench: coldplug time and idle memory of ldmd on a (private) bus.
 *
 *   daemon-bench --bus=ADDRESS [--runs=N] [--idle-ms=MS] [--drop-caches] DEVICE... -- LDMD [ARG...]
 *
 * Each run subscribes to NameOwnerChanged for org.ldmd1, starts LDMD, and stops the clock
 * when the name appears: ldmd requests it only once coldplug is complete (design.md, "ready
 * means complete"), so this is start-up plus probing every disk plus publishing the model.
 * --drop-caches empties the page cache (sync; 3 > /proc/sys/vm/drop_caches) before each start,
 * as after boot.
 * Then it waits until the daemon is idle (no CPU time used for MS milliseconds), reads VmRSS
 * and VmHWM from /proc/PID/status, asks the daemon for its disks (Manager.Disks, each
 * Disk.Device) to check that every DEVICE is there, reads VmRSS again, and stops it with
 * SIGTERM (it must exit 0). Output, one fact per line, for bench/run-daemon.sh:
 *   run I coldplug S rss KIB hwm KIB rss-after-query KIB threads N disks N ours N packs N
 *   median coldplug S / median rss KIB / median rss-after-query KIB / max hwm KIB
 * Not a test; numbers depend on the machine. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "proc-stat.h"
#include "stats.h"

#define BUS_NAME "org.ldmd1"
#define MAX_RUNS 100
#define START_TIMEOUT_S 300.0

typedef struct Run {
        double coldplug;
        long rss, hwm, rss_query, threads;
        size_t disks, ours, packs;
} Run;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int drop_caches(void) {
        int fd, r = 0;

        sync();
        fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, "3\n", 2) != 2)
                r = -errno;
        close(fd);
        return r;
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        nanosleep(&ts, NULL);
}

/* Idle: no CPU time used for idle_ms (at most 30 s of waiting). */
static void wait_idle(pid_t pid, long idle_ms) {
        long last = proc_cpu_ticks(pid), quiet = 0;

        for (int waited = 0; quiet < idle_ms && waited < 30000; waited += 50) {
                long t;

                sleep_ms(50);
                t = proc_cpu_ticks(pid);
                quiet = t == last ? quiet + 50 : 0;
                last = t;
        }
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const char *name, *old, *new;
        bool *acquired = userdata;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 && strcmp(name, BUS_NAME) == 0 && new[0])
                *acquired = true;
        return 0;
}

static int bus_open(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* Counts the daemon's disks and packs, and how many disks sit on one of devices[]. */
static int count_objects(sd_bus *bus, char **devices, size_t n_devices, Run *run) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char **disks = NULL, **packs = NULL;
        int r;

        r = sd_bus_get_property_strv(bus, BUS_NAME, "/org/ldmd1", "org.ldmd1.Manager", "Disks", &e, &disks);
        if (r >= 0)
                r = sd_bus_get_property_strv(bus, BUS_NAME, "/org/ldmd1", "org.ldmd1.Manager", "Packs", &e, &packs);
        if (r < 0) {
                fprintf(stderr, "Manager properties: %s\n", e.message ?: strerror(-r));
                goto out;
        }
        run->disks = run->ours = run->packs = 0;
        for (char **p = packs; *p; p++)
                run->packs++;
        for (char **d = disks; *d; d++) {
                char *dev = NULL;

                run->disks++;
                if (sd_bus_get_property_string(bus, BUS_NAME, *d, "org.ldmd1.Disk", "Device", &e, &dev) < 0) {
                        sd_bus_error_free(&e);
                        continue;
                }
                for (size_t i = 0; i < n_devices; i++)
                        if (strcmp(dev, devices[i]) == 0) {
                                run->ours++;
                                break;
                        }
                free(dev);
        }
out:
        for (char **p = disks; p && *p; p++)
                free(*p);
        for (char **p = packs; p && *p; p++)
                free(*p);
        free(disks);
        free(packs);
        sd_bus_error_free(&e);
        return r;
}

static int one_run(const char *address, char **cmd, char **devices, size_t n_devices, long idle_ms,
                   bool drop, Run *run) {
        sd_bus *bus = NULL;
        bool acquired = false;
        int status, r;
        pid_t pid;
        double t0;

        r = bus_open(address, &bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", address, strerror(-r));
                return r;
        }
        r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "NameOwnerChanged", on_owner_changed, &acquired);
        if (r < 0)
                goto out;
        if (drop && (r = drop_caches()) < 0) {
                fprintf(stderr, "cannot drop caches: %s\n", strerror(-r));
                goto out;
        }

        t0 = now();
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto out;
        }
        if (pid == 0) {
                /* If we die (Ctrl-C in the middle of a run), the daemon goes too. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                execvp(cmd[0], cmd);
                _exit(127);
        }
        while (!acquired) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr, "%s exited before owning %s (status %d)\n", cmd[0], BUS_NAME, status);
                        r = -ECHILD;
                        goto out;
                }
                if (now() - t0 > START_TIMEOUT_S) {
                        fprintf(stderr, "%s did not own %s within %.0f s\n", cmd[0], BUS_NAME, START_TIMEOUT_S);
                        r = -ETIMEDOUT;
                        break;
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0)
                        (void) sd_bus_wait(bus, 100000);
        }
        run->coldplug = now() - t0;
        if (r >= 0) {
                wait_idle(pid, idle_ms);
                run->rss = proc_status(pid, "VmRSS");
                run->hwm = proc_status(pid, "VmHWM");
                run->threads = proc_status(pid, "Threads");
                r = count_objects(bus, devices, n_devices, run);
                run->rss_query = proc_status(pid, "VmRSS");
        }
        kill(pid, SIGTERM);
        if (waitpid(pid, &status, 0) == pid && r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                fprintf(stderr, "%s did not exit cleanly (status %d)\n", cmd[0], status);
                r = -EIO;
        }
out:
        sd_bus_flush_close_unref(bus);
        return r < 0 ? r : 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "bus", required_argument, NULL, 'b' },
                { "runs", required_argument, NULL, 'r' },
                { "idle-ms", required_argument, NULL, 'i' },
                { "drop-caches", no_argument, NULL, 'd' },
                {}
        };
        static Run runs[MAX_RUNS];
        double cold[MAX_RUNS], rss[MAX_RUNS], rssq[MAX_RUNS];
        const char *address = NULL;
        size_t n_runs = 3, n_devices = 0;
        long idle_ms = 1000, hwm = 0;
        bool drop = false;
        char **devices, **cmd = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'b': address = optarg; break;
                case 'r': n_runs = strtoul(optarg, NULL, 10); break;
                case 'i': idle_ms = strtol(optarg, NULL, 10); break;
                case 'd': drop = true; break;
                default: return 2;
                }
        devices = argv + optind;
        if (strcmp(argv[optind - 1], "--") == 0)   /* no DEVICE: getopt ate the "--" */
                cmd = argv + optind;
        for (int i = optind; !cmd && i < argc; i++)
                if (strcmp(argv[i], "--") == 0) {
                        argv[i] = NULL;
                        cmd = argv + i + 1;
                        n_devices = (size_t) (i - optind);
                        break;
                }
        if (!address || !cmd || !cmd[0] || n_runs == 0 || n_runs > MAX_RUNS || idle_ms < 0) {
                fprintf(stderr, "usage: %s --bus=ADDRESS [--runs=1..%d] [--idle-ms=MS] [--drop-caches] DEVICE... -- LDMD [ARG...]\n",
                        argv[0], MAX_RUNS);
                return 2;
        }

        for (size_t i = 0; i < n_runs; i++) {
                Run *r = &runs[i];

                if (one_run(address, cmd, devices, n_devices, idle_ms, drop, r) < 0)
                        return 1;
                printf("run %zu coldplug %.6f rss %ld hwm %ld rss-after-query %ld threads %ld disks %zu ours %zu packs %zu\n",
                       i, r->coldplug, r->rss, r->hwm, r->rss_query, r->threads, r->disks, r->ours, r->packs);
                fflush(stdout);
                cold[i] = r->coldplug;
                rss[i] = (double) r->rss;
                rssq[i] = (double) r->rss_query;
                if (r->hwm > hwm)
                        hwm = r->hwm;
        }
        printf("median coldplug %.6f\n", stats_median(cold, n_runs));
        printf("median rss %.0f\n", stats_median(rss, n_runs));
        printf("median rss-after-query %.0f\n", stats_median(rssq, n_runs));
        printf("max hwm %ld\n", hwm);
        return 0;
}
