/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* scan.c: probed LDM devices → packs. Devices are grouped by their PRIVHEAD disk-group GUID
 * (names collide between hosts); each group's authoritative database is the highest
 * effective committed ID among devices whose database parsed (§10.2 rule 3; ties go to the
 * config region most of those devices share); the model is built from it and its health
 * computed. Devices that cannot join a pack go to the INVALID list. */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "health.h"
#include "scan.h"

LdmScan *ldm_scan_free(LdmScan *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_packs; i++)
                ldm_pack_free(s->packs[i]);
        free(s->packs);
        for (size_t i = 0; i < s->n_devices; i++)
                ldm_device_free(s->devices[i]);
        free(s->devices);
        free(s->invalid);
        ldm_diag_list_clear(&s->diags);
        free(s);
        return NULL;
}

LdmPack *ldm_scan_find_pack(const LdmScan *s, const LdmGuid *guid) {
        for (size_t i = 0; s && i < s->n_packs; i++)
                if (guid_equal(&s->packs[i]->guid, guid))
                        return s->packs[i];
        return NULL;
}

static bool has_privhead(const LdmDevice *d) {
        return d->privhead_used < _LDM_PRIVHEAD_COPY_MAX && d->privhead_state[d->privhead_used] == 0;
}

/* Whether two copies hold the same config region, in regions of the same sizes. The hash
 * computed once per copy settles almost every pair; equal hashes are confirmed byte by byte
 * where both copies still have their raw region (a light scan has none, and then the 64-bit
 * hash is taken as the answer; it covers the head the light probe read, the same length in
 * equal copies). */
static bool same_config(const LdmDevice *a, const LdmDevice *b) {
        if (a == b)
                return true;
        /* A copy with another log size is another geometry: it cannot be the others' copy. */
        if (a->db->config_size != b->db->config_size || a->db->log_size != b->db->log_size ||
            a->db->config_hashed != b->db->config_hashed ||
            a->db->config_hash != b->db->config_hash)
                return false;
        if (!a->db->config || !b->db->config)
                return true;
        return memcmp(a->db->config, b->db->config, a->db->config_size) == 0;
}

/* Rule 3: highest effective committed ID; among those, the config most copies share (the
 * first such copy in device order). Copies are sorted into classes of equal config, each
 * compared with one representative per class: n comparisons for a healthy pack, not n². */
static int choose_authority(LdmScan *s, LdmDevice **members, size_t n, LdmDevice **ret,
                            size_t *ret_disputed) {
        _cleanup_free_ size_t *class = NULL, *votes = NULL;
        LdmDevice *best = NULL;
        uint64_t top = 0;
        size_t best_class = 0;

        *ret_disputed = 0;
        for (size_t i = 0; i < n; i++)
                if (members[i]->db && (!best || members[i]->effective_committed > top)) {
                        best = members[i];
                        top = members[i]->effective_committed;
                }
        *ret = best;
        if (!best)
                return 0;

        class = calloc(n, sizeof(size_t));
        votes = calloc(n, sizeof(size_t));
        if (!class || !votes)
                return -ENOMEM;
        /* class[i] is the index of the first member with the same config. */
        for (size_t i = 0; i < n; i++) {
                if (!members[i]->db || members[i]->effective_committed != top)
                        continue;
                class[i] = i;
                for (size_t j = 0; j < i; j++)
                        if (class[j] == j && members[j]->db && members[j]->effective_committed == top &&
                            same_config(members[j], members[i])) {
                                class[i] = j;
                                break;
                        }
                votes[class[i]]++;
        }
        best = NULL;
        for (size_t i = 0; i < n; i++)
                if (members[i]->db && members[i]->effective_committed == top &&
                    (!best || votes[class[i]] > votes[best_class])) {
                        best = members[i];
                        best_class = class[i];
                }
        for (size_t i = 0; i < n; i++) {
                LdmDevice *d = members[i];

                /* Two settled copies of one ID and geometry that differ went through different
                 * transactions (a pack split while each side was used); a copy in flight
                 * differs from a settled one by that transaction's own steps. */
                d->diverged = d->db && d->effective_committed == top && class[i] != best_class &&
                              ldm_database_settled(d->db) && ldm_database_settled(best->db) &&
                              d->db->config_size == best->db->config_size &&
                              d->db->log_size == best->db->log_size;
        }
        /* A diverged config with as many copies as the authority's: no majority. */
        for (size_t i = 0; i < n; i++)
                if (members[i]->diverged && class[i] == i && votes[i] == votes[best_class]) {
                        *ret_disputed = votes[best_class];
                        (void) ldm_diag_list_addf(&s->diags, LDM_DIAG_ERROR, "VMDB", members[i]->path,
                                                  ldm_device_rel_offset(members[i], members[i]->toc.regions[0].start),
                                                  "%zu copies at committed ID %" PRIu64 " hold this config and %zu that of %s: no majority says which is the pack's",
                                                  votes[i], top, votes[best_class], best->path);
                }
        for (size_t i = 0; i < n; i++)
                if (members[i]->db && members[i]->effective_committed == top && class[i] != best_class)
                        (void) ldm_diag_list_addf(&s->diags, LDM_DIAG_ERROR, "VMDB", members[i]->path,
                                                  ldm_device_rel_offset(members[i], members[i]->toc.regions[0].start),
                                                  "config region differs from %s although both have committed ID %" PRIu64 "; using %s's",
                                                  best->path, top, best->path);
        *ret = best;
        return 0;
}

static void add_invalid(LdmScan *s, LdmDevice *d) {
        for (size_t i = 0; i < s->n_invalid; i++)
                if (s->invalid[i] == d)
                        return;
        s->invalid[s->n_invalid++] = d;
}

