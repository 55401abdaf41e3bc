/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-real-packs: ldm_scan_paths() over the 19 real Windows images gives exactly the two
 * packs of EXPECTED.md with every value measured there; also per-device probing details
 * (copies, TOC choice, fall-backs, in-flight transactions) and a scan with a disk left out. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "scan.h"
#include "test-util.h"
#include "unaligned.h"
#include "validate.h"

static const char *const images[] = {
        "ldm-2003r2-mirrored-1.img", "ldm-2003r2-mirrored-2.img", "ldm-2003r2-raid5-1.img",
        "ldm-2003r2-raid5-2.img",    "ldm-2003r2-raid5-3.img",    "ldm-2003r2-simple-1.img",
        "ldm-2003r2-spanned-1.img",  "ldm-2003r2-spanned-2.img",  "ldm-2003r2-striped-1.img",
        "ldm-2003r2-striped-2.img",  "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img",
        "ldm-2008r2-raid5-1.img",    "ldm-2008r2-raid5-2.img",    "ldm-2008r2-raid5-3.img",
        "ldm-2008r2-spanned-1.img",  "ldm-2008r2-spanned-2.img",  "ldm-2008r2-striped-1.img",
        "ldm-2008r2-striped-2.img",
};

typedef struct ExpDisk {
        const char *name;
        uint32_t id;
        const char *guid;
        const char *image;
} ExpDisk;

typedef struct ExpMember {
        const char *name;
        uint32_t id;
        const char *image;
        uint64_t abs_sector;
        uint64_t size;
        uint64_t offset_in_column;
} ExpMember;

typedef struct ExpVolume {
        const char *name;
        uint32_t id;
        const char *guid;     /* NULL: only the prefix below is known */
        const char *guid_prefix;
        LdmVolumeType type;
        uint64_t size, stripe;
        const char *hint;
        uint32_t plex_ids[2];
        ExpMember members[3]; /* plex 0 in volume order (columns / offsets), mirror: plex 0 then 1 */
} ExpVolume;

static const ExpDisk w03_disks[] = {
        { "Disk1", 1027, "d17c2c04-6afc-46c3-84b7-cdc2f3956c5c", "ldm-2003r2-simple-1.img" },
        { "Disk2", 1030, "c85a6ce4-edb3-4dbc-a3b9-7fba4b6e6f75", "ldm-2003r2-spanned-1.img" },
        { "Disk3", 1033, "004c32fa-91e1-41ac-83b3-bc1baff2dc93", "ldm-2003r2-spanned-2.img" },
        { "Disk4", 1036, "6c7ca470-6934-4dfd-9269-c3102b9ae158", "ldm-2003r2-striped-1.img" },
        { "Disk5", 1039, "ce97d979-fabb-4e9b-b44c-7d9580ae1f53", "ldm-2003r2-striped-2.img" },
        { "Disk6", 1042, "bfcb718c-3809-44b7-ae62-c94a3bd6b057", "ldm-2003r2-mirrored-1.img" },
        { "Disk7", 1045, "47980158-abc7-46e3-a95f-7c00f8539073", "ldm-2003r2-mirrored-2.img" },
        { "Disk8", 1048, "ce3fd206-854c-4207-985b-9e0125885f20", "ldm-2003r2-raid5-1.img" },
        { "Disk9", 1051, "fa21d8d9-e087-4585-9761-5710b88e4c92", "ldm-2003r2-raid5-2.img" },
        { "Disk10", 1054, "bb1570c9-aa66-47df-a8f1-4c89db3e0704", "ldm-2003r2-raid5-3.img" },
};

