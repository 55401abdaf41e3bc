/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* create.c: plans and builds a brand-new pack in memory (§11.3, §12). The plan (which disk
 * holds which extent where) and the records are made in one pass so that the numbers printed
 * by mkldm are exactly the numbers in the records. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "create.h"
#include "label-write.h"

#define MIB_SECTORS 2048u
#define FILETIME_UNIX_EPOCH UINT64_C(116444736000000000)

/* Planning state of one disk. */
typedef struct DiskPlan {
        uint64_t pub_start, pub_end;   /* absolute sectors, end exclusive */
        uint64_t cursor;               /* next free absolute sector, 1 MiB aligned */
        unsigned n_extents;            /* for Disk<n>-<nn> names */
} DiskPlan;

typedef struct Builder {
        LdmNewPack *pack;
        LdmDatabase *db;
        DiskPlan *plans;
        size_t allocated;
        uint32_t next_id;
        LdmDiag *err;
} Builder;

static const char *const type_names[_LDM_VOLUME_TYPE_MAX] = {
        [LDM_VOLUME_SIMPLE] = "simple",
        [LDM_VOLUME_SPAN] = "span",
        [LDM_VOLUME_STRIPE] = "stripe",
        [LDM_VOLUME_MIRROR] = "mirror",
        [LDM_VOLUME_RAID5] = "raid5",
};

uint64_t ldm_filetime_now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return FILETIME_UNIX_EPOCH + (uint64_t) ts.tv_sec * 10000000u + (uint64_t) ts.tv_nsec / 100u;
}

static int random_u32_nonzero(uint32_t *ret) {
        uint32_t v = 0;

        while (v == 0)
                if (getrandom(&v, sizeof(v), 0) != sizeof(v))
                        return -EIO;
        *ret = v;
        return 0;
}

LdmNewPack *ldm_new_pack_free(LdmNewPack *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; p->disks && i < p->n_disks; i++)
                ldm_label_done(&p->disks[i].label);
        free(p->disks);
        free(p->volumes);
        ldm_database_free(p->db);
        free(p);
        return NULL;
}

static bool name_ok(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x21 || s[i] > 0x7e)
                        return false;
        return true;
}

static int default_group_name(char buf[static 32]) {
        char host[256] = "";
        char *dot;

        if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
                strcpy(host, "LINUX");
        dot = strchr(host, '.');
        if (dot)
                *dot = '\0';
        /* W08 form "<HOST>-Dg0", ≤ 31 bytes: shorten the host part. */
        host[27] = '\0';
        for (char *c = host; *c; c++)
                if (*c < 0x21 || *c > 0x7e)
                        *c = '_';
        snprintf(buf, 32, "%.27s-Dg0", host);
        return 0;
}

static LdmRecord *new_record(Builder *b, LdmRecordType type, const char *name) {
        LdmRecord *r;

        if (b->db->n_records >= b->allocated)
                return NULL; /* sized up front; cannot happen */
        r = &b->db->records[b->db->n_records++];
        memset(r, 0, sizeof(*r));
        r->type = (uint8_t) type;
        r->revision = type == LDM_RECORD_VOLUME ? 5 : 3;
        r->id = b->next_id++;
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->dirty = true;
        return r;
}

