/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-scan-light: the fast paths of the reader give the same answers as the slow ones:
 * the slice-by-8 CRC-32 against the bitwise definition, hash64()'s single-word guarantee, a
 * light probe (LDM_PROBE_NO_RAW, what ldmd uses) against a full one on every real image, and
 * the scan's choice of authority by config hash: a copy whose config region differs in one
 * byte of an unused slot is still named (by a light scan when the slot is in the head it
 * reads); a record after that head makes the light probe read the whole region; a batch of
 * probes (ldm_device_probe_batch()) answers as the probes one by one. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32.h"
#include "device.h"
#include "hash64.h"
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

static uint32_t crc32_bitwise(const uint8_t *p, size_t len) {
        uint32_t crc = 0xFFFFFFFFu;

        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
        }
        return ~crc;
}

static void test_crc32(void) {
        uint8_t buf[1100];
        GRand *rand = g_rand_new_with_seed(42);

        g_assert_cmphex(crc32_ieee("123456789", 9), ==, 0xCBF43926u);
        g_assert_cmphex(crc32_ieee("", 0), ==, 0);
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t) g_rand_int(rand);
        /* Every length around the 8-byte blocks, at every alignment. */
        for (size_t off = 0; off < 8; off++)
                for (size_t len = 0; len + off <= sizeof(buf); len += len < 40 ? 1 : 97)
                        g_assert_cmphex(crc32_ieee(buf + off, len), ==, crc32_bitwise(buf + off, len));
        g_rand_free(rand);
}

static void test_hash64(void) {
        size_t n = 4096 + 5;
        g_autofree uint8_t *a = g_malloc(n), *b = g_malloc(n);
        GRand *rand = g_rand_new_with_seed(7);
        uint64_t h;

        for (size_t i = 0; i < n; i++)
                a[i] = (uint8_t) g_rand_int(rand);
        memcpy(b, a, n);
        h = hash64(a, n);
        g_assert_cmphex(hash64(b, n), ==, h);
        /* A change in any one byte is a change in one word: always seen, tail included. */
        for (size_t i = 0; i < n; i++) {
                b[i] ^= (uint8_t) (1u + g_rand_int_range(rand, 0, 255));
                g_assert_cmphex(hash64(b, n), !=, h);
                b[i] = a[i];
        }
        /* The length counts: a zero byte more is another buffer. */
        memset(b, 0, n);
        g_assert_cmphex(hash64(b, n - 1), !=, hash64(b, n));
        g_assert_cmphex(hash64(b, 0), !=, hash64(b, 1));
        g_rand_free(rand);
}

static void assert_same_diags(const LdmDiagList *x, const LdmDiagList *y) {
        g_assert_cmpuint(x->n_items, ==, y->n_items);
        for (size_t i = 0; i < x->n_items; i++) {
                g_assert_cmpstr(x->items[i].structure, ==, y->items[i].structure);
                g_assert_cmpuint(x->items[i].offset, ==, y->items[i].offset);
                g_assert_cmpstr(x->items[i].message, ==, y->items[i].message);
        }
}

