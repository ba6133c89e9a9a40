/* change.h -- what a writer is asked to do for one zone, and how it reports back.
 *
 * The consumer loop (consumer.h) turns stream notifications into a batch of changes, at most one
 * per zone, each carrying the zone's latest stored state; a backend applies the batch and sets
 * each change's result. Plain data: no I/O here. */
#ifndef DADNS_CHANGE_H
#define DADNS_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "name.h"

enum change_op {
    CHANGE_SAVE = 1, /* make the backend serve @text (new or changed zone) */
    CHANGE_DELETE,   /* make the backend stop serving the zone */
    CHANGE_VERIFY,   /* the backend already applied this version: check it still serves it
                        exactly and repair it if not (an unchanged zone re-saved in DA) */
};

struct change {
    enum change_op op;
    char zone[NAME_BUF_SIZE]; /* normalized zone name (validated at ingest, re-checked) */
    uint64_t version;         /* version of the stored state this change applies */
    uint32_t serial;          /* SOA serial of that state (0 for deletes) */
    const char *text;         /* zone text for SAVE/VERIFY, borrowed for the call; else NULL */
    size_t text_len;
    /* filled by the backend */
    int result;       /* 0 = applied (or verified), negative DADNS_E* = failed, will be retried */
    int repaired;     /* VERIFY only: 1 when the backend had lost the zone and it was rewritten */
    char reason[256]; /* why it failed, when result != 0 */
};

/* A backend as seen by the consumer loop. */
struct change_backend {
    void *ctx; /* the backend's own state, passed back to apply */
    /* apply - carry out every change of @changes (@n changes, distinct zones) and set each
     * change's result/reason. Work should be coalesced (one reconfigure or transaction per
     * batch, not per zone), and one failing zone must not fail the others. Returns 0 when the
     * batch was processed (failures are in the results), or a negative DADNS_E* code when the
     * backend could not be used at all (then every change counts as failed). */
    int (*apply)(void *ctx, struct change *changes, size_t n);
};

#endif
