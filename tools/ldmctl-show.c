/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl-show.c: the read-only verbs: `list` (one line per pack), `status` (a tree: pack →
 * disks → volumes → plexes → members) and `jobs`, each in text or --json form. */

#include <inttypes.h>
#include <stdio.h>

#include "ldmctl-json.h"
#include "ldmctl-model.h"
#include "ldmctl-table.h"
#include "ldmctl-util.h"
#include "ldmctl-verbs.h"
#include "vds.h"

typedef struct Glyphs {
        const char *branch, *last, *vertical, *space;
} Glyphs;

static Glyphs glyphs(void) {
        if (arg.unicode)
                return (Glyphs) { "├─ ", "└─ ", "│  ", "   " };
        return (Glyphs) { "|- ", "`- ", "|  ", "   " };
}

static bool disk_present(const LdmctlDisk *d) {
        return d && d->status != VDS_DS_MISSING;
}

static void count_disks(const LdmctlModel *m, const LdmctlPack *p, size_t *present, size_t *total) {
        *total = strv_length(p->disks);
        *present = 0;
        for (size_t i = 0; i < *total; i++)
                if (disk_present(ldmctl_model_disk(m, p->disks[i])))
                        (*present)++;
}

static const char *disk_label(const LdmctlModel *m, const char *path) {
        const LdmctlDisk *d = ldmctl_model_disk(m, path);
        return d && d->name ? d->name : strna(path);
}

/* Common keys of a pack in `list` and `status` JSON documents. */
static void json_pack_summary(JsonWriter *w, const LdmctlModel *m, const LdmctlPack *p) {
        size_t present, total;

        count_disks(m, p, &present, &total);
        json_kv_string(w, "object", p->path);
        json_kv_string(w, "id", p->id);
        json_kv_string(w, "name", p->name);
        json_kv_string(w, "status", pack_status_name(p->status));
        json_kv_uint(w, "status_code", p->status);
        json_kv_string(w, "health", health_name(p->health));
        json_kv_uint(w, "health_code", p->health);
        json_key(w, "flags");
        json_begin_array(w);
        for (unsigned i = 0; i < 32; i++)
                if (p->flags & (UINT32_C(1) << i))
                        json_string(w, pack_flag_name(UINT32_C(1) << i) ?: "unknown");
        json_end_array(w);
        json_kv_uint(w, "flags_code", p->flags);
        json_kv_uint(w, "disks_present", present);
        json_kv_uint(w, "disks_total", total);
        json_kv_uint(w, "volumes", strv_length(p->volumes));
        json_kv_object(w, "active_job", p->active_job);
}

int verb_list(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ldmctl_model_freep) LdmctlModel *m = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        static const char *const header[] = { "NAME", "STATUS", "HEALTH", "DISKS", "VOLUMES", "FLAGS", "JOB" };
        int r;

        r = ldmctl_model_load(bus, &m, &error);
        if (r < 0)
                return ldmctl_bus_fail(&error, r, "cannot list packs");

        if (arg.names) {
                for (size_t i = 0; i < m->n_packs; i++)
                        if (m->packs[i].name)
                                printf("%s\n", m->packs[i].name);
                return 0;
        }
        if (arg.json) {
                JsonWriter w;

                json_init(&w, stdout, arg.json_pretty);
                json_begin_object(&w);
                json_key(&w, "packs");
                json_begin_array(&w);
                for (size_t i = 0; i < m->n_packs; i++) {
                        json_begin_object(&w);
                        json_pack_summary(&w, m, &m->packs[i]);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_end_object(&w);
                json_finish(&w);
                return 0;
        }

        t = table_new();
        if (!t || table_header(t, header, ELEMENTSOF(header)) < 0)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "out of memory");
        for (size_t i = 0; i < m->n_packs; i++) {
                const LdmctlPack *p = &m->packs[i];
                size_t present, total;
                char buf[64], flags[128];

                count_disks(m, p, &present, &total);
                table_row(t, NULL);
                table_cell(t, ansi_bold(), "%s", strna(p->name));
                table_cell(t, p->status == VDS_PS_ONLINE ? "" : ansi_red(), "%s",
                           name_or_number(pack_status_name(p->status), p->status, buf, sizeof buf));
                table_cell(t, health_color(p->health), "%s",
                           name_or_number(health_name(p->health), p->health, buf, sizeof buf));
                table_cell(t, present < total ? ansi_red() : "", "%zu/%zu", present, total);
                table_cell(t, NULL, "%zu", strv_length(p->volumes));
                table_cell(t, p->flags ? ansi_yellow() : "", "%s", format_pack_flags(flags, sizeof flags, p->flags));
                table_cell(t, NULL, "%s", p->active_job && strcmp(p->active_job, "/") != 0 ?
                           job_short_name(p->active_job) : "-");
        }
        if (m->n_packs == 0) {
                printf("No packs.\n");
                return 0;
        }
        table_print(t, stdout, arg.legend);
        if (arg.legend)
                printf("\n%zu pack%s listed.\n", m->n_packs, m->n_packs == 1 ? "" : "s");
        return 0;
}