/* Light and full probes of every real image: the same parse, only the raw bytes missing. */
static void test_light_probe(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
                g_autofree char *path = test_real_image(images[i]);
                _cleanup_(ldm_device_freep) LdmDevice *full = NULL, *light = NULL;

                g_assert_cmpint(ldm_device_probe(path, &full), ==, 1);
                g_assert_cmpint(ldm_device_probe_flags(path, LDM_PROBE_NO_RAW, &light), ==, 1);
                g_assert_cmpint(full->db_state, ==, 0);
                g_assert_cmpint(light->db_state, ==, 0);
                g_assert_nonnull(full->db->config);
                g_assert_null(light->db->config);
                g_assert_null(light->db->log);
                g_assert_cmpuint(light->db->config_size, ==, full->db->config_size);
                g_assert_cmpuint(light->db->log_size, ==, full->db->log_size);
                g_assert_cmphex(full->db->config_hash, ==, hash64(full->db->config, full->db->config_size));
                /* The real packs' records all sit in the short head a light probe reads first. */
                g_assert_cmpuint(full->db->config_hashed, ==, full->db->config_size);
                g_assert_cmpuint(light->db->config_hashed, ==, LDM_DEVICE_CONFIG_HEAD_FIRST);
                g_assert_cmphex(light->db->config_hash, ==, hash64(full->db->config, LDM_DEVICE_CONFIG_HEAD_FIRST));
                g_assert_cmpuint(light->effective_committed, ==, full->effective_committed);
                g_assert_cmpuint(light->db->n_records, ==, full->db->n_records);
                for (size_t k = 0; k < full->db->n_records; k++) {
                        const LdmRecord *a = &full->db->records[k], *b = &light->db->records[k];
                        g_assert_cmpuint(a->id, ==, b->id);
                        g_assert_cmpint(a->type, ==, b->type);
                        g_assert_cmpstr(a->name, ==, b->name);
                        uint8_t ab[LDM_RECORD_MAX_SIZE] = {}, bb[LDM_RECORD_MAX_SIZE] = {};
                        /* The light copy keeps no bytes: the same fields encode the same. */
                        g_assert_cmpuint(a->raw_size, ==, b->raw_size);
                        g_assert_cmpint(ldm_record_encode(a, ab), ==, ldm_record_encode(b, bb));
                        g_assert_cmpmem(ab, sizeof(ab), bb, sizeof(bb));
                        g_assert_cmpint(ldm_database_record_bytes(light->db, b, bb), ==, -ENODATA);
                }
                for (size_t k = 0; k < 2; k++)
                        g_assert_cmpint(light->db->klog_state[k], ==, full->db->klog_state[k]);
                assert_same_diags(&full->diags, &light->diags);
                /* The copies: the same states and the same copies in use, but only the full
                 * probe keeps every copy (the light one holds what the daemon shows). */
                g_assert_nonnull(full->copies);
                g_assert_null(light->copies);
                g_assert_cmpmem(light->privhead_state, sizeof(light->privhead_state),
                                full->privhead_state, sizeof(full->privhead_state));
                g_assert_cmpmem(light->toc_state, sizeof(light->toc_state), full->toc_state, sizeof(full->toc_state));
                g_assert_cmpint(light->privhead_used, ==, full->privhead_used);
                g_assert_cmpint(light->toc_used, ==, full->toc_used);
                g_assert_cmpmem(&light->privhead, sizeof(LdmPrivhead), &full->privhead, sizeof(LdmPrivhead));
                g_assert_cmpmem(&light->toc, sizeof(LdmTocblock), &full->toc, sizeof(LdmTocblock));
                g_assert_cmpmem(&full->copies->privheads[full->privhead_used], sizeof(LdmPrivhead),
                                &full->privhead, sizeof(LdmPrivhead));
                if (full->privhead_state[LDM_PRIVHEAD_COPY_LBA6] == 0)
                        g_assert_cmpuint(full->copies->privheads[LDM_PRIVHEAD_COPY_LBA6].priv_start, ==,
                                         full->privhead.priv_start);
                /* Nothing to rebuild the region from: the writer's path refuses. */
                g_assert_cmpint(ldm_database_serialize(light->db), ==, -ENODATA);
                /* Serializing a full copy unchanged keeps its bytes, so its hash. */
                uint64_t h = full->db->config_hash;
                g_assert_cmpint(ldm_database_serialize(full->db), ==, 0);
                g_assert_cmphex(full->db->config_hash, ==, hash64(full->db->config, full->db->config_size));
                g_assert_cmphex(full->db->config_hash, ==, h);
        }
}

static LdmScan *scan_light(char **paths) {
        size_t n = g_strv_length(paths), n_ldm = 0;
        LdmDevice **devices = g_new0(LdmDevice *, n);
        LdmScan *s = NULL;

        for (size_t i = 0; i < n; i++)
                if (ldm_device_probe_flags(paths[i], LDM_PROBE_NO_RAW, &devices[n_ldm]) == 1)
                        n_ldm++;
        /* ldm_scan_build() takes the array; g_new0 is malloc-compatible in GLib ≥ 2.46. */
        g_assert_cmpint(ldm_scan_build(devices, n_ldm, &s), ==, 0);
        return s;
}