static int add_disk(Builder *b, const LdmCreateRequest *req, size_t i, uint32_t signature,
                    uint64_t now) {
        LdmNewDisk *d = &b->pack->disks[i];
        LdmPrivhead *ph = &d->privhead;
        LdmTocblock *toc = &d->toc;
        uint64_t n = req->disks[i].size / LDM_SECTOR;
        uint8_t sector[512];
        LdmRecord *r;
        int k;

        d->n_sectors = n;
        if (req->disks[i].label == LDM_LABEL_GPT) {
                LdmGuid g[4];
                for (size_t j = 0; j < 4; j++)
                        if (guid_random(&g[j]) < 0)
                                return -EIO;
                k = ldm_label_new_gpt(n, ldm_gpt_default_msr_sectors(n), g, &d->label);
        } else {
                uint32_t sig;
                if (random_u32_nonzero(&sig) < 0)
                        return -EIO;
                k = ldm_label_new_mbr(n, sig, &d->label);
        }
        if (k == -ENOSPC)
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "disk %zu: %" PRIu64 " bytes is too small for an LDM %s disk",
                                    i + 1, req->disks[i].size,
                                    req->disks[i].label == LDM_LABEL_GPT ? "GPT" : "MBR"), -ENOSPC;
        if (k == -EFBIG)
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "disk %zu: over 2 TiB, an MBR cannot describe it; use GPT",
                                    i + 1), -EFBIG;
        if (k < 0)
                return k;

        *ph = (LdmPrivhead) {
                .version_major = 2, .version_minor = 12,
                .timestamp = now, .update_seq = 1,
                .copy_lba_a = LDM_PRIVHEAD_REL_A, .copy_lba_b = LDM_PRIVHEAD_REL_B,
                .group_guid = b->pack->group_guid,
                .bytes_per_sector = LDM_SECTOR,
                .priv_size = LDM_PRIV_SIZE,
                .toc_lba = { 2, 2045 },
                .n_configs = 1, .n_logs = 1,
                .config_size = LDM_CONFIG_SECTORS, .log_size = LDM_LOG_SECTORS,
                .disk_signature = signature,
        };
        memcpy(ph->group_name, b->pack->group_name, sizeof(ph->group_name));
        if (guid_random(&ph->disk_guid) < 0)
                return -EIO;
        (void) guid_from_string(LDM_HOST_GUID, &ph->host_guid);
        if (d->label.type == LDM_LABEL_GPT) {
                ph->priv_start = d->label.meta_first;
                ph->pub_start = d->label.data_first;
                ph->pub_size = d->label.data_last - d->label.data_first + 1;
        } else {
                ph->priv_start = n - LDM_PRIV_SIZE;
                ph->pub_start = LDM_MBR_PUB_START;
                ph->pub_size = n - LDM_PRIV_SIZE - LDM_MBR_PUB_START;
        }
        ldm_privhead_encode(ph, sector);
        memcpy(ph->raw, sector, sizeof(sector));

        *toc = (LdmTocblock) {
                .update_seq = 1,
                .regions = {
                        { .name = "config", .start = LDM_CONFIG_START, .size = LDM_CONFIG_SECTORS,
                          .unknown = 6, .copy = 1 },
                        { .name = "log", .start = LDM_LOG_START, .size = LDM_LOG_SECTORS,
                          .unknown = 6, .copy = 1 },
                },
        };
        ldm_tocblock_encode(toc, sector);
        memcpy(toc->raw, sector, sizeof(sector));

        b->plans[i] = (DiskPlan) {
                .pub_start = ph->pub_start,
                .pub_end = ph->pub_start + ph->pub_size,
                .cursor = ALIGN_TO(ph->pub_start, MIB_SECTORS),
        };

        snprintf(d->name, sizeof(d->name), "Disk%u", (unsigned) (i + 1) % 100u);
        r = new_record(b, LDM_RECORD_DISK, d->name);
        r->disk.guid = ph->disk_guid;
        d->record_id = r->id;
        return 0;
}

/* Sectors of one extent (every extent of a volume has the same size) and the volume size. */
static int extent_size(Builder *b, const LdmCreateVolume *v, size_t vi, uint64_t *ret_ext,
                       uint64_t *ret_vol) {
        uint64_t want = DIV_ROUND_UP(v->size, LDM_SECTOR), n = v->n_disks, ext, data_cols;

        data_cols = v->type == LDM_VOLUME_SPAN || v->type == LDM_VOLUME_STRIPE ? n :
                    v->type == LDM_VOLUME_RAID5 ? n - 1 : 1;
        if (want == 0) {
                /* Size 0: as large as the fullest of its disks allows. */
                ext = UINT64_MAX;
                for (size_t j = 0; j < n; j++) {
                        const DiskPlan *p = &b->plans[v->disks[j]];
                        uint64_t free_s = p->pub_end > p->cursor ? p->pub_end - p->cursor : 0;
                        ext = MIN(ext, free_s / MIB_SECTORS * MIB_SECTORS);
                }
        } else
                ext = ALIGN_TO(DIV_ROUND_UP(want, data_cols), MIB_SECTORS);
        if (ext == 0)
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "volume %zu: no free space left on its disks", vi + 1), -ENOSPC;
        *ret_ext = ext;
        *ret_vol = ext * data_cols;
        return 0;
}

