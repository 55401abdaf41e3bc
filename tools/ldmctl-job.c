/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl-job.c: the verbs that start or follow jobs: `recover`, `verify`, `wait`, `cancel`
 * (and `rescan`). Following a job means: show its progress from the Job's PropertiesChanged
 * (a redrawn bar on a terminal, plain lines otherwise), keep one Job.Wait call pending whose
 * reply is the authoritative result ([MS-VDS] §3.4.5.2.2.2 IVdsAsync::Wait), and on Ctrl-C ask
 * whether to cancel the job or detach from it. */

#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "ldmctl-json.h"
#include "ldmctl-model.h"
#include "ldmctl-util.h"
#include "ldmctl-verbs.h"
#include "vds.h"

/* Exit codes when a signal ends the watch without an answer (128 + signal, as shells do). */
#define EXIT_SIGINT 130
#define EXIT_SIGTERM 143

typedef struct Watch {
        sd_bus *bus;
        sd_event *event;
        LdmctlModel *model;             /* for the pack name */
        char *path;
        char *pack_name;                /* owned: the job's own strings are replaced at its end */
        LdmctlJob job;
        bool bar;                       /* redraw a progress bar (stdout is a terminal) */
        bool interactive;               /* Ctrl-C asks (stdin is a terminal) */
        bool prompting;
        bool bar_visible;               /* the cursor sits at the end of a drawn bar */
        bool wait_unsupported;          /* the daemon has no Job.Wait: end on Completed */
        bool finished;
        uint32_t last_percent;
        char *last_state;
        sd_event_source *stdin_source;
} Watch;

static void watch_done(Watch *w) {
        ldmctl_job_done(&w->job);
        free(w->pack_name);
        ldmctl_model_free(w->model);
        free(w->path);
        free(w->last_state);
        sd_event_source_unref(w->stdin_source);
        sd_event_unref(w->event);
}

static unsigned terminal_columns(void) {
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
                return ws.ws_col;
        return 80;
}

static uint64_t now_realtime(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* "42%  3.2 MiB/s  35s left"; with_state adds states other than running ("cancelling"). */
static void progress_details(const Watch *w, bool with_state, char *buf, size_t size) {
        const LdmctlJob *j = &w->job;
        char rate[32], left[32];
        size_t n;
        uint64_t now = now_realtime(), remain = 0;

        n = (size_t) snprintf(buf, size, "%3" PRIu32 "%%", j->percent);
        if (with_state && j->state && strcmp(j->state, "running") != 0 && strcmp(j->state, "done") != 0)
                n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "  %s", j->state);
        if (j->rate > 0 && n < size)
                n += (size_t) snprintf(buf + n, size - n, "  %s/s", format_bytes(rate, sizeof rate, j->rate));
        if (j->expected_end_time > now)
                remain = j->expected_end_time - now;
        else if (j->rate > 0 && j->bytes_total > j->bytes_done)
                remain = (j->bytes_total - j->bytes_done) / j->rate * 1000000;
        if (remain > 0 && n < size && (!j->state || strcmp(j->state, "done") != 0))
                snprintf(buf + n, size - n, "  %s left", format_duration(left, sizeof left, remain));
}

/* Room kept for the details after the bar, so that the bar does not jump as they change. */
#define DETAILS_WIDTH 38

static void draw_bar(Watch *w) {
        char details[128], label[128];
        unsigned cols = terminal_columns(), bar_w, fill;
        size_t dlen, llen;

        progress_details(w, true, details, sizeof details);
        snprintf(label, sizeof label, "%s %s", strna(w->job.operation), strna(w->pack_name));
        dlen = MAX(strlen(details), (size_t) DETAILS_WIDTH);
        llen = strlen(label);
        /* label + " [" + bar + "] " + details must fit; shorten the label first. */
        if (llen + dlen + 4 + 10 > cols)
                llen = cols > dlen + 4 + 10 ? cols - dlen - 4 - 10 : 0;
        bar_w = cols - 1 - (unsigned) (llen + dlen + 4);
        if (bar_w > 50)
                bar_w = 50;
        fill = (unsigned) ((uint64_t) bar_w * MIN(w->job.percent, 100u) / 100);

        printf("\r%.*s [", (int) llen, label);
        for (unsigned i = 0; i < bar_w; i++)
                fputs(i < fill ? (arg.unicode ? "█" : "#") : (arg.unicode ? "░" : "."), stdout);
        printf("] %s\033[K", details);
        fflush(stdout);
        w->bar_visible = true;
}

