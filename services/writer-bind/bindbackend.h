/* bindbackend.h -- the BIND backend of dadns-writer-bind: applies a batch of changes as zone
 * files in zones_dir, one regenerated named.conf include, one "rndc reconfig" per batch when
 * zones came or went, and parallel "rndc reload <zone>" for zones named already had.
 *
 * Owns the files it writes and the in-memory set of live zones; the text comes from bindconf.c,
 * the processes from rndc.c, the batches from the consumer loop (consumer.h). */
#ifndef DADNS_BINDBACKEND_H
#define DADNS_BINDBACKEND_H

#include <stddef.h>

#include "change.h"
#include "config.h"
#include "err.h"

struct bindbackend;

/* bindbackend_open - get ready to apply changes for backend @bc (type bind; borrowed, must
 * outlive the backend): check zones_dir (absolute, safe to quote) and create it (0755, with its
 * parents) when missing, remove temporary files a crash left in it, and read the include at
 * bc->named_conf into the live zone set (a missing include is an empty set and is written at
 * once, empty, so that named can start). The first apply always rewrites the include and runs
 * "rndc reconfig", since named may not have loaded the include found here.
 * On success *@out is a new backend (free with bindbackend_free). Returns 0, DADNS_ECONFIG (bad
 * settings or an include this module did not write, @e names the file and line), DADNS_EIO or
 * DADNS_ENOMEM, with @e set. */
int bindbackend_open(const struct backend_conf *bc, struct bindbackend **out, struct err *e);

/* bindbackend_apply - struct change_backend.apply for @ctx = a struct bindbackend (the apply
 * of dadns-writer-bind): apply the @n changes of @changes (distinct zones) and set each one's
 * result, repaired and reason. Changes that arrive with result != 0 (e.g. a state without
 * text) are skipped, their result and reason kept.
 *  - First the include on disk is checked against the live set: by its stat (a change since
 *    this module last wrote or checked it), or by its content when a change is forced
 *    (change.force; at most once a second while the stat is untouched). When it differs
 *    (edited, restored or deleted behind dadns's back), it is regenerated and "rndc reconfig"
 *    runs in this batch, every change of the batch then depending on that reconfig, and the
 *    zones written are also reloaded.
 *  - SAVE writes the zone file atomically; a new zone joins the include, a known one is
 *    reloaded (a forced SAVE reloads it even when a reconfig is owed for it, and a reload that
 *    finds named without the zone re-sends the include).
 *  - DELETE drops the zone from the include; its file is removed once named no longer has it
 *    (also when the zone was not in the live set: a forced delete of a leftover).
 *  - VERIFY succeeds without rndc when the zone is listed and its file holds exactly what SAVE
 *    would write; otherwise it rewrites the file (repaired = 1) and continues as SAVE.
 * Then, when the zone set changed (or an earlier reconfig failed), the include is rewritten and
 * "rndc reconfig" runs once; when that fails every change that depended on it fails with rndc's
 * message and the next batch tries again. Zones named already had are then reloaded, up to
 * rndc_parallel at once. A failed file write or reload fails only its own zone. A zone name
 * BIND cannot take fails with permanent = 1 (the consumer moves it to the dead letters).
 * Returns 0 (the results say what failed); DADNS_EBACKEND when every change it carried out
 * failed, some on rndc, and "rndc status" fails too (named unreachable: the consumer's circuit
 * breaker counts the whole batch; the per-change results stay as they are); DADNS_ENOMEM when
 * it could not start (then every change is marked failed). */
int bindbackend_apply(void *ctx, struct change *changes, size_t n);

/* bindbackend_probe - struct change_backend.probe for @ctx = a struct bindbackend (the
 * consumer's circuit breaker): "rndc status". Returns 0 when named answers, else
 * DADNS_EBACKEND with @reason (@size octets) = rndc's message. */
int bindbackend_probe(void *ctx, char *reason, size_t size);

/* bindbackend_zone_count - the number of zones in the live set (what the include lists). */
size_t bindbackend_zone_count(const struct bindbackend *b);

/* bindbackend_conf - the settings @b was opened with (borrowed from the caller of
 * bindbackend_open); for bindinventory.c, which reads the include and zones_dir itself. */
const struct backend_conf *bindbackend_conf(const struct bindbackend *b);

/* bindbackend_free - release @b (closes its directories; files stay); NULL is fine. */
void bindbackend_free(struct bindbackend *b);

#endif