static const ExpVolume w03_volumes[] = {
        { "Volume1", 1057, "6e30daae-8e42-40fb-9af0-807416c3fede", NULL, LDM_VOLUME_SIMPLE, 96256, 0, "E:", { 1059 },
          { { "Disk1-01", 1061, "ldm-2003r2-simple-1.img", 63, 96256, 0 } } },
        { "Volume2", 1067, "fad18ad4-5054-4dea-8fe3-ca433d5fe1d1", NULL, LDM_VOLUME_SPAN, 192512, 0, "F:", { 1069 },
          { { "Disk3-01", 1071, "ldm-2003r2-spanned-2.img", 63, 96256, 0 },
            { "Disk2-01", 1073, "ldm-2003r2-spanned-1.img", 63, 96256, 96256 } } },
        { "Stripe1", 1079, "e5396ff0-7477-4b1a-91e8-476b9b5c6fb5", NULL, LDM_VOLUME_STRIPE, 122880, 128, "G:", { 1081 },
          { { "Disk4-01", 1083, "ldm-2003r2-striped-1.img", 63, 61440, 0 },
            { "Disk5-01", 1085, "ldm-2003r2-striped-2.img", 63, 61440, 0 } } },
        { "Volume3", 1091, "1010eeb7-09e4-4a6d-9c43-6753ec9d3af2", NULL, LDM_VOLUME_MIRROR, 96256, 0, "H:", { 1093, 1097 },
          { { "Disk6-01", 1095, "ldm-2003r2-mirrored-1.img", 63, 96256, 0 },
            { "Disk7-01", 1099, "ldm-2003r2-mirrored-2.img", 63, 96256, 0 } } },
        { "Raid1", 1105, "f8528b30-cbe8-4ce0-9188-e60e39afcc72", NULL, LDM_VOLUME_RAID5, 192512, 128, "I:", { 1108 },
          { { "Disk10-01", 1110, "ldm-2003r2-raid5-3.img", 63, 96256, 0 },
            { "Disk9-01", 1112, "ldm-2003r2-raid5-2.img", 63, 96256, 0 },
            { "Disk8-01", 1114, "ldm-2003r2-raid5-1.img", 63, 96256, 0 } } },
        { "Volume4", 1123, "782ff9fb-f2f6-465e-9f13-935a20458f00", NULL, LDM_VOLUME_SPAN, 69632, 0, "J:", { 1125 },
          { { "Disk4-02", 1127, "ldm-2003r2-striped-1.img", 61503, 34816, 0 },
            { "Disk5-02", 1129, "ldm-2003r2-striped-2.img", 61503, 34816, 34816 } } },
};

static const ExpDisk w08_disks[] = {
        { "Disk1", 2, "06495a85-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-spanned-1.img" },
        { "Disk2", 3, "06495a89-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-spanned-2.img" },
        { "Disk3", 8, "06495a94-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-striped-1.img" },
        { "Disk4", 9, "06495a98-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-striped-2.img" },
        { "Disk5", 14, "06495aa3-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-mirrored-1.img" },
        { "Disk6", 15, "06495aa7-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-mirrored-2.img" },
        { "Disk7", 21, "06495ab2-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-raid5-1.img" },
        { "Disk8", 22, "06495ab6-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-raid5-2.img" },
        { "Disk9", 23, "06495abb-fbfd-11e1-8cf9-52540061f5db", "ldm-2008r2-raid5-3.img" },
};

