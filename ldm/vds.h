/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* vds.h: the Windows Virtual Disk Service numbers ldmd speaks in, so that VDS documentation
 * explains every state on the bus. Normative text: [MS-VDS] Virtual Disk Service Remote
 * Protocol (learn.microsoft.com/openspecs/windows_protocols/ms-vds), §2.2.1.2 and §2.2.2.x
 * (enumerations) and §2.2.3 (error codes); where the Windows SDK headers vds.h / vdserr.h
 * define more values than [MS-VDS] lists, the comment says "SDK only". One header, one place
 * to check; every value below was checked against both.
 *
 * The VDS enumerations have gaps (e.g. no pack status 2 or 3), so they carry no _MAX; the
 * _INVALID member follows the house rule for "not a valid value". */

#include <errno.h>
#include <stdint.h>

/* [MS-VDS] §2.2.2.8.1.1 VDS_PACK_STATUS (SDK vds.h: the same three values). */
typedef enum VdsPackStatus {
        VDS_PS_UNKNOWN = 0,
        VDS_PS_ONLINE = 1,
        VDS_PS_OFFLINE = 4,
        _VDS_PS_INVALID = -EINVAL,
} VdsPackStatus;

/* [MS-VDS] §2.2.2.8.1.2 VDS_PACK_FLAG. NOQUORUM: fewer than n/2 + 1 disks of the pack are
 * present (SDK VDS_PACK_FLAG page); CORRUPTED: a disk holds a corrupted LDM database;
 * ONLINE_ERROR: the pack has quorum but could not come fully online because of an error. */
#define VDS_PKF_FOREIGN      0x00000001u
#define VDS_PKF_NOQUORUM     0x00000002u
#define VDS_PKF_POLICY       0x00000004u
#define VDS_PKF_CORRUPTED    0x00000008u
#define VDS_PKF_ONLINE_ERROR 0x00000010u

/* [MS-VDS] §2.2.1.2.20 VDS_DISK_STATUS. MISSING: the pack configuration lists the disk but
 * no device is present (dynamic disks only). OFFLINE (4) is absent from Windows Server
 * 2003/Vista. */
typedef enum VdsDiskStatus {
        VDS_DS_UNKNOWN = 0,
        VDS_DS_ONLINE = 1,
        VDS_DS_NOT_READY = 2,
        VDS_DS_NO_MEDIA = 3,
        VDS_DS_OFFLINE = 4,
        VDS_DS_FAILED = 5,
        VDS_DS_MISSING = 6,
        _VDS_DS_INVALID = -EINVAL,
} VdsDiskStatus;

/* [MS-VDS] §2.2.1.2.1 VDS_HEALTH defines 0…8; 9…11 are SDK only (vds.h: REPLACED is
 * reserved, PENDING_FAILURE and DEGRADED are Windows 7+). ldmd uses only 0…8. */
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
        VDS_H_REPLACED = 9,          /* SDK only, reserved */
        VDS_H_PENDING_FAILURE = 10,  /* SDK only */
        VDS_H_DEGRADED = 11,         /* SDK only */
        _VDS_H_INVALID = -EINVAL,
} VdsHealth;

/* [MS-VDS] §2.2.1.2.16 VDS_VOLUME_TYPE (0x0A…0x0E). */
typedef enum VdsVolumeType {
        VDS_VT_UNKNOWN = 0,
        VDS_VT_SIMPLE = 10,
        VDS_VT_SPAN = 11,
        VDS_VT_STRIPE = 12,
        VDS_VT_MIRROR = 13,
        VDS_VT_PARITY = 14,
        _VDS_VT_INVALID = -EINVAL,
} VdsVolumeType;

/* [MS-VDS] §2.2.1.2.22 VDS_VOLUME_STATUS. SDK remarks: FAILED for simple/span/stripe when a
 * disk is missing, for a mirror when its last non-stale plex is lost, for RAID-5 when a
 * second column is lost. OFFLINE (4) is absent from Windows Server 2008 and older. */
typedef enum VdsVolumeStatus {
        VDS_VS_UNKNOWN = 0,
        VDS_VS_ONLINE = 1,
        VDS_VS_NO_MEDIA = 3,
        VDS_VS_OFFLINE = 4,
        VDS_VS_FAILED = 5,
        _VDS_VS_INVALID = -EINVAL,
} VdsVolumeStatus;

/* [MS-VDS] §2.2.1.2.17 VDS_TRANSITION_STATE defines 0…4; RESTRIPING (5) is SDK only (an
 * old SDK page gave it as 8; the current vds.h says 5). For volumes and volume plexes the SDK
 * allows only STABLE. */
