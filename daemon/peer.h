/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* peer.h: noticing that a caller left the bus, without ever waiting for the bus daemon.
 * sd_bus_track_add_name() asks it synchronously whether the name is still there
 * (GetNameOwner), which stalls every client for a round trip, and anyone can make ldmd
 * track their name (Wait(), Recover()). A PeerWatch subscribes to the name's
 * NameOwnerChanged instead and, when asked to, checks the name with an asynchronous
 * GetNameOwner sent after the subscription: the bus daemon handles both in order, so a peer
 * that left before the subscription took effect is seen by the check, one that leaves later
 * by the signal. A caller whose uid is asked of the bus daemon next needs no check: that
 * question, sent after the subscription too, fails with NameHasNoOwner for a gone caller. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "macro.h"

typedef struct PeerWatch PeerWatch;

/* Called once, from the loop, when the peer is found gone; may free the watch. */
typedef void (*PeerGoneFn)(PeerWatch *w, void *userdata);

/* Watches the sender of `call`. -ENXIO when it has none (a direct connection: nothing to
 * watch), -EINVAL when the bus is not a message bus. */
int peer_watch_new(sd_bus_message *call, bool check, PeerGoneFn gone, void *userdata, PeerWatch **ret);
PeerWatch *peer_watch_free(PeerWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(PeerWatch *, peer_watch_free);