static const ExpVolume w08_volumes[] = {
        { "Volume1", 4, "06495a8d-fbfd-11e1-8cf9-52540061f5db", NULL, LDM_VOLUME_SPAN, 129024, 0, "E:", { 5 },
          { { "Disk1-01", 6, "ldm-2008r2-spanned-1.img", 128, 96256, 0 },
            { "Disk2-01", 7, "ldm-2008r2-spanned-2.img", 65664, 32768, 96256 } } },
        { "Volume2", 10, NULL, "06495a9c-", LDM_VOLUME_STRIPE, 65536, 128, "F:", { 0 },
          { { "Disk3-01", 12, "ldm-2008r2-striped-1.img", 128, 32768, 0 },
            { "Disk4-01", 13, "ldm-2008r2-striped-2.img", 65664, 32768, 0 } } },
        { "Volume3", 16, NULL, "06495aab-", LDM_VOLUME_MIRROR, 32768, 0, "G:", { 0 },
          { { "Disk5-01", 18, "ldm-2008r2-mirrored-1.img", 128, 32768, 0 },
            { "Disk6-01", 20, "ldm-2008r2-mirrored-2.img", 65664, 32768, 0 } } },
        { "Volume4", 24, NULL, "06495ac0-", LDM_VOLUME_RAID5, 65536, 128, "H:", { 25 },
          { { "Disk7-01", 26, "ldm-2008r2-raid5-1.img", 128, 32768, 0 },
            { "Disk8-01", 27, "ldm-2008r2-raid5-2.img", 65664, 32768, 0 },
            { "Disk9-01", 28, "ldm-2008r2-raid5-3.img", 65664, 32768, 0 } } },
        { "Volume5", 29, NULL, "06495ac6-", LDM_VOLUME_SPAN, 190464, 0, "I:", { 0 },
          { { "Disk7-02", 31, "ldm-2008r2-raid5-1.img", 32896, 63488, 0 },
            { "Disk3-02", 32, "ldm-2008r2-striped-1.img", 32896, 63488, 63488 },
            { "Disk5-02", 33, "ldm-2008r2-mirrored-1.img", 32896, 63488, 126976 } } },
};

static char **all_paths(const char *skip) {
        char **paths = g_new0(char *, G_N_ELEMENTS(images) + 1);
        size_t n = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(images); i++)
                if (!skip || strcmp(images[i], skip) != 0)
                        paths[n++] = test_real_image(images[i]);
        return paths;
}

static const char *base(const LdmDevice *d) {
        const char *s = strrchr(d->path, '/');
        return s ? s + 1 : d->path;
}

static const LdmExtent *member(const LdmVolume *v, size_t k) {
        switch (v->type) {
        case LDM_VOLUME_MIRROR:
                g_assert_cmpuint(v->plexes[k]->n_columns, ==, 1);
                g_assert_cmpuint(v->plexes[k]->columns[0].n_extents, ==, 1);
                return v->plexes[k]->columns[0].extents[0];
        case LDM_VOLUME_STRIPE:
        case LDM_VOLUME_RAID5:
                g_assert_cmpuint(v->plexes[0]->columns[k].n_extents, ==, 1);
                return v->plexes[0]->columns[k].extents[0];
        default:
                return v->plexes[0]->columns[0].extents[k];
        }
}

static size_t n_members(const LdmVolume *v) {
        switch (v->type) {
        case LDM_VOLUME_MIRROR:
                return v->n_plexes;
        case LDM_VOLUME_STRIPE:
        case LDM_VOLUME_RAID5:
                return v->plexes[0]->n_columns;
        default:
                return v->plexes[0]->columns[0].n_extents;
        }
}

