/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-hostile-device: the device probe against metadata that each parser accepts alone but
 * that cannot hold on the disk it is on: both GPT headers bad, a PRIVHEAD public region past
 * the end of the device, a private region start whose byte offset overflows 64 bits. Each
 * must end in a diagnosis naming the structure, the disk and the byte offset. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "scan.h"
#include "test-util.h"

/* The real images: 102400 sectors; W03 (MBR) private region at 100352, W08 (GPT) at 34. */
#define N_SECTORS 102400ULL
#define W03_PRIV 100352ULL
#define W08_PRIV 34ULL

static char *image_copy(const char *image, const char *dir) {
        g_autofree char *src = test_real_image(image);
        char *dst = g_build_filename(dir, image, NULL);

        test_copy_file(src, dst);
        return dst;
}

/* Rewrites the PRIVHEAD copy at offset through edit(), with a valid checksum, so that only
 * the device probe can object to it. */
static void edit_privhead(const char *path, uint64_t offset, void (*edit)(LdmPrivhead *ph)) {
        uint8_t s[512];
        LdmPrivhead ph;
        int fd;

        fd = open(path, O_RDWR | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, s, sizeof(s), (off_t) offset), ==, (ssize_t) sizeof(s));
        g_assert_cmpint(ldm_privhead_parse(s, path, offset, &ph, NULL), ==, 0);
        edit(&ph);
        ldm_privhead_encode(&ph, s);
        g_assert_cmpint(ldm_privhead_parse(s, path, offset, &ph, NULL), ==, 0);
        g_assert_cmpint(pwrite(fd, s, sizeof(s), (off_t) offset), ==, (ssize_t) sizeof(s));
        close(fd);
}

static const LdmDiag *find_diag(const LdmDiagList *l, const char *structure, uint64_t offset) {
        for (size_t i = 0; i < l->n_items; i++)
                if (strcmp(l->items[i].structure, structure) == 0 && l->items[i].offset == offset)
                        return &l->items[i];
        return NULL;
}

static void test_gpt_both_headers_bad(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *p = image_copy("ldm-2008r2-raid5-2.img", dir);
        _cleanup_(ldm_scan_freep) LdmScan *s = NULL;
        LdmDevice *d = NULL;
        LdmDiag err = {};
        const LdmDiag *found;
        int fd;

        /* Junk in both headers' disk-GUID field: both CRCs fail. */
        fd = open(p, O_WRONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pwrite(fd, "junkjunk", 8, 512 + 56), ==, 8);
        g_assert_cmpint(pwrite(fd, "junkjunk", 8, (off_t) ((N_SECTORS - 1) * 512 + 56)), ==, 8);
        close(fd);

        /* Nothing says the disk is LDM: no device, and the diagnosis goes to the caller. */
        g_assert_cmpint(ldm_device_probe_diag(p, 0, &d, &err), ==, -EBADMSG);
        g_assert_null(d);
        g_assert_cmpstr(err.structure, ==, "GPT");
        g_assert_cmpstr(err.disk, ==, p);
        g_assert_cmpuint(err.offset, ==, 512 + 16);
        g_assert_cmpstr(err.message, ==, "bad header CRC32; the backup header is bad too (byte "
                        "52428304: bad header CRC32)");
        g_assert_cmpint(ldm_device_probe(p, &d), ==, -EBADMSG);
        g_assert_null(d);

        /* A scan reports that diagnosis, not a bare "cannot be probed". */
        g_assert_cmpint(ldm_scan_paths(&p, 1, &s), ==, 0);
        g_assert_cmpuint(s->n_devices, ==, 0);
        g_assert_cmpuint(s->diags.n_items, ==, 1);
        found = find_diag(&s->diags, "GPT", 512 + 16);
        g_assert_nonnull(found);
        g_assert_cmpstr(found->disk, ==, p);
        g_assert_nonnull(strstr(found->message, "bad too"));
}

static void public_region_past_the_end(LdmPrivhead *ph) {
        ph->pub_size = N_SECTORS - ph->pub_start + 1;
}

