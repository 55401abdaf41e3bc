/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* querystatus-bench: Job.QueryStatus latency while Recover jobs run, and ldmd's memory.
 *
 *   querystatus-bench --bus=ADDRESS [--clients=N] [--interval-us=US] [--idle-seconds=S]
 *                     PACK... -- LDMD [ARG...]
 *
 * Starts LDMD (which must own org.ldmd1 on ADDRESS once coldplug is complete), waits until
 * it is idle and reads its RSS, then calls Pack.Recover() on every PACK (by name) and starts
 * N clients (default 16), each a thread with its own bus connection, calling
 * Job.QueryStatus() on one of the jobs (client i polls job i mod jobs) back to back, or
 * every US microseconds: sleeping US after each reply (clients started together stay in
 * step), or with --spread on a fixed schedule offset by i/(N+1) of US for client i. Every call's round trip goes into a per-client histogram (1 µs
 * buckets up to 1 s): one for calls made while every job was still running ("busy"), one
 * for calls while only some were. Meanwhile ldmd's VmRSS is sampled every 20 ms. When all
 * jobs are done (a client saw an HRESULT other than VDS_E_OPERATION_PENDING), each job's
 * Wait() must return S_OK; then the same clients poll the finished jobs for --idle-seconds
 * (default 3) for the "idle" baseline, and as long calling the bus daemon's own Peer.Ping
 * ("bus-ping": the same clients and bus without ldmd); finally ldmd gets SIGTERM and must
 * exit 0. While the jobs run, one more client calls Peer.Ping at the same interval
 * ("busy-bus-ping"): what the bus daemon and the machine cost under that load, without ldmd.
 *
 * The PropertiesChanged signals carrying each job's Percent are counted while it runs (the
 * first one's delay after Recover() returned, the most in any whole second after it), and
 * ldmd's CPU time (utime + stime) from the first Recover() until the last job is done.
 *
 * Output, one fact per line (seconds; KiB):
 *   rss idle KIB / rss load-max KIB / hwm KIB
 *   job PATH hresult HEX seconds S bytes N
 *   signals PATH count N per-second X max-per-second N first-after S   (S -1: none)
 *   cpu ldmd S wall S
 *   latency busy|partial|idle|bus-ping|busy-bus-ping calls N p50 S p99 S max S
 * Not a test; exits 1 when something did not work. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

#define BUS_NAME "org.ldmd1"
#define START_TIMEOUT_S 300.0
#define JOB_TIMEOUT_S 3600.0
#define MAX_CLIENTS 256
#define MAX_JOBS 16
#define HIST_US 1000000           /* 1 µs buckets up to 1 s; slower calls land in the last */
#define VDS_S_OK 0x00000000u
#define VDS_E_OPERATION_PENDING 0x80042409u /* MS-VDS §2.2.4 (ldm/vds.h) */

typedef enum Phase { PHASE_BUSY, PHASE_PARTIAL, PHASE_IDLE, PHASE_BUS, PHASE_BUSY_BUS, _PHASE_MAX } Phase;
static const char *const phase_name[_PHASE_MAX] = { "busy", "partial", "idle", "bus-ping", "busy-bus-ping" };

static const char *arg_address;
static unsigned arg_clients = 16;
static long arg_interval_us;
static double arg_idle_seconds = 3.0;
static bool arg_spread;

static char *jobs[MAX_JOBS];
static size_t n_jobs;
static atomic_bool job_done[MAX_JOBS];
static atomic_bool stop_clients;
static atomic_int phase_override = -1; /* PHASE_IDLE once the jobs are over */

typedef struct Client {
        pthread_t thread;
        unsigned index;
        uint32_t *hist[_PHASE_MAX];
        uint64_t calls[_PHASE_MAX];
        bool pinger; /* calls Peer.Ping while all jobs run, into PHASE_BUSY_BUS */
        int error;
} Client;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void sleep_us(long us) {
        struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L };

        nanosleep(&ts, NULL);
}