static void check_pack(const LdmPack *p, const char *name, const char *guid, uint32_t dg_id,
                       uint64_t committed, const uint32_t counts[4], const ExpDisk *disks,
                       size_t nd, const ExpVolume *vols, size_t nv, const char *missing) {
        LdmGuid g;

        g_assert_cmpstr(p->name, ==, name);
        g_assert_cmpstr(GUID_TO_STRING(&p->guid), ==, guid);
        g_assert_cmpuint(p->committed_seq, ==, committed);
        g_assert_cmpuint(p->db->vmdb.committed_seq, ==, committed);
        g_assert_cmpuint(p->db->vmdb.pending_seq, ==, committed);
        for (size_t i = 0; i < 4; i++)
                g_assert_cmpuint(p->db->vmdb.committed_counts[i], ==, counts[i]);
        g_assert_cmpuint(p->diags.n_items, ==, 0);

        /* The Disk Group record. */
        bool dg_found = false;
        for (size_t i = 0; i < p->db->n_records; i++)
                if (p->db->records[i].type == LDM_RECORD_DISK_GROUP) {
                        g_assert_cmpuint(p->db->records[i].id, ==, dg_id);
                        g_assert_cmpstr(p->db->records[i].name, ==, name);
                        g_assert_cmpstr(GUID_TO_STRING(&p->db->records[i].disk_group.guid), ==, guid);
                        dg_found = true;
                }
        g_assert_true(dg_found);

        g_assert_cmpuint(p->n_disks, ==, nd);
        g_assert_cmpuint(p->n_devices, ==, missing ? nd - 1 : nd);
        g_assert_cmpuint(ldm_pack_n_present(p), ==, missing ? nd - 1 : nd);
        for (size_t i = 0; i < nd; i++) {
                const LdmDisk *d = &p->disks[i];

                g_assert_cmpstr(d->name, ==, disks[i].name);
                g_assert_cmpuint(d->id, ==, disks[i].id);
                g_assert_cmpstr(GUID_TO_STRING(&d->guid), ==, disks[i].guid);
                g_assert_true(ldm_pack_find_disk(p, d->id) == d);
                g_assert_true(ldm_pack_find_disk_by_guid(p, &d->guid) == d);
                if (missing && strcmp(missing, disks[i].image) == 0) {
                        g_assert_null(d->device);
                        continue;
                }
                g_assert_nonnull(d->device);
                g_assert_cmpstr(base(d->device), ==, disks[i].image);
                g_assert_cmpuint(d->device->effective_committed, ==, committed);
        }

        g_assert_cmpuint(p->n_volumes, ==, nv);
        for (size_t i = 0; i < nv; i++) {
                const LdmVolume *v = &p->volumes[i];
                const ExpVolume *e = &vols[i];

                g_assert_cmpstr(v->name, ==, e->name);
                g_assert_cmpuint(v->id, ==, e->id);
                if (e->guid)
                        g_assert_cmpstr(GUID_TO_STRING(&v->guid), ==, e->guid);
                else {
                        g_assert_true(g_str_has_prefix(GUID_TO_STRING(&v->guid), e->guid_prefix));
                        g_assert_true(g_str_has_suffix(GUID_TO_STRING(&v->guid), "-fbfd-11e1-8cf9-52540061f5db"));
                }
                g_assert_cmpint(v->type, ==, e->type);
                g_assert_cmpuint(v->size, ==, e->size);
                g_assert_cmpstr(v->record->volume.hint, ==, e->hint);
                g_assert_true(ldm_pack_find_volume_by_guid(p, &v->guid) == v);
                g_assert_true(guid_from_string(GUID_TO_STRING(&v->guid), &g) == 0);
                g_assert_cmpuint(v->n_plexes, ==, e->type == LDM_VOLUME_MIRROR ? 2 : 1);
                for (size_t k = 0; k < v->n_plexes; k++) {
                        if (e->plex_ids[k])
                                g_assert_cmpuint(v->plexes[k]->id, ==, e->plex_ids[k]);
                        g_assert_cmpuint(v->plexes[k]->stripe_size, ==, e->stripe);
                        g_assert_true(v->plexes[k]->volume == v);
                        g_assert_cmpuint(v->plexes[k]->size, ==, v->size);
                }

                size_t nm = n_members(v);
                for (size_t k = 0; k < nm; k++) {
                        const LdmExtent *x = member(v, k);
                        const ExpMember *m = &e->members[k];

                        g_assert_nonnull(m->name);
                        g_assert_cmpstr(x->name, ==, m->name);
                        g_assert_cmpuint(x->id, ==, m->id);
                        g_assert_cmpuint(x->size, ==, m->size);
                        g_assert_cmpuint(x->offset_in_column, ==, m->offset_in_column);
                        if (missing && strcmp(missing, m->image) == 0) {
                                g_assert_null(x->disk->device);
                                g_assert_cmpuint(ldm_extent_disk_offset(x), ==, UINT64_MAX);
                                continue;
                        }
                        g_assert_cmpstr(base(x->disk->device), ==, m->image);
                        g_assert_cmpuint(ldm_extent_disk_offset(x) / 512, ==, m->abs_sector);
                        g_assert_cmpuint(ldm_extent_disk_offset(x) % 512, ==, 0);
                }
                g_assert_cmpuint(nm, ==, e->members[2].name ? 3 : e->members[1].name ? 2 : 1);
        }
}

