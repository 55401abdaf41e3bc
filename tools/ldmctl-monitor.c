/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl-monitor.c: `ldmctl monitor` prints the daemon's events as they happen: objects
 * appearing and vanishing (ObjectManager InterfacesAdded/Removed), property changes, jobs
 * starting, completing and being removed, and ldmd itself starting or stopping. Text lines
 * name objects by their pack/disk/volume name; --json writes one JSON object per line. */

#include <inttypes.h>
#include <signal.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "ldmctl-json.h"
#include "ldmctl-model.h"
#include "ldmctl-util.h"
#include "ldmctl-verbs.h"

typedef struct Label {
        char *path, *text;
} Label;

typedef struct Monitor {
        sd_bus *bus;
        Label *labels;
        size_t n_labels;
} Monitor;

static void monitor_done(Monitor *mon) {
        for (size_t i = 0; i < mon->n_labels; i++) {
                free(mon->labels[i].path);
                free(mon->labels[i].text);
        }
        free(mon->labels);
}

static void set_label(Monitor *mon, const char *path, const char *kind, const char *name) {
        _cleanup_free_ char *text = NULL, *copy = NULL;
        Label *l;

        if (asprintf(&text, "%s %s", kind, name) < 0)
                return;
        for (size_t i = 0; i < mon->n_labels; i++)
                if (strcmp(mon->labels[i].path, path) == 0) {
                        free(mon->labels[i].text);
                        mon->labels[i].text = TAKE_PTR(text);
                        return;
                }
        copy = strdup(path);
        l = copy ? realloc(mon->labels, (mon->n_labels + 1) * sizeof(*l)) : NULL;
        if (!l)
                return;         /* unlabelled objects are shown by path */
        mon->labels = l;
        mon->labels[mon->n_labels++] = (Label) { .path = TAKE_PTR(copy), .text = TAKE_PTR(text) };
}

/* "pack Red-nzv8x6obywgDg0", "disk Disk3", "job _4", or the path for unknown objects. */
static const char *label(Monitor *mon, const char *path) {
        for (size_t i = 0; i < mon->n_labels; i++)
                if (strcmp(mon->labels[i].path, path) == 0)
                        return mon->labels[i].text;
        if (strcmp(path, LDMD_MANAGER_PATH) == 0)
                return "manager";
        if (strncmp(path, LDMD_JOB_PREFIX, strlen(LDMD_JOB_PREFIX)) == 0) {
                set_label(mon, path, "job", job_short_name(path));
                return label(mon, path);
        }
        return path;
}

/* Disk and volume names repeat across packs ("Disk1"): "disk Red-nzv8x6obywgDg0/Disk1". */
static void set_member_label(Monitor *mon, const char *path, const char *kind, const char *pack,
                             const char *name) {
        const char *pl = pack ? label(mon, pack) : NULL;
        _cleanup_free_ char *full = NULL;

        if (pl && strncmp(pl, "pack ", 5) == 0 && asprintf(&full, "%s/%s", pl + 5, strna(name)) >= 0)
                set_label(mon, path, kind, full);
        else
                set_label(mon, path, kind, name ?: path);
}

static void load_labels(Monitor *mon) {
        _cleanup_(ldmctl_model_freep) LdmctlModel *m = NULL;

        if (ldmctl_model_load(mon->bus, &m, NULL) < 0)
                return;
        for (size_t i = 0; i < m->n_packs; i++)
                set_label(mon, m->packs[i].path, "pack", strna(m->packs[i].name));
        for (size_t i = 0; i < m->n_disks; i++)
                set_member_label(mon, m->disks[i].path, "disk", m->disks[i].pack, m->disks[i].name);
        for (size_t i = 0; i < m->n_volumes; i++)
                set_member_label(mon, m->volumes[i].path, "volume", m->volumes[i].pack, m->volumes[i].name);
}

static const char *kind_of(const char *iface) {
        if (strcmp(iface, LDMD_IFACE_PACK) == 0)
                return "pack";
        if (strcmp(iface, LDMD_IFACE_DISK) == 0)
                return "disk";
        if (strcmp(iface, LDMD_IFACE_VOLUME) == 0)
                return "volume";
        if (strcmp(iface, LDMD_IFACE_JOB) == 0)
                return "job";
        return NULL;
}