static int check_volume(Builder *b, const LdmCreateRequest *req, size_t vi) {
        const LdmCreateVolume *v = &req->volumes[vi];
        size_t n = v->n_disks, min = 1, max = LDM_CREATE_MAX_EXTENTS;

        switch (v->type) {
        case LDM_VOLUME_SIMPLE: max = 1; break;
        case LDM_VOLUME_SPAN: break;
        case LDM_VOLUME_STRIPE: min = 2; break;
        case LDM_VOLUME_MIRROR: min = max = 2; break;
        case LDM_VOLUME_RAID5: min = 3; break;
        default:
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "volume %zu: unknown type", vi + 1), -EINVAL;
        }
        if (n < min || n > max)
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "volume %zu: a %s volume needs %zu…%zu disks, %zu given",
                                    vi + 1, type_names[v->type], min, max, n), -EINVAL;
        for (size_t j = 0; j < n; j++) {
                if (v->disks[j] >= req->n_disks)
                        return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                            "volume %zu: disk %u does not exist (%zu disks)",
                                            vi + 1, v->disks[j] + 1, req->n_disks), -EINVAL;
                for (size_t k = 0; k < j; k++)
                        if (v->disks[k] == v->disks[j])
                                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "",
                                                    LDM_DIAG_NO_OFFSET,
                                                    "volume %zu: disk %u listed twice",
                                                    vi + 1, v->disks[j] + 1), -EINVAL;
        }
        if (v->name && !name_ok(v->name, 28))
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "volume %zu: name must be 1…28 printable ASCII characters",
                                    vi + 1), -EINVAL;
        for (size_t k = 0; k < vi && v->name; k++)
                if (req->volumes[k].name && strcmp(req->volumes[k].name, v->name) == 0)
                        return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                            "volume %zu: name \"%s\" used twice", vi + 1,
                                            v->name), -EINVAL;
        return 0;
}

static int add_extent(Builder *b, LdmNewVolume *nv, unsigned disk, uint32_t plex,
                      uint32_t column, uint64_t size, uint32_t component_id) {
        LdmNewDisk *d = &b->pack->disks[disk];
        DiskPlan *p = &b->plans[disk];
        LdmNewExtent *e = &nv->extents[nv->n_extents++];
        LdmRecord *r;

        *e = (LdmNewExtent) {
                .disk = disk, .plex = plex, .column = column,
                .start = p->cursor - p->pub_start, .size = size,
        };
        snprintf(e->name, sizeof(e->name), "%.8s-%02u", d->name, ++p->n_extents % 100u);
        p->cursor += size;

        r = new_record(b, LDM_RECORD_PARTITION, e->name);
        r->record_flags = 0x40 | (column > 0 ? 0x08 : 0);
        r->partition = (LdmPartitionRecord) {
                .start = e->start, .offset_in_column = e->offset_in_column, .size = size,
                .parent_component_id = component_id, .disk_id = d->record_id,
                .column_index = column,
        };
        e->record_id = r->id;
        return 0;
}

static LdmRecord *add_component(Builder *b, const LdmNewVolume *nv, uint32_t plex,
                                uint8_t layout, uint32_t n_parts) {
        char name[48];
        LdmRecord *r;

        snprintf(name, sizeof(name), "%s-%02u", nv->name, plex + 1);
        r = new_record(b, LDM_RECORD_COMPONENT, name);
        r->component = (LdmComponentRecord) {
                .state = "ACTIVE", .layout = layout, .n_partitions = n_parts,
                .parent_volume_id = nv->record_id,
        };
        if (layout != LDM_LAYOUT_CONCAT) {
                r->record_flags = 0x10;
                r->component.stripe_size = LDM_STRIPE_SECTORS;
                r->component.n_columns = n_parts;
        }
        return r;
}