static void end_bar_line(Watch *w) {
        if (w->bar_visible) {
                putchar('\n');
                w->bar_visible = false;
        }
}

/* Plain mode: one line whenever the percent or the state changes. */
static void print_plain(Watch *w) {
        const LdmctlJob *j = &w->job;
        char details[128], done_b[32], total_b[32];

        if (w->last_state && j->state && strcmp(w->last_state, j->state) == 0 &&
            w->last_percent == j->percent)
                return;
        free(w->last_state);
        w->last_state = j->state ? strdup(j->state) : NULL;
        w->last_percent = j->percent;
        progress_details(w, false, details, sizeof details);
        printf("%s %s: %s %s", strna(j->operation), strna(w->pack_name), strna(j->state), details);
        if (j->bytes_total > 0)
                printf("  (%s of %s)", format_bytes(done_b, sizeof done_b, j->bytes_done),
                       format_bytes(total_b, sizeof total_b, j->bytes_total));
        putchar('\n');
        fflush(stdout);
}

static void render(Watch *w) {
        /* The end is drawn by finish(), from the final numbers and the Wait result. */
        if (arg.json || w->prompting || w->finished || (w->job.state && strcmp(w->job.state, "done") == 0))
                return;
        if (w->bar)
                draw_bar(w);
        else
                print_plain(w);
}

/* A number of the output: byte counts also in binary units, the output type also by its
 * VDS name ("8 (recover pack)"). */
static int print_output_number(sd_bus_message *reply, const char *key, char type) {
        char buf[32];
        uint64_t v;
        int r;

        if (type == 'u') {
                uint32_t u;

                r = sd_bus_message_read_basic(reply, 'u', &u);
                v = u;
        } else
                r = sd_bus_message_read_basic(reply, 't', &v);
        if (r < 0)
                return r;
        printf("  %s: %" PRIu64, key, v);
        if (strcmp(key, "type") == 0 && v <= INT_MAX)
                printf(" (%s)", vds_async_output_type_to_string((VdsAsyncOutputType) v) ?: "?");
        else if (strncmp(key, "bytes_", 6) == 0 && v >= 1024)
                printf(" (%s)", format_bytes(buf, sizeof buf, v));
        putchar('\n');
        return 0;
}

/* One entry of the job's output, for people (scripts read --json): numbers as above, an
 * empty string as "-", anything else as its JSON. */
