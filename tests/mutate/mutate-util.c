/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mutate-util.c: the hostile-input harness (see mutate-util.h). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "mutate-util.h"
#include "test-util.h"
#include "unaligned.h"
#include "validate.h"
#include "volume-map.h"

#define HEAD_SECTORS 2082u   /* MBR, GPT, GPT private region (34…2081), LBA 6 */
#define TAIL_SECTORS 2048u   /* MBR private region, backup GPT */
#define MAX_USEC (1000 * 1000)

static const char *const image_names[M_MAX_IMAGES] = {
        "ldm-2003r2-mirrored-1.img", "ldm-2003r2-mirrored-2.img", "ldm-2003r2-raid5-1.img",
        "ldm-2003r2-raid5-2.img",    "ldm-2003r2-raid5-3.img",    "ldm-2003r2-simple-1.img",
        "ldm-2003r2-spanned-1.img",  "ldm-2003r2-spanned-2.img",  "ldm-2003r2-striped-1.img",
        "ldm-2003r2-striped-2.img",  "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img",
        "ldm-2008r2-raid5-1.img",    "ldm-2008r2-raid5-2.img",    "ldm-2008r2-raid5-3.img",
        "ldm-2008r2-spanned-1.img",  "ldm-2008r2-spanned-2.img",  "ldm-2008r2-striped-1.img",
        "ldm-2008r2-striped-2.img",
};

static void full_pwrite(int fd, const void *buf, size_t len, uint64_t off) {
        g_assert_cmpint(pwrite(fd, buf, len, (off_t) off), ==, (ssize_t) len);
}

static void load_image(MImage *m, const char *name) {
        g_autofree char *src = test_real_image(name);
        struct stat st;
        int fd;

        fd = open(src, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fstat(fd, &st), ==, 0);
        m->name = g_strdup(name);
        m->size = m->cur_size = (uint64_t) st.st_size;
        m->head_len = MIN((size_t) HEAD_SECTORS * 512, (size_t) m->size);
        m->tail_len = MIN((size_t) TAIL_SECTORS * 512, (size_t) m->size);
        m->head = g_malloc(m->head_len);
        m->tail = g_malloc(m->tail_len);
        g_assert_cmpint(pread(fd, m->head, m->head_len, 0), ==, (ssize_t) m->head_len);
        g_assert_cmpint(pread(fd, m->tail, m->tail_len, (off_t) (m->size - m->tail_len)), ==,
                        (ssize_t) m->tail_len);
        close(fd);

        /* The working copy: the metadata only, in a sparse memfd of the same size (no disk
         * writeback to wait for when thousands of truncations come and go), opened by the
         * reader through /proc/self/fd like any image file. */
        m->fd = memfd_create(name, MFD_CLOEXEC);
        g_assert_cmpint(m->fd, >=, 0);
        m->path = g_strdup_printf("/proc/self/fd/%d", m->fd);
        g_assert_cmpint(ftruncate(m->fd, (off_t) m->size), ==, 0);
        full_pwrite(m->fd, m->head, m->head_len, 0);
        full_pwrite(m->fd, m->tail, m->tail_len, m->size - m->tail_len);

        g_assert_cmpint(ldm_device_probe(m->path, &m->dev), ==, 1);
        g_assert_nonnull(m->dev->db);
        /* Every structure we mutate must lie in the saved ranges. */
        g_assert_true(m_rel(m, 0) >= m->size - m->tail_len || m_rel(m, LDM_PRIV_SIZE) <= m->head_len);
}

MCtx *m_ctx(void) {
        static MCtx *c;

        if (c)
                return c;
        c = g_new0(MCtx, 1);
        c->rand = g_rand_new_with_seed(0x1d3d0001);
        c->keep_going = g_getenv("M_KEEP_GOING") != NULL;
        for (size_t i = 0; i < M_MAX_IMAGES; i++)
                load_image(&c->img[c->n_img++], image_names[i]);
        return c;
}

MImage *m_image(MCtx *c, const char *name) {
        for (size_t i = 0; i < c->n_img; i++)
                if (strcmp(c->img[i].name, name) == 0)
                        return &c->img[i];
        g_error("no image %s", name);
}