static void json_disk(JsonWriter *w, const LdmctlDisk *d) {
        json_begin_object(w);
        json_kv_string(w, "object", d->path);
        json_kv_string(w, "id", d->id);
        json_kv_string(w, "name", d->name);
        json_kv_string(w, "device", d->device && *d->device ? d->device : NULL);
        json_kv_string(w, "status", disk_status_name(d->status));
        json_kv_uint(w, "status_code", d->status);
        json_kv_string(w, "health", health_name(d->health));
        json_kv_uint(w, "health_code", d->health);
        json_kv_uint(w, "size", d->size);
        json_kv_uint(w, "database_sequence", d->database_sequence);
        json_kv_bool(w, "database_stale", d->database_stale);
        json_end_object(w);
}

static void json_volume(JsonWriter *w, const LdmctlModel *m, const LdmctlVolume *v) {
        json_begin_object(w);
        json_kv_string(w, "object", v->path);
        json_kv_string(w, "id", v->id);
        json_kv_string(w, "name", v->name);
        json_kv_string(w, "type", volume_type_name(v->type));
        json_kv_uint(w, "type_code", v->type);
        json_kv_string(w, "status", volume_status_name(v->status));
        json_kv_uint(w, "status_code", v->status);
        json_kv_string(w, "health", health_name(v->health));
        json_kv_uint(w, "health_code", v->health);
        json_kv_uint(w, "size", v->size);
        json_key(w, "plexes");
        json_begin_array(w);
        for (size_t i = 0; i < v->n_plexes; i++) {
                const LdmctlPlex *p = &v->plexes[i];

                json_begin_object(w);
                json_kv_uint(w, "index", p->index);
                json_kv_string(w, "health", health_name(p->health));
                json_kv_uint(w, "health_code", p->health);
                json_kv_string(w, "transition", transition_name(p->transition));
                json_kv_uint(w, "transition_code", p->transition);
                json_key(w, "members");
                json_begin_array(w);
                for (size_t j = 0; j < p->n_members; j++) {
                        const LdmctlDisk *d = ldmctl_model_disk(m, p->members[j].disk);

                        json_begin_object(w);
                        json_kv_string(w, "disk", p->members[j].disk);
                        json_kv_string(w, "disk_name", d ? d->name : NULL);
                        json_kv_uint(w, "offset", p->members[j].offset);
                        json_kv_uint(w, "length", p->members[j].length);
                        json_end_object(w);
                }
                json_end_array(w);
                json_end_object(w);
        }
        json_end_array(w);
        json_end_object(w);
}

static void json_pack_full(JsonWriter *w, const LdmctlModel *m, const LdmctlPack *p) {
        json_begin_object(w);
        json_pack_summary(w, m, p);
        json_kv_uint(w, "committed_sequence", p->committed_sequence);
        json_key(w, "disks");
        json_begin_array(w);
        for (size_t i = 0; i < m->n_disks; i++)
                if (strv_contains(p->disks, m->disks[i].path))
                        json_disk(w, &m->disks[i]);
        json_end_array(w);
        json_key(w, "volumes");
        json_begin_array(w);
        for (size_t i = 0; i < m->n_volumes; i++)
                if (strv_contains(p->volumes, m->volumes[i].path))
                        json_volume(w, m, &m->volumes[i]);
        json_end_array(w);
        json_end_object(w);
}