static int print_output_entry(sd_bus_message *reply, const char *key) {
        _cleanup_free_ char *value = NULL;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_enter_container(reply, 'v', NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_peek_type(reply, &type, &contents);
        if (r < 0)
                return r;
        if (type == 'u' || type == 't')
                r = print_output_number(reply, key, type);
        else if (type == 's') {
                const char *s;

                r = sd_bus_message_read_basic(reply, 's', &s);
                if (r >= 0)
                        printf("  %s: %s\n", key, *s ? s : "-");
        } else {
                r = bus_value_to_string(reply, &value);
                if (r >= 0)
                        printf("  %s: %s\n", key, value);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

static void print_output_text(sd_bus_message *reply) {
        int r;

        if (!reply || sd_bus_message_enter_container(reply, 'a', "{sv}") <= 0)
                return;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;

                if (sd_bus_message_read_basic(reply, 's', &key) < 0 ||
                    print_output_entry(reply, key) < 0 ||
                    sd_bus_message_exit_container(reply) < 0)
                        return;
        }
        (void) sd_bus_message_exit_container(reply);
}

/* The job ended with hr; reply (may be NULL) is the Wait reply positioned at the output. */
static void finish(Watch *w, uint32_t hr, sd_bus_message *reply) {
        LdmctlJob fresh;
        int code = hresult_exit_code(hr);

        if (w->finished)
                return;
        /* Final numbers and message; the job stays on the bus for a while after it ends. */
        if (ldmctl_job_load(w->bus, w->path, &fresh, NULL) >= 0) {
                ldmctl_job_done(&w->job);
                w->job = fresh;
        }
        w->job.hresult = hr;
        free(w->job.state);
        w->job.state = strdup("done");
        if (hresult_ok(hr))
                w->job.percent = 100;       /* [MS-VDS] §3.4.1.5: 100 only on success */

        if (arg.json) {
                JsonWriter jw;

                json_init(&jw, stdout, arg.json_pretty);
                json_begin_object(&jw);
                ldmctl_json_job_members(&jw, w->model, &w->job);
                json_key(&jw, "output");
                if (!reply || json_write_bus_value(&jw, reply) < 0) {
                        json_begin_object(&jw);
                        json_end_object(&jw);
                }
                json_end_object(&jw);
                json_finish(&jw);
        } else {
                if (w->prompting) {     /* the job ended while we asked */
                        putchar('\n');
                        w->prompting = false;
                } else if (w->bar && code == LDMCTL_EXIT_SUCCESS)
                        draw_bar(w);    /* 100 %; a failed job keeps its last frame, not 0 % */
                else if (!w->bar)
                        print_plain(w);
                end_bar_line(w);
                if (code == LDMCTL_EXIT_SUCCESS)
                        printf("%s of pack %s %sfinished successfully%s.\n", strna(w->job.operation),
                               strna(w->pack_name), ansi_green(), ansi_normal());
                else
                        printf("%s of pack %s %s%s%s: %s (0x%08" PRIx32 ")%s%s\n", strna(w->job.operation),
                               strna(w->pack_name), ansi_red(),
                               code == LDMCTL_EXIT_JOB_CANCELLED ? "was cancelled" : "failed", ansi_normal(),
                               hresult_name(hr) ?: "unknown HRESULT", hr,
                               w->job.message && *w->job.message ? ": " : "", strempty(w->job.message));
                print_output_text(reply);
                fflush(stdout);
        }
        w->finished = true;
        sd_event_exit(w->event, code);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *iface;
        uint32_t before = w->job.percent;

        if (sd_bus_message_read_basic(m, 's', &iface) <= 0 || strcmp(iface, LDMD_IFACE_JOB) != 0)
                return 0;
        if (ldmctl_job_apply(&w->job, m) < 0)
                return 0;
        /* Signals queued before our GetAll may carry older numbers; percent never decreases. */
        if (w->job.percent < before && w->job.state && strcmp(w->job.state, "running") == 0)
                w->job.percent = before;
        if (w->wait_unsupported && w->job.state && strcmp(w->job.state, "done") == 0)
                finish(w, w->job.hresult, NULL);
        else
                render(w);
        return 0;
}

static int on_completed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *message;
        uint32_t hr;

        if (sd_bus_message_read(m, "us", &hr, &message) < 0)
                return 0;
        free(w->job.message);
        w->job.message = strdup(message);
        /* The Wait reply carries the result; only without Wait does Completed end the watch. */
        if (w->wait_unsupported)
                finish(w, hr, NULL);
        return 0;
}

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        uint32_t hr;

        if (e && sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownMethod")) {
                w->wait_unsupported = true;
                if (w->job.state && strcmp(w->job.state, "done") == 0)
                        finish(w, w->job.hresult, NULL);
                return 0;
        }
        if (e) {
                end_bar_line(w);
                sd_event_exit(w->event, ldmctl_bus_fail(e, -EIO, "lost job %s", w->path));
                return 0;
        }
        if (sd_bus_message_read_basic(m, 'u', &hr) < 0) {
                sd_event_exit(w->event, ldmctl_fail(LDMCTL_EXIT_FAILURE, "malformed Wait reply"));
                return 0;
        }
        finish(w, hr, m);
        return 0;
}

static void detach(Watch *w, int code) {
        end_bar_line(w);
        fprintf(stderr, "Detached; job %s keeps running. Follow it with: ldmctl wait %s\n",
                w->path, job_short_name(w->path));
        sd_event_exit(w->event, code);
}