bool m_is_gpt(const MImage *img) {
        return img->dev->label.type == LDM_LABEL_GPT;
}

void m_begin(MCtx *c, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(c->what, sizeof(c->what), fmt, ap);
        va_end(ap);
}

static const uint8_t *pristine(const MImage *img, uint64_t off, size_t len) {
        if (off + len <= img->head_len)
                return img->head + off;
        if (off >= img->size - img->tail_len && off + len <= img->size)
                return img->tail + (off - (img->size - img->tail_len));
        g_error("%s: patch at %" PRIu64 "+%zu outside the saved metadata", img->name, off, len);
}

void m_write(MCtx *c, MImage *img, uint64_t offset, const void *buf, size_t len) {
        (void) pristine(img, offset, len);
        g_assert_cmpuint(c->n_undo, <, M_MAX_UNDO);
        c->undo[c->n_undo++] = (MUndo) { .img = img, .offset = offset, .len = len };
        full_pwrite(img->fd, buf, len, offset);
}

void m_write_u8(MCtx *c, MImage *img, uint64_t offset, uint8_t v) {
        m_write(c, img, offset, &v, 1);
}

void m_write_be16(MCtx *c, MImage *img, uint64_t offset, uint16_t v) {
        uint8_t b[2];
        unaligned_write_be16(b, v);
        m_write(c, img, offset, b, sizeof(b));
}

void m_write_be32(MCtx *c, MImage *img, uint64_t offset, uint32_t v) {
        uint8_t b[4];
        unaligned_write_be32(b, v);
        m_write(c, img, offset, b, sizeof(b));
}

void m_write_be64(MCtx *c, MImage *img, uint64_t offset, uint64_t v) {
        uint8_t b[8];
        unaligned_write_be64(b, v);
        m_write(c, img, offset, b, sizeof(b));
}

void m_read(MImage *img, uint64_t offset, void *buf, size_t len) {
        g_assert_cmpint(pread(img->fd, buf, len, (off_t) offset), ==, (ssize_t) len);
}

void m_flip_bit(MCtx *c, MImage *img, uint64_t offset, unsigned bit) {
        uint8_t b;

        m_read(img, offset, &b, 1);
        m_write_u8(c, img, offset, b ^ (uint8_t) (1u << (bit & 7)));
}

void m_fix_checksum(MCtx *c, MImage *img, uint64_t offset) {
        uint8_t s[512];

        m_read(img, offset, s, sizeof(s));
        m_write_be32(c, img, offset + 8, ldm_header_checksum(s));
}

void m_fix_gpt(MCtx *c, MImage *img, uint64_t lba, bool fix_entries) {
        uint8_t h[512];
        uint32_t hsize;

        m_read(img, lba * 512, h, sizeof(h));
        if (fix_entries) {
                uint64_t arr = unaligned_read_le64(h + 72);
                uint64_t bytes = (uint64_t) unaligned_read_le32(h + 80) * unaligned_read_le32(h + 84);
                if (arr < img->size / 512 && bytes <= (1u << 20) && arr * 512 + bytes <= img->size) {
                        g_autofree uint8_t *a = g_malloc(bytes ? bytes : 1);
                        m_read(img, arr * 512, a, bytes);
                        unaligned_write_le32(h + 88, crc32_ieee(a, bytes));
                }
        }
        hsize = MIN(unaligned_read_le32(h + 12), 512u);
        memset(h + 16, 0, 4);
        unaligned_write_le32(h + 16, crc32_ieee(h, hsize));
        m_write(c, img, lba * 512, h, sizeof(h));
}

void m_truncate(MCtx *c, MImage *img, uint64_t size) {
        g_assert_cmpint(ftruncate(img->fd, (off_t) size), ==, 0);
        img->cur_size = size;
}

void m_restore(MCtx *c) {
        while (c->n_undo > 0) {
                MUndo *u = &c->undo[--c->n_undo];
                full_pwrite(u->img->fd, pristine(u->img, u->offset, u->len), u->len, u->offset);
        }
        for (size_t i = 0; i < c->n_img; i++) {
                MImage *m = &c->img[i];
                if (m->cur_size == m->size)
                        continue;
                g_assert_cmpint(ftruncate(m->fd, (off_t) m->size), ==, 0);
                full_pwrite(m->fd, m->head, m->head_len, 0);
                full_pwrite(m->fd, m->tail, m->tail_len, m->size - m->tail_len);
                m->cur_size = m->size;
        }
}

