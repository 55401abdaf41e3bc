/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* main.c: ldmd(8) — command line, configuration, signals, then the Manager's loop. */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "log.h"
#include "manager.h"
#include "thread-sched.h"

static void help(void) {
        printf("ldmd [OPTIONS...]\n\n"
               "Publishes Windows LDM (dynamic disk) packs on D-Bus as org.ldmd1.\n\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "     --bus=ADDRESS     Connect to this bus instead of the system bus\n"
               "     --user            Connect to the user bus\n"
               "     --image=PATH      Treat an image file as a disk (repeatable)\n"
               "     --no-udev         Do not watch block devices (only --image disks)\n"
               "     --config=FILE     Read FILE instead of %s\n"
               "     --state-dir=DIR   Keep repair checkpoints in DIR (default: $STATE_DIRECTORY\n"
               "                       or %s)\n",
               LDMD_CONFIG_FILE, LDMD_STATE_DIR);
}

enum {
        ARG_VERSION = 0x100,
        ARG_BUS,
        ARG_USER,
        ARG_IMAGE,
        ARG_NO_UDEV,
        ARG_CONFIG,
        ARG_STATE_DIR,
};

/* Returns 1 to go on, 0 to exit successfully (--help), <0 on bad usage. */
static int parse_argv(Manager *m, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h'         },
                { "version", no_argument,       NULL, ARG_VERSION },
                { "bus",     required_argument, NULL, ARG_BUS     },
                { "user",    no_argument,       NULL, ARG_USER    },
                { "image",   required_argument, NULL, ARG_IMAGE   },
                { "no-udev", no_argument,       NULL, ARG_NO_UDEV },
                { "config",  required_argument, NULL, ARG_CONFIG  },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("ldmd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_BUS:
                        free(m->bus_address);
                        m->bus_address = strdup(optarg);
                        if (!m->bus_address)
                                return log_oom();
                        break;
                case ARG_USER:
                        m->user_bus = true;
                        break;
                case ARG_IMAGE:
                        r = manager_add_source(m, optarg, SOURCE_IMAGE);
                        if (r < 0)
                                return r;
                        break;
                case ARG_NO_UDEV:
                        m->use_udev = false;
                        break;
                case ARG_CONFIG:
                        free(m->config_path);
                        m->config_path = strdup(optarg);
                        if (!m->config_path)
                                return log_oom();
                        break;
                case ARG_STATE_DIR:
                        free(m->state_dir);
                        m->state_dir = strdup(optarg);
                        if (!m->state_dir)
                                return log_oom();
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return log_error_errno(EINVAL, "Unhandled option %i.", c);
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "%s takes no positional arguments.", program_invocation_short_name);
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t ss;
        int r;

        log_setup();

        /* Blocked before any thread exists, so that only sd-event's signalfd sees them. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        r = manager_new(&m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up: %m");
                return EXIT_FAILURE;
        }
        r = parse_argv(m, argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = config_load(&m->config, m->config_path ?: LDMD_CONFIG_FILE, m->config_path != NULL);
        if (r < 0)
                return EXIT_FAILURE;

        r = manager_start(m);
        if (r < 0)
                return EXIT_FAILURE;
        log_info("ldmd %s running.", PACKAGE_VERSION);
        /* This thread answers the bus; the threads it starts set their own (thread-sched.h). */
        thread_sched_loop();
        r = manager_run(m);
        log_info("Exiting.");
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
