/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* log.h: the daemon's logging: one line per message on stderr, with a "<N>" syslog priority
 * prefix when stderr is connected to the journal (systemd then files the line under that
 * priority), plain "ldmd: " text on a terminal. A message's control characters and invalid
 * UTF-8 are escaped (utf8.h), so one message is always one line. Only daemon/ logs; the
 * library never does. */

#include <errno.h>
#include <syslog.h>

#include "macro.h"

/* Messages above this priority are dropped (LOG_INFO by default; $LDMD_LOG_LEVEL or
 * log_set_max_level() change it). */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Reads $LDMD_LOG_LEVEL ("debug", "info", … or a number) and checks where stderr goes. */
void log_setup(void);
/* Parses "debug"/"info"/"notice"/"warning"/"err"/"crit"/"alert"/"emerg" or 0–7. */
int log_level_from_string(const char *s);

/* Logs; errno is set from `error` for %m. Returns -abs(error) (or 0 when error is 0), so a
 * caller can write `return log_error_errno(r, "Failed to …: %m");`. */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, (error), __VA_ARGS__)

/* For allocation failures: logs and returns -ENOMEM. */
#define log_oom() log_full_errno(LOG_ERR, ENOMEM, "Out of memory.")