static void test_scan_all(void) {
        g_auto(GStrv) paths = all_paths(NULL);
        _cleanup_(ldm_scan_freep) LdmScan *s = NULL;
        static const uint32_t w03_counts[4] = { 6, 7, 12, 10 }, w08_counts[4] = { 5, 6, 12, 9 };
        LdmGuid g;

        g_assert_cmpint(ldm_scan_paths(paths, g_strv_length(paths), &s), ==, 0);
        g_assert_cmpuint(s->n_devices, ==, 19);
        g_assert_cmpuint(s->n_packs, ==, 2);
        g_assert_cmpuint(s->n_invalid, ==, 0);
        g_assert_cmpuint(s->diags.n_items, ==, 0);
        for (size_t i = 0; i < s->n_devices; i++) {
                for (size_t j = 0; j < s->devices[i]->diags.n_items; j++)
                        g_printerr("%s: %s at %" G_GINT64_MODIFIER "u: %s\n", s->devices[i]->path,
                                   s->devices[i]->diags.items[j].structure,
                                   s->devices[i]->diags.items[j].offset, s->devices[i]->diags.items[j].message);
                g_assert_cmpuint(s->devices[i]->diags.n_items, ==, 0);
        }

        g_assert_cmpint(guid_from_string("03c0c4fc-8b6f-402b-9431-4be2e5823b1c", &g), ==, 0);
        check_pack(ldm_scan_find_pack(s, &g), "Red-nzv8x6obywgDg0", "03c0c4fc-8b6f-402b-9431-4be2e5823b1c",
                   1025, 1133, w03_counts, w03_disks, G_N_ELEMENTS(w03_disks), w03_volumes,
                   G_N_ELEMENTS(w03_volumes), NULL);
        g_assert_cmpint(guid_from_string("06495a84-fbfd-11e1-8cf9-52540061f5db", &g), ==, 0);
        check_pack(ldm_scan_find_pack(s, &g), "WIN-ERRDJSBDAVF-Dg0", "06495a84-fbfd-11e1-8cf9-52540061f5db",
                   1, 39, w08_counts, w08_disks, G_N_ELEMENTS(w08_disks), w08_volumes,
                   G_N_ELEMENTS(w08_volumes), NULL);
}

static void test_scan_missing(void) {
        static const char *const left_out[] = { "ldm-2003r2-raid5-3.img", "ldm-2008r2-spanned-2.img" };
        static const uint32_t w03_counts[4] = { 6, 7, 12, 10 }, w08_counts[4] = { 5, 6, 12, 9 };

        for (size_t t = 0; t < G_N_ELEMENTS(left_out); t++) {
                g_auto(GStrv) paths = all_paths(left_out[t]);
                _cleanup_(ldm_scan_freep) LdmScan *s = NULL;
                LdmGuid g;

                g_assert_cmpint(ldm_scan_paths(paths, g_strv_length(paths), &s), ==, 0);
                g_assert_cmpuint(s->n_packs, ==, 2);
                g_assert_cmpint(guid_from_string("03c0c4fc-8b6f-402b-9431-4be2e5823b1c", &g), ==, 0);
                check_pack(ldm_scan_find_pack(s, &g), "Red-nzv8x6obywgDg0", "03c0c4fc-8b6f-402b-9431-4be2e5823b1c",
                           1025, 1133, w03_counts, w03_disks, G_N_ELEMENTS(w03_disks), w03_volumes,
                           G_N_ELEMENTS(w03_volumes), t == 0 ? left_out[0] : NULL);
                g_assert_cmpint(guid_from_string("06495a84-fbfd-11e1-8cf9-52540061f5db", &g), ==, 0);
                check_pack(ldm_scan_find_pack(s, &g), "WIN-ERRDJSBDAVF-Dg0", "06495a84-fbfd-11e1-8cf9-52540061f5db",
                           1, 39, w08_counts, w08_disks, G_N_ELEMENTS(w08_disks), w08_volumes,
                           G_N_ELEMENTS(w08_volumes), t == 1 ? left_out[1] : NULL);
        }
}

