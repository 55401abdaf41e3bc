/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* peer.c: watching a bus peer leave (see peer.h). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "peer.h"

struct PeerWatch {
        char *name;
        sd_bus_slot *match;   /* NameOwnerChanged of `name` */
        sd_bus_slot *check;   /* GetNameOwner in flight */
        PeerGoneFn gone;
        void *userdata;
};

PeerWatch *peer_watch_free(PeerWatch *w) {
        if (!w)
                return NULL;
        sd_bus_slot_unref(w->match);
        sd_bus_slot_unref(w->check);
        free(w->name);
        free(w);
        return NULL;
}

/* Unsubscribes first: the owner may free the watch, and must hear of the peer only once. */
static void peer_gone(PeerWatch *w) {
        w->match = sd_bus_slot_unref(w->match);
        w->check = sd_bus_slot_unref(w->check);
        log_debug("%s left the bus.", w->name);
        w->gone(w, w->userdata);
}

static int peer_on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PeerWatch *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        /* A unique name is never taken again: any change is its end. */
        if (strcmp(name, w->name) == 0 && !*new_owner)
                peer_gone(w);
        return 0;
}

/* The subscription was refused (the bus daemon limits match rules per connection, 512 on a
 * system bus, and anyone can make ldmd watch callers): log it, and serve on without it.
 * With no handler here sd-bus takes the refusal for the connection's failure and closes
 * the connection, and with it the daemon. */
static int peer_on_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PeerWatch *w = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                log_warning("Cannot watch %s leave the bus: %s", w->name, e->message);
        return 0;
}

static int peer_on_check(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PeerWatch *w = userdata;

        w->check = sd_bus_slot_unref(w->check);
        if (sd_bus_message_is_method_error(reply, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                peer_gone(w);
        return 0;
}

int peer_watch_new(sd_bus_message *call, bool check, PeerGoneFn gone, void *userdata, PeerWatch **ret) {
        _cleanup_(peer_watch_freep) PeerWatch *w = NULL;
        _cleanup_free_ char *match = NULL;
        sd_bus *bus = sd_bus_message_get_bus(call);
        const char *sender = sd_bus_message_get_sender(call);
        int r;

        if (!sender)
                return -ENXIO;
        r = sd_bus_is_bus_client(bus);
        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (PeerWatch) { .name = strdup(sender), .gone = gone, .userdata = userdata };
        if (!w->name)
                return -ENOMEM;
        /* Unique names hold no quotes or backslashes: no escaping needed in the rule. */
        if (asprintf(&match,
                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'", sender) < 0) {
                match = NULL;
                return -ENOMEM;
        }
        r = sd_bus_add_match_async(bus, &w->match, match, peer_on_owner_changed, peer_on_match_installed, w);
        if (r < 0)
                return r;
        if (check) {
                r = sd_bus_call_method_async(bus, &w->check, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "GetNameOwner", peer_on_check, w,
                                             "s", sender);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(w);
        return 0;
}