static void assert_same_scan(const LdmScan *x, const LdmScan *y) {
        g_assert_cmpuint(x->n_devices, ==, y->n_devices);
        g_assert_cmpuint(x->n_packs, ==, y->n_packs);
        g_assert_cmpuint(x->n_invalid, ==, y->n_invalid);
        for (size_t i = 0; i < x->n_packs; i++) {
                g_assert_true(guid_equal(&x->packs[i]->guid, &y->packs[i]->guid));
                g_assert_cmpuint(x->packs[i]->n_devices, ==, y->packs[i]->n_devices);
                g_assert_cmpuint(x->packs[i]->n_disks, ==, y->packs[i]->n_disks);
                g_assert_cmpuint(x->packs[i]->n_volumes, ==, y->packs[i]->n_volumes);
                g_assert_cmpstr(x->packs[i]->authority->path, ==, y->packs[i]->authority->path);
        }
        assert_same_diags(&x->diags, &y->diags);
}

static char **all_paths(const char *dir) {
        char **paths = g_new0(char *, G_N_ELEMENTS(images) + 1);

        for (size_t i = 0; i < G_N_ELEMENTS(images); i++)
                paths[i] = dir ? g_build_filename(dir, images[i], NULL) : test_real_image(images[i]);
        return paths;
}

static void test_light_scan(void) {
        g_auto(GStrv) paths = all_paths(NULL);
        _cleanup_(ldm_scan_freep) LdmScan *full = NULL, *light = NULL;

        g_assert_cmpint(ldm_scan_paths(paths, g_strv_length(paths), &full), ==, 0);
        light = scan_light(paths);
        g_assert_cmpuint(full->n_packs, ==, 2);
        g_assert_cmpuint(full->diags.n_items, ==, 0);
        assert_same_scan(full, light);
        /* The strict validator needs what a light probe drops (raw regions, every copy). */
        g_assert_cmpint(ldm_validate_strict(light, &(LdmDiagList) {}), ==, -ENODATA);
}

static void write_at(const char *path, uint64_t off, const void *buf, size_t len) {
        FILE *f = fopen(path, "r+b");

        g_assert_nonnull(f);
        g_assert_cmpint(fseek(f, (long) off, SEEK_SET), ==, 0);
        g_assert_cmpuint(fwrite(buf, 1, len, f), ==, len);
        g_assert_cmpint(fclose(f), ==, 0);
}

static char **copy_all(const char *dir) {
        char **paths = all_paths(dir);

        for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
                g_autofree char *src = test_real_image(images[i]);
                test_copy_file(src, paths[i]);
        }
        return paths;
}

/* Within one light batch, the disks whose databases are the same copy (the same config hash
 * and record count) hold one records array between them, and a disk with another copy does
 * not hold theirs. The real packs' disks agree, so each pack shares: fewer arrays than disks. */
static void assert_records_shared(LdmDevice **devices, size_t n) {
        size_t n_db = 0, n_arrays = 0;

        for (size_t i = 0; i < n; i++) {
                bool first = true;

                if (!devices[i] || !devices[i]->db)
                        continue;
                n_db++;
                for (size_t j = 0; j < i; j++) {
                        const LdmDatabase *a = devices[j] && devices[j]->db ? devices[j]->db : NULL;
                        const LdmDatabase *b = devices[i]->db;
                        bool same = a && a->config_hash == b->config_hash && a->n_records == b->n_records;

                        if (!a)
                                continue;
                        g_assert_true(same == (a->records == b->records));
                        if (same)
                                first = false;
                }
                n_arrays += first;
        }
        g_assert_cmpuint(n_arrays, <, n_db);
}

/* The disks that share a whole database (ldm_database_share()) share its records too, and
 * hold what their own probe read: the same VMDB and KLOG verdicts as a lone probe's. */
static void assert_databases_shared(LdmDevice **devices, size_t n) {
        size_t n_shared = 0;

        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; devices[i] && devices[i]->db && j < i; j++)
                        if (devices[j] && devices[j]->db == devices[i]->db) {
                                g_assert_true(devices[i]->db->records_users);
                                g_assert_cmpint(devices[i]->db->klog_state[0], !=, -EBADMSG);
                                n_shared++;
                                break;
                        }
        g_assert_cmpuint(n_shared, >, 0);
}

/* ldm_device_probe_batch() gives each path what a probe of it alone gives: every real image,
 * a file that is no disk at all, one that does not exist, and one whose GPT is unreadable
 * (its diagnosis goes to diags[i]), in one batch. */