static void add_disk_rows(Table *t, const LdmctlModel *m, const LdmctlPack *p, const Glyphs *g) {
        size_t total = strv_length(p->disks), seen = 0;

        for (size_t i = 0; i < m->n_disks; i++) {
                const LdmctlDisk *d = &m->disks[i];
                char buf[64], size[32];
                _cleanup_free_ char *prefix = NULL;

                if (!strv_contains(p->disks, d->path))
                        continue;
                seen++;
                if (asprintf(&prefix, "  %s%s", g->vertical, seen == total ? g->last : g->branch) < 0)
                        return;
                table_row(t, prefix);
                table_cell(t, NULL, "%s", strna(d->name));
                table_cell(t, d->status == VDS_DS_ONLINE ? "" : ansi_red(), "%s",
                           name_or_number(disk_status_name(d->status), d->status, buf, sizeof buf));
                table_cell(t, health_color(d->health), "%s",
                           name_or_number(health_name(d->health), d->health, buf, sizeof buf));
                table_cell(t, NULL, "%s", format_bytes(size, sizeof size, d->size));
                table_cell(t, d->device && *d->device ? "" : ansi_red(), "%s",
                           d->device && *d->device ? d->device : "(no device)");
                if (d->database_stale)
                        table_cell(t, ansi_yellow(), "database seq %" PRIu64 " STALE (pack at %" PRIu64 ")",
                                   d->database_sequence, p->committed_sequence);
                else
                        table_cell(t, ansi_grey(), "database seq %" PRIu64, d->database_sequence);
        }
}

static void add_volume_rows(Table *t, const LdmctlModel *m, const LdmctlPack *p, const Glyphs *g) {
        size_t total = strv_length(p->volumes), seen = 0;

        for (size_t i = 0; i < m->n_volumes; i++) {
                const LdmctlVolume *v = &m->volumes[i];
                const char *cont;
                char buf[64], buf2[64], size[32];
                _cleanup_free_ char *prefix = NULL;

                if (!strv_contains(p->volumes, v->path))
                        continue;
                seen++;
                cont = seen == total ? g->space : g->vertical;
                if (asprintf(&prefix, "     %s", seen == total ? g->last : g->branch) < 0)
                        return;
                table_row(t, prefix);
                table_cell(t, NULL, "%s", strna(v->name));
                table_cell(t, NULL, "%s", name_or_number(volume_type_name(v->type), v->type, buf, sizeof buf));
                table_cell(t, v->status == VDS_VS_ONLINE ? "" : ansi_red(), "%s",
                           name_or_number(volume_status_name(v->status), v->status, buf, sizeof buf));
                table_cell(t, health_color(v->health), "%s",
                           name_or_number(health_name(v->health), v->health, buf, sizeof buf));
                table_cell(t, NULL, "%s", format_bytes(size, sizeof size, v->size));

                for (size_t j = 0; j < v->n_plexes; j++) {
                        const LdmctlPlex *pl = &v->plexes[j];
                        const char *pcont = j + 1 == v->n_plexes ? g->space : g->vertical;

                        table_line(t, "     %s%splex %" PRIu32 "  %s%s%s  %s", cont,
                                   j + 1 == v->n_plexes ? g->last : g->branch, pl->index,
                                   health_color(pl->health),
                                   name_or_number(health_name(pl->health), pl->health, buf, sizeof buf),
                                   ansi_normal(),
                                   name_or_number(transition_name(pl->transition), pl->transition, buf2, sizeof buf2));
                        int name_w = 0;

                        for (size_t k = 0; k < pl->n_members; k++)
                                name_w = MAX(name_w, (int) strlen(disk_label(m, pl->members[k].disk)));
                        for (size_t k = 0; k < pl->n_members; k++) {
                                const LdmctlMember *mb = &pl->members[k];
                                const LdmctlDisk *d = ldmctl_model_disk(m, mb->disk);
                                char off[32], len[32];

                                table_line(t, "     %s%s%s%s%-*s%s  offset %s (%" PRIu64 ")  length %s", cont, pcont,
                                           k + 1 == pl->n_members ? g->last : g->branch,
                                           disk_present(d) ? "" : ansi_red(), name_w, disk_label(m, mb->disk),
                                           disk_present(d) ? "" : ansi_normal(),
                                           format_bytes(off, sizeof off, mb->offset), mb->offset,
                                           format_bytes(len, sizeof len, mb->length));
                        }
                }
        }
}

