/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ldmctl-verbs.h: the commands of ldmctl. Each takes the connected bus and its positional
 * arguments (argv[0] is the verb) and returns an LdmctlExit code, having printed any error. */

#include <systemd/sd-bus.h>

#include "ldmctl-json.h"
#include "ldmctl-model.h"

/* ldmctl-show.c */
int verb_list(sd_bus *bus, int argc, char **argv);
int verb_status(sd_bus *bus, int argc, char **argv);
int verb_jobs(sd_bus *bus, int argc, char **argv);
/* The members of a job's JSON object (the keys of `jobs --json`); m may be NULL. */
void ldmctl_json_job_members(JsonWriter *w, const LdmctlModel *m, const LdmctlJob *j);

/* ldmctl-job.c */
int verb_recover(sd_bus *bus, int argc, char **argv);   /* also "verify" */
int verb_wait(sd_bus *bus, int argc, char **argv);
int verb_cancel(sd_bus *bus, int argc, char **argv);
int verb_rescan(sd_bus *bus, int argc, char **argv);

/* ldmctl-monitor.c */
int verb_monitor(sd_bus *bus, int argc, char **argv);