static void test_probe_batch(void) {
        g_autofree char *dir = test_tmpdir();
        g_auto(GStrv) real = copy_all(dir);
        size_t n_real = g_strv_length(real), n = n_real + 3;
        g_autofree char **paths = g_new0(char *, n + 1);
        g_autofree char *zero = g_build_filename(dir, "zero.img", NULL);
        g_autofree char *absent = g_build_filename(dir, "absent.img", NULL);
        g_autofree char *badgpt = g_build_filename(dir, "bad-gpt.img", NULL);
        g_autofree int *verdicts = g_new0(int, n);
        g_autofree LdmDevice **devices = g_new0(LdmDevice *, n);
        g_autofree LdmDiag *diags = g_new0(LdmDiag, n);
        uint8_t sector[512] = { [510] = 0x55, [511] = 0xAA, [450] = 0xEE };

        /* A protective MBR and no GPT header behind it, nor at the end. */
        g_assert_true(g_file_set_contents(zero, "", 0, NULL));
        g_assert_cmpint(truncate(zero, 4 << 20), ==, 0);
        g_assert_true(g_file_set_contents(badgpt, (const char *) sector, sizeof(sector), NULL));
        g_assert_cmpint(truncate(badgpt, 4 << 20), ==, 0);
        for (size_t i = 0; i < n_real; i++)
                paths[i] = real[i];
        paths[n_real] = zero;
        paths[n_real + 1] = absent;
        paths[n_real + 2] = badgpt;

        /* In batches of the largest size, the last one shorter. */
        for (size_t i = 0; i < n; i += LDM_PROBE_BATCH_MAX)
                g_assert_cmpint(ldm_device_probe_batch(paths + i, MIN(n - i, (size_t) LDM_PROBE_BATCH_MAX),
                                                       LDM_PROBE_NO_RAW, verdicts + i, devices + i, diags + i), ==, 0);
        assert_records_shared(devices, MIN(n, (size_t) LDM_PROBE_BATCH_MAX));
        assert_databases_shared(devices, MIN(n, (size_t) LDM_PROBE_BATCH_MAX));
        /* The devices are freed below in path order, each while the others of its pack may
         * still read the shared records (ASan: no read after free, no leak). */
        for (size_t i = 0; i < n; i++) {
                _cleanup_(ldm_device_freep) LdmDevice *alone = NULL, *batched = devices[i];
                LdmDiag why = {};
                int r = ldm_device_probe_diag(paths[i], LDM_PROBE_NO_RAW, &alone, &why);

                g_assert_cmpint(verdicts[i], ==, r);
                g_assert_true((batched != NULL) == (r == 1));
                if (r == -EBADMSG) {
                        g_assert_cmpstr(diags[i].structure, ==, why.structure);
                        g_assert_cmpuint(diags[i].offset, ==, why.offset);
                        g_assert_cmpstr(diags[i].message, ==, why.message);
                }
                if (r != 1)
                        continue;
                g_assert_cmpint(batched->db_state, ==, alone->db_state);
                g_assert_cmpuint(batched->located_priv, ==, alone->located_priv);
                g_assert_cmpuint(batched->db->n_records, ==, alone->db->n_records);
                g_assert_cmphex(batched->db->config_hash, ==, alone->db->config_hash);
                g_assert_cmpmem(batched->db->records, batched->db->n_records * sizeof(LdmRecord),
                                alone->db->records, alone->db->n_records * sizeof(LdmRecord));
                g_assert_cmpmem(&batched->db->vmdb, sizeof(LdmVmdb), &alone->db->vmdb, sizeof(LdmVmdb));
                g_assert_cmpmem(batched->db->klog_state, sizeof(alone->db->klog_state),
                                alone->db->klog_state, sizeof(alone->db->klog_state));
                assert_same_diags(&batched->diags, &alone->diags);
        }
        g_assert_cmpint(verdicts[n_real], ==, 0);
        g_assert_cmpint(verdicts[n_real + 1], ==, -ENOENT);
        g_assert_cmpint(verdicts[n_real + 2], ==, -EBADMSG);
        g_assert_cmpstr(diags[n_real + 2].structure, ==, "GPT");
        g_assert_cmpint(ldm_device_probe_batch(paths, LDM_PROBE_BATCH_MAX + 1, 0, verdicts, devices, diags), ==, -E2BIG);
        /* One batch per thread, never empty, never more than the maximum. */
        g_assert_cmpuint(ldm_device_probe_batch_size(64, 8), ==, 8);
        g_assert_cmpuint(ldm_device_probe_batch_size(64, 2), ==, 32);
        g_assert_cmpuint(ldm_device_probe_batch_size(65, 2), ==, LDM_PROBE_BATCH_MAX);
        g_assert_cmpuint(ldm_device_probe_batch_size(5, 8), ==, 1);
        g_assert_cmpuint(ldm_device_probe_batch_size(0, 8), ==, 1);
        g_assert_cmpuint(ldm_device_probe_batch_size(3, 0), ==, 3);
        g_assert_cmpuint(ldm_device_probe_batch_size(1000, 8), ==, LDM_PROBE_BATCH_MAX);
        /* ldmd's workers: one per online CPU, 2 to 8. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t threads = ldm_device_probe_threads();
        g_assert_cmpuint(threads, >=, 2);
        g_assert_cmpuint(threads, <=, LDM_PROBE_THREADS_MAX);
        if (cpus >= 2 && cpus <= (long) LDM_PROBE_THREADS_MAX)
                g_assert_cmpuint(threads, ==, (size_t) cpus);
}

/* A disk cut short inside its config region (only the LBA-6 PRIVHEAD and the first TOCBLOCKs
 * left): the light probe names the region that leaves the device exactly as the full probe
 * does, once, and nothing else. */
static void test_light_probe_cut_short(void) {
        static const char *victim = "ldm-2003r2-simple-1.img";
        g_autofree char *dir = test_tmpdir();
        g_auto(GStrv) paths = copy_all(dir);
        g_autofree char *vpath = g_build_filename(dir, victim, NULL);
        _cleanup_(ldm_device_freep) LdmDevice *before = NULL, *full = NULL, *light = NULL;
        size_t found = 0;

        g_assert_cmpint(ldm_device_probe(vpath, &before), ==, 1);
        g_assert_cmpint(before->label.type, ==, LDM_LABEL_MBR);
        g_assert_cmpint(truncate(vpath, (off_t) ldm_device_rel_offset(before, 1000)), ==, 0);

        g_assert_cmpint(ldm_device_probe(vpath, &full), ==, 1);
        g_assert_cmpint(ldm_device_probe_flags(vpath, LDM_PROBE_NO_RAW, &light), ==, 1);
        g_assert_cmpint(full->db_state, ==, -EBADMSG);
        g_assert_cmpint(light->db_state, ==, -EBADMSG);
        assert_same_diags(&full->diags, &light->diags);
        for (size_t i = 0; i < light->diags.n_items; i++)
                if (strstr(light->diags.items[i].message, "leaves the device")) {
                        g_assert_cmpstr(light->diags.items[i].structure, ==, "TOCBLOCK");
                        found++;
                }
        g_assert_cmpuint(found, ==, 1);
}

/* Fails every read of one path at or after one offset: a disk that goes bad under a batch. */
typedef struct ReadFault {
        const char *path;
        uint64_t from;
} ReadFault;

static int read_fault_hook(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf,
                           size_t len) {
        const ReadFault *f = userdata;

        (void) buf;
        (void) len;
        if (op == LDM_IO_OP_READ && offset >= f->from && strcmp(ldm_io_path(io), f->path) == 0)
                return -EIO;
        return 0;
}

/* A read error of one disk in a batch, in the label (the first pass) or in the private
 * region (the last): that disk's verdict is -EIO and it has no device; its neighbours are
 * probed as if it were not there. */
static void test_probe_batch_read_error(gconstpointer data) {
        uint64_t from = GPOINTER_TO_SIZE(data);
        g_autofree char *dir = test_tmpdir();
        g_auto(GStrv) paths = copy_all(dir);
        size_t n = MIN(g_strv_length(paths), (size_t) LDM_PROBE_BATCH_MAX), victim = n / 2;
        int verdicts[LDM_PROBE_BATCH_MAX];
        LdmDevice *devices[LDM_PROBE_BATCH_MAX];
        LdmDiag diags[LDM_PROBE_BATCH_MAX] = {};
        ReadFault fault = { .path = paths[victim], .from = from };

        ldm_io_set_fault_hook(read_fault_hook, &fault);
        g_assert_cmpint(ldm_device_probe_batch(paths, n, LDM_PROBE_NO_RAW, verdicts, devices, diags), ==, 0);
        ldm_io_set_fault_hook(NULL, NULL);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(ldm_device_freep) LdmDevice *alone = NULL, *batched = devices[i];

                if (i == victim) {
                        g_assert_cmpint(verdicts[i], ==, -EIO);
                        g_assert_null(batched);
                        continue;
                }
                g_assert_cmpint(verdicts[i], ==, 1);
                g_assert_cmpint(ldm_device_probe_flags(paths[i], LDM_PROBE_NO_RAW, &alone), ==, 1);
                g_assert_cmpint(batched->db_state, ==, 0);
                g_assert_cmphex(batched->db->config_hash, ==, alone->db->config_hash);
                assert_same_diags(&batched->diags, &alone->diags);
        }
}