/* Where the PRIVHEAD copy in use lies. */
static uint64_t privhead_offset(const LdmDevice *d) {
        if (d->privhead_used == LDM_PRIVHEAD_COPY_LBA6)
                return (uint64_t) LDM_PRIVHEAD_MBR_LBA * d->sector_size;
        return ldm_device_rel_offset(d, d->privhead_used == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
}

static bool in_disk_records(const LdmDatabase *db, const LdmGuid *disk_guid) {
        for (size_t i = 0; i < db->n_records; i++)
                if (db->records[i].type == LDM_RECORD_DISK &&
                    ldm_database_record_effective(db, &db->records[i]) &&
                    guid_equal(&db->records[i].disk.guid, disk_guid))
                        return true;
        return false;
}

static int build_group(LdmScan *s, const LdmGuid *group) {
        _cleanup_free_ LdmDevice **members = NULL, **joined = NULL;
        _cleanup_(ldm_pack_freep) LdmPack *pack = NULL;
        size_t n_members = 0, n_joined = 0, n_disputed = 0;
        LdmDevice *authority;
        int r;

        members = calloc(s->n_devices, sizeof(LdmDevice *));
        joined = calloc(s->n_devices, sizeof(LdmDevice *));
        if (!members || !joined)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_devices; i++)
                if (has_privhead(s->devices[i]) && guid_equal(&s->devices[i]->privhead.group_guid, group))
                        members[n_members++] = s->devices[i];

        r = choose_authority(s, members, n_members, &authority, &n_disputed);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_members; i++) {
                LdmDevice *d = members[i];
                if (authority && d->db && in_disk_records(authority->db, &d->privhead.disk_guid))
                        joined[n_joined++] = d;
                else {
                        /* A device without a database has its diagnosis already; one whose
                         * disk the pack does not know needs one saying so. */
                        if (authority && d->db)
                                (void) ldm_diag_list_addf(&s->diags, LDM_DIAG_ERROR, "PRIVHEAD", d->path,
                                                          privhead_offset(d) + 0x30,
                                                          "disk GUID %s is not among the Disk records of the pack's database (from %s)",
                                                          GUID_TO_STRING(&d->privhead.disk_guid), authority->path);
                        add_invalid(s, d);
                }
        }
        if (!authority)
                return 0;

        r = ldm_pack_build(authority, joined, n_joined, &pack);
        if (r < 0)
                return r;
        pack->n_disputed = n_disputed;
        for (size_t i = 0; i < s->n_invalid; i++) {
                LdmDisk *disk = has_privhead(s->invalid[i]) &&
                                guid_equal(&s->invalid[i]->privhead.group_guid, group) ?
                                ldm_pack_find_disk_by_guid(pack, &s->invalid[i]->privhead.disk_guid) : NULL;
                if (disk && !disk->device)
                        disk->invalid_device = s->invalid[i];
        }
        ldm_health_compute(pack);
        s->packs[s->n_packs++] = TAKE_PTR(pack);
        return 0;
}

int ldm_scan_build(LdmDevice **devices, size_t n_devices, LdmScan **ret) {
        _cleanup_(ldm_scan_freep) LdmScan *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s) {
                for (size_t i = 0; i < n_devices; i++)
                        ldm_device_free(devices[i]);
                free(devices);
                return -ENOMEM;
        }
        s->devices = devices;
        s->n_devices = n_devices;
        s->invalid = calloc(MAX(n_devices, (size_t) 1), sizeof(LdmDevice *));
        s->packs = calloc(MAX(n_devices, (size_t) 1), sizeof(LdmPack *));
        if (!s->invalid || !s->packs)
                return -ENOMEM;

        for (size_t i = 0; i < n_devices; i++) {
                LdmDevice *d = devices[i];
                bool seen = false;

                if (!has_privhead(d)) {
                        add_invalid(s, d);
                        continue;
                }
                for (size_t j = 0; j < i && !seen; j++)
                        seen = has_privhead(devices[j]) &&
                               guid_equal(&devices[j]->privhead.group_guid, &d->privhead.group_guid);
                if (seen)
                        continue;
                r = build_group(s, &d->privhead.group_guid);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int ldm_scan_paths(char *const *paths, size_t n_paths, LdmScan **ret) {
        _cleanup_free_ LdmDevice **devices = NULL;
        LdmDiagList errors = {};
        LdmScan *s;
        size_t n = 0;
        int r;

        devices = calloc(MAX(n_paths, (size_t) 1), sizeof(LdmDevice *));
        if (!devices)
                return -ENOMEM;
        for (size_t i = 0; i < n_paths; i++) {
                LdmDiag why = {};
                LdmDevice *d = NULL;

                r = ldm_device_probe_diag(paths[i], 0, &d, &why);
                if (r == -ENOMEM) {
                        for (size_t j = 0; j < n; j++)
                                ldm_device_free(devices[j]);
                        ldm_diag_list_clear(&errors);
                        return r;
                }
                if (r < 0 && why.structure[0] != '\0')
                        (void) ldm_diag_list_add(&errors, &why);
                else if (r < 0)
                        (void) ldm_diag_list_addf(&errors, LDM_DIAG_ERROR, "device", paths[i],
                                                  LDM_DIAG_NO_OFFSET, "cannot be probed: %s", strerror(-r));
                if (r > 0)
                        devices[n++] = d;
        }
        r = ldm_scan_build(TAKE_PTR(devices), n, &s);
        if (r < 0) {
                ldm_diag_list_clear(&errors);
                return r;
        }
        for (size_t i = 0; i < errors.n_items; i++)
                (void) ldm_diag_list_add(&s->diags, &errors.items[i]);
        ldm_diag_list_clear(&errors);
        *ret = s;
        return 0;
}
