/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vds.c: names for the VDS numbers of vds.h. The tables are indexed by value; a value that
 * VDS leaves unused (a gap) or that is out of range has no name. */

#include <stddef.h>

#include "macro.h"
#include "vds.h"

static const char *table_lookup(const char *const *table, size_t n, int v) {
        if (v < 0 || (size_t) v >= n)
                return NULL;
        return table[v];
}

#define LOOKUP(table, v) table_lookup(table, ELEMENTSOF(table), (int) (v))

static const char *const health_table[] = {
        [VDS_H_UNKNOWN] = "unknown",
        [VDS_H_HEALTHY] = "healthy",
        [VDS_H_REBUILDING] = "rebuilding",
        [VDS_H_STALE] = "stale",
        [VDS_H_FAILING] = "failing",
        [VDS_H_FAILING_REDUNDANCY] = "failing-redundancy",
        [VDS_H_FAILED_REDUNDANCY] = "failed-redundancy",
        [VDS_H_FAILED_REDUNDANCY_FAILING] = "failed-redundancy-failing",
        [VDS_H_FAILED] = "failed",
        [VDS_H_REPLACED] = "replaced",
        [VDS_H_PENDING_FAILURE] = "pending-failure",
        [VDS_H_DEGRADED] = "degraded",
};

const char *vds_health_to_string(VdsHealth h) {
        return LOOKUP(health_table, h);
}

static const char *const disk_status_table[] = {
        [VDS_DS_UNKNOWN] = "unknown",
        [VDS_DS_ONLINE] = "online",
        [VDS_DS_NOT_READY] = "not-ready",
        [VDS_DS_NO_MEDIA] = "no-media",
        [VDS_DS_OFFLINE] = "offline",
        [VDS_DS_FAILED] = "failed",
        [VDS_DS_MISSING] = "missing",
};

const char *vds_disk_status_to_string(VdsDiskStatus s) {
        return LOOKUP(disk_status_table, s);
}

static const char *const volume_status_table[] = {
        [VDS_VS_UNKNOWN] = "unknown",
        [VDS_VS_ONLINE] = "online",
        [VDS_VS_NO_MEDIA] = "no-media",
        [VDS_VS_OFFLINE] = "offline",
        [VDS_VS_FAILED] = "failed",
};

const char *vds_volume_status_to_string(VdsVolumeStatus s) {
        return LOOKUP(volume_status_table, s);
}

static const char *const pack_status_table[] = {
        [VDS_PS_UNKNOWN] = "unknown",
        [VDS_PS_ONLINE] = "online",
        [VDS_PS_OFFLINE] = "offline",
};

const char *vds_pack_status_to_string(VdsPackStatus s) {
        return LOOKUP(pack_status_table, s);
}

static const char *const volume_type_table[] = {
        [VDS_VT_UNKNOWN] = "unknown",
        [VDS_VT_SIMPLE] = "simple",
        [VDS_VT_SPAN] = "span",
        [VDS_VT_STRIPE] = "stripe",
        [VDS_VT_MIRROR] = "mirror",
        [VDS_VT_PARITY] = "parity",
};

const char *vds_volume_type_to_string(VdsVolumeType t) {
        return LOOKUP(volume_type_table, t);
}

static const char *const transition_table[] = {
        [VDS_TS_UNKNOWN] = "unknown",
        [VDS_TS_STABLE] = "stable",
        [VDS_TS_EXTENDING] = "extending",
        [VDS_TS_SHRINKING] = "shrinking",
        [VDS_TS_RECONFIGING] = "reconfiguring",
        [VDS_TS_RESTRIPING] = "restriping",
};

const char *vds_transition_state_to_string(VdsTransitionState s) {
        return LOOKUP(transition_table, s);
}

static const char *const async_output_table[] = {
        [VDS_ASYNCOUT_UNKNOWN] = "unknown",
        [VDS_ASYNCOUT_CREATEVOLUME] = "create volume",
        [VDS_ASYNCOUT_EXTENDVOLUME] = "extend volume",
        [VDS_ASYNCOUT_SHRINKVOLUME] = "shrink volume",
        [VDS_ASYNCOUT_ADDVOLUMEPLEX] = "add volume plex",
        [VDS_ASYNCOUT_BREAKVOLUMEPLEX] = "break volume plex",
        [VDS_ASYNCOUT_REMOVEVOLUMEPLEX] = "remove volume plex",
        [VDS_ASYNCOUT_REPAIRVOLUMEPLEX] = "repair volume plex",
        [VDS_ASYNCOUT_RECOVERPACK] = "recover pack",
        [VDS_ASYNCOUT_REPLACEDISK] = "replace disk",
        [VDS_ASYNCOUT_CREATEPARTITION] = "create partition",
        [VDS_ASYNCOUT_CLEAN] = "clean",
};

const char *vds_async_output_type_to_string(VdsAsyncOutputType t) {
        return LOOKUP(async_output_table, t);
}

static const struct {
        uint32_t hr;
        const char *name;
} hresult_table[] = {
#define H(x) { x, #x }
        H(VDS_S_OK),
        H(VDS_S_DISK_IS_MISSING),
        H(VDS_E_NOT_SUPPORTED),
        H(VDS_E_ANOTHER_CALL_IN_PROGRESS),
        H(VDS_E_OBJECT_NOT_FOUND),
        H(VDS_E_OPERATION_PENDING),
        H(VDS_E_OPERATION_DENIED),
        H(VDS_E_CANCEL_TOO_LATE),
        H(VDS_E_OPERATION_CANCELED),
        H(VDS_E_UNRECOVERABLE_ERROR),
        H(VDS_E_DMADMIN_METHOD_CALL_FAILED),
        H(VDS_E_IO_ERROR),
        H(VDS_E_VOLUME_NOT_HEALTHY),
        H(VDS_E_PROVIDER_FAILURE),
        H(VDS_E_PACK_OFFLINE),
        H(VDS_E_VOLUME_NOT_A_MIRROR),
        H(VDS_E_INTERNAL_ERROR),
        H(VDS_E_DISK_NOT_ONLINE),
        H(VDS_E_MISSING_DISK),
        H(VDS_E_DISK_NOT_FOUND_IN_PACK),
        H(VDS_E_NO_HEALTHY_DISKS),
        H(VDS_E_DISK_IO_FAILING),
        H(VDS_E_MEMBER_IS_HEALTHY),
        H(VDS_E_VOLUME_NOT_FOUND_IN_PACK),
#undef H
};

const char *vds_hresult_to_string(uint32_t hr) {
        for (size_t i = 0; i < ELEMENTSOF(hresult_table); i++)
                if (hresult_table[i].hr == hr)
                        return hresult_table[i].name;
        return NULL;
}