/* The absolute offset of the last unused slot below `below`. */
static uint64_t last_unused_slot(const LdmDevice *d, uint32_t below) {
        for (uint32_t k = MIN(below, d->db->vmdb.n_slots) - 1; k > 4; k--) {
                const uint8_t *slot = d->db->config + (size_t) k * d->db->vmdb.vblk_size;
                if (slot[14] == 0 && slot[15] == 0) /* fragment count 0: unused */
                        return ldm_device_rel_offset(d, d->toc.regions[0].start) +
                               (uint64_t) k * d->db->vmdb.vblk_size;
        }
        g_assert_not_reached();
}

/* One byte in the payload of an unused slot of one copy: the database still parses the same,
 * but the config regions differ, which the full scan must say (rule 3 takes the majority's).
 * The light scan says it too when the slot is in the head it reads, and (by design, see
 * ldm_database_parse_head()) not when the slot lies after it. */
static void test_config_differs(gconstpointer data) {
        static const char *victim = "ldm-2008r2-striped-2.img";
        bool in_head = GPOINTER_TO_INT(data);
        g_autofree char *dir = test_tmpdir();
        g_auto(GStrv) paths = copy_all(dir);
        g_autofree char *vpath = g_build_filename(dir, victim, NULL);
        _cleanup_(ldm_scan_freep) LdmScan *full = NULL, *light = NULL;
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        uint64_t off;
        size_t found = 0;
        uint8_t byte;

        g_assert_cmpint(ldm_device_probe(vpath, &d), ==, 1);
        off = last_unused_slot(d, in_head ? LDM_DEVICE_CONFIG_HEAD_FIRST / d->db->vmdb.vblk_size : UINT32_MAX) + 40;
        byte = d->db->config[off - ldm_device_rel_offset(d, d->toc.regions[0].start)] ^ 0x5A;
        write_at(vpath, off, &byte, 1);

        g_assert_cmpint(ldm_scan_paths(paths, g_strv_length(paths), &full), ==, 0);
        light = scan_light(paths);
        g_assert_cmpuint(full->n_packs, ==, 2);
        g_assert_cmpuint(full->n_invalid, ==, 0);
        for (size_t i = 0; i < full->diags.n_items; i++) {
                const LdmDiag *x = &full->diags.items[i];
                g_assert_cmpstr(x->structure, ==, "VMDB");
                g_assert_cmpstr(x->disk, ==, vpath);
                g_assert_nonnull(strstr(x->message, "config region differs from"));
                g_assert_null(strstr(x->message, victim));
                found++;
        }
        g_assert_cmpuint(found, ==, 1);
        for (size_t i = 0; i < full->n_packs; i++)
                g_assert_cmpstr(full->packs[i]->authority->path, !=, vpath);
        if (in_head) {
                assert_same_scan(full, light);
        } else {
                g_assert_cmpuint(light->n_packs, ==, 2);
                g_assert_cmpuint(light->n_invalid, ==, 0);
                g_assert_cmpuint(light->diags.n_items, ==, 0);
        }
}

