/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* pack-lines.c: see pack-lines.h. */

#include <inttypes.h>

#include "pack-lines.h"
#include "scan.h"
#include "test-util.h"

#include <glib.h> /* after macro.h: GLib's MIN/MAX replace ours without a warning */

static const char *ldmtool_type(LdmVolumeType t) {
        static const char *const names[_LDM_VOLUME_TYPE_MAX] = {
                [LDM_VOLUME_SIMPLE] = "simple", [LDM_VOLUME_SPAN] = "spanned",
                [LDM_VOLUME_STRIPE] = "striped", [LDM_VOLUME_MIRROR] = "mirrored",
                [LDM_VOLUME_RAID5] = "RAID5",
        };
        return t >= 0 && t < _LDM_VOLUME_TYPE_MAX ? names[t] : "?";
}

static int cmp_str(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorts and joins lines with a trailing newline, as `sort` prints them. */
static char *finish(GPtrArray *lines) {
        GString *s = g_string_new(NULL);

        g_ptr_array_sort(lines, cmp_str);
        for (guint i = 0; i < lines->len; i++)
                g_string_append_printf(s, "%s\n", (char *) lines->pdata[i]);
        g_ptr_array_unref(lines);
        return g_string_free(s, FALSE);
}

char *test_pack_lines_new(const LdmNewPack *p, const char *dir) {
        g_auto(GStrv) paths = g_new0(char *, p->n_disks + 1);

        for (size_t i = 0; i < p->n_disks; i++)
                paths[i] = g_strdup_printf("%s/disk%zu.img", dir, i + 1);
        return test_pack_lines_new_paths(p, (const char *const *) paths);
}

char *test_pack_lines_new_paths(const LdmNewPack *p, const char *const *paths) {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

        g_ptr_array_add(lines, g_strdup_printf("group %s %s", p->group_name,
                                               GUID_TO_STRING(&p->group_guid)));
        for (size_t i = 0; i < p->n_disks; i++) {
                const LdmNewDisk *d = &p->disks[i];
                g_ptr_array_add(lines, g_strdup_printf(
                        "disk %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " 2048",
                        d->name, GUID_TO_STRING(&d->privhead.disk_guid), paths[i],
                        d->privhead.pub_start, d->privhead.pub_size, d->privhead.priv_start));
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                const LdmNewVolume *v = &p->volumes[i];
                GString *parts = g_string_new(NULL);
                for (size_t j = 0; j < v->n_extents; j++) {
                        const LdmNewExtent *e = &v->extents[j];
                        g_string_append_printf(parts, "%s%s", j ? "," : "", e->name);
                        g_ptr_array_add(lines, g_strdup_printf(
                                "partition %s %" PRIu64 " %" PRIu64 " %s", e->name, e->start,
                                e->size, p->disks[e->disk].name));
                }
                g_ptr_array_add(lines, g_strdup_printf(
                        "volume %s %s %s %" PRIu64 " %u %s", v->name, GUID_TO_STRING(&v->guid),
                        ldmtool_type(v->type), v->size,
                        v->type == LDM_VOLUME_STRIPE || v->type == LDM_VOLUME_RAID5 ? 128u : 0u,
                        parts->str));
                g_string_free(parts, TRUE);
        }
        return finish(lines);
}

char *test_pack_lines_scan(const char *images) {
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) error = NULL;
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        const LdmPack *p;

        g_assert_true(g_shell_parse_argv(images, NULL, &argv, &error));
        g_assert_cmpint(ldm_scan_paths(argv, g_strv_length(argv), &scan), ==, 0);
        g_assert_cmpuint(scan->n_packs, ==, 1);
        g_assert_cmpuint(scan->n_invalid, ==, 0);
        p = scan->packs[0];

        g_ptr_array_add(lines, g_strdup_printf("group %s %s", p->name, GUID_TO_STRING(&p->guid)));
        for (size_t i = 0; i < p->n_disks; i++) {
                const LdmDisk *d = &p->disks[i];
                g_assert_nonnull(d->device);
                g_ptr_array_add(lines, g_strdup_printf(
                        "disk %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
                        d->name, GUID_TO_STRING(&d->guid), d->device->path,
                        d->device->privhead.pub_start, d->device->privhead.pub_size,
                        d->device->privhead.priv_start, d->device->privhead.priv_size));
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                const LdmVolume *v = &p->volumes[i];
                GString *parts = g_string_new(NULL);
                uint64_t chunk = 0;
                for (size_t k = 0; k < v->n_plexes; k++) {
                        const LdmPlex *pl = v->plexes[k];
                        chunk = pl->stripe_size;
                        for (size_t c = 0; c < pl->n_columns; c++)
                                for (size_t e = 0; e < pl->columns[c].n_extents; e++) {
                                        const LdmExtent *x = pl->columns[c].extents[e];
                                        g_string_append_printf(parts, "%s%s", parts->len ? "," : "",
                                                               x->name);
                                        g_ptr_array_add(lines, g_strdup_printf(
                                                "partition %s %" PRIu64 " %" PRIu64 " %s", x->name,
                                                x->start, x->size, x->disk->name));
                                }
                }
                g_ptr_array_add(lines, g_strdup_printf(
                        "volume %s %s %s %" PRIu64 " %" PRIu64 " %s", v->name,
                        GUID_TO_STRING(&v->guid), ldmtool_type(v->type), v->size, chunk, parts->str));
                g_string_free(parts, TRUE);
        }
        return finish(lines);
}

char *test_pack_lines_run(const char *mode, const char *args) {
        char *out = NULL;
        g_autofree char *s = g_build_filename(g_getenv("LDM_SOURCE_ROOT"), "tests", "writer",
                                              "pack-lines.sh", NULL);
        g_autofree char *chk = g_build_filename(test_shared_dir(), "tools", "ldmcheck", NULL);

        g_assert_cmpint(test_run(&out, "LDMCHECK='%s' '%s' %s %s", chk, s, mode, args), ==, 0);
        return out;
}
