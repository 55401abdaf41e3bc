/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl-util.c: shared helpers of ldmctl: error → exit-code mapping, colours, number
 * formatting, VDS value names and the bus connection. */

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ldmctl-util.h"
#include "vds.h"

LdmctlArgs arg = {
        .ask_password = true,
        .legend = true,
};

static const struct {
        const char *name;
        int code;
} error_map[] = {
        { "org.ldmd1.Error.NotFound",                            LDMCTL_EXIT_NOT_FOUND },
        { "org.freedesktop.DBus.Error.UnknownObject",            LDMCTL_EXIT_NOT_FOUND },
        { "org.ldmd1.Error.NotAuthorized",                       LDMCTL_EXIT_NOT_AUTHORIZED },
        { "org.freedesktop.DBus.Error.AccessDenied",             LDMCTL_EXIT_NOT_AUTHORIZED },
        { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", LDMCTL_EXIT_NOT_AUTHORIZED },
        { "org.ldmd1.Error.Busy",                                LDMCTL_EXIT_BUSY },
        { "org.ldmd1.Error.NotSupported",                        LDMCTL_EXIT_NOT_SUPPORTED },
        { "org.freedesktop.DBus.Error.UnknownMethod",            LDMCTL_EXIT_NOT_SUPPORTED },
        { "org.freedesktop.DBus.Error.UnknownInterface",         LDMCTL_EXIT_NOT_SUPPORTED },
        { "org.ldmd1.Error.Ambiguous",                           LDMCTL_EXIT_USAGE },
        { "org.ldmd1.Error.InvalidArgs",                         LDMCTL_EXIT_USAGE },
        { "org.freedesktop.DBus.Error.InvalidArgs",              LDMCTL_EXIT_USAGE },
        { "org.ldmd1.Error.CancelTooLate",                       LDMCTL_EXIT_TOO_LATE },
};

int ldmctl_exit_for_error(const char *name) {
        if (!name)
                return LDMCTL_EXIT_FAILURE;
        for (size_t i = 0; i < ELEMENTSOF(error_map); i++)
                if (strcmp(error_map[i].name, name) == 0)
                        return error_map[i].code;
        return LDMCTL_EXIT_FAILURE;
}

int ldmctl_fail(int code, const char *fmt, ...) {
        va_list ap;

        fputs("ldmctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

int ldmctl_bus_fail(const sd_bus_error *error, int r, const char *fmt, ...) {
        va_list ap;
        bool set = sd_bus_error_is_set(error);

        fputs("ldmctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (set)
                fprintf(stderr, ": %s (%s)\n", error->message ?: error->name, error->name);
        else
                fprintf(stderr, ": %s\n", strerror(r < 0 ? -r : EIO));

        if (set && (sd_bus_error_has_name(error, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                    sd_bus_error_has_name(error, "org.freedesktop.DBus.Error.NameHasNoOwner")))
                fputs("ldmctl: is ldmd running on this bus?\n", stderr);
        if (!set && (r == -ENOENT || r == -ECONNREFUSED))
                fputs("ldmctl: cannot reach the bus (see --bus, --user)\n", stderr);
        return set ? ldmctl_exit_for_error(error->name) : LDMCTL_EXIT_FAILURE;
}

static const char *ansi(const char *seq) {
        return arg.color ? seq : "";
}
const char *ansi_red(void)    { return ansi("\033[1;31m"); }
const char *ansi_yellow(void) { return ansi("\033[1;33m"); }
const char *ansi_green(void)  { return ansi("\033[32m"); }
const char *ansi_bold(void)   { return ansi("\033[1m"); }
const char *ansi_grey(void)   { return ansi("\033[2m"); }
const char *ansi_normal(void) { return ansi("\033[0m"); }

char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        size_t u = 0;
        uint64_t whole = bytes, rem = 0;

        /* Integer arithmetic so the output never depends on floating-point rounding. */
        while (whole >= 1024 && u + 1 < ELEMENTSOF(units)) {
                rem = whole % 1024;
                whole /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", bytes);
        else if (whole >= 100)
                snprintf(buf, size, "%" PRIu64 " %s", whole, units[u]);
        else
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", whole, rem * 10 / 1024, units[u]);
        return buf;
}

char *format_duration(char *buf, size_t size, uint64_t usec) {
        uint64_t s = usec / 1000000;

        if (s < 60)
                snprintf(buf, size, "%" PRIu64 "s", s);
        else if (s < 3600)
                snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
        else
                snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
        return buf;
}

char *format_timestamp(char *buf, size_t size, uint64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
        return buf;
}

/* [MS-VDS] §2.2 enumerations: numbers and names live in ldm/vds.{h,c}, shared with ldmd. */
const char *pack_status_name(uint32_t v)   { return v <= INT32_MAX ? vds_pack_status_to_string((VdsPackStatus) v) : NULL; }
const char *disk_status_name(uint32_t v)   { return v <= INT32_MAX ? vds_disk_status_to_string((VdsDiskStatus) v) : NULL; }
const char *health_name(uint32_t v)        { return v <= INT32_MAX ? vds_health_to_string((VdsHealth) v) : NULL; }
const char *volume_type_name(uint32_t v)   { return v <= INT32_MAX ? vds_volume_type_to_string((VdsVolumeType) v) : NULL; }
const char *volume_status_name(uint32_t v) { return v <= INT32_MAX ? vds_volume_status_to_string((VdsVolumeStatus) v) : NULL; }
const char *transition_name(uint32_t v)    { return v <= INT32_MAX ? vds_transition_state_to_string((VdsTransitionState) v) : NULL; }

const char *name_or_number(const char *name, uint32_t v, char *buf, size_t size) {
        if (name)
                return name;
        snprintf(buf, size, "%" PRIu32, v);
        return buf;
}

const char *pack_flag_name(uint32_t bit) {
        switch (bit) {
        case VDS_PKF_FOREIGN:      return "foreign";
        case VDS_PKF_NOQUORUM:     return "noquorum";
        case VDS_PKF_POLICY:       return "policy";
        case VDS_PKF_CORRUPTED:    return "corrupted";
        case VDS_PKF_ONLINE_ERROR: return "online-error";
        default:                   return NULL;
        }
}

char *format_pack_flags(char *buf, size_t size, uint32_t flags) {
        size_t n = 0;

        buf[0] = 0;
        for (unsigned i = 0; i < 32; i++) {
                uint32_t bit = UINT32_C(1) << i;
                const char *name;
                char num[16];

                if (!(flags & bit))
                        continue;
                name = pack_flag_name(bit);
                if (!name) {
                        snprintf(num, sizeof num, "0x%" PRIx32, bit);
                        name = num;
                }
                n += snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "", name);
        }
        if (n == 0)
                snprintf(buf, size, "-");
        return buf;
}

const char *health_color(uint32_t health) {
        switch (health) {
        case VDS_H_HEALTHY:
                return ansi_green();
        case VDS_H_FAILED:
        case VDS_H_FAILED_REDUNDANCY_FAILING:
                return ansi_red();
        default:
                return ansi_yellow();
        }
}

const char *hresult_name(uint32_t hr) {
        const char *n = vds_hresult_to_string(hr);

        if (n)
                return n;
        switch (hr) {           /* generic COM HRESULTs a job may end with */
        case 0x80004005u: return "E_FAIL";
        case 0x80070005u: return "E_ACCESSDENIED";
        case 0x8007000Eu: return "E_OUTOFMEMORY";
        case 0x80070057u: return "E_INVALIDARG";
        default:          return NULL;
        }
}

const char *hresult_result(uint32_t hr) {
        if (hresult_ok(hr))
                return "success";
        return hr == VDS_E_OPERATION_CANCELED ? "cancelled" : "failed";
}

int hresult_exit_code(uint32_t hr) {
        if (hresult_ok(hr))
                return LDMCTL_EXIT_SUCCESS;
        return hr == VDS_E_OPERATION_CANCELED ? LDMCTL_EXIT_JOB_CANCELLED : LDMCTL_EXIT_JOB_FAILED;
}

int job_path_from_arg(const char *s, char **ret) {
        const char *n = s;
        char *p;

        if (strncmp(s, LDMD_JOB_PREFIX, strlen(LDMD_JOB_PREFIX)) == 0)
                n = s + strlen(LDMD_JOB_PREFIX);
        if (*n == '_')
                n++;
        if (!*n || strlen(n) > 10)
                return -EINVAL;
        for (const char *c = n; *c; c++)
                if (!isdigit((unsigned char) *c))
                        return -EINVAL;
        if (asprintf(&p, LDMD_JOB_PREFIX "_%s", n) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

const char *job_short_name(const char *path) {
        if (path && strncmp(path, LDMD_JOB_PREFIX, strlen(LDMD_JOB_PREFIX)) == 0)
                return path + strlen(LDMD_JOB_PREFIX);
        return strna(path);
}

bool guid_from_arg(const char *s, char ret[static 37]) {
        size_t len = strlen(s);

        if (len == 38 && s[0] == '{' && s[37] == '}') {
                s++;
                len = 36;
        }
        if (len != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        }
        for (size_t i = 0; i < 36; i++)
                ret[i] = (char) tolower((unsigned char) s[i]);
        ret[36] = 0;
        return true;
}

int ldmctl_connect(const char *address, bool user, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (!address) {
                r = user ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
                if (r < 0)
                        return r;
                *ret = bus;
                return 0;
        }

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_set_description(bus, "ldmctl");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

int ldmctl_new_call(sd_bus *bus, sd_bus_message **ret, const char *path, const char *iface,
                    const char *member, bool mutating) {
        sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, LDMD_BUS_NAME, path, iface, member);
        if (r < 0)
                return r;
        /* polkit may then ask for a password through the agent of the user's session. */
        if (mutating && arg.ask_password) {
                r = sd_bus_message_set_allow_interactive_authorization(m, true);
                if (r < 0) {
                        sd_bus_message_unref(m);
                        return r;
                }
        }
        *ret = m;
        return 0;
}

char **strv_free(char **l) {
        for (char **i = l; i && *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

bool strv_contains(char * const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}

bool ldmctl_on_system_bus;
static pid_t agent_pid;

void polkit_agent_open(void) {
        int fds[2];
        char notify[32];
        pid_t pid;

        if (agent_pid > 0 || !arg.ask_password || !ldmctl_on_system_bus || geteuid() == 0 ||
            !isatty(STDIN_FILENO) || access("/usr/bin/pkttyagent", X_OK) < 0)
                return;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        snprintf(notify, sizeof notify, "--notify-fd=%d", fds[1]);
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                /* The agent keeps only the notify end, and closes it once registered. */
                close(fds[0]);
                if (fcntl(fds[1], F_SETFD, 0) < 0)
                        _exit(127);
                execl("/usr/bin/pkttyagent", "pkttyagent", notify, "--fallback", (char *) NULL);
                _exit(127);
        }
        close(fds[1]);
        agent_pid = pid;
        /* Wait until it is registered (or gone): the pipe closes either way. */
        for (;;) {
                struct pollfd p = { .fd = fds[0], .events = POLLIN };
                char c;

                if (poll(&p, 1, 10000) <= 0)
                        break;
                if (read(fds[0], &c, 1) <= 0)
                        break;
        }
        close(fds[0]);
}

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;
        kill(agent_pid, SIGTERM);
        (void) waitpid(agent_pid, NULL, 0);
        agent_pid = 0;
}