static void sleep_until(double deadline) {
        struct timespec ts = { .tv_sec = (time_t) deadline,
                               .tv_nsec = (long) ((deadline - (double) (time_t) deadline) * 1e9) };

        (void) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* No CPU time used for a whole second (at most 30 s of waiting). */
static void wait_idle(pid_t pid) {
        long last = proc_cpu_ticks(pid), quiet = 0;

        for (int waited = 0; quiet < 1000 && waited < 30000; waited += 50) {
                long t;

                sleep_us(50000);
                t = proc_cpu_ticks(pid);
                quiet = t == last ? quiet + 50 : 0;
                last = t;
        }
}

static int bus_open(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, arg_address);
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

/* ---- the polling clients ---- */

static Phase current_phase(void) {
        int o = atomic_load(&phase_override);
        if (o >= 0)
                return (Phase) o;
        for (size_t j = 0; j < n_jobs; j++)
                if (atomic_load(&job_done[j]))
                        return PHASE_PARTIAL; /* some job has ended, not all */
        return PHASE_BUSY;
}

static void *client_main(void *arg) {
        Client *c = arg;
        size_t j = c->index % n_jobs;
        sd_bus *bus = NULL;
        int r;

        double next;

        r = bus_open(&bus);
        if (r < 0) {
                c->error = r;
                return NULL;
        }
        /* --spread: client i keeps its own phase, i/N of the interval after client 0's, on a
         * fixed schedule, as independent pollers would; otherwise each sleeps the interval
         * after its reply, and clients started together stay in step. */
        next = now() + (double) arg_interval_us * 1e-6 * c->index / (arg_clients + 1);
        while (!atomic_load(&stop_clients)) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                uint32_t hresult = 0, percent = 0;
                Phase ph = current_phase();
                double t0 = now(), dt;
                uint64_t us;

                if (c->pinger && ph != PHASE_BUSY)
                        break; /* its measure is over; the others tell when the jobs end */
                if (c->pinger)
                        ph = PHASE_BUSY_BUS;
                if (ph == PHASE_BUS || ph == PHASE_BUSY_BUS) {
                        /* The bus daemon's own Peer.Ping: the same clients and bus, no ldmd. */
                        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                               "org.freedesktop.DBus.Peer", "Ping", &e, &reply, "");
                        dt = now() - t0;
                        hresult = VDS_S_OK;
                } else {
                        r = sd_bus_call_method(bus, BUS_NAME, jobs[j], "org.ldmd1.Job", "QueryStatus", &e, &reply, "");
                        dt = now() - t0;
                        if (r >= 0)
                                r = sd_bus_message_read(reply, "uu", &hresult, &percent);
                }
                sd_bus_message_unref(reply);
                if (r < 0) {
                        bool ping = ph == PHASE_BUS || ph == PHASE_BUSY_BUS;

                        fprintf(stderr, "client %u: %s %s: %s\n", c->index, ping ? "Peer.Ping" : "QueryStatus",
                                ping ? "org.freedesktop.DBus" : jobs[j], e.message ?: strerror(-r));
                        sd_bus_error_free(&e);
                        c->error = r;
                        break;
                }
                us = (uint64_t) (dt * 1e6);
                c->hist[ph][us < HIST_US ? us : HIST_US - 1]++;
                c->calls[ph]++;
                if (!c->pinger && hresult != VDS_E_OPERATION_PENDING)
                        atomic_store(&job_done[j], true);
                if (arg_interval_us > 0 && arg_spread) {
                        double t = now();

                        next += (double) arg_interval_us * 1e-6;
                        if (next < t) /* late: drop the missed slots, keep the phase */
                                next += (double) arg_interval_us * 1e-6 *
                                        (double) (long) ((t - next) / ((double) arg_interval_us * 1e-6) + 1);
                        sleep_until(next);
                } else if (arg_interval_us > 0)
                        sleep_us(arg_interval_us);
        }
        sd_bus_flush_close_unref(bus);
        return NULL;
}

/* The pinger, cl[arg_clients], runs with the first set of clients only. */
static unsigned clients_running;