static int add_volume(Builder *b, const LdmCreateRequest *req, size_t vi) {
        const LdmCreateVolume *v = &req->volumes[vi];
        LdmNewVolume *nv = &b->pack->volumes[vi];
        uint64_t ext, vol;
        LdmRecord *r, *c;
        int k;

        k = check_volume(b, req, vi);
        if (k < 0)
                return k;
        k = extent_size(b, v, vi, &ext, &vol);
        if (k < 0)
                return k;
        for (size_t j = 0; j < v->n_disks; j++) {
                const DiskPlan *p = &b->plans[v->disks[j]];
                if (p->cursor > p->pub_end || p->pub_end - p->cursor < ext)
                        return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                            "volume %zu: disk %u has %" PRIu64 " MiB free, "
                                            "needs %" PRIu64 " MiB",
                                            vi + 1, v->disks[j] + 1,
                                            p->cursor < p->pub_end ? (p->pub_end - p->cursor) / MIB_SECTORS : 0,
                                            ext / MIB_SECTORS), -ENOSPC;
        }

        nv->type = v->type;
        nv->size = vol;
        if (v->name)
                snprintf(nv->name, sizeof(nv->name), "%s", v->name);
        else
                snprintf(nv->name, sizeof(nv->name), "Volume%zu", vi + 1);
        if (guid_random(&nv->guid) < 0)
                return -EIO;

        r = new_record(b, LDM_RECORD_VOLUME, nv->name);
        nv->record_id = r->id;
        r->volume = (LdmVolumeRecord) {
                .state = "ACTIVE",
                .read_policy = v->type == LDM_VOLUME_RAID5 ? 4 : 3,
                .volume_number = (uint32_t) vi + 1,
                .volume_flags = v->type == LDM_VOLUME_RAID5 ? 0x13 : 0x11,
                .n_components = v->type == LDM_VOLUME_MIRROR ? 2 : 1,
                .size = vol,
                .partition_type = v->partition_type ?: 0x06,
                .guid = nv->guid,
        };
        strcpy(r->volume.type_name, v->type == LDM_VOLUME_RAID5 ? "raid5" : "gen");

        switch (v->type) {
        case LDM_VOLUME_MIRROR:
                for (uint32_t plex = 0; plex < 2; plex++) {
                        c = add_component(b, nv, plex, LDM_LAYOUT_CONCAT, 1);
                        add_extent(b, nv, v->disks[plex], plex, 0, ext, c->id);
                }
                break;
        case LDM_VOLUME_SIMPLE:
        case LDM_VOLUME_SPAN:
                c = add_component(b, nv, 0, LDM_LAYOUT_CONCAT, (uint32_t) v->n_disks);
                for (size_t j = 0; j < v->n_disks; j++) {
                        add_extent(b, nv, v->disks[j], 0, 0, ext, c->id);
                        nv->extents[nv->n_extents - 1].offset_in_column = j * ext;
                        b->db->records[b->db->n_records - 1].partition.offset_in_column = j * ext;
                }
                break;
        default:
                c = add_component(b, nv, 0, v->type == LDM_VOLUME_RAID5 ? LDM_LAYOUT_RAID5 :
                                  LDM_LAYOUT_STRIPE, (uint32_t) v->n_disks);
                for (size_t j = 0; j < v->n_disks; j++)
                        add_extent(b, nv, v->disks[j], 0, (uint32_t) j, ext, c->id);
        }
        return 0;
}

/* Commit IDs, VMDB and KLOG once every record exists: T = M + 1 (§11.3). */
static int finish_database(Builder *b, uint64_t now) {
        LdmDatabase *db = b->db;
        uint64_t T = b->next_id;
        uint32_t counts[_LDM_COUNT_MAX] = {};
        uint8_t page[512];

        for (size_t i = 0; i < db->n_records; i++) {
                LdmRecord *r = &db->records[i];
                switch (r->type) {
                case LDM_RECORD_VOLUME:     r->volume.commit_id = T; counts[LDM_COUNT_VOLUME]++; break;
                case LDM_RECORD_COMPONENT:  r->component.commit_id = T; counts[LDM_COUNT_COMPONENT]++; break;
                case LDM_RECORD_PARTITION:  r->partition.commit_id = T; counts[LDM_COUNT_PARTITION]++; break;
                case LDM_RECORD_DISK:       r->disk.commit_id = T; counts[LDM_COUNT_DISK]++; break;
                case LDM_RECORD_DISK_GROUP: r->disk_group.commit_id = T; break;
                }
        }

        db->vmdb = (LdmVmdb) {
                .n_slots = LDM_CONFIG_SECTORS * 4, .vblk_size = 128, .header_size = 512,
                .status = LDM_VMDB_CLEAN, .version_major = 4, .version_minor = 10,
                .group_guid = b->pack->group_guid,
                .committed_seq = T, .pending_seq = T,
                .timestamp = now,
        };
        memcpy(db->vmdb.group_name, b->pack->group_name, sizeof(db->vmdb.group_name));
        memcpy(db->vmdb.committed_counts, counts, sizeof(counts));
        memcpy(db->vmdb.pending_counts, counts, sizeof(counts));

        db->klog[0] = (LdmKlogPage) {
                .sequence = 1, .n_pages = 2, .index = 0, .n_entries = 1,
                .entries = { { .status = 3, .committed = T - 1, .pending = T } },
        };
        db->klog[1] = (LdmKlogPage) { .n_pages = 2, .index = 1 };
        for (size_t i = 0; i < 2; i++) {
                ldm_klog_encode(&db->klog[i], page);
                memcpy(db->klog[i].raw, page, sizeof(page));
                memcpy(db->log + i * LDM_SECTOR, page, sizeof(page));
        }
        return ldm_database_serialize(db);
}

