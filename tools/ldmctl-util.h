/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ldmctl-util.h: what every ldmctl verb shares: the command-line options, the exit codes
 * scripts rely on (documented in ldmctl(1)), turning D-Bus errors into those codes, colours
 * and human-readable numbers, and the names of the VDS values the daemon reports. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "macro.h"

/* Exit codes: part of the command-line interface, never renumber. */
typedef enum LdmctlExit {
        LDMCTL_EXIT_SUCCESS = 0,
        LDMCTL_EXIT_FAILURE = 1,        /* anything else: daemon unreachable, bad reply, I/O */
        LDMCTL_EXIT_USAGE = 2,          /* bad command line; PACK/JOB malformed or ambiguous */
        LDMCTL_EXIT_NOT_FOUND = 3,      /* no such pack or job */
        LDMCTL_EXIT_NOT_AUTHORIZED = 4, /* polkit (or the bus policy) refused */
        LDMCTL_EXIT_JOB_FAILED = 5,     /* the job ended with a failure HRESULT */
        LDMCTL_EXIT_JOB_CANCELLED = 6,  /* the job ended cancelled (VDS_E_OPERATION_CANCELED) */
        LDMCTL_EXIT_BUSY = 7,           /* a job already runs on the pack */
        LDMCTL_EXIT_NOT_SUPPORTED = 8,  /* not possible on this pack (e.g. INVALID) or daemon */
        LDMCTL_EXIT_TOO_LATE = 9,       /* cancel: the job had already finished */
} LdmctlExit;

/* Options from the command line (parsed in ldmctl.c). */
typedef struct LdmctlArgs {
        bool json;              /* machine-readable output */
        bool json_pretty;       /* indent JSON (when stdout is a terminal) */
        bool color;             /* ANSI colours (terminal, NO_COLOR unset, TERM not dumb) */
        bool unicode;           /* tree glyphs and the bar in UTF-8 */
        bool ask_password;      /* allow interactive polkit authorisation */
        bool no_wait;           /* recover/verify: print the job and return */
        bool names;             /* hidden: list --names (bash completion) */
        bool paths;             /* hidden: jobs --paths (bash completion) */
        bool legend;            /* print table headers */
} LdmctlArgs;

extern LdmctlArgs arg;

#define LDMD_BUS_NAME "org.ldmd1"
#define LDMD_MANAGER_PATH "/org/ldmd1"
#define LDMD_PACK_PREFIX "/org/ldmd1/pack/"
#define LDMD_JOB_PREFIX "/org/ldmd1/job/"
#define LDMD_IFACE_MANAGER "org.ldmd1.Manager"
#define LDMD_IFACE_PACK "org.ldmd1.Pack"
#define LDMD_IFACE_DISK "org.ldmd1.Disk"
#define LDMD_IFACE_VOLUME "org.ldmd1.Volume"
#define LDMD_IFACE_JOB "org.ldmd1.Job"

/* Prints "ldmctl: <what>: <reason>" for a failed bus call and returns the exit code that the
 * error name maps to. `error` may be unset, then `r` (negative errno) explains. */
int ldmctl_bus_fail(const sd_bus_error *error, int r, const char *fmt, ...) _printf_(3, 4);
/* The exit code for a D-Bus error name (LDMCTL_EXIT_FAILURE when unknown or NULL). */
int ldmctl_exit_for_error(const char *name);
/* Prints "ldmctl: <message>" to stderr and returns `code`. */
int ldmctl_fail(int code, const char *fmt, ...) _printf_(2, 3);

/* ANSI sequences, or "" when colour is off. */
const char *ansi_red(void);
const char *ansi_yellow(void);
const char *ansi_green(void);
const char *ansi_bold(void);
const char *ansi_grey(void);
const char *ansi_normal(void);

/* "47.0 MiB" (IEC, one decimal below 100). Returns buf. */
char *format_bytes(char *buf, size_t size, uint64_t bytes);
/* "42s", "3m05s", "1h02m". Returns buf. */
char *format_duration(char *buf, size_t size, uint64_t usec);
/* "2024-05-01 12:00:01" local time from µs since the epoch ("-" for 0). Returns buf. */
char *format_timestamp(char *buf, size_t size, uint64_t usec);

/* Names of VDS values as ldmctl prints them (lower case, '-' for '_'); NULL when the number
 * is not a known value. The *_or_number variants fall back to the decimal number in buf. */
const char *pack_status_name(uint32_t v);
const char *disk_status_name(uint32_t v);
const char *health_name(uint32_t v);
const char *volume_type_name(uint32_t v);
const char *volume_status_name(uint32_t v);
const char *transition_name(uint32_t v);
const char *name_or_number(const char *name, uint32_t v, char *buf, size_t size);
/* The name of pack flag bit `bit` (a single bit), or NULL. */
const char *pack_flag_name(uint32_t bit);
/* "noquorum,corrupted" (or "-" for none). Returns buf. */
char *format_pack_flags(char *buf, size_t size, uint32_t flags);
/* Health values that are not healthy deserve a colour: red for failed, yellow otherwise. */
const char *health_color(uint32_t health);

/* Symbolic name of an HRESULT ("S_OK", "VDS_E_OPERATION_CANCELED"), or NULL. */
const char *hresult_name(uint32_t hr);
/* HRESULT success test (severity bit clear). */
static inline bool hresult_ok(uint32_t hr) {
        return (hr & 0x80000000u) == 0;
}

/* "success", "cancelled" or "failed" for a finished job's HRESULT. */
const char *hresult_result(uint32_t hr);
/* The exit code for a finished job's HRESULT (success, job failed, job cancelled). */
int hresult_exit_code(uint32_t hr);

/* Accepts "/org/ldmd1/job/_3", "_3" or "3"; returns the object path. -EINVAL if malformed. */
int job_path_from_arg(const char *s, char **ret);
/* "_3" for "/org/ldmd1/job/_3", else the path itself. */
const char *job_short_name(const char *path);
/* True when s looks like a GUID, optionally in braces; the bare GUID goes to ret (37 bytes). */
bool guid_from_arg(const char *s, char ret[static 37]);

/* Connects as the options say (--bus, --user, system bus by default). */
int ldmctl_connect(const char *address, bool user, sd_bus **ret);
/* A method call to the daemon, with interactive authorisation allowed when `mutating` and
 * the user may be asked (terminal, no --no-ask-password). */
int ldmctl_new_call(sd_bus *bus, sd_bus_message **ret, const char *path, const char *iface,
                    const char *member, bool mutating);

/* Starts pkttyagent (like systemctl does) so polkit can ask for a password on this terminal;
 * only for the system bus, when stdin is a terminal, not root and --no-ask-password is not
 * given. Harmless when another agent already serves the session (--fallback). */
void polkit_agent_open(void);
void polkit_agent_close(void);
/* Set by main: the connection is the system bus (where polkit agents matter). */
extern bool ldmctl_on_system_bus;

/* NULL-terminated string arrays. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
size_t strv_length(char * const *l);
bool strv_contains(char * const *l, const char *s);

static inline const char *strempty(const char *s) {
        return s ?: "";
}
