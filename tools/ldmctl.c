/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl.c: the command-line client of ldmd. It speaks only D-Bus (sd-bus), to the contract
 * in dbus-api.md: it lists packs and their health, starts and follows Recover/Verify jobs,
 * and watches events. This file parses the command line and dispatches to the verbs. */

#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ldmctl-util.h"
#include "ldmctl-verbs.h"

typedef struct Verb {
        const char *name;
        int min_args, max_args;         /* positional arguments after the verb; -1: any */
        int (*run)(sd_bus *bus, int argc, char **argv);
} Verb;

static const Verb verbs[] = {
        { "list",    0, 0,  verb_list },
        { "status",  0, -1, verb_status },
        { "recover", 1, 1,  verb_recover },
        { "verify",  1, 1,  verb_recover },
        { "jobs",    0, 0,  verb_jobs },
        { "wait",    1, 1,  verb_wait },
        { "cancel",  1, 1,  verb_cancel },
        { "monitor", 0, 0,  verb_monitor },
        { "rescan",  0, 0,  verb_rescan },
};

static const char *arg_address;
static bool arg_user;

static void help(void) {
        printf("ldmctl [OPTIONS...] COMMAND [ARGS...]\n\n"
               "Query and repair Windows dynamic disk (LDM) packs through ldmd.\n\n"
               "Commands:\n"
               "  list                 List packs: status, health, disks, volumes\n"
               "  status [PACK...]     Show packs with disks, volumes and plexes\n"
               "  recover PACK         Recover a pack and follow the job\n"
               "  verify PACK          Verify a pack's mirrors and parity, follow the job\n"
               "  jobs                 List running and recently finished jobs\n"
               "  wait JOB             Follow a job until it ends; show its result\n"
               "  cancel JOB           Ask a job to stop\n"
               "  monitor              Print pack, disk, volume and job events\n"
               "  rescan               Ask ldmd to look for disks again\n\n"
               "PACK is a pack name, its GUID or its object path; JOB is a job's object\n"
               "path or its number (\"3\" or \"_3\" for /org/ldmd1/job/_3).\n\n"
               "Options:\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "     --bus=ADDRESS     Connect to the bus at ADDRESS\n"
               "     --user            Connect to the user's session bus\n"
               "     --system          Connect to the system bus (default)\n"
               "     --json[=MODE]     JSON output: pretty or short (default: pretty on a\n"
               "                       terminal, short otherwise)\n"
               "     --no-wait         recover/verify: print the job and return\n"
               "     --no-legend       Omit table headers\n"
               "     --no-ask-password Never ask for a password (polkit)\n\n"
               "See ldmctl(1) for exit codes and the JSON keys.\n");
}

enum {
        ARG_VERSION = 0x100,
        ARG_BUS,
        ARG_USER,
        ARG_SYSTEM,
        ARG_JSON,
        ARG_NO_WAIT,
        ARG_NO_LEGEND,
        ARG_NO_ASK_PASSWORD,
        ARG_NAMES,
        ARG_PATHS,
};

static int parse_argv(int argc, char **argv) {
        static const struct option options[] = {
                { "help",            no_argument,       NULL, 'h' },
                { "version",         no_argument,       NULL, ARG_VERSION },
                { "bus",             required_argument, NULL, ARG_BUS },
                { "user",            no_argument,       NULL, ARG_USER },
                { "system",          no_argument,       NULL, ARG_SYSTEM },
                { "json",            optional_argument, NULL, ARG_JSON },
                { "no-wait",         no_argument,       NULL, ARG_NO_WAIT },
                { "no-legend",       no_argument,       NULL, ARG_NO_LEGEND },
                { "no-ask-password", no_argument,       NULL, ARG_NO_ASK_PASSWORD },
                /* hidden, for bash completion */
                { "names",           no_argument,       NULL, ARG_NAMES },
                { "paths",           no_argument,       NULL, ARG_PATHS },
                {}
        };
        int c;

        arg.json_pretty = isatty(STDOUT_FILENO);
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("ldmctl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_BUS:
                        arg_address = optarg;
                        arg_user = false;
                        break;
                case ARG_USER:
                        arg_user = true;
                        arg_address = NULL;
                        break;
                case ARG_SYSTEM:
                        arg_user = false;
                        arg_address = NULL;
                        break;
                case ARG_JSON:
                        arg.json = true;
                        if (!optarg)
                                break;
                        if (strcmp(optarg, "pretty") == 0)
                                arg.json_pretty = true;
                        else if (strcmp(optarg, "short") == 0)
                                arg.json_pretty = false;
                        else
                                return -ldmctl_fail(LDMCTL_EXIT_USAGE, "--json takes pretty or short, not '%s'", optarg);
                        break;
                case ARG_NO_WAIT:
                        arg.no_wait = true;
                        break;
                case ARG_NO_LEGEND:
                        arg.legend = false;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg.ask_password = false;
                        break;
                case ARG_NAMES:
                        arg.names = true;
                        break;
                case ARG_PATHS:
                        arg.paths = true;
                        break;
                case '?':
                        return -LDMCTL_EXIT_USAGE;
                default:
                        return -LDMCTL_EXIT_FAILURE;
                }
        return 1;
}

/* NO_COLOR (no-color.org), TERM=dumb and non-terminal output all mean plain text. */
static void detect_terminal(void) {
        const char *term = getenv("TERM");
        const char *no_color = getenv("NO_COLOR");

        arg.color = isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
                    !(term && strcmp(term, "dumb") == 0);
        arg.unicode = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

int main(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const Verb *verb = NULL;
        int r, nargs;

        setlocale(LC_ALL, "");
        detect_terminal();
        r = parse_argv(argc, argv);
        if (r <= 0)
                return -r;

        if (optind >= argc) {
                help();
                return LDMCTL_EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, argv[optind]) == 0)
                        verb = &verbs[i];
        if (!verb)
                return ldmctl_fail(LDMCTL_EXIT_USAGE, "unknown command '%s' (see --help)", argv[optind]);
        nargs = argc - optind - 1;
        if (nargs < verb->min_args)
                return ldmctl_fail(LDMCTL_EXIT_USAGE, "%s: missing argument (see --help)", verb->name);
        if (verb->max_args >= 0 && nargs > verb->max_args)
                return ldmctl_fail(LDMCTL_EXIT_USAGE, "%s: too many arguments (see --help)", verb->name);

        r = ldmctl_connect(arg_address, arg_user, &bus);
        if (r < 0)
                return ldmctl_bus_fail(NULL, r, "cannot connect to the %s bus",
                                       arg_address ? arg_address : arg_user ? "user" : "system");
        ldmctl_on_system_bus = !arg_address && !arg_user;

        r = verb->run(bus, argc - optind, argv + optind);
        polkit_agent_close();
        return r;
}
