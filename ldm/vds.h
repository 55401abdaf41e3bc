/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* vds.h: the Windows Virtual Disk Service numbers ldmd speaks in, so that VDS documentation
 * explains every state on the bus. Normative text: [MS-VDS] Virtual Disk Service Remote
 * Protocol, §2.2 (enumerations) and the vdserr.h HRESULTs. One header, one place to check.
 * NOTE: values to be verified against [MS-VDS] (see each comment's section). */

#include <stdint.h>

/* [MS-VDS] §2.2.1.2.? VDS_PACK_STATUS */
typedef enum VdsPackStatus {
        VDS_PS_UNKNOWN = 0,
        VDS_PS_ONLINE = 1,
        VDS_PS_OFFLINE = 4,
} VdsPackStatus;

/* VDS_PACK_FLAG */
#define VDS_PKF_FOREIGN      0x00000001u
#define VDS_PKF_NOQUORUM     0x00000002u
#define VDS_PKF_POLICY       0x00000004u
#define VDS_PKF_CORRUPTED    0x00000008u
#define VDS_PKF_ONLINE_ERROR 0x00000010u

/* VDS_DISK_STATUS */
typedef enum VdsDiskStatus {
        VDS_DS_UNKNOWN = 0,
        VDS_DS_ONLINE = 1,
        VDS_DS_NOT_READY = 2,
        VDS_DS_NO_MEDIA = 3,
        VDS_DS_OFFLINE = 4,
        VDS_DS_FAILED = 5,
        VDS_DS_MISSING = 6,
} VdsDiskStatus;

/* VDS_HEALTH */
typedef enum VdsHealth {
        VDS_H_UNKNOWN = 0,
        VDS_H_HEALTHY = 1,
        VDS_H_REBUILDING = 2,
        VDS_H_STALE = 3,
        VDS_H_FAILING = 4,
        VDS_H_FAILING_REDUNDANCY = 5,
        VDS_H_FAILED_REDUNDANCY = 6,
        VDS_H_FAILED_REDUNDANCY_FAILING = 7,
        VDS_H_FAILED = 8,
        VDS_H_REPLACED = 9,
        VDS_H_PENDING_FAILURE = 10,
        VDS_H_DEGRADED = 11,
} VdsHealth;

/* VDS_VOLUME_TYPE */
typedef enum VdsVolumeType {
        VDS_VT_UNKNOWN = 0,
        VDS_VT_SIMPLE = 10,
        VDS_VT_SPAN = 11,
        VDS_VT_STRIPE = 12,
        VDS_VT_MIRROR = 13,
        VDS_VT_PARITY = 14,
} VdsVolumeType;

/* VDS_VOLUME_STATUS */
typedef enum VdsVolumeStatus {
        VDS_VS_UNKNOWN = 0,
        VDS_VS_ONLINE = 1,
        VDS_VS_NO_MEDIA = 3,
        VDS_VS_OFFLINE = 4,
        VDS_VS_FAILED = 5,
} VdsVolumeStatus;

/* VDS_TRANSITION_STATE */
typedef enum VdsTransitionState {
        VDS_TS_UNKNOWN = 0,
        VDS_TS_STABLE = 1,
        VDS_TS_EXTENDING = 2,
        VDS_TS_SHRINKING = 3,
        VDS_TS_RECONFIGING = 4,
        VDS_TS_RESTRIPING = 5,
} VdsTransitionState;

/* VDS_ASYNC_OUTPUT_TYPE */
typedef enum VdsAsyncOutputType {
        VDS_ASYNCOUT_UNKNOWN = 0,
        VDS_ASYNCOUT_CREATEVOLUME = 1,
        VDS_ASYNCOUT_EXTENDVOLUME = 2,
        VDS_ASYNCOUT_SHRINKVOLUME = 3,
        VDS_ASYNCOUT_ADDVOLUMEPLEX = 4,
        VDS_ASYNCOUT_BREAKVOLUMEPLEX = 5,
        VDS_ASYNCOUT_REMOVEVOLUMEPLEX = 6,
        VDS_ASYNCOUT_REPAIRVOLUMEPLEX = 7,
        VDS_ASYNCOUT_RECOVERPACK = 8,
} VdsAsyncOutputType;

/* HRESULTs (vdserr.h) */
#define VDS_S_OK                          0x00000000u
#define VDS_E_NOT_SUPPORTED               0x80042400u
#define VDS_E_OPERATION_PENDING           0x80042409u
#define VDS_E_CANCEL_TOO_LATE             0x8004240Cu
#define VDS_E_OPERATION_CANCELED          0x8004240Du
#define VDS_E_DMADMIN_METHOD_CALL_FAILED  0x80042420u

const char *vds_health_to_string(VdsHealth h);
const char *vds_disk_status_to_string(VdsDiskStatus s);
const char *vds_volume_status_to_string(VdsVolumeStatus s);
const char *vds_pack_status_to_string(VdsPackStatus s);
