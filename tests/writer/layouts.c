/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* layouts.c: see layouts.h. Extents are 1 MiB (16 stripe rows of 64 KiB, so RAID-5 parity
 * goes round all 8 columns twice) except the simple volume (3 MiB) and the mirror (2 MiB). */

#include "layouts.h"

#include <glib.h> /* after macro.h: GLib's MIN/MAX replace ours without a warning */

typedef struct Layout {
        LdmVolumeType type;
        unsigned min_disks;
        const char *spec;
} Layout;

static const Layout layouts[] = {
        { LDM_VOLUME_SIMPLE, 1, "simple" },
        { LDM_VOLUME_SPAN,   2, "span" },   /* on one disk it is a simple volume */
        { LDM_VOLUME_STRIPE, 2, "stripe" },
        { LDM_VOLUME_MIRROR, 2, "mirror" },
        { LDM_VOLUME_RAID5,  3, "raid5" },
};

/* Member j (0-based) of layout l on n disks, as a 0-based disk index. */
static unsigned member(LdmVolumeType t, unsigned n, unsigned j) {
        switch (t) {
        case LDM_VOLUME_SIMPLE: return n - 1;                   /* the last disk */
        case LDM_VOLUME_SPAN:   return n - 1 - j;               /* n, n-1, …, 1 */
        case LDM_VOLUME_STRIPE: return (j + 1) % n;             /* 2, 3, …, n, 1 */
        case LDM_VOLUME_MIRROR: return j == 0 ? n - 1 : 0;      /* n, 1 */
        default:                return (j + 2) % n;             /* 3, …, n, 1, 2 */
        }
}

static unsigned n_members(LdmVolumeType t, unsigned n) {
        return t == LDM_VOLUME_SIMPLE ? 1 : t == LDM_VOLUME_MIRROR ? 2 : n;
}

/* MiB of the volume: 1 MiB extents, data columns only. */
static unsigned size_mib(LdmVolumeType t, unsigned n) {
        switch (t) {
        case LDM_VOLUME_SIMPLE: return 3;
        case LDM_VOLUME_MIRROR: return 2;
        case LDM_VOLUME_RAID5:  return n - 1;
        default:                return n;
        }
}

char **test_layout_specs(unsigned n) {
        GPtrArray *specs = g_ptr_array_new();

        g_assert_true(n >= 1 && n <= TEST_LAYOUT_MAX_DISKS);
        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                const Layout *x = &layouts[l];
                GString *s;
                if (n < x->min_disks)
                        continue;
                s = g_string_new(NULL);
                g_string_printf(s, "%s:%uM@", x->spec, size_mib(x->type, n));
                for (unsigned j = 0; j < n_members(x->type, n); j++)
                        g_string_append_printf(s, "%s%u", j ? "," : "", member(x->type, n, j) + 1);
                g_ptr_array_add(specs, g_string_free(s, FALSE));
        }
        g_ptr_array_add(specs, NULL);
        return (char **) g_ptr_array_free(specs, FALSE);
}

size_t test_layout_request(unsigned n, LdmCreateVolume *vols) {
        size_t k = 0;

        g_assert_true(n >= 1 && n <= TEST_LAYOUT_MAX_DISKS);
        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                const Layout *x = &layouts[l];
                if (n < x->min_disks)
                        continue;
                vols[k] = (LdmCreateVolume) { .type = x->type,
                                              .size = (uint64_t) size_mib(x->type, n) << 20,
                                              .n_disks = n_members(x->type, n) };
                for (unsigned j = 0; j < vols[k].n_disks; j++)
                        vols[k].disks[j] = member(x->type, n, j);
                k++;
        }
        return k;
}