static void test_privhead_public_region_past_end(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *p = image_copy("ldm-2003r2-simple-1.img", dir);
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        const uint64_t at[] = { (W03_PRIV + 2047) * 512, (W03_PRIV + 1856) * 512, 6 * 512 };
        const LdmDiag *found;

        /* One copy: diagnosed at the field, the next copy in rule 1's order is used. */
        edit_privhead(p, at[0], public_region_past_the_end);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_cmpint(d->privhead_used, ==, LDM_PRIVHEAD_COPY_1856);
        g_assert_nonnull(d->db);
        found = find_diag(&d->diags, "PRIVHEAD", at[0] + 0x11B);
        g_assert_nonnull(found);
        g_assert_cmpstr(found->disk, ==, p);
        g_assert_cmpstr(found->message, ==,
                        "rel 2047 copy's public region 63+102338 leaves the 102400-sector device");
        d = ldm_device_free(d);

        /* Every copy: still the disk it says it is (so a scan can place it in its pack), but
         * with no database, and each copy diagnosed. */
        edit_privhead(p, at[1], public_region_past_the_end);
        edit_privhead(p, at[2], public_region_past_the_end);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_cmpint(d->privhead_state[LDM_PRIVHEAD_COPY_2047], ==, 0);
        g_assert_cmpint(d->privhead_used, ==, LDM_PRIVHEAD_COPY_2047);
        g_assert_null(d->db);
        g_assert_cmpint(d->db_state, ==, -EBADMSG);
        for (size_t i = 0; i < ELEMENTSOF(at); i++)
                g_assert_nonnull(find_diag(&d->diags, "PRIVHEAD", at[i] + 0x11B));
}

/* Accepted by the parser ((start + size) * 512 fits in 64 bits), yet the rel-2047 copy of such
 * a region would be at (2^55 + 2045) * 512, which wraps around to byte 2045 * 512. */
static void private_region_overflows(LdmPrivhead *ph) {
        ph->priv_start = (UINT64_C(1) << 55) - 2;
        ph->priv_size = 1;
        ph->toc_lba[0] = ph->toc_lba[1] = 0;
        ph->config_size = 1;
        ph->log_size = 0;
}

static void test_private_region_start_overflow(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *p = image_copy("ldm-2003r2-simple-1.img", dir);
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        const LdmDiag *found;

        /* The LBA-6 copy is where an MBR disk's private region is looked up first. */
        edit_privhead(p, 6 * 512, private_region_overflows);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_cmpint(d->privhead_state[LDM_PRIVHEAD_COPY_LBA6], ==, -EBADMSG);
        found = find_diag(&d->diags, "PRIVHEAD", 6 * 512 + 0x12B);
        g_assert_nonnull(found);
        g_assert_nonnull(strstr(found->message, "overflows a 64-bit byte offset"));
        /* The region is found from the copy in the last sector instead; nothing was read at
         * the wrapped-around offset. */
        g_assert_cmpint(d->privhead_used, ==, LDM_PRIVHEAD_COPY_2047);
        g_assert_cmpuint(d->privhead.priv_start, ==, W03_PRIV);
        g_assert_nonnull(d->db);
        g_assert_null(find_diag(&d->diags, "PRIVHEAD", 2045 * 512));
        g_assert_cmpuint(d->diags.n_items, ==, 1);

        /* Any place past 64 bits is on no device. */
        d->privhead.priv_start = UINT64_MAX - 10;
        g_assert_cmpuint(ldm_device_rel_offset(d, 2047), ==, UINT64_MAX);
        d->privhead.priv_start = (UINT64_C(1) << 55) - 2;
        g_assert_cmpuint(ldm_device_rel_offset(d, 2047), ==, UINT64_MAX);
        g_assert_cmpuint(ldm_device_rel_offset(d, 1), ==, ((UINT64_C(1) << 55) - 1) * 512);
}

static void test_gpt_privheads_public_region_past_end(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *p = image_copy("ldm-2008r2-raid5-2.img", dir);
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;

        edit_privhead(p, (W08_PRIV + 2047) * 512, public_region_past_the_end);
        edit_privhead(p, (W08_PRIV + 1856) * 512, public_region_past_the_end);
        g_assert_cmpint(ldm_device_probe(p, &d), ==, 1);
        g_assert_null(d->db);
        g_assert_cmpint(d->db_state, ==, -EBADMSG);
        g_assert_nonnull(find_diag(&d->diags, "PRIVHEAD", (W08_PRIV + 2047) * 512 + 0x11B));
        g_assert_nonnull(find_diag(&d->diags, "PRIVHEAD", (W08_PRIV + 1856) * 512 + 0x11B));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hostile/gpt-both-headers-bad", test_gpt_both_headers_bad);
        g_test_add_func("/hostile/privhead-public-region-past-end", test_privhead_public_region_past_end);
        g_test_add_func("/hostile/gpt-privheads-public-region-past-end", test_gpt_privheads_public_region_past_end);
        g_test_add_func("/hostile/private-region-start-overflow", test_private_region_start_overflow);
        return g_test_run();
}
