/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldm-testtool: the test suite's and the demo's hands on a pack of image files or devices:
 * fill a volume with known data, checksum it, and break the pack the way ldm-damage.h
 * describes. Built for tests only; never installed.
 *
 *   ldm-testtool fill VOLUME SEED DISK...          deterministic data over the whole volume
 *   ldm-testtool sha256 VOLUME DISK...             sha256 of the volume as our reader sees it
 *   ldm-testtool stale-plex VOLUME PLEX DISK...    mark a mirror plex stale, overwrite it
 *   ldm-testtool stale-column VOLUME COL DISK...   mark a RAID-5 column stale, overwrite it
 *   ldm-testtool corrupt WHAT DISK                 privhead-lba6|privhead-1856|privhead-2047|
 *                                                  toc-primary|toc-secondary|vmdb
 *   ldm-testtool rollback DISK DISK...             DISK's database copy falls behind the pack
 *   ldm-testtool touch DISK...                     a harmless transaction on the disks given;
 *                                                  a disk of the pack left out falls behind
 *   ldm-testtool stale EXTENT DISK...              partition recover flag on one extent
 *   ldm-testtool scribble EXTENT OFF LEN DISK...   overwrite LEN bytes at OFF inside EXTENT
 *   ldm-testtool list DISK...                      the pack's volumes and extents
 *   ldm-testtool in-flight STEP DISK...            a transaction stopped after step 1…5
 *   ldm-testtool stale-parity VOLUME ROWS DISK...  mark a RAID-5's parity stale, overwrite the
 *                                                  parity chunk of its first ROWS stripe rows
 *   ldm-testtool mixed-pack NAME MIB DISK...       a new pack of MIB MiB image files (created
 *                                                  if missing), MBR and GPT alternating (mkldm
 *                                                  makes one label per pack), 4+ disks:
 *                                                  mirror:16M:Mirror@1,2 raid5:24M:Parity@2,3,4
 *                                                  span:6M:Span@4,1
 *   ldm-testtool rename OLD NEW DISK...            rename records named OLD (the disk group
 *                                                  too when OLD is the pack's name); NEW
 *                                                  may be any bytes but NUL
 */

#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include "create.h"
#include "ldm-damage.h"
#include "scan.h"
#include "volume-io.h"

#define CHUNK (1024 * 1024)

static int find_volume(LdmScan *scan, const char *name, LdmVolume **ret) {
        LdmVolume *found = NULL;

        for (size_t p = 0; p < scan->n_packs; p++)
                for (size_t v = 0; v < scan->packs[p]->n_volumes; v++) {
                        LdmVolume *vol = &scan->packs[p]->volumes[v];
                        if (strcmp(vol->name, name) != 0)
                                continue;
                        if (found) {
                                fprintf(stderr, "volume %s exists in more than one pack\n", name);
                                return -ENOTUNIQ;
                        }
                        found = vol;
                }
        if (!found) {
                fprintf(stderr, "no volume named %s\n", name);
                return -ENOENT;
        }
        *ret = found;
        return 0;
}

/* xorshift64*: cheap, deterministic, different for every seed and offset. */
static void fill_pattern(uint8_t *buf, size_t len, uint64_t seed, uint64_t offset) {
        uint64_t x = seed * 0x9E3779B97F4A7C15ULL + offset / 8 + 1;

        for (size_t i = 0; i + 8 <= len; i += 8) {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                uint64_t v = x * 0x2545F4914F6CDD1DULL;
                memcpy(buf + i, &v, 8);
        }
}

static int volume_walk(char **disks, size_t n, const char *name, bool write, uint64_t seed) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        LdmVolume *vol;
        uint64_t size;
        int r;

        r = ldm_scan_paths(disks, n, &scan);
        if (r < 0)
                return r;
        r = find_volume(scan, name, &vol);
        if (r < 0)
                return r;
        r = ldm_volume_io_open(vol, write ? LDM_IO_WRITE : 0, &vio);
        if (r < 0)
                return r;
        buf = malloc(CHUNK);
        if (!buf)
                return -ENOMEM;

        size = ldm_volume_io_size(vio);
        for (uint64_t off = 0; off < size; off += CHUNK) {
                size_t len = (size_t) MIN((uint64_t) CHUNK, size - off);
                if (write) {
                        fill_pattern(buf, len, seed, off);
                        r = ldm_volume_write(vio, off, buf, len);
                } else {
                        r = ldm_volume_read(vio, off, buf, len);
                        if (r >= 0)
                                g_checksum_update(sum, buf, len);
                }
                if (r < 0)
                        return r;
        }
        if (write)
                return ldm_volume_flush(vio);
        printf("%s  %s\n", g_checksum_get_string(sum), name);
        return 0;
}