static void test_device_copies(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
                g_autofree char *path = test_real_image(images[i]);
                _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
                bool w03 = strstr(images[i], "2003"), gpt = !w03 && !strstr(images[i], "-1.img");

                g_assert_cmpint(ldm_device_probe(path, &d), ==, 1);
                g_assert_cmpint(d->label.type, ==, gpt ? LDM_LABEL_GPT : LDM_LABEL_MBR);
                g_assert_cmpint(d->privhead_used, ==, LDM_PRIVHEAD_COPY_2047);
                g_assert_cmpint(d->privhead_state[LDM_PRIVHEAD_COPY_2047], ==, 0);
                g_assert_cmpint(d->privhead_state[LDM_PRIVHEAD_COPY_1856], ==, 0);
                g_assert_cmpint(d->privhead_state[LDM_PRIVHEAD_COPY_LBA6], ==, gpt ? -ENOENT : 0);
                g_assert_cmpuint(d->privhead.priv_start, ==, gpt ? 34 : 100352);
                g_assert_cmpuint(d->privhead.pub_start, ==, gpt ? 65570 : 63);
                g_assert_cmpuint(d->privhead.pub_size, ==, gpt ? 36797 : w03 ? 96327 : 100289);
                g_assert_cmpuint(ldm_device_rel_offset(d, 17), ==, (d->privhead.priv_start + 17) * 512);
                /* W03's current TOCs are at rel 1/2046, W08's at 2/2045. */
                g_assert_cmpint(d->toc_used, ==, w03 ? LDM_TOC_SLOT_1 : LDM_TOC_SLOT_2);
                g_assert_cmpuint(d->toc.update_seq, ==, w03 ? 5 : 1);
                g_assert_cmpint(d->toc_state[LDM_TOC_SLOT_2046], ==, w03 ? 0 : -ENOENT);
                g_assert_nonnull(d->db);
                g_assert_cmpint(d->db_state, ==, 0);
                g_assert_false(d->in_flight);
                g_assert_cmpuint(d->effective_committed, ==, w03 ? 1133 : 39);
                g_assert_cmpuint(d->diags.n_items, ==, 0);
        }
}