static int print_pack_tree(const LdmctlModel *m, const LdmctlPack *p) {
        _cleanup_(table_freep) Table *disks = table_new(), *volumes = table_new();
        Glyphs g = glyphs();
        size_t present, total;
        char buf[64], buf2[64], flags[128];

        if (!disks || !volumes)
                return -ENOMEM;
        count_disks(m, p, &present, &total);
        printf("%sPack %s%s (%s)\n", ansi_bold(), strna(p->name), ansi_normal(), strna(p->id));
        printf("  status %s%s%s, health %s%s%s, flags %s%s%s, database sequence %" PRIu64 "\n",
               p->status == VDS_PS_ONLINE ? "" : ansi_red(),
               name_or_number(pack_status_name(p->status), p->status, buf, sizeof buf), ansi_normal(),
               health_color(p->health), name_or_number(health_name(p->health), p->health, buf2, sizeof buf2),
               ansi_normal(), p->flags ? ansi_yellow() : "", format_pack_flags(flags, sizeof flags, p->flags),
               ansi_normal(), p->committed_sequence);
        printf("  object %s\n", p->path);
        if (p->active_job && strcmp(p->active_job, "/") != 0)
                printf("  job %s\n", p->active_job);

        printf("  %sdisks: %s%zu of %zu present%s\n", g.branch, present < total ? ansi_red() : "",
               present, total, present < total ? ansi_normal() : "");
        /* Two tables: disk and volume columns align among themselves, not with each other. */
        add_disk_rows(disks, m, p, &g);
        table_print(disks, stdout, false);
        printf("  %svolumes: %zu\n", g.last, strv_length(p->volumes));
        add_volume_rows(volumes, m, p, &g);
        table_print(volumes, stdout, false);
        return 0;
}

int verb_status(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ldmctl_model_freep) LdmctlModel *m = NULL;
        _cleanup_free_ const LdmctlPack **sel = NULL;
        size_t n_sel = 0;
        int r, ret = 0;

        r = ldmctl_model_load(bus, &m, &error);
        if (r < 0)
                return ldmctl_bus_fail(&error, r, "cannot read packs");

        sel = calloc(argc > 1 ? (size_t) argc - 1 : m->n_packs + 1, sizeof(*sel));
        if (!sel)
                return ldmctl_fail(LDMCTL_EXIT_FAILURE, "out of memory");
        if (argc <= 1)
                for (size_t i = 0; i < m->n_packs; i++)
                        sel[n_sel++] = &m->packs[i];
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *path = NULL;
                const LdmctlPack *p;

                sd_bus_error_free(&error);
                r = ldmctl_resolve_pack(bus, argv[i], &path, &error);
                if (r == -EINVAL && !sd_bus_error_is_set(&error))
                        r = ldmctl_fail(LDMCTL_EXIT_USAGE, "'%s' is not a pack object path", argv[i]);
                else if (r < 0)
                        r = ldmctl_bus_fail(&error, r, "pack '%s'", argv[i]);
                else if (!(p = ldmctl_model_pack(m, path)))
                        r = ldmctl_fail(LDMCTL_EXIT_NOT_FOUND, "pack '%s' vanished", argv[i]);
                else {
                        sel[n_sel++] = p;
                        r = 0;
                }
                if (r > 0 && ret == 0)
                        ret = r;
        }

        if (arg.json) {
                JsonWriter w;

                json_init(&w, stdout, arg.json_pretty);
                json_begin_object(&w);
                json_key(&w, "packs");
                json_begin_array(&w);
                for (size_t i = 0; i < n_sel; i++)
                        json_pack_full(&w, m, sel[i]);
                json_end_array(&w);
                json_end_object(&w);
                json_finish(&w);
                return ret;
        }
        for (size_t i = 0; i < n_sel; i++) {
                if (i > 0)
                        putchar('\n');
                if (print_pack_tree(m, sel[i]) < 0)
                        return ldmctl_fail(LDMCTL_EXIT_FAILURE, "out of memory");
        }
        if (n_sel == 0 && argc <= 1 && ret == 0)
                printf("No packs.\n");
        return ret;
}

/* Oldest first: "_9" before "_10". */
static int cmp_job_path(const void *a, const void *b) {
        return strverscmp(((const LdmctlJob *) a)->path, ((const LdmctlJob *) b)->path);
}

/* Jobs come from Manager.ListJobs, which every daemon version has, then one GetAll each. */
static int load_jobs(sd_bus *bus, LdmctlJob **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        LdmctlJob *jobs = NULL;
        size_t n = 0;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, LDMD_BUS_NAME, LDMD_MANAGER_PATH, LDMD_IFACE_MANAGER,
                               "ListJobs", error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "o");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(reply, 'o', &path)) > 0) {
                LdmctlJob j, *nj;

                /* A job may be gone between the two calls: not an error. */
                if (ldmctl_job_load(bus, path, &j, NULL) < 0)
                        continue;
                nj = realloc(jobs, (n + 1) * sizeof(*nj));
                if (!nj) {
                        ldmctl_job_done(&j);
                        r = -ENOMEM;
                        break;
                }
                jobs = nj;
                jobs[n++] = j;
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        ldmctl_job_done(&jobs[i]);
                free(jobs);
                return r;
        }
        qsort_safe(jobs, n, sizeof(*jobs), cmp_job_path);
        *ret = jobs;
        *ret_n = n;
        return 0;
}

