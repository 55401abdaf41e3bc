/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* hash64.h: a fast 64-bit fingerprint of a byte buffer, for telling large buffers apart
 * cheaply (the scan compares every disk's 740 KiB config region with the others'). Not
 * cryptographic: equal fingerprints mean "probably equal", so callers that must be sure
 * compare the bytes as well. Two buffers of the same length that differ in a single aligned
 * 8-byte word always get different fingerprints. */

#include <stddef.h>
#include <stdint.h>

uint64_t hash64(const void *buf, size_t len);