static int parse_target(const char *s, LdmDamageTarget *ret) {
        static const char *const names[_LDM_DAMAGE_TARGET_MAX] = {
                [LDM_DAMAGE_PRIVHEAD_LBA6] = "privhead-lba6",
                [LDM_DAMAGE_PRIVHEAD_1856] = "privhead-1856",
                [LDM_DAMAGE_PRIVHEAD_2047] = "privhead-2047",
                [LDM_DAMAGE_TOC_PRIMARY] = "toc-primary",
                [LDM_DAMAGE_TOC_SECONDARY] = "toc-secondary",
                [LDM_DAMAGE_VMDB] = "vmdb",
        };
        for (int i = 0; i < _LDM_DAMAGE_TARGET_MAX; i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = (LdmDamageTarget) i;
                        return 0;
                }
        return -EINVAL;
}

static int rollback(char **disks, size_t n) {
        LdmDamageSnapshot *snap = NULL;
        int r;

        /* disks[0] is the disk that falls behind; it is also part of the pack. */
        r = ldm_damage_snapshot(disks[0], &snap);
        if (r < 0)
                return r;
        r = ldm_damage_touch(disks + 1, n - 1);
        if (r >= 0)
                r = ldm_damage_restore(snap);
        ldm_damage_snapshot_free(snap);
        return r;
}

/* The marker Windows leaves when a RAID-5's parity must be regenerated (component flag 0x02,
 * recover, on its plex, in one transaction on every disk), then garbage in the parity chunk
 * of stripe rows 0…rows-1 (left-symmetric: row r keeps parity in column (n-1) - r mod n), so
 * that parity is wrong there while every data chunk still reads right. */
static int stale_parity(char **disks, size_t n, const char *name, uint64_t rows) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        LdmIo *ios[64] = {};
        LdmVolume *vol;
        LdmPlex *plex;
        LdmRecord *rec;
        size_t n_ios = 0;
        int r;

        r = ldm_scan_paths(disks, n, &scan);
        if (r < 0)
                return r;
        r = find_volume(scan, name, &vol);
        if (r < 0)
                return r;
        if (vol->type != LDM_VOLUME_RAID5 || vol->n_plexes != 1)
                return -EMEDIUMTYPE;
        plex = vol->plexes[0];
        if (plex->n_columns < 3 || plex->stripe_size == 0 || vol->pack->n_devices > ELEMENTSOF(ios))
                return -EINVAL;
        rows = MIN(rows, plex->columns[0].size / plex->stripe_size);

        r = ldm_txn_begin(vol->pack->db, &t);
        if (r < 0)
                return r;
        rec = ldm_txn_edit(t, plex->id);
        if (!rec)
                return -ENOENT;
        rec->component.flags |= LDM_COMPONENT_FLAG_RECOVER;
        rec->dirty = true;
        for (size_t i = 0; i < vol->pack->n_devices; i++) {
                r = ldm_io_open(vol->pack->devices[i]->path, LDM_IO_WRITE, &ios[i]);
                if (r < 0)
                        goto out;
                n_ios++;
        }
        r = ldm_txn_commit(t, ios, vol->pack->devices, n_ios, NULL);
        if (r < 0)
                goto out;

        buf = malloc(plex->stripe_size * 512);
        if (!buf) {
                r = -ENOMEM;
                goto out;
        }
        for (uint64_t row = 0; row < rows; row++) {
                const LdmColumn *col = &plex->columns[plex->n_columns - 1 - row % plex->n_columns];
                uint64_t at = row * plex->stripe_size;
                const LdmExtent *e = NULL;
                LdmIo *io = NULL;

                for (size_t k = 0; k < col->n_extents; k++)
                        if (at >= col->extents[k]->offset_in_column &&
                            at < col->extents[k]->offset_in_column + col->extents[k]->size)
                                e = col->extents[k];
                if (!e || !e->disk->device) {
                        r = -ENODEV;
                        goto out;
                }
                for (size_t i = 0; i < n_ios; i++)
                        if (vol->pack->devices[i] == e->disk->device)
                                io = ios[i];
                if (getrandom(buf, plex->stripe_size * 512, 0) != (ssize_t) (plex->stripe_size * 512)) {
                        r = -EIO;
                        goto out;
                }
                r = ldm_io_pwrite(io, buf, plex->stripe_size * 512,
                                  ldm_extent_disk_offset(e) + (at - e->offset_in_column) * 512);
                if (r < 0)
                        goto out;
        }
        for (size_t i = 0; i < n_ios && r >= 0; i++)
                r = ldm_io_flush(ios[i]);