/* A record moved to a slot after the short head (a database Windows has grown and shrunk
 * again): that head no longer holds every record the VMDB counts, so the light probe reads on,
 * the long head when the slot lies in it (data 1), else the whole region (data 0), and finds
 * the same records as a full probe. */
static void test_record_after_head(gconstpointer data) {
        bool in_long_head = GPOINTER_TO_INT(data);
        static const char *victim = "ldm-2008r2-raid5-1.img";
        g_autofree char *dir = test_tmpdir();
        g_auto(GStrv) paths = copy_all(dir);
        g_autofree char *vpath = g_build_filename(dir, victim, NULL);
        _cleanup_(ldm_device_freep) LdmDevice *before = NULL, *full = NULL, *light = NULL;
        const LdmRecord *moved = NULL;
        uint64_t region, to;
        uint8_t slot[128], empty[128] = "VBLK";
        uint32_t size;

        g_assert_cmpint(ldm_device_probe(vpath, &before), ==, 1);
        size = before->db->vmdb.vblk_size;
        g_assert_cmpuint(size, ==, sizeof(slot));
        region = ldm_device_rel_offset(before, before->toc.regions[0].start);
        for (size_t i = 0; i < before->db->n_records && !moved; i++)
                if (before->db->records[i].n_fragments == 1 && before->db->records[i].type == LDM_RECORD_VOLUME)
                        moved = &before->db->records[i];
        g_assert_nonnull(moved);
        to = last_unused_slot(before, in_long_head ? LDM_DEVICE_CONFIG_HEAD / size : UINT32_MAX);
        g_assert_cmpuint(to - region, >=, in_long_head ? LDM_DEVICE_CONFIG_HEAD_FIRST : LDM_DEVICE_CONFIG_HEAD);

        /* The record's slot, renumbered, goes to the free one; its old slot becomes free. */
        memcpy(slot, before->db->config + (size_t) moved->slots[0] * size, size);
        unaligned_write_be32(slot + 4, (uint32_t) ((to - region) / size));
        memcpy(empty + 4, before->db->config + (size_t) moved->slots[0] * size + 4, 4);
        write_at(vpath, to, slot, size);
        write_at(vpath, region + (uint64_t) moved->slots[0] * size, empty, size);

        g_assert_cmpint(ldm_device_probe(vpath, &full), ==, 1);
        g_assert_cmpint(ldm_device_probe_flags(vpath, LDM_PROBE_NO_RAW, &light), ==, 1);
        g_assert_cmpint(full->db_state, ==, 0);
        g_assert_cmpint(light->db_state, ==, 0);
        if (in_long_head) {
                g_assert_cmpuint(light->db->config_hashed, ==, LDM_DEVICE_CONFIG_HEAD);
                g_assert_cmphex(light->db->config_hash, ==, hash64(full->db->config, LDM_DEVICE_CONFIG_HEAD));
        } else {
                g_assert_cmpuint(light->db->config_hashed, ==, light->db->config_size);
                g_assert_cmphex(light->db->config_hash, ==, full->db->config_hash);
        }
        g_assert_cmpuint(light->db->n_records, ==, before->db->n_records);
        g_assert_cmpuint(full->db->n_records, ==, before->db->n_records);
        g_assert_nonnull(ldm_database_find(light->db, moved->id));
        g_assert_cmpstr(ldm_database_find(light->db, moved->id)->name, ==, moved->name);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/scan-light/crc32", test_crc32);
        g_test_add_func("/scan-light/hash64", test_hash64);
        g_test_add_func("/scan-light/light-probe", test_light_probe);
        g_test_add_func("/scan-light/light-probe/cut-short", test_light_probe_cut_short);
        g_test_add_func("/scan-light/probe-batch", test_probe_batch);
        g_test_add_data_func("/scan-light/probe-batch/read-error-label", GSIZE_TO_POINTER(0), test_probe_batch_read_error);
        g_test_add_data_func("/scan-light/probe-batch/read-error-private", GSIZE_TO_POINTER(1u << 20),
                             test_probe_batch_read_error);
        g_test_add_func("/scan-light/light-scan", test_light_scan);
        g_test_add_data_func("/scan-light/config-differs/in-head", GINT_TO_POINTER(true), test_config_differs);
        g_test_add_data_func("/scan-light/config-differs/after-head", GINT_TO_POINTER(false), test_config_differs);
        g_test_add_data_func("/scan-light/record-after-head/in-long-head", GINT_TO_POINTER(1), test_record_after_head);
        g_test_add_data_func("/scan-light/record-after-head/after-long-head", GINT_TO_POINTER(0), test_record_after_head);
        return g_test_run();
}