static void print_time(void) {
        struct timespec ts;
        struct tm tm;
        char buf[16];

        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        printf("%s%s.%03ld%s ", ansi_grey(), buf, ts.tv_nsec / 1000000, ansi_normal());
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void json_event_begin(JsonWriter *w, const char *event, const char *object) {
        json_init(w, stdout, false);
        json_begin_object(w);
        json_kv_uint(w, "time", now_usec());
        json_kv_string(w, "event", event);
        if (object)
                json_kv_string(w, "object", object);
}

static void json_event_end(JsonWriter *w) {
        json_end_object(w);
        json_finish(w);
}

/* Text form of a changed property: VDS numbers by name, everything else as compact JSON. */
static char *property_text(const char *iface, const char *name, sd_bus_message *m) {
        const char *(*decode)(uint32_t) = NULL;
        const char *contents;
        char *s = NULL;
        uint32_t v;

        if (sd_bus_message_peek_type(m, NULL, &contents) < 0)
                return NULL;
        if (strcmp(contents, "u") == 0) {
                if (strcmp(name, "Health") == 0)
                        decode = health_name;
                else if (strcmp(name, "Status") == 0)
                        decode = strcmp(iface, LDMD_IFACE_PACK) == 0 ? pack_status_name :
                                 strcmp(iface, LDMD_IFACE_DISK) == 0 ? disk_status_name :
                                 strcmp(iface, LDMD_IFACE_VOLUME) == 0 ? volume_status_name : NULL;
                else if (strcmp(name, "Type") == 0 && strcmp(iface, LDMD_IFACE_VOLUME) == 0)
                        decode = volume_type_name;
                else if (strcmp(name, "HResult") == 0)
                        decode = hresult_name;
        }
        if (strcmp(contents, "ao") == 0) {     /* lists of paths: their length says enough */
                unsigned n = 0;
                const char *p;
                int r;

                if (sd_bus_message_enter_container(m, 'v', "ao") < 0 ||
                    sd_bus_message_enter_container(m, 'a', "o") < 0)
                        return NULL;
                while ((r = sd_bus_message_read_basic(m, 'o', &p)) > 0)
                        n++;
                if (r < 0 || sd_bus_message_exit_container(m) < 0 || sd_bus_message_exit_container(m) < 0)
                        return NULL;
                if (asprintf(&s, "[%u object%s]", n, n == 1 ? "" : "s") < 0)
                        return NULL;
                return s;
        }
        if (decode || (strcmp(contents, "u") == 0 && strcmp(name, "Flags") == 0)) {
                char buf[128];

                if (sd_bus_message_enter_container(m, 'v', "u") < 0 ||
                    sd_bus_message_read_basic(m, 'u', &v) < 0 || sd_bus_message_exit_container(m) < 0)
                        return NULL;
                if (!decode)
                        return strdup(format_pack_flags(buf, sizeof buf, v));
                if (asprintf(&s, "%s", name_or_number(decode(v), v, buf, sizeof buf)) < 0)
                        return NULL;
                return s;
        }
        return bus_value_to_string(m, &s) < 0 ? NULL : s;
}

static int on_properties_changed(Monitor *mon, sd_bus_message *m) {
        const char *path = sd_bus_message_get_path(m), *iface;
        int r;

        r = sd_bus_message_read_basic(m, 's', &iface);
        if (r < 0)
                return r;
        if (arg.json) {
                JsonWriter w;

                json_event_begin(&w, "properties-changed", path);
                json_kv_string(&w, "interface", iface);
                json_key(&w, "changed");
                r = json_write_bus_value(&w, m);
                json_key(&w, "invalidated");
                if (r >= 0)
                        r = json_write_bus_value(&w, m);
                json_event_end(&w);
                return r;
        }

        print_time();
        printf("%s:", label(mon, path));
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                _cleanup_free_ char *value = NULL;
                const char *name;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        break;
                value = property_text(iface, name, m);
                printf(" %s=%s", name, strna(value));
                if (strcmp(name, "Name") == 0 && kind_of(iface) && value)
                        set_label(mon, path, kind_of(iface), value);
                r = sd_bus_message_exit_container(m);
        }
        putchar('\n');
        fflush(stdout);
        return r;
}