static int builder_init(Builder *b, const LdmCreateRequest *req) {
        size_t n_records = 1 + req->n_disks;

        if (req->n_disks == 0 || req->n_disks > LDM_CREATE_MAX_DISKS)
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "%zu disks given, 1…%u allowed", req->n_disks,
                                    LDM_CREATE_MAX_DISKS), -EINVAL;
        if (req->n_volumes > LDM_CREATE_MAX_VOLUMES)
                return ldm_diag_set(b->err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "%zu volumes given, at most %u allowed", req->n_volumes,
                                    LDM_CREATE_MAX_VOLUMES), -EINVAL;
        for (size_t i = 0; i < req->n_volumes; i++)
                n_records += 1 + 2 + 2 * req->volumes[i].n_disks;

        b->pack = calloc(1, sizeof(LdmNewPack));
        if (!b->pack)
                return -ENOMEM;
        b->pack->disks = calloc(req->n_disks, sizeof(LdmNewDisk));
        b->pack->volumes = calloc(MAX(req->n_volumes, 1u), sizeof(LdmNewVolume));
        b->plans = calloc(req->n_disks, sizeof(DiskPlan));
        b->db = calloc(1, sizeof(LdmDatabase));
        if (!b->pack->disks || !b->pack->volumes || !b->plans || !b->db)
                return -ENOMEM;
        b->pack->db = b->db;
        b->pack->n_disks = req->n_disks;
        b->pack->n_volumes = req->n_volumes;
        b->allocated = n_records;
        b->db->records = calloc(n_records, sizeof(LdmRecord));
        b->db->config_size = (size_t) LDM_CONFIG_SECTORS * LDM_SECTOR;
        b->db->config = calloc(1, b->db->config_size);
        b->db->log_size = (size_t) LDM_LOG_SECTORS * LDM_SECTOR;
        b->db->log = calloc(1, b->db->log_size);
        if (!b->db->records || !b->db->config || !b->db->log)
                return -ENOMEM;
        b->next_id = 1;
        return 0;
}

int ldm_create_pack(const LdmCreateRequest *req, LdmNewPack **ret, LdmDiag *err) {
        _cleanup_free_ DiskPlan *plans = NULL;
        _cleanup_(ldm_new_pack_freep) LdmNewPack *pack = NULL;
        Builder b = { .err = err };
        uint64_t now = req->timestamp ?: ldm_filetime_now();
        uint32_t signature;
        LdmRecord *dg;
        int r;

        r = builder_init(&b, req);
        pack = b.pack;
        plans = b.plans;
        if (r < 0) {
                if (!pack)
                        ldm_database_free(b.db);
                return r;
        }

        if (req->group_name) {
                if (!name_ok(req->group_name, 31))
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                            "group name must be 1…31 printable ASCII characters"),
                               -EINVAL;
                snprintf(pack->group_name, sizeof(pack->group_name), "%s", req->group_name);
        } else
                default_group_name(pack->group_name);
        if (guid_random(&pack->group_guid) < 0 || random_u32_nonzero(&signature) < 0)
                return -EIO;

        dg = new_record(&b, LDM_RECORD_DISK_GROUP, pack->group_name);
        dg->disk_group.guid = pack->group_guid;

        for (size_t i = 0; i < req->n_disks; i++) {
                r = add_disk(&b, req, i, signature, now);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < req->n_volumes; i++) {
                r = add_volume(&b, req, i);
                if (r < 0)
                        return r;
        }
        r = finish_database(&b, now);
        if (r < 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", "", LDM_DIAG_NO_OFFSET,
                                    "records do not fit the config region: %s", strerror(-r)), r;

        *ret = TAKE_PTR(pack);
        return 0;
}