static int clients_start(Client *cl, bool with_pinger) {
        atomic_store(&stop_clients, false);
        clients_running = arg_clients + with_pinger;
        for (unsigned i = 0; i < clients_running; i++) {
                int r = -pthread_create(&cl[i].thread, NULL, client_main, &cl[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int clients_stop(Client *cl) {
        int r = 0;

        atomic_store(&stop_clients, true);
        for (unsigned i = 0; i < clients_running; i++) {
                pthread_join(cl[i].thread, NULL);
                if (cl[i].error < 0)
                        r = cl[i].error;
        }
        return r;
}

/* The q-quantile over every client's histogram of phase ph, in seconds. */
static double quantile(const Client *cl, Phase ph, uint64_t total, double q) {
        uint64_t want = (uint64_t) (q * (double) total), seen = 0;

        if (total == 0)
                return 0;
        if (want >= total)
                want = total - 1;
        for (uint64_t us = 0; us < HIST_US; us++) {
                for (unsigned i = 0; i <= arg_clients; i++)
                        seen += cl[i].hist[ph][us];
                if (seen > want)
                        return (double) us / 1e6;
        }
        return (double) HIST_US / 1e6;
}

static void report_latency(const Client *cl, Phase ph) {
        uint64_t total = 0;

        for (unsigned i = 0; i <= arg_clients; i++)
                total += cl[i].calls[ph];
        printf("latency %s calls %" PRIu64 " p50 %.6f p99 %.6f max %.6f\n", phase_name[ph], total,
               quantile(cl, ph, total, 0.5), quantile(cl, ph, total, 0.99), quantile(cl, ph, total, 1.0));
}

/* ---- the daemon and the jobs ---- */

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const char *name, *old, *new;
        bool *acquired = userdata;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 && strcmp(name, BUS_NAME) == 0 && new[0])
                *acquired = true;
        return 0;
}

static int start_daemon(sd_bus *bus, char **cmd, pid_t *ret_pid) {
        bool acquired = false;
        double t0 = now();
        int status, r;
        pid_t pid;

        r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "NameOwnerChanged", on_owner_changed, &acquired);
        if (r < 0)
                return r;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                execvp(cmd[0], cmd);
                _exit(127);
        }
        *ret_pid = pid;
        while (!acquired) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr, "%s exited before owning %s (status %d)\n", cmd[0], BUS_NAME, status);
                        *ret_pid = 0;
                        return -ECHILD;
                }
                if (now() - t0 > START_TIMEOUT_S)
                        return -ETIMEDOUT;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        (void) sd_bus_wait(bus, 100000);
        }
        return 0;
}

static int start_job(sd_bus *bus, const char *pack, char **ret_job) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path, *job;
        char *p = NULL;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, "/org/ldmd1", "org.ldmd1.Manager", "GetPackByName", &e, &reply, "s", pack);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                p = strdup(path);
        sd_bus_message_unref(reply);
        reply = NULL;
        if (r >= 0 && !p)
                r = -ENOMEM;
        if (r >= 0)
                r = sd_bus_call_method(bus, BUS_NAME, p, "org.ldmd1.Pack", "Recover", &e, &reply, "");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r >= 0 && !(*ret_job = strdup(job)))
                r = -ENOMEM;
        if (r < 0)
                fprintf(stderr, "Recover on pack %s: %s\n", pack, e.message ?: strerror(-r));
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
        free(p);
        return r;
}

/* The finished job's Wait() result and BytesTotal. */
static int job_result(sd_bus *bus, const char *job, uint32_t *ret_hresult, uint64_t *ret_bytes) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, job, "org.ldmd1.Job", "Wait", &e, &reply, "");
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", ret_hresult);
        sd_bus_message_unref(reply);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, BUS_NAME, job, "org.ldmd1.Job", "BytesTotal", &e, 't', ret_bytes);
        if (r < 0)
                fprintf(stderr, "job %s: %s\n", job, e.message ?: strerror(-r));
        sd_bus_error_free(&e);
        return r;
}

/* What each job's progress signals looked like while it ran: PropertiesChanged carrying
 * Percent (dbus-api.md: "Job percent at most ~4/s"; a change of State alone is signalled at
 * once and not counted). Main thread only, from sd_bus_process(). */
typedef struct JobSignals {
        double started;            /* when Recover() returned the job */
        double first;              /* the first signal, 0 before it */
        unsigned count;            /* signals while the job ran */
        unsigned second_count;     /* in the current whole second after the first */
        long second;
        unsigned max_per_second;
} JobSignals;

