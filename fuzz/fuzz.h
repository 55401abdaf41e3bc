/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* fuzz.h: the libFuzzer entry point every target defines. Without libFuzzer, fuzz-main.c
 * turns a target into a program that runs it over files (the corpus regression test). */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
