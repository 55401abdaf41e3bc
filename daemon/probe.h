/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* probe.h: the probe thread. Reading LDM metadata is disk I/O, which the loop thread must
 * never do, so a request ("these paths") goes to one pthread that probes every path (with a
 * few worker threads of its own, in parallel), builds an LdmScan from the LDM ones (without
 * raw regions: LDM_PROBE_NO_RAW) and hands the result back through an eventfd that sd-event
 * watches. The thread never touches sd-bus. One request at a time: the loop thread submits
 * again only after the previous result arrived. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "scan.h"

typedef struct ProbeResult {
        uint64_t generation;       /* as submitted */
        char **paths;              /* as submitted (owned) */
        int *verdicts;             /* per path: 1 LDM, 0 not LDM, <0 errno from probing */
        LdmDiag *diags;            /* per path: what was wrong when the verdict is -EBADMSG
                                    * (message "" when nothing more is known) */
        LdmScan *scan;             /* NULL when no path was LDM or building failed */
        int scan_error;            /* why scan is NULL although LDM devices were found */
} ProbeResult;

ProbeResult *probe_result_free(ProbeResult *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProbeResult *, probe_result_free);

typedef struct Prober Prober;

/* Called on the loop thread with a result it now owns. */
typedef void (*prober_callback_t)(ProbeResult *result, void *userdata);

/* Starts the thread (with every signal blocked) and watches its eventfd on `event`. */
int prober_new(sd_event *event, prober_callback_t cb, void *userdata, Prober **ret);
/* Stops the thread at the next device boundary, joins it, drops any pending result. */
Prober *prober_free(Prober *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Prober *, prober_free);

/* Hands paths (a NULL-terminated list, taken over also on failure) to the thread. Returns
 * -EBUSY while the previous request has not been answered, -ENOMEM. Once it returned 0 the
 * callback is called exactly once, with scan_error -ENOMEM when the thread ran out of
 * memory. */
int prober_submit(Prober *p, char **paths, uint64_t generation);
bool prober_busy(const Prober *p);