/* ---- looking at a result ---- */

static void dump_list(const char *what, const LdmDiagList *l) {
        char buf[512];

        for (size_t i = 0; i < l->n_items; i++)
                g_printerr("  %s: [%s] %s\n", what, ldm_diag_severity_to_string(l->items[i].severity),
                           ldm_diag_format(&l->items[i], buf, sizeof(buf)));
}

static void dump(const MResult *r) {
        if (!r || !r->scan)
                return;
        for (size_t i = 0; i < r->scan->n_devices; i++) {
                const LdmDevice *d = r->scan->devices[i];
                g_printerr(" device %s: db %s (state %d)\n", d->path, d->db ? "yes" : "no", d->db_state);
                dump_list("device", &d->diags);
        }
        dump_list("scan", &r->scan->diags);
        for (size_t i = 0; i < r->scan->n_packs; i++)
                dump_list("pack", &r->scan->packs[i]->diags);
        dump_list("strict", &r->strict);
}

void m_fail(MCtx *c, const MResult *r, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        g_printerr("MUTATION: %s\nFAILED: %s\n", c->what, msg);
        dump(r);
        c->n_failures++;
        if (c->keep_going)
                return;
        g_error("mutation \"%s\": %s", c->what, msg);
}

LdmDevice *m_device(const MResult *r, const MImage *img) {
        for (size_t i = 0; i < r->scan->n_devices; i++)
                if (strcmp(r->scan->devices[i]->path, img->path) == 0)
                        return r->scan->devices[i];
        return NULL;
}

static const LdmDiag *find_in(const LdmDiagList *l, const char *structure, const MImage *img,
                              uint64_t lo, uint64_t hi, const char *substr) {
        for (size_t i = 0; i < l->n_items; i++) {
                const LdmDiag *d = &l->items[i];
                if (structure && strcmp(d->structure, structure) != 0)
                        continue;
                if (img && strcmp(d->disk, img->path) != 0)
                        continue;
                if (lo != hi && (d->offset < lo || d->offset >= hi))
                        continue;
                if (substr && !strstr(d->message, substr))
                        continue;
                return d;
        }
        return NULL;
}

const LdmDiag *m_find(const MResult *r, const char *structure, const MImage *img, uint64_t lo,
                      uint64_t hi, const char *substr) {
        const LdmDiag *d;

        for (size_t i = 0; i < r->scan->n_devices; i++)
                if ((d = find_in(&r->scan->devices[i]->diags, structure, img, lo, hi, substr)))
                        return d;
        if ((d = find_in(&r->scan->diags, structure, img, lo, hi, substr)))
                return d;
        for (size_t i = 0; i < r->scan->n_packs; i++)
                if ((d = find_in(&r->scan->packs[i]->diags, structure, img, lo, hi, substr)))
                        return d;
        return find_in(&r->strict, structure, img, lo, hi, substr);
}

void m_expect_at(MCtx *c, const MResult *r, const char *structure, const MImage *img,
                 uint64_t lo, uint64_t hi, const char *substr, const char *file, int line) {
        if (m_find(r, structure, img, lo, hi, substr))
                return;
        m_fail(c, r, "%s:%d: expected a %s diagnosis on %s at [0x%" PRIx64 ", 0x%" PRIx64 ") saying \"%s\"",
               file, line, structure, img ? img->name : "any disk", lo, hi, strna(substr));
}

/* ---- what must hold for any input ---- */

static const MImage *image_of(const MResult *r, const char *path) {
        for (size_t i = 0; i < r->n_imgs; i++)
                if (strcmp(r->imgs[i]->path, path) == 0)
                        return r->imgs[i];
        return NULL;
}

