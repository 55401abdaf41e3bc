/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* probe-batch.c: many disks probed on one thread in three passes, so that each pass's reads
 * of all of them are in flight together. A light probe is two or three small dependent
 * reads (the label area; then the private region's places, which the label says), each a
 * round trip to the disk: one disk after the other, n disks cost 3n round trips; in passes,
 * about three. The hints only start reads (ldm_io_prefetch()); every byte parsed is still
 * read through ldm_io_pread(), so faults injected by tests and I/O errors are seen as in a
 * single probe. The fds stay open across the passes: a block device's page cache is dropped
 * on its last close, and with it what the hints brought in.
 *
 * Why the page cache and not io_uring with O_DIRECT, which would save most of the ~24 system
 * calls a disk costs: the reads must then land in pages of our own, new to a fresh process,
 * and on the paravirtualised guests we measure on a page's first touch costs more than those
 * calls (tried and measured slower in a fresh process: bench/RESULTS.md, session 13). Here
 * the kernel copies into the same few small buffers for every disk. */

#include <errno.h>
#include <unistd.h>

#include "device.h"

size_t ldm_device_probe_batch_size(size_t n, size_t threads) {
        size_t per_thread = DIV_ROUND_UP(n, MAX(threads, (size_t) 1));

        return MIN(MAX(per_thread, (size_t) 1), (size_t) LDM_PROBE_BATCH_MAX);
}

size_t ldm_device_probe_threads(void) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        return (size_t) MIN(MAX(cpus, 2L), (long) LDM_PROBE_THREADS_MAX);
}

/* Disk i shares the records of an earlier disk of the batch with the same database, if any
 * (ldm_database_share_records(): light probes only), and the whole database when nothing
 * else differs (ldm_database_share()). The disks of a pack are usually probed one after the
 * other, so the nearest earlier one is tried first. */
static void share_database(LdmDevice **devices, size_t i) {
        LdmDevice *d = devices[i];

        if (!d->db)
                return;
        for (size_t j = i; j-- > 0;)
                if (devices[j] && devices[j]->db && ldm_database_share_records(devices[j]->db, d->db)) {
                        d->db = ldm_database_share(devices[j]->db, d->db);
                        return;
                }
}

int ldm_device_probe_batch(char *const *paths, size_t n, LdmProbeFlags flags, int *verdicts,
                           LdmDevice **devices, LdmDiag *diags) {
        LdmIo *ios[LDM_PROBE_BATCH_MAX] = {};

        if (n > LDM_PROBE_BATCH_MAX)
                return -E2BIG;

        for (size_t i = 0; i < n; i++) {
                devices[i] = NULL;
                verdicts[i] = ldm_io_open(paths[i], 0, &ios[i]);
                if (verdicts[i] < 0)
                        continue;
                /* As ldm_device_probe_diag(): the probe names each place it reads. */
                ldm_io_no_readahead(ios[i]);
                ldm_device_prefetch_label(ios[i]);
        }

        for (size_t i = 0; i < n; i++)
                if (ios[i])
                        verdicts[i] = ldm_device_probe_begin(ios[i], &devices[i], &diags[i]);

        for (size_t i = 0; i < n; i++) {
                if (verdicts[i] > 0) {
                        int r = ldm_device_probe_finish(ios[i], devices[i], flags);
                        if (r < 0) {
                                devices[i] = ldm_device_free(devices[i]);
                                verdicts[i] = r;
                        } else
                                share_database(devices, i);
                }
                ios[i] = ldm_io_close(ios[i]);
        }
        return 0;
}