/* Finds Name and Pack among an interface's properties (text mode labels). */
static int read_name(sd_bus_message *m, char **ret, char **ret_pack) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *value;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r >= 0 && strcmp(name, "Name") == 0 &&
                    sd_bus_message_enter_container(m, 'v', "s") > 0) {
                        r = sd_bus_message_read_basic(m, 's', &value);
                        if (r >= 0 && !*ret)
                                *ret = strdup(value);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else if (r >= 0 && strcmp(name, "Pack") == 0 &&
                           sd_bus_message_enter_container(m, 'v', "o") > 0) {
                        r = sd_bus_message_read_basic(m, 'o', &value);
                        if (r >= 0 && !*ret_pack)
                                *ret_pack = strdup(value);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* --json: an InterfacesAdded/-Removed event whose "interfaces" is the rest of m as it is. */
static int print_json_interfaces(sd_bus_message *m, const char *event, const char *path) {
        JsonWriter w;
        int r;

        json_event_begin(&w, event, path);
        json_key(&w, "interfaces");
        r = json_write_bus_value(&w, m);
        json_event_end(&w);
        return r;
}

static int on_interfaces_added(Monitor *mon, sd_bus_message *m) {
        const char *path, *iface, *kind = NULL;
        _cleanup_free_ char *name = NULL, *pack = NULL;
        int r;

        r = sd_bus_message_read_basic(m, 'o', &path);
        if (r < 0)
                return r;
        if (arg.json)
                return print_json_interfaces(m, "interfaces-added", path);
        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                r = sd_bus_message_read_basic(m, 's', &iface);
                if (r >= 0 && kind_of(iface)) {
                        kind = kind_of(iface);
                        r = read_name(m, &name, &pack);
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (kind && strcmp(kind, "job") == 0)
                set_label(mon, path, "job", job_short_name(path));
        else if (kind && strcmp(kind, "pack") == 0)
                set_label(mon, path, kind, name ?: path);
        else if (kind)
                set_member_label(mon, path, kind, pack, name);
        print_time();
        printf("%s+%s %s added (%s)\n", ansi_green(), ansi_normal(), label(mon, path), path);
        fflush(stdout);
        return r;
}

static int on_interfaces_removed(Monitor *mon, sd_bus_message *m) {
        const char *path;
        int r;

        r = sd_bus_message_read_basic(m, 'o', &path);
        if (r < 0)
                return r;
        if (arg.json)
                return print_json_interfaces(m, "interfaces-removed", path);
        print_time();
        printf("%s-%s %s removed (%s)\n", ansi_red(), ansi_normal(), label(mon, path), path);
        fflush(stdout);
        return 0;
}

static int on_job_new(Monitor *mon, sd_bus_message *m) {
        const char *job, *object;
        int r;

        r = sd_bus_message_read(m, "oo", &job, &object);
        if (r < 0)
                return r;
        if (arg.json) {
                JsonWriter w;

                json_event_begin(&w, "job-new", sd_bus_message_get_path(m));
                json_kv_string(&w, "job", job);
                json_kv_string(&w, "target", object);
                json_event_end(&w);
                return 0;
        }
        print_time();
        printf("%s started on %s\n", label(mon, job), label(mon, object));
        fflush(stdout);
        return 0;
}

static int on_job_removed(Monitor *mon, sd_bus_message *m) {
        const char *job;
        uint32_t hr;
        int r;

        r = sd_bus_message_read(m, "ou", &job, &hr);
        if (r < 0)
                return r;
        if (arg.json) {
                JsonWriter w;

                json_event_begin(&w, "job-removed", sd_bus_message_get_path(m));
                json_kv_string(&w, "job", job);
                json_kv_uint(&w, "hresult", hr);
                json_kv_string(&w, "result", hresult_result(hr));
                json_event_end(&w);
                return 0;
        }
        print_time();
        printf("%s removed (%s, 0x%08" PRIx32 ")\n", label(mon, job), hresult_result(hr), hr);
        fflush(stdout);
        return 0;
}

static int on_completed(Monitor *mon, sd_bus_message *m) {
        const char *path = sd_bus_message_get_path(m), *message;
        uint32_t hr;
        int r;

        r = sd_bus_message_read(m, "us", &hr, &message);
        if (r < 0)
                return r;
        if (arg.json) {
                JsonWriter w;

                json_event_begin(&w, "completed", path);
                json_kv_uint(&w, "hresult", hr);
                json_kv_string(&w, "hresult_name", hresult_name(hr));
                json_kv_string(&w, "result", hresult_result(hr));
                json_kv_string(&w, "message", message);
                json_event_end(&w);
                return 0;
        }
        print_time();
        printf("%s completed: %s%s%s (%s, 0x%08" PRIx32 ")%s%s\n", label(mon, path),
               hresult_ok(hr) ? ansi_green() : ansi_red(), hresult_result(hr), ansi_normal(),
               hresult_name(hr) ?: "?", hr, *message ? ": " : "", message);
        fflush(stdout);
        return 0;
}

static int on_other(Monitor *mon, sd_bus_message *m) {
        const char *path = sd_bus_message_get_path(m);

        if (arg.json) {
                JsonWriter w;
                int r = 0;

                json_event_begin(&w, "signal", path);
                json_kv_string(&w, "interface", sd_bus_message_get_interface(m));
                json_kv_string(&w, "member", sd_bus_message_get_member(m));
                json_key(&w, "args");
                json_begin_array(&w);
                while (r >= 0 && sd_bus_message_peek_type(m, NULL, NULL) > 0)
                        r = json_write_bus_value(&w, m);
                json_end_array(&w);
                json_event_end(&w);
                return r;
        }
        print_time();
        printf("%s: signal %s.%s\n", label(mon, strna(path)), strna(sd_bus_message_get_interface(m)),
               strna(sd_bus_message_get_member(m)));
        fflush(stdout);
        return 0;
}

static int on_daemon_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Monitor *mon = userdata;
        int r;

        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged"))
                r = on_properties_changed(mon, m);
        else if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.ObjectManager", "InterfacesAdded"))
                r = on_interfaces_added(mon, m);
        else if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved"))
                r = on_interfaces_removed(mon, m);
        else if (sd_bus_message_is_signal(m, LDMD_IFACE_MANAGER, "JobNew"))
                r = on_job_new(mon, m);
        else if (sd_bus_message_is_signal(m, LDMD_IFACE_MANAGER, "JobRemoved"))
                r = on_job_removed(mon, m);
        else if (sd_bus_message_is_signal(m, LDMD_IFACE_JOB, "Completed"))
                r = on_completed(mon, m);
        else
                r = on_other(mon, m);
        if (r < 0)
                fprintf(stderr, "ldmctl: malformed %s signal from %s\n",
                        strna(sd_bus_message_get_member(m)), strna(sd_bus_message_get_path(m)));
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Monitor *mon = userdata;
        const char *name, *old_owner, *new_owner;
        bool appeared;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
            strcmp(name, LDMD_BUS_NAME) != 0)
                return 0;
        appeared = *new_owner != 0;
        if (appeared)
                load_labels(mon);
        if (arg.json) {
                JsonWriter w;

                json_event_begin(&w, appeared ? "daemon-appeared" : "daemon-vanished", NULL);
                json_kv_string(&w, "owner", appeared ? new_owner : old_owner);
                json_event_end(&w);
                return 0;
        }
        print_time();
        printf("ldmd %s (%s)\n", appeared ? "appeared" : "vanished", appeared ? new_owner : old_owner);
        fflush(stdout);
        return 0;
}

/* The unique name owning org.ldmd1, or NULL when ldmd is not running. */
static int get_owner(sd_bus *bus, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *owner;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetNameOwner", NULL, &reply, "s", LDMD_BUS_NAME);
        if (r < 0)
                return r;
        r = sd_bus_message_read_basic(reply, 's', &owner);
        if (r < 0)
                return r;
        *ret = strdup(owner);
        return *ret ? 0 : -ENOMEM;
}

static int on_quit(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        sd_event_exit(sd_event_source_get_event(s), 0);
        return 0;
}

int verb_monitor(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        Monitor mon = { .bus = bus };
        sigset_t mask;
        int r;

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(bus, true);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL, "type='signal',sender='" LDMD_BUS_NAME "'",
                                     on_daemon_signal, &mon);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',"
                                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                     "arg0='" LDMD_BUS_NAME "'",
                                     on_name_owner_changed, &mon);
        if (r < 0) {
                monitor_done(&mon);
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "cannot subscribe to ldmd's signals: %s", strerror(-r));
        }
        load_labels(&mon);

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) sd_event_add_signal(event, NULL, SIGINT, on_quit, NULL);
        (void) sd_event_add_signal(event, NULL, SIGTERM, on_quit, NULL);

        /* Subscribed from here on: say so, scripts may wait for this line before acting. */
        if (arg.json) {
                _cleanup_free_ char *owner = NULL;
                JsonWriter w;

                (void) get_owner(bus, &owner);
                json_event_begin(&w, "monitoring", NULL);
                json_kv_string(&w, "owner", owner);
                json_event_end(&w);
        } else {
                printf("Monitoring ldmd events; Ctrl-C stops.\n");
                fflush(stdout);
        }
        r = sd_event_loop(event);
        sd_bus_detach_event(bus);
        monitor_done(&mon);
        if (r < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "event loop failed: %s", strerror(-r));
        return r;
}
