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
    char digest[48];          /* the store's digest of that state (sha1 hex of the text), "" for
                                 deletes; backends may record it for inventories */
    const char *text;         /* zone text for SAVE/VERIFY, borrowed for the call; else NULL */
    size_t text_len;
    int force; /* 1 = forced apply (op=push): the backend must rewrite the zone from this state
                  (SAVE) or remove it (DELETE) even when it believes it already has this
                  version, repairing what was lost or edited behind its back (the zone file and
                  its include line, the rows). Never a licence to overwrite a NEWER version or
                  to touch a zone dadns does not manage. */
    /* filled by the backend; a change that arrives with result != 0 (the consumer could not
     * build it, e.g. a state without text) is skipped by the backend, result and reason kept */
    int result;       /* 0 = applied (or verified), negative DADNS_E* = failed, will be retried */
    int permanent;    /* with result != 0: 1 = retrying cannot help (the backend refuses this
                         zone, e.g. not managed by dadns or over a backend limit): the consumer
                         moves it to the dead letters at once instead of retrying */
    int repaired;     /* VERIFY only: 1 when the backend had lost the zone and it was rewritten */
    char reason[256]; /* why it failed, when result != 0 */
};

/* One zone a backend really holds, as read from the backend itself (inventory). */
struct held_zone {
    char zone[NAME_BUF_SIZE]; /* normalized zone name */
    int has_serial;           /* 1 when @serial is the SOA serial the backend serves */
    uint32_t serial;
    char digest[48];  /* sha1 hex of the zone text it holds, comparable with the store's digest;
                         "" = the backend cannot tell, "modified" = changed behind dadns's back */
    uint64_t version; /* version dadns recorded in the backend itself (0 = unknown) */
    int managed;      /* 1 = dadns manages it, 0 = present but not dadns's (never touched) */
};

/* Called once per held zone; a non-zero return stops the inventory and is returned by it. */
typedef int (*held_zone_fn)(void *arg, const struct held_zone *z);

/* A backend as seen by the consumer loop. */
struct change_backend {
    void *ctx; /* the backend's own state, passed back to apply */
    /* apply - carry out every change of @changes (@n changes, distinct zones) and set each
     * change's result/reason. Work should be coalesced (one reconfigure or transaction per
     * batch, not per zone), and one failing zone must not fail the others. Changes that
     * arrive with result != 0 are skipped, their result and reason kept. Returns 0 when the
     * batch was processed (failures are in the results), or a negative DADNS_E* code when the
     * backend could not be used at all (then every change counts as failed). */
    int (*apply)(void *ctx, struct change *changes, size_t n);
    /* probe - cheap check that the backend is usable again (ping, rndc status), used by the
     * circuit breaker while it is open. Returns 0 when usable, else a negative DADNS_E* code
     * with @reason (@size bytes) set. NULL = always usable. */
    int (*probe)(void *ctx, char *reason, size_t size);
    /* inventory - call @fn for every zone the backend holds, read from the backend (files,
     * include, served SOA, database rows), not from the writer's memory. Returns 0, the
     * non-zero value @fn returned, or a negative DADNS_E* code with @reason set. NULL = not
     * supported. */
    int (*inventory)(void *ctx, held_zone_fn fn, void *arg, char *reason, size_t size);
};

#endif