static void check_list(MCtx *c, const MResult *r, const char *what, const LdmDiagList *l) {
        for (size_t i = 0; i < l->n_items; i++) {
                const LdmDiag *d = &l->items[i];
                const MImage *img = image_of(r, d->disk);

                if (!d->structure[0] || !d->message[0])
                        m_fail(c, r, "%s diagnosis %zu has an empty structure or message", what, i);
                if (d->severity < 0 || d->severity >= _LDM_DIAG_SEVERITY_MAX)
                        m_fail(c, r, "%s diagnosis %zu has severity %d", what, i, d->severity);
                if (!img)
                        m_fail(c, r, "%s diagnosis \"%s\" names disk \"%s\", not one of the scanned images",
                               what, d->message, d->disk);
                if (d->offset != LDM_DIAG_NO_OFFSET && d->offset >= img->cur_size)
                        m_fail(c, r, "%s diagnosis \"%s: %s\" has offset 0x%" PRIx64 " outside the %" PRIu64 "-byte device",
                               what, d->structure, d->message, d->offset, img->cur_size);
        }
}

static bool has_error(const LdmDiagList *l, const char *path, const char *structure) {
        for (size_t i = 0; i < l->n_items; i++)
                if (l->items[i].severity == LDM_DIAG_ERROR && strcmp(l->items[i].disk, path) == 0 &&
                    (!structure || strcmp(l->items[i].structure, structure) == 0))
                        return true;
        return false;
}

/* Every copy the device layer rejected, and every device that is not part of a pack with a
 * database, has a diagnosis saying why. */
static void check_rejections(MCtx *c, const MResult *r) {
        const LdmScan *s = r->scan;

        for (size_t i = 0; i < s->n_devices; i++) {
                const LdmDevice *d = s->devices[i];
                bool diagnosed = has_error(&d->diags, d->path, NULL) || has_error(&s->diags, d->path, NULL);

                for (size_t k = 0; k < _LDM_PRIVHEAD_COPY_MAX; k++)
                        if (d->privhead_state[k] == -EBADMSG && !has_error(&d->diags, d->path, "PRIVHEAD"))
                                m_fail(c, r, "%s: PRIVHEAD copy %zu rejected without a PRIVHEAD diagnosis", d->path, k);
                for (size_t k = 0; k < _LDM_TOC_SLOT_MAX; k++)
                        if (d->toc_state[k] == -EBADMSG && !has_error(&d->diags, d->path, "TOCBLOCK"))
                                m_fail(c, r, "%s: TOCBLOCK slot %zu rejected without a TOCBLOCK diagnosis", d->path, k);
                if (!d->db && !diagnosed)
                        m_fail(c, r, "%s: no database (state %d) and no error diagnosis", d->path, d->db_state);
                for (size_t k = 0; k < s->n_invalid; k++)
                        if (s->invalid[k] == d && !diagnosed)
                                m_fail(c, r, "%s: in the INVALID list without an error diagnosis", d->path);
        }
        /* A path that is not a device was either not LDM (quietly skipped) or failed to
         * probe, which the scan reports. */
}

/* The model the scan built is usable: every plex the mapper accepts maps its first and last
 * byte, and refuses the byte after. */
static void check_model(MCtx *c, const MResult *r) {
        for (size_t i = 0; i < r->scan->n_packs; i++) {
                const LdmPack *p = r->scan->packs[i];

                for (size_t k = 0; k < p->n_plexes; k++) {
                        const LdmPlex *pl = &p->plexes[k];
                        LdmPlexPos pos;
                        uint64_t cap;

                        if (ldm_plex_check(pl) < 0)
                                continue;
                        cap = ldm_plex_capacity(pl);
                        if (cap == 0)
                                continue;
                        if (ldm_plex_map(pl, 0, 512, &pos) < 0 || !pos.extent || pos.length == 0 ||
                            ldm_plex_map(pl, cap - 1, 1, &pos) < 0 || !pos.extent ||
                            ldm_plex_map(pl, cap, 1, &pos) != -ENXIO)
                                m_fail(c, r, "plex %s passes ldm_plex_check() but does not map its range", pl->name);
                }
                for (size_t k = 0; k < p->n_extents; k++)
                        if (!p->extents[k].disk || !p->extents[k].plex)
                                m_fail(c, r, "extent %s without disk or plex", p->extents[k].name);
        }
}

