/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* fuzz-database: feeds raw bytes as a config region (VMDB + VBLK slots) to the database
 * parser, then re-serialises what it accepted (the writer's path over hostile records). */

#include "database.h"
#include "fuzz.h"

#define LOG_SIZE (224 * 512)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(ldm_database_freep) LdmDatabase *db = NULL;
        static const uint8_t log[LOG_SIZE];
        LdmDiag err;

        if (size > 1481 * 512)
                return 0;
        if (ldm_database_parse(data, size, log, sizeof(log), "fuzz", 0, 1498 * 512, &db, &err) < 0)
                return 0;
        (void) ldm_database_serialize(db);
        return 0;
}