typedef enum VdsTransitionState {
        VDS_TS_UNKNOWN = 0,
        VDS_TS_STABLE = 1,
        VDS_TS_EXTENDING = 2,
        VDS_TS_SHRINKING = 3,
        VDS_TS_RECONFIGING = 4,
        VDS_TS_RESTRIPING = 5,       /* SDK only */
        _VDS_TS_INVALID = -EINVAL,
} VdsTransitionState;

/* VDS_ASYNC_OUTPUT_TYPE: the discriminant of [MS-VDS] §2.2.1.3.10 VDS_ASYNC_OUTPUT; values
 * from the SDK vds.h page (the LUN/iSCSI/VDisk values 50…204 are not needed here). */
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
        VDS_ASYNCOUT_REPLACEDISK = 9,
        VDS_ASYNCOUT_CREATEPARTITION = 10,
        VDS_ASYNCOUT_CLEAN = 11,
        _VDS_ASYNCOUT_INVALID = -EINVAL,
} VdsAsyncOutputType;

/* HRESULTs: [MS-VDS] §2.2.3 "Error Codes" and the SDK vdserr.h (same values; the message
 * text in quotes is vdserr.h's). Only names that exist there; none means "no quorum" — a pack
 * without quorum is VDS_E_PACK_OFFLINE with VDS_PKF_NOQUORUM set. */
#define VDS_S_OK                          0x00000000u
#define VDS_S_DISK_IS_MISSING             0x00042508u /* success with info: a disk is missing */
#define VDS_E_NOT_SUPPORTED               0x80042400u /* "operation is not supported by the object" */
#define VDS_E_ANOTHER_CALL_IN_PROGRESS    0x80042404u /* a second call on a busy object */
#define VDS_E_OBJECT_NOT_FOUND            0x80042405u /* "the specified object was not found" */
#define VDS_E_OPERATION_PENDING           0x80042409u /* "the operation is still in progress" */
#define VDS_E_OPERATION_DENIED            0x8004240Au /* "not permitted on the disk/partition/volume" */
#define VDS_E_CANCEL_TOO_LATE             0x8004240Cu /* job already finished */
#define VDS_E_DEVICE_IN_USE               0x80042413u /* "the device is currently in use" (§2.2.3) */
#define VDS_E_OPERATION_CANCELED          0x8004240Du
#define VDS_E_UNRECOVERABLE_ERROR         0x80042419u
#define VDS_E_DMADMIN_METHOD_CALL_FAILED  0x80042420u /* "the LDM service method failed"
                                                       * (IVdsPack::Recover's documented error) */
#define VDS_E_IO_ERROR                    0x8004242Bu /* "IO error occurred during format" */
#define VDS_E_VOLUME_NOT_HEALTHY          0x8004243Eu
#define VDS_E_PROVIDER_FAILURE            0x80042442u /* "a provider failed to complete an operation" */
#define VDS_E_PACK_OFFLINE                0x80042444u /* "the pack is not online" */
#define VDS_E_VOLUME_NOT_A_MIRROR         0x80042445u
#define VDS_E_INTERNAL_ERROR              0x80042448u
#define VDS_E_DISK_NOT_ONLINE             0x8004244Bu
#define VDS_E_MISSING_DISK                0x80042454u
#define VDS_E_DISK_NOT_FOUND_IN_PACK      0x8004252Du
#define VDS_E_NO_HEALTHY_DISKS            0x80042537u
#define VDS_E_DISK_IO_FAILING             0x80042540u /* "the IO to the disk is failing" */
#define VDS_E_MEMBER_IS_HEALTHY           0x80042544u
#define VDS_E_VOLUME_NOT_FOUND_IN_PACK    0x8004257Cu

/* Names for logs and ldmctl: "healthy", "failed-redundancy", …; NULL for unknown values. */
const char *vds_health_to_string(VdsHealth h);
const char *vds_disk_status_to_string(VdsDiskStatus s);
const char *vds_volume_status_to_string(VdsVolumeStatus s);
const char *vds_pack_status_to_string(VdsPackStatus s);
const char *vds_volume_type_to_string(VdsVolumeType t);
const char *vds_transition_state_to_string(VdsTransitionState s);
const char *vds_async_output_type_to_string(VdsAsyncOutputType t);
/* "VDS_E_MISSING_DISK" for a known HRESULT, NULL otherwise. */
const char *vds_hresult_to_string(uint32_t hr);
