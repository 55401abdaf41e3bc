/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* state-file.h: the small files of the engine's state directory (checkpoints, sync notes),
 * which must be either the old or the new one after a power cut: written whole under a
 * temporary name, fsync'd, renamed over the old one, the directory fsync'd; removed with the
 * directory fsync'd. */

#include <stddef.h>

/* Replaces path (in dir) by size bytes of buf, through tmp (also in dir). 0 or negative errno;
 * on failure tmp is gone and path is what it was. */
int state_file_replace(const char *dir, const char *path, const char *tmp, const void *buf, size_t size);
/* Removes path (in dir); 0 when it was not there. */
int state_file_remove(const char *dir, const char *path);