void ldmctl_json_job_members(JsonWriter *w, const LdmctlModel *m, const LdmctlJob *j) {
        const LdmctlPack *p = m ? ldmctl_model_pack(m, j->object) : NULL;
        bool done = j->state && strcmp(j->state, "done") == 0;

        json_kv_string(w, "object", j->path);
        json_kv_string(w, "operation", j->operation);
        json_kv_object(w, "pack", j->object);
        json_kv_string(w, "pack_name", p ? p->name : NULL);
        json_kv_string(w, "state", j->state);
        json_kv_uint(w, "percent", j->percent);
        json_kv_uint(w, "bytes_done", j->bytes_done);
        json_kv_uint(w, "bytes_total", j->bytes_total);
        json_kv_uint(w, "rate", j->rate);
        json_kv_uint(w, "start_time", j->start_time);
        json_kv_uint(w, "expected_end_time", j->expected_end_time);
        json_kv_uint(w, "started_by_uid", j->started_by_uid);
        json_kv_bool(w, "cancelable", j->cancelable);
        json_kv_uint(w, "hresult", j->hresult);
        json_kv_string(w, "hresult_name", hresult_name(j->hresult));
        json_kv_string(w, "result", done ? hresult_result(j->hresult) : NULL);
        json_kv_string(w, "message", j->message);
}

int verb_jobs(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ldmctl_model_freep) LdmctlModel *m = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        static const char *const header[] = { "JOB", "OPERATION", "PACK", "STATE", "PROGRESS", "STARTED", "RESULT", "MESSAGE" };
        LdmctlJob *jobs = NULL;
        size_t n = 0;
        int r;

        r = load_jobs(bus, &jobs, &n, &error);
        if (r < 0)
                return ldmctl_bus_fail(&error, r, "cannot list jobs");
        (void) ldmctl_model_load(bus, &m, NULL); /* only for pack names */

        if (arg.paths) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", jobs[i].path);
        } else if (arg.json) {
                JsonWriter w;

                json_init(&w, stdout, arg.json_pretty);
                json_begin_object(&w);
                json_key(&w, "jobs");
                json_begin_array(&w);
                for (size_t i = 0; i < n; i++) {
                        json_begin_object(&w);
                        ldmctl_json_job_members(&w, m, &jobs[i]);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_end_object(&w);
                json_finish(&w);
        } else if ((t = table_new()) && table_header(t, header, ELEMENTSOF(header)) >= 0) {
                for (size_t i = 0; i < n; i++) {
                        const LdmctlJob *j = &jobs[i];
                        bool done = j->state && strcmp(j->state, "done") == 0;
                        char ts[64], done_b[32], total_b[32];

                        table_row(t, NULL);
                        table_cell(t, NULL, "%s", job_short_name(j->path));
                        table_cell(t, NULL, "%s", strna(j->operation));
                        table_cell(t, NULL, "%s", ldmctl_model_pack_label(m, j->object));
                        table_cell(t, NULL, "%s", strna(j->state));
                        if (j->bytes_total > 0)
                                table_cell(t, NULL, "%" PRIu32 "%% (%s of %s)", j->percent,
                                           format_bytes(done_b, sizeof done_b, j->bytes_done),
                                           format_bytes(total_b, sizeof total_b, j->bytes_total));
                        else
                                table_cell(t, NULL, "%" PRIu32 "%%", j->percent);
                        table_cell(t, NULL, "%s", format_timestamp(ts, sizeof ts, j->start_time));
                        if (done)
                                table_cell(t, hresult_ok(j->hresult) ? ansi_green() : ansi_red(), "%s",
                                           hresult_result(j->hresult));
                        else
                                table_cell(t, NULL, "-");
                        table_cell(t, NULL, "%s", j->message && *j->message ? j->message : "");
                }
                if (n == 0)
                        printf("No jobs.\n");
                else {
                        table_print(t, stdout, arg.legend);
                        if (arg.legend)
                                printf("\n%zu job%s listed.\n", n, n == 1 ? "" : "s");
                }
        } else
                r = -ENOMEM;

        for (size_t i = 0; i < n; i++)
                ldmctl_job_done(&jobs[i]);
        free(jobs);
        return r < 0 ? ldmctl_fail(LDMCTL_EXIT_FAILURE, "out of memory") : 0;
}