MResult *m_probe(MCtx *c, MImage *const *imgs, size_t n) {
        MResult *r = g_new0(MResult, 1);
        char *paths[M_MAX_IMAGES];
        gint64 t0, dt;
        int q;

        g_assert_cmpuint(n, <=, M_MAX_IMAGES);
        for (size_t i = 0; i < n; i++) {
                r->imgs[r->n_imgs++] = imgs[i];
                paths[i] = imgs[i]->path;
        }
        t0 = g_get_monotonic_time();
        q = ldm_scan_paths(paths, n, &r->scan);
        if (q < 0) {
                m_fail(c, NULL, "ldm_scan_paths() failed: %s", strerror(-q));
                m_restore(c);
                g_free(r);
                return NULL;
        }
        q = ldm_validate_strict(r->scan, &r->strict);
        if (q < 0)
                m_fail(c, r, "ldm_validate_strict() failed: %s", strerror(-q));
        check_model(c, r);
        dt = g_get_monotonic_time() - t0;

        c->n_mutations++;
        c->total_usec += dt;
        if (dt > c->max_usec) {
                c->max_usec = dt;
                g_strlcpy(c->max_what, c->what, sizeof(c->max_what));
        }
        if (dt > MAX_USEC)
                m_fail(c, r, "took %" G_GINT64_FORMAT " µs (limit 1 s)", dt);

        for (size_t i = 0; i < r->scan->n_devices; i++)
                check_list(c, r, "device", &r->scan->devices[i]->diags);
        check_list(c, r, "scan", &r->scan->diags);
        for (size_t i = 0; i < r->scan->n_packs; i++)
                check_list(c, r, "pack", &r->scan->packs[i]->diags);
        check_list(c, r, "strict", &r->strict);
        check_rejections(c, r);

        m_restore(c);
        return r;
}

MResult *m_probe1(MCtx *c, MImage *img) {
        return m_probe(c, &img, 1);
}

void m_result_free(MResult *r) {
        if (!r)
                return;
        ldm_scan_free(r->scan);
        ldm_diag_list_clear(&r->strict);
        g_free(r);
}

/* ---- where things are ---- */

uint64_t m_rel(const MImage *img, uint64_t rel_sector) {
        return ldm_device_rel_offset(img->dev, rel_sector);
}

uint64_t m_config(const MImage *img) {
        return m_rel(img, img->dev->toc.regions[0].start);
}

uint64_t m_slot(const MImage *img, uint32_t slot) {
        return m_config(img) + (uint64_t) slot * 128;
}

uint64_t m_privhead_copy(const MImage *img, LdmPrivheadCopy i) {
        if (i == LDM_PRIVHEAD_COPY_LBA6)
                return LDM_PRIVHEAD_MBR_LBA * 512ull;
        return m_rel(img, i == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
}

uint64_t m_toc_copy(const MImage *img, LdmTocSlot i) {
        static const uint64_t rel[_LDM_TOC_SLOT_MAX] = { 1, 2, 2045, 2046 };
        return m_rel(img, rel[i]);
}

const LdmDatabase *m_db(const MImage *img) {
        return img->dev->db;
}

const LdmRecord *m_record_by_type(const MImage *img, LdmRecordType t, unsigned nth) {
        const LdmDatabase *db = m_db(img);

        for (size_t i = 0; i < db->n_records; i++)
                if (db->records[i].type == t && nth-- == 0)
                        return &db->records[i];
        return NULL;
}

bool m_write_record(MCtx *c, MImage *img, const LdmRecord *rec) {
        uint8_t buf[LDM_RECORD_MAX_SIZE];
        int n = ldm_record_encode(rec, buf);

        if (n < 0 || DIV_ROUND_UP((size_t) n, LDM_VBLK_PAYLOAD) != rec->n_fragments)
                return false;
        for (uint16_t f = 0; f < rec->n_fragments; f++)
                m_write(c, img, m_slot(img, rec->slots[f]) + 16, buf + f * LDM_VBLK_PAYLOAD, LDM_VBLK_PAYLOAD);
        return true;
}

void m_report(MCtx *c, const char *test) {
        if (c->n_failures)
                g_test_message("%s: %u FAILURES so far", test, c->n_failures);
        g_test_message("%s: %u mutations so far, %.1f s probing, slowest %.1f ms (%s)", test,
                       c->n_mutations, (double) c->total_usec / 1e6, (double) c->max_usec / 1e3,
                       c->max_what);
}
