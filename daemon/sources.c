/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sources.c: the candidate disks (see manager.h). A plain array: a few hundred entries at
 * most, changed only by udev events and options. */

#include "log.h"
#include "manager.h"

Source *manager_find_source(Manager *m, const char *path) {
        for (size_t i = 0; i < m->n_sources; i++)
                if (strcmp(m->sources[i].path, path) == 0)
                        return &m->sources[i];
        return NULL;
}

/* Adds path, or marks a known one as changed; either way it is probed with the next scan. */
int manager_add_source(Manager *m, const char *path, SourceKind kind) {
        Source *s = manager_find_source(m, path), *n;

        if (!s) {
                if (m->n_sources >= MANAGER_SOURCES_MAX)
                        return log_warning_errno(E2BIG, "Not watching %s: already %u disks.",
                                                 path, MANAGER_SOURCES_MAX);
                n = realloc(m->sources, (m->n_sources + 1) * sizeof(Source));
                if (!n)
                        return log_oom();
                m->sources = n;
                s = &m->sources[m->n_sources];
                *s = (Source) { .path = strdup(path), .kind = kind };
                if (!s->path)
                        return log_oom();
                m->n_sources++;
                log_debug("Watching %s.", path);
        }
        s->verdict = VERDICT_UNKNOWN;
        s->stamp = ++m->stamp;
        return 0;
}

void manager_remove_source(Manager *m, const char *path) {
        Source *s = manager_find_source(m, path);

        if (!s)
                return;
        log_debug("No longer watching %s.", path);
        free(s->path);
        memmove(s, s + 1, (size_t) (&m->sources[m->n_sources] - (s + 1)) * sizeof(Source));
        m->n_sources--;
        m->stamp++;
}