static JobSignals signals[MAX_JOBS];

/* Whether a PropertiesChanged message's changed properties name Percent. */
static bool changes_percent(sd_bus_message *m) {
        const char *iface, *name;
        bool found = false;

        if (sd_bus_message_read(m, "s", &iface) < 0 ||
            sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}") <= 0)
                return false;
        while (!found && sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv") > 0) {
                if (sd_bus_message_read(m, "s", &name) < 0)
                        return false;
                found = strcmp(name, "Percent") == 0;
                if (sd_bus_message_skip(m, "v") < 0 || sd_bus_message_exit_container(m) < 0)
                        return false;
        }
        return found;
}

static int on_job_signal(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const char *path = sd_bus_message_get_path(m);
        double t = now();

        if (!changes_percent(m))
                return 0;

        for (size_t j = 0; j < n_jobs && path; j++) {
                JobSignals *s = &signals[j];
                long sec;

                if (!jobs[j] || strcmp(jobs[j], path) != 0 || atomic_load(&job_done[j]))
                        continue;
                if (s->count++ == 0)
                        s->first = t;
                sec = (long) (t - s->first);
                if (sec != s->second) {
                        s->second = sec;
                        s->second_count = 0;
                }
                if (++s->second_count > s->max_per_second)
                        s->max_per_second = s->second_count;
        }
        return 0;
}

static bool all_done(void) {
        for (size_t j = 0; j < n_jobs; j++)
                if (!atomic_load(&job_done[j]))
                        return false;
        return true;
}