static int on_cancel_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        /* CancelTooLate: it finished meanwhile, and the Wait reply tells how. */
        if (e && !sd_bus_error_has_name(e, "org.ldmd1.Error.CancelTooLate")) {
                end_bar_line(w);
                (void) ldmctl_bus_fail(e, -EIO, "cannot cancel job %s", w->path);
        }
        polkit_agent_close();
        return 0;
}

static void request_cancel(Watch *w) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = ldmctl_new_call(w->bus, &m, w->path, LDMD_IFACE_JOB, "Cancel", true);
        if (r >= 0) {
                polkit_agent_open();
                r = sd_bus_call_async(w->bus, NULL, m, on_cancel_reply, w, 0);
        }
        if (r < 0)
                (void) ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot cancel job %s: %s", w->path, strerror(-r));
        else if (!arg.json)
                printf("Cancelling job %s...\n", w->path);
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Watch *w = userdata;
        char line[64] = {}, answer = 0;
        ssize_t n = read(fd, line, sizeof line - 1);

        sd_event_source_set_enabled(s, SD_EVENT_OFF);
        w->prompting = false;
        for (ssize_t i = 0; i < n; i++)
                if (line[i] != ' ' && line[i] != '\t') {
                        answer = line[i];
                        break;
                }
        if (n <= 0 || answer == 'd' || answer == 'D') {
                detach(w, LDMCTL_EXIT_SUCCESS);
                return 0;
        }
        if (answer == 'c' || answer == 'C')
                request_cancel(w);
        render(w);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Watch *w = userdata;
        int r;

        if (si->ssi_signo == SIGTERM || !w->interactive) {
                detach(w, si->ssi_signo == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT);
                return 0;
        }
        if (w->prompting) {             /* a second Ctrl-C: get out, the job goes on */
                putchar('\n');
                detach(w, LDMCTL_EXIT_SUCCESS);
                return 0;
        }
        end_bar_line(w);
        w->prompting = true;
        printf("\nCancel job %s, or detach and leave it running?\n"
               "[c]ancel, [d]etach, Enter continues watching: ", job_short_name(w->path));
        fflush(stdout);
        if (!w->stdin_source) {
                r = sd_event_add_io(w->event, &w->stdin_source, STDIN_FILENO, EPOLLIN, on_stdin, w);
                if (r < 0) {
                        detach(w, EXIT_SIGINT);
                        return 0;
                }
        }
        sd_event_source_set_enabled(w->stdin_source, SD_EVENT_ONESHOT);
        return 0;
}

static int watch_setup(Watch *w) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        const LdmctlPack *p;
        sigset_t mask;
        int r;

        r = sd_event_default(&w->event);
        if (r >= 0)
                r = sd_bus_attach_event(w->bus, w->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot set up the event loop: %s", strerror(-r));

        /* Subscribe before reading the state, so no change falls between the two. */
        r = sd_bus_match_signal(w->bus, NULL, LDMD_BUS_NAME, w->path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, w);
        if (r >= 0)
                r = sd_bus_match_signal(w->bus, NULL, LDMD_BUS_NAME, w->path, LDMD_IFACE_JOB,
                                        "Completed", on_completed, w);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot subscribe to job signals: %s", strerror(-r));

        r = ldmctl_job_load(w->bus, w->path, &w->job, &error);
        if (r < 0)
                return ldmctl_bus_fail(&error, r, "job %s", w->path);
        (void) ldmctl_model_load(w->bus, &w->model, NULL);
        p = w->model ? ldmctl_model_pack(w->model, w->job.object) : NULL;
        /* A copy: the model is kept, but w->job is replaced when the job ends (finish()). */
        w->pack_name = strdup(p && p->name ? p->name : strempty(w->job.object));
        if (!w->pack_name)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "out of memory");

        r = ldmctl_new_call(w->bus, &call, w->path, LDMD_IFACE_JOB, "Wait", false);
        if (r >= 0)
                r = sd_bus_call_async(w->bus, NULL, call, on_wait_reply, w, UINT64_MAX);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot wait for job %s: %s", w->path, strerror(-r));

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(w->event, NULL, SIGINT, on_signal, w);
        if (r >= 0)
                r = sd_event_add_signal(w->event, NULL, SIGTERM, on_signal, w);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot watch signals: %s", strerror(-r));
        return 0;
}