static char *damaged_copy(const char *image, const char *dir, void (*damage)(int fd)) {
        g_autofree char *src = test_real_image(image);
        char *dst = g_build_filename(dir, image, NULL);
        int fd;

        test_copy_file(src, dst);
        fd = open(dst, O_RDWR | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        damage(fd);
        close(fd);
        return dst;
}

static void poke(int fd, uint64_t off, const void *p, size_t n) {
        g_assert_cmpint(pwrite(fd, p, n, (off_t) off), ==, (ssize_t) n);
}

static void kill_2047(int fd) { poke(fd, (100352 + 2047) * 512ULL + 0x40, "x", 1); }
static void kill_2047_1856(int fd) { kill_2047(fd); poke(fd, (100352 + 1856) * 512ULL, "Q", 1); }
static void kill_gpt_privheads(int fd) { poke(fd, (34 + 2047) * 512ULL, "Q", 1); poke(fd, (34 + 1856) * 512ULL, "Q", 1); }
static void kill_vmdb(int fd) { poke(fd, (100352 + 17) * 512ULL, "XMDB", 4); }
static void kill_toc_1(int fd) { poke(fd, (100352 + 1) * 512ULL + 0x30, "z", 1); }
static void commit_in_flight(int fd) {
        uint8_t b[10] = { 0, 3 };
        uint8_t seq[8];
        poke(fd, (100352 + 17) * 512ULL + 0x10, b, 2);           /* status 3 */
        unaligned_write_be64(seq, 1134);
        poke(fd, (100352 + 17) * 512ULL + 0x7D, seq, 8);         /* pending 1134 */
}
static void change_in_flight(int fd) {
        uint8_t b[2] = { 0, 2 };
        uint8_t seq[8];
        poke(fd, (100352 + 17) * 512ULL + 0x10, b, 2);           /* status 2 */
        unaligned_write_be64(seq, 1134);
        poke(fd, (100352 + 17) * 512ULL + 0x7D, seq, 8);
}

static void test_device_fallbacks(void) {
        g_autofree char *dir = test_tmpdir();
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        g_autofree char *p = NULL;

        /* rel 2047 bad → rel 1856, with a diag at the checksum. */
        p = damaged_copy("ldm-2003r2-simple-1.img", dir, kill_2047);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_cmpint(d->privhead_state[LDM_PRIVHEAD_COPY_2047], ==, -EBADMSG);
        g_assert_cmpint(d->privhead_used, ==, LDM_PRIVHEAD_COPY_1856);
        g_assert_nonnull(d->db);
        g_assert_cmpuint(d->diags.n_items, ==, 1);
        g_assert_cmpstr(d->diags.items[0].structure, ==, "PRIVHEAD");
        g_assert_cmpuint(d->diags.items[0].offset, ==, (100352 + 2047) * 512ULL + 8);
        d = ldm_device_free(d);
        g_free(p);

        /* 2047 and 1856 bad → LBA 6. */
        p = damaged_copy("ldm-2003r2-simple-1.img", dir, kill_2047_1856);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_cmpint(d->privhead_used, ==, LDM_PRIVHEAD_COPY_LBA6);
        g_assert_nonnull(d->db);
        g_assert_cmpuint(d->diags.n_items, ==, 2);
        d = ldm_device_free(d);
        g_free(p);

        /* GPT with both copies bad: still an LDM disk, no database. */
        p = damaged_copy("ldm-2008r2-raid5-2.img", dir, kill_gpt_privheads);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_null(d->db);
        g_assert_cmpint(d->db_state, ==, -EBADMSG);
        g_assert_cmpuint(d->diags.n_items, ==, 2);
        d = ldm_device_free(d);
        g_free(p);

        /* VMDB magic broken: db NULL, diag at the VMDB. */
        p = damaged_copy("ldm-2008r2-raid5-1.img", dir, kill_vmdb);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_null(d->db);
        g_assert_cmpuint(d->diags.n_items, ==, 1);
        g_assert_cmpstr(d->diags.items[0].structure, ==, "VMDB");
        g_assert_cmpuint(d->diags.items[0].offset, ==, (100352 + 17) * 512ULL);
        d = ldm_device_free(d);
        g_free(p);

        /* W03 TOC at rel 1 (named by PRIVHEAD) broken → rel 2046 (the secondary). */
        p = damaged_copy("ldm-2003r2-raid5-1.img", dir, kill_toc_1);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_cmpint(d->toc_state[LDM_TOC_SLOT_1], ==, -EBADMSG);
        g_assert_cmpint(d->toc_used, ==, LDM_TOC_SLOT_2046);
        g_assert_nonnull(d->db);
        d = ldm_device_free(d);
        g_free(p);

        /* In flight: status 3 rolls forward (effective = pending), status 2 rolls back. */
        p = damaged_copy("ldm-2003r2-raid5-1.img", dir, commit_in_flight);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_true(d->in_flight);
        g_assert_cmpuint(d->effective_committed, ==, 1134);
        d = ldm_device_free(d);
        g_free(p);
        p = damaged_copy("ldm-2003r2-raid5-2.img", dir, change_in_flight);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_true(d->in_flight);
        g_assert_cmpuint(d->effective_committed, ==, 1133);
}

/* A disk whose database cannot be read goes to INVALID and is linked from its Disk record;
 * a disk whose copy is newer becomes the authority. */
static void test_scan_invalid_and_authority(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *bad = damaged_copy("ldm-2008r2-raid5-1.img", dir, kill_vmdb);
        g_auto(GStrv) paths = all_paths(NULL);
        _cleanup_(ldm_scan_freep) LdmScan *s = NULL;
        LdmGuid g;

        for (size_t i = 0; paths[i]; i++)
                if (g_str_has_suffix(paths[i], "/ldm-2008r2-raid5-1.img")) {
                        g_free(paths[i]);
                        paths[i] = g_strdup(bad);
                }
        g_assert_cmpint(ldm_scan_paths(paths, g_strv_length(paths), &s), ==, 0);
        g_assert_cmpuint(s->n_packs, ==, 2);
        g_assert_cmpuint(s->n_invalid, ==, 1);
        g_assert_true(g_str_has_suffix(s->invalid[0]->path, "/ldm-2008r2-raid5-1.img"));
        g_assert_cmpint(guid_from_string("06495a84-fbfd-11e1-8cf9-52540061f5db", &g), ==, 0);
        LdmPack *p = ldm_scan_find_pack(s, &g);
        LdmDisk *d7 = ldm_pack_find_disk(p, 21);
        g_assert_null(d7->device);
        g_assert_true(d7->invalid_device == s->invalid[0]);
        g_assert_cmpuint(p->n_devices, ==, 8);
}

static void test_validate(void) {
        g_auto(GStrv) paths = all_paths(NULL);
        _cleanup_(ldm_scan_freep) LdmScan *s = NULL, *s2 = NULL;
        LdmDiagList out = {};
        g_autofree char *dir = test_tmpdir();
        g_autofree char *bad = damaged_copy("ldm-2003r2-raid5-2.img", dir, change_in_flight);
        bool k7 = false, f5 = false;

        g_assert_cmpint(ldm_scan_paths(paths, g_strv_length(paths), &s), ==, 0);
        g_assert_cmpint(ldm_validate_strict(s, &out), ==, 0);
        g_assert_cmpuint(out.n_items, ==, 0);

        /* A copy left in a transaction: the kernel (K7) and FreeBSD (F5) reject it. */
        for (size_t i = 0; paths[i]; i++)
                if (g_str_has_suffix(paths[i], "/ldm-2003r2-raid5-2.img")) {
                        g_free(paths[i]);
                        paths[i] = g_strdup(bad);
                }
        g_assert_cmpint(ldm_scan_paths(paths, g_strv_length(paths), &s2), ==, 0);
        g_assert_cmpint(ldm_validate_strict(s2, &out), >=, 2);
        for (size_t i = 0; i < out.n_items; i++) {
                g_assert_cmpstr(out.items[i].disk, ==, bad);
                k7 |= strcmp(out.items[i].structure, "rule K7") == 0 &&
                      out.items[i].offset == (100352 + 17) * 512ULL + 0x10;
                f5 |= strcmp(out.items[i].structure, "rule F5") == 0;
        }
        g_assert_true(k7);
        g_assert_true(f5);
        ldm_diag_list_clear(&out);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/packs/device-copies", test_device_copies);
        g_test_add_func("/packs/device-fallbacks", test_device_fallbacks);
        g_test_add_func("/packs/scan-all", test_scan_all);
        g_test_add_func("/packs/scan-missing", test_scan_missing);
        g_test_add_func("/packs/scan-invalid", test_scan_invalid_and_authority);
        g_test_add_func("/packs/validate-strict", test_validate);
        return g_test_run();
}