static int measure(sd_bus *bus, pid_t pid, char **packs, Client *cl) {
        double t0, end[MAX_JOBS] = {}, last_end = 0;
        long rss_max = 0, ticks0, ticks1;
        int r;

        wait_idle(pid);
        printf("rss idle %ld\n", proc_status(pid, "VmRSS"));

        /* Before any job exists, so that no early signal is missed. */
        r = sd_bus_add_match(bus, NULL,
                             "type='signal',sender='" BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
                             "member='PropertiesChanged',path_namespace='/org/ldmd1/job'",
                             on_job_signal, NULL);
        if (r < 0)
                return r;
        ticks0 = proc_cpu_ticks(pid);
        for (size_t j = 0; j < n_jobs; j++) {
                r = start_job(bus, packs[j], &jobs[j]);
                if (r < 0)
                        return r;
                signals[j].started = now();
        }
        t0 = now();
        r = clients_start(cl, true);
        if (r < 0)
                return r;
        while (!all_done() && now() - t0 < JOB_TIMEOUT_S) {
                long rss = proc_status(pid, "VmRSS");

                if (rss > rss_max)
                        rss_max = rss;
                for (size_t j = 0; j < n_jobs; j++)
                        if (end[j] == 0 && atomic_load(&job_done[j]))
                                end[j] = now();
                /* The jobs' signals, for up to 20 ms. */
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r < 0)
                        return r;
                (void) sd_bus_wait(bus, 20000);
        }
        ticks1 = proc_cpu_ticks(pid);
        atomic_store(&phase_override, PHASE_IDLE);
        for (size_t j = 0; j < n_jobs; j++)
                if (end[j] == 0)
                        end[j] = now();
        r = clients_stop(cl);
        if (r < 0)
                return r;
        if (!all_done()) {
                fprintf(stderr, "jobs did not finish within %.0f s\n", JOB_TIMEOUT_S);
                return -ETIMEDOUT;
        }
        printf("rss load-max %ld\n", rss_max);

        for (size_t j = 0; j < n_jobs; j++) {
                uint32_t hresult = 0;
                uint64_t bytes = 0;

                r = job_result(bus, jobs[j], &hresult, &bytes);
                if (r < 0)
                        return r;
                printf("job %s hresult 0x%08" PRIx32 " seconds %.3f bytes %" PRIu64 "\n", jobs[j], hresult,
                       end[j] - t0, bytes);
                printf("signals %s count %u per-second %.2f max-per-second %u first-after %.6f\n", jobs[j],
                       signals[j].count, signals[j].count / (end[j] - signals[j].started),
                       signals[j].max_per_second,
                       signals[j].count ? signals[j].first - signals[j].started : -1.0);
                if (hresult != VDS_S_OK)
                        r = -EIO;
                if (end[j] > last_end)
                        last_end = end[j];
        }
        if (r < 0)
                return r;
        if (ticks0 >= 0 && ticks1 >= ticks0)
                printf("cpu ldmd %.3f wall %.3f\n", (double) (ticks1 - ticks0) / (double) sysconf(_SC_CLK_TCK),
                       last_end - t0);

        /* Baseline: the same clients against the same (now finished) jobs, nothing running. */
        r = clients_start(cl, false);
        if (r < 0)
                return r;
        sleep_us((long) (arg_idle_seconds * 1e6));
        r = clients_stop(cl);
        if (r < 0)
                return r;
        /* And what the bus alone costs in the same conditions. */
        atomic_store(&phase_override, PHASE_BUS);
        r = clients_start(cl, false);
        if (r < 0)
                return r;
        sleep_us((long) (arg_idle_seconds * 1e6));
        r = clients_stop(cl);
        if (r < 0)
                return r;
        printf("hwm %ld\n", proc_status(pid, "VmHWM"));
        for (int ph = 0; ph < _PHASE_MAX; ph++)
                report_latency(cl, (Phase) ph);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "bus", required_argument, NULL, 'b' },
                { "clients", required_argument, NULL, 'c' },
                { "interval-us", required_argument, NULL, 'i' },
                { "idle-seconds", required_argument, NULL, 's' },
                { "spread", no_argument, NULL, 'S' },
                {}
        };
        static Client cl[MAX_CLIENTS];
        char **packs, **cmd = NULL;
        sd_bus *bus = NULL;
        pid_t pid = 0;
        int c, r, status;

        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'b': arg_address = optarg; break;
                case 'c': arg_clients = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'i': arg_interval_us = strtol(optarg, NULL, 10); break;
                case 's': arg_idle_seconds = strtod(optarg, NULL); break;
                case 'S': arg_spread = true; break;
                default: return 2;
                }
        packs = argv + optind;
        for (int i = optind; i < argc; i++)
                if (strcmp(argv[i], "--") == 0) {
                        argv[i] = NULL;
                        cmd = argv + i + 1;
                        n_jobs = (size_t) (i - optind);
                        break;
                }
        if (!arg_address || !cmd || !cmd[0] || n_jobs == 0 || n_jobs > MAX_JOBS || arg_clients == 0 ||
            arg_clients >= MAX_CLIENTS || arg_interval_us < 0 || arg_idle_seconds < 0) {
                fprintf(stderr, "usage: %s --bus=ADDRESS [--clients=N] [--interval-us=US] [--idle-seconds=S] PACK... -- LDMD [ARG...]\n",
                        argv[0]);
                return 2;
        }
        for (unsigned i = 0; i <= arg_clients; i++) { /* the last one is the pinger */
                cl[i].index = i;
                cl[i].pinger = i == arg_clients;
                for (int ph = 0; ph < _PHASE_MAX; ph++)
                        if (!(cl[i].hist[ph] = calloc(HIST_US, sizeof(uint32_t))))
                                return 1;
        }

        r = bus_open(&bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", arg_address, strerror(-r));
                return 1;
        }
        r = start_daemon(bus, cmd, &pid);
        if (r >= 0)
                r = measure(bus, pid, packs, cl);
        if (pid > 0) {
                kill(pid, SIGTERM);
                if (waitpid(pid, &status, 0) == pid && r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                        fprintf(stderr, "%s did not exit cleanly (status %d)\n", cmd[0], status);
                        r = -EIO;
                }
        }
        sd_bus_flush_close_unref(bus);
        for (size_t j = 0; j < n_jobs; j++)
                free(jobs[j]);
        for (unsigned i = 0; i <= arg_clients; i++)
                for (int ph = 0; ph < _PHASE_MAX; ph++)
                        free(cl[i].hist[ph]);
        if (r < 0) {
                fprintf(stderr, "querystatus-bench: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