out:
        for (size_t i = 0; i < n_ios; i++)
                ldm_io_close(ios[i]);
        return r;
}

/* A pack mkldm cannot make: MBR and GPT disks alternating (disk 1 MBR), through the same
 * create API and writer, with a fixed set of volumes over the first four disks. */
static int mixed_pack(char **disks, size_t n, const char *name, uint64_t mib) {
        static const LdmCreateVolume vols[] = {
                { .type = LDM_VOLUME_MIRROR, .size = 16u << 20, .name = "Mirror", .disks = { 0, 1 }, .n_disks = 2 },
                { .type = LDM_VOLUME_RAID5, .size = 24u << 20, .name = "Parity", .disks = { 1, 2, 3 }, .n_disks = 3 },
                { .type = LDM_VOLUME_SPAN, .size = 6u << 20, .name = "Span", .disks = { 3, 0 }, .n_disks = 2 },
        };
        _cleanup_(ldm_new_pack_freep) LdmNewPack *pack = NULL;
        LdmCreateDisk specs[LDM_CREATE_MAX_DISKS];
        LdmIo *ios[LDM_CREATE_MAX_DISKS] = {};
        LdmDiag err = {};
        size_t n_ios = 0;
        int r;

        if (n < 4 || n > LDM_CREATE_MAX_DISKS || mib == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                int fd = open(disks[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 || ftruncate(fd, (off_t) (mib << 20)) < 0) {
                        r = -errno;
                        if (fd >= 0)
                                close(fd);
                        return r;
                }
                close(fd);
                specs[i] = (LdmCreateDisk) { mib << 20, i % 2 ? LDM_LABEL_GPT : LDM_LABEL_MBR };
        }
        r = ldm_create_pack(&(LdmCreateRequest) { .group_name = name, .disks = specs, .n_disks = n,
                                                  .volumes = vols, .n_volumes = ELEMENTSOF(vols) },
                            &pack, &err);
        if (r < 0) {
                fprintf(stderr, "mixed-pack: %s\n", err.message);
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                r = ldm_io_open(disks[i], LDM_IO_WRITE, &ios[i]);
                if (r < 0)
                        goto out;
                n_ios++;
        }
        r = ldm_writer_write_new(pack, ios, n, &err);
        if (r < 0)
                fprintf(stderr, "mixed-pack: %s\n", err.message);
out:
        for (size_t i = 0; i < n_ios; i++)
                ldm_io_close(ios[i]);
        return r;
}

/* One line per pack, volume ("volume NAME TYPE BYTES") and extent ("extent NAME PLEX
 * DEVICE BYTES", DEVICE "(missing)" for a disk that is not there). */
static int list(char **disks, size_t n) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        int r;

        r = ldm_scan_paths(disks, n, &scan);
        if (r < 0)
                return r;
        for (size_t k = 0; k < scan->n_packs; k++) {
                const LdmPack *p = scan->packs[k];

                printf("pack %s %s\n", p->name, GUID_TO_STRING(&p->guid));
                for (size_t i = 0; i < p->n_volumes; i++)
                        printf("volume %s %s %" G_GUINT64_FORMAT "\n", p->volumes[i].name,
                               ldm_volume_type_to_string(p->volumes[i].type), p->volumes[i].size * 512);
                for (size_t i = 0; i < p->n_extents; i++) {
                        const LdmExtent *e = &p->extents[i];
                        printf("extent %s %s %s %" G_GUINT64_FORMAT "\n", e->name, e->plex ? e->plex->name : "-",
                               e->disk && e->disk->device ? e->disk->device->path : "(missing)", e->size * 512);
                }
        }
        return 0;
}

