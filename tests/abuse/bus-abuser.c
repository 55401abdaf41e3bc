/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bus-abuser: the D-Bus abuse test's load generator (test-only, never installed). Python is
 * too slow to drown a daemon, and the test wants its own main loop free to time property
 * reads while the load runs.
 *
 *   bus-abuser flood ADDRESS DEST PATH IFACE METHOD CLIENTS CALLS WINDOW
 *       CLIENTS connections (one thread each) send CALLS calls each, at most WINDOW
 *       outstanding per connection, and read every reply. Prints
 *       "calls N ok N errors N seconds S max_ms M first_error NAME".
 *   bus-abuser vanish ADDRESS DEST PATH IFACE METHOD CLIENTS BATCH
 *       CLIENTS connections, BATCH at a time: each sends one call, flushes it, and (after a
 *       short pause that lets the daemon take the call in) closes without reading the
 *       reply. Prints "clients N".
 *
 * Exit status 0 when every connection could be made and (flood) every call got an answer.
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

typedef struct Target {
        const char *address, *dest, *path, *iface, *method;
} Target;

typedef struct Flood {
        const Target *t;
        unsigned calls, window;
        /* results */
        unsigned sent, ok, errors, outstanding;
        double max_ms;
        char first_error[128];
        int failure;
} Flood;

typedef struct Pending {
        Flood *f;
        uint64_t sent_usec;
} Pending;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int connect_bus(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        Flood *f = p->f;
        double ms = (double) (now_usec() - p->sent_usec) / 1000.0;

        if (ms > f->max_ms)
                f->max_ms = ms;
        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);
                if (f->errors++ == 0)
                        snprintf(f->first_error, sizeof(f->first_error), "%s", e && e->name ? e->name : "?");
        } else
                f->ok++;
        f->outstanding--;
        free(p);
        return 0;
}

static int flood_send_one(sd_bus *bus, Flood *f) {
        const Target *t = f->t;
        Pending *p = calloc(1, sizeof(Pending));
        int r;

        if (!p)
                return -ENOMEM;
        p->f = f;
        p->sent_usec = now_usec();
        r = sd_bus_call_method_async(bus, NULL, t->dest, t->path, t->iface, t->method, on_reply, p, "");
        if (r < 0) {
                free(p);
                return r;
        }
        f->sent++;
        f->outstanding++;
        return 0;
}

static void *flood_thread(void *arg) {
        Flood *f = arg;
        sd_bus *bus = NULL;
        int r;

        r = connect_bus(f->t->address, &bus);
        if (r < 0) {
                f->failure = r;
                return NULL;
        }
        while (f->sent < f->calls || f->outstanding > 0) {
                while (f->sent < f->calls && f->outstanding < f->window) {
                        r = flood_send_one(bus, f);
                        if (r < 0) {
                                f->failure = r;
                                goto out;
                        }
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        f->failure = r;
                        goto out;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, 30 * 1000000ull);
                if (r < 0) {
                        f->failure = r;
                        goto out;
                }
                if (r == 0) {
                        f->failure = -ETIMEDOUT; /* 30 s without any reply: the daemon hangs */
                        goto out;
                }
        }
out:
        sd_bus_flush_close_unref(bus);
        return NULL;
}

static int do_flood(const Target *t, unsigned clients, unsigned calls, unsigned window) {
        Flood *f = calloc(clients, sizeof(Flood));
        pthread_t *th = calloc(clients, sizeof(pthread_t));
        unsigned sent = 0, ok = 0, errors = 0;
        double max_ms = 0;
        const char *first_error = "-";
        uint64_t start = now_usec();
        int failure = 0;

        if (!f || !th)
                return 1;
        for (unsigned i = 0; i < clients; i++) {
                f[i] = (Flood) { .t = t, .calls = calls, .window = window };
                if (pthread_create(&th[i], NULL, flood_thread, &f[i]) != 0)
                        return 1;
        }
        for (unsigned i = 0; i < clients; i++) {
                pthread_join(th[i], NULL);
                sent += f[i].sent;
                ok += f[i].ok;
                errors += f[i].errors;
                if (f[i].max_ms > max_ms)
                        max_ms = f[i].max_ms;
                if (f[i].errors && strcmp(first_error, "-") == 0)
                        first_error = f[i].first_error;
                if (f[i].failure < 0 && failure == 0) {
                        failure = f[i].failure;
                        fprintf(stderr, "client %u: %s\n", i, strerror(-failure));
                }
        }
        printf("calls %u ok %u errors %u seconds %.3f max_ms %.1f first_error %s\n", sent, ok, errors,
               (double) (now_usec() - start) / 1e6, max_ms, first_error);
        free(th);
        free(f);
        return failure < 0 || ok + errors != (unsigned long long) clients * calls;
}

/* A reply is expected (so the daemon must answer, or forget the caller), never read. */
static int on_ignored_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        return 0;
}

static int do_vanish(const Target *t, unsigned clients, unsigned batch) {
        sd_bus **buses = calloc(batch, sizeof(sd_bus *));
        unsigned done = 0;
        int r;

        if (!buses)
                return 1;
        while (done < clients) {
                unsigned n = clients - done < batch ? clients - done : batch;

                for (unsigned i = 0; i < n; i++) {
                        r = connect_bus(t->address, &buses[i]);
                        if (r >= 0)
                                r = sd_bus_call_method_async(buses[i], NULL, t->dest, t->path, t->iface,
                                                             t->method, on_ignored_reply, NULL, "");
                        if (r >= 0)
                                r = sd_bus_flush(buses[i]);
                        if (r < 0) {
                                fprintf(stderr, "client %u: %s\n", done + i, strerror(-r));
                                return 1;
                        }
                }
                usleep(20 * 1000);
                /* Gone without reading anything: the socket closes with replies unread. */
                for (unsigned i = 0; i < n; i++)
                        buses[i] = sd_bus_close_unref(buses[i]);
                done += n;
        }
        printf("clients %u\n", done);
        free(buses);
        return 0;
}

static unsigned arg_uint(const char *s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);

        if (*s == '\0' || *end != '\0' || v == 0 || v > 1000000) {
                fprintf(stderr, "bus-abuser: bad number \"%s\"\n", s);
                exit(2);
        }
        return (unsigned) v;
}

int main(int argc, char *argv[]) {
        Target t;

        if (argc < 7) {
                fprintf(stderr, "usage: bus-abuser flood|vanish ADDRESS DEST PATH IFACE METHOD ... (see the source)\n");
                return 2;
        }
        t = (Target) { argv[2], argv[3], argv[4], argv[5], argv[6] };
        if (strcmp(argv[1], "flood") == 0 && argc == 10)
                return do_flood(&t, arg_uint(argv[7]), arg_uint(argv[8]), arg_uint(argv[9]));
        if (strcmp(argv[1], "vanish") == 0 && argc == 9)
                return do_vanish(&t, arg_uint(argv[7]), arg_uint(argv[8]));
        fprintf(stderr, "bus-abuser: bad arguments\n");
        return 2;
}