/* Follows the job at path until it ends (or the user detaches); returns the exit code. */
static int watch_job(sd_bus *bus, const char *path) {
        Watch w = {
                .bus = bus,
                .path = strdup(path),
                .bar = !arg.json && isatty(STDOUT_FILENO),
                .interactive = !arg.json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO),
        };
        int r;

        if (!w.path)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "out of memory");
        r = watch_setup(&w);
        if (r == 0) {
                render(&w);
                r = sd_event_loop(w.event);
                if (r < 0)
                        r = ldmctl_fail(LDMCTL_EXIT_FAILURE, "event loop failed: %s", strerror(-r));
        }
        sd_bus_detach_event(bus);
        watch_done(&w);
        return r;
}

static int resolve_pack_or_fail(sd_bus *bus, const char *pack, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = ldmctl_resolve_pack(bus, pack, ret, &error);
        if (r == -EINVAL && !sd_bus_error_is_set(&error))
                return ldmctl_fail(LDMCTL_EXIT_USAGE, "'%s' is not a pack object path", pack);
        if (r < 0)
                return ldmctl_bus_fail(&error, r, "pack '%s'", pack);
        return 0;
}

int verb_recover(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_free_ char *pack = NULL;
        const char *method = strcmp(argv[0], "verify") == 0 ? "Verify" : "Recover", *job;
        int r;

        r = resolve_pack_or_fail(bus, argv[1], &pack);
        if (r != 0)
                return r;
        r = ldmctl_new_call(bus, &call, pack, LDMD_IFACE_PACK, method, true);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot build the call: %s", strerror(-r));
        polkit_agent_open();
        /* A person may be typing a password for polkit: allow minutes, not the default 25 s. */
        r = sd_bus_call(bus, call, arg.ask_password ? 300 * UINT64_C(1000000) : 0, &error, &reply);
        polkit_agent_close();
        if (r < 0)
                return ldmctl_bus_fail(&error, r, "cannot %s pack '%s'", argv[0], argv[1]);
        r = sd_bus_message_read_basic(reply, 'o', &job);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "malformed %s reply", method);

        if (arg.no_wait) {
                if (arg.json) {
                        JsonWriter w;

                        json_init(&w, stdout, arg.json_pretty);
                        json_begin_object(&w);
                        json_kv_string(&w, "job", job);
                        json_end_object(&w);
                        json_finish(&w);
                } else
                        printf("%s\n", job);
                return 0;
        }
        return watch_job(bus, job);
}

int verb_wait(sd_bus *bus, int argc, char **argv) {
        _cleanup_free_ char *path = NULL;

        if (job_path_from_arg(argv[1], &path) < 0)
                return ldmctl_fail(LDMCTL_EXIT_USAGE, "'%s' is not a job (use its object path or number)", argv[1]);
        return watch_job(bus, path);
}

static int simple_call(sd_bus *bus, const char *path, const char *iface, const char *member, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        int r;

        r = ldmctl_new_call(bus, &call, path, iface, member, true);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot build the call: %s", strerror(-r));
        polkit_agent_open();
        r = sd_bus_call(bus, call, arg.ask_password ? 300 * UINT64_C(1000000) : 0, &error, NULL);
        polkit_agent_close();
        if (r < 0)
                return ldmctl_bus_fail(&error, r, "cannot %s", what);
        return 0;
}

int verb_cancel(sd_bus *bus, int argc, char **argv) {
        _cleanup_free_ char *path = NULL, *what = NULL;
        int r;

        if (job_path_from_arg(argv[1], &path) < 0)
                return ldmctl_fail(LDMCTL_EXIT_USAGE, "'%s' is not a job (use its object path or number)", argv[1]);
        if (asprintf(&what, "cancel job %s", path) < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "out of memory");
        r = simple_call(bus, path, LDMD_IFACE_JOB, "Cancel", what);
        if (r == 0 && !arg.json)
                printf("Cancellation of job %s requested.\n", path);
        return r;
}

int verb_rescan(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, LDMD_MANAGER_PATH, LDMD_IFACE_MANAGER, "Rescan", "rescan");
}