static int usage(void) {
        fprintf(stderr, "usage: ldm-testtool fill|sha256|stale-plex|stale-column|corrupt|rollback|touch|in-flight|stale-parity|stale|scribble|list|mixed-pack|rename … (see the source)\n");
        return 2;
}

int main(int argc, char *argv[]) {
        const char *verb;
        int r;

        if (argc < 3)
                return usage();
        verb = argv[1];

        if (strcmp(verb, "fill") == 0 && argc >= 5)
                r = volume_walk(argv + 4, (size_t) argc - 4, argv[2], true, g_ascii_strtoull(argv[3], NULL, 0));
        else if (strcmp(verb, "sha256") == 0 && argc >= 4)
                r = volume_walk(argv + 3, (size_t) argc - 3, argv[2], false, 0);
        else if (strcmp(verb, "stale-plex") == 0 && argc >= 5)
                r = ldm_damage_stale_plex(argv + 4, (size_t) argc - 4, argv[2], (unsigned) atoi(argv[3]), true);
        else if (strcmp(verb, "stale-column") == 0 && argc >= 5)
                r = ldm_damage_stale_column(argv + 4, (size_t) argc - 4, argv[2], (unsigned) atoi(argv[3]), true);
        else if (strcmp(verb, "corrupt") == 0 && argc == 4) {
                LdmDamageTarget t;
                r = parse_target(argv[2], &t);
                if (r >= 0)
                        r = ldm_damage_corrupt(argv[3], t);
        } else if (strcmp(verb, "rollback") == 0 && argc >= 4)
                /* the disk to roll back is named first, then the whole pack (it included) */
                r = rollback(argv + 2, (size_t) argc - 2);
        else if (strcmp(verb, "touch") == 0)
                r = ldm_damage_touch(argv + 2, (size_t) argc - 2);
        else if (strcmp(verb, "stale") == 0 && argc >= 4)
                r = ldm_damage_stale_extent(argv + 3, (size_t) argc - 3, argv[2]);
        else if (strcmp(verb, "scribble") == 0 && argc >= 6)
                r = ldm_damage_scribble(argv + 5, (size_t) argc - 5, argv[2], g_ascii_strtoull(argv[3], NULL, 0),
                                        g_ascii_strtoull(argv[4], NULL, 0));
        else if (strcmp(verb, "list") == 0)
                r = list(argv + 2, (size_t) argc - 2);
        else if (strcmp(verb, "in-flight") == 0 && argc >= 4)
                r = ldm_damage_in_flight(argv + 3, (size_t) argc - 3, (LdmTxnStep) atoi(argv[2]));
        else if (strcmp(verb, "stale-parity") == 0 && argc >= 5)
                r = stale_parity(argv + 4, (size_t) argc - 4, argv[2], g_ascii_strtoull(argv[3], NULL, 0));
        else if (strcmp(verb, "mixed-pack") == 0 && argc >= 5)
                r = mixed_pack(argv + 4, (size_t) argc - 4, argv[2], g_ascii_strtoull(argv[3], NULL, 0));
        else if (strcmp(verb, "rename") == 0 && argc >= 5)
                r = ldm_damage_rename(argv + 4, (size_t) argc - 4, argv[2], argv[3]);
        else
                return usage();

        if (r < 0) {
                fprintf(stderr, "ldm-testtool %s: %s\n", verb, strerror(-r));
                return 1;
        }
        return 0;
}
