/* store.h -- the zone store in Redis: the contract between ingest and the writers.
 *
 * Keys (P = redis.prefix, default "dadns:"):
 *   P zone:<name>     hash: text host user serial digest version updated deleted
 *   P zones           set of live zone names
 *   P version         global version counter (INCR)
 *   P changes         stream of notifications: op (save|delete|refresh|push|inventory) zone
 *                     version [backend] [request] (stream.h, consumer.h)
 *   P applied:<be>    hash zone -> version that backend <be> has applied
 * Every write is one Lua script, so the state hash and its notification can never disagree.
 * Owns the scripts and key names; the connection is an rconn (one store per thread). */
#ifndef DADNS_STORE_H
#define DADNS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "name.h"
#include "rconn.h"

#define STORE_OWNER_MAX 256 /* longest hostname/username kept, including NUL */

struct store;

/* store_new - a store over a new (lazily connected) rconn for @cfg, named @client_name.
 * Free with store_free. Returns 0 or DADNS_ENOMEM. */
int store_new(const struct config *cfg, const char *client_name, struct store **out);

/* store_free - release @st and its connection; NULL is fine. */
void store_free(struct store *st);

/* store_conn - the store's connection, borrowed (for stream commands on the same thread). */
struct rconn *store_conn(struct store *st);

/* store_key - write the key "<prefix><suffix>" into @out (@size bytes). Returns 0 or
 * DADNS_ETOOBIG. */
int store_key(const struct store *st, const char *suffix, char *out, size_t size);

/* store_ping - PING on the store's connection. 0 or DADNS_EREDIS/DADNS_EREPLY. */
int store_ping(struct store *st, struct err *e);

/* ---- ingest side ---- */

struct store_save_result {
    uint64_t version;                /* version of the zone's state after the call */
    int changed;                     /* 1 = new content (version bumped), 0 = identical push */
    char prev_host[STORE_OWNER_MAX]; /* owner hostname before the call ("" if none) */
};

/* store_save - store @text (@len octets, validated) as the latest state of normalized @zone
 * with SOA @serial and owner @host/@user, and append a notification, in one script. Content
 * identical to the live state does not bump the version: it only updates the owner and appends
 * a "refresh" notification (writers then verify cheaply that their backend still serves it).
 * Returns 0 only once Redis has accepted the write; DADNS_EREDIS (outcome unknown) or
 * DADNS_EREPLY (refused, e.g. OOM) otherwise. */
int store_save(struct store *st, const char *zone, const char *text, size_t len, uint32_t serial,
               const char *host, const char *user, struct store_save_result *res, struct err *e);

enum store_del_outcome {
    STORE_DEL_DELETED = 1, /* tombstoned, notification appended */
    STORE_DEL_ABSENT,      /* no live zone of that name: nothing to do */
    STORE_DEL_REFUSED,     /* owned by another hostname: kept */
    STORE_DEL_CHANGED,     /* version changed since read, kept (store_delete_versioned only) */
};

struct store_del_result {
    enum store_del_outcome outcome;
    uint64_t version;            /* tombstone version when DELETED, the stored one when CHANGED */
    char owner[STORE_OWNER_MAX]; /* owner hostname when REFUSED */
};

/* store_delete - delete the @n normalized @zones requested by DA server @host (user @user) in
 * one script: each live zone owned by @host (or with no recorded owner) becomes a tombstone and
 * gets a notification; zones owned by another host are refused and kept. @res has @n entries.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY (then nothing is known to have changed). */
int store_delete(struct store *st, const char *const *zones, size_t n, const char *host,
                 const char *user, struct store_del_result *res, struct err *e);

/* store_delete_versioned - store_delete, in the same script, with one more rule: zone i is
 * deleted only while its stored version is still @versions[i] (0 = any), else it is kept and
 * reported STORE_DEL_CHANGED (the version is the stored one). For deletes decided on a snapshot
 * (the reconciler's orphans): a zone re-created since the snapshot was read is not deleted.
 * @versions has @n entries, borrowed. Returns as store_delete. */
int store_delete_versioned(struct store *st, const char *const *zones, const uint64_t *versions,
                           size_t n, const char *host, const char *user,
                           struct store_del_result *res, struct err *e);

struct store_owner {
    int found;                  /* 0 = free, 1 = the zone itself, 2 = an ancestor zone */
    char zone[NAME_BUF_SIZE];   /* the live zone found */
    char host[STORE_OWNER_MAX]; /* its owner */
    char user[STORE_OWNER_MAX];
};

/* store_exists - look up normalized @zone, and when @check_parents every ancestor zone up to
 * (not including) the last label, nearest first, in one script. Fills @out. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY. */
int store_exists(struct store *st, const char *zone, int check_parents, struct store_owner *out,
                 struct err *e);

/* ---- writer side ---- */

struct store_state {
    int exists;       /* 0 = no hash at all (never stored or purged) */
    int deleted;      /* tombstone */
    uint64_t version; /* version of the stored state */
    uint32_t serial;
    char digest[48];  /* sha1 hex of the text as stored, "" for tombstones or when missing */
    const char *text; /* borrowed from the batch (see store_fetch); NULL for tombstones */
    size_t text_len;
    uint64_t applied; /* version @backend has applied, 0 if none */
};

/* Replies kept alive for the borrowed texts of a fetch. */
struct store_batch;

/* store_fetch - read the latest state of the @n zones and what backend @backend has applied
 * for each, pipelined. Fills @out (@n entries); texts stay valid until store_batch_free(*@hold).
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int store_fetch(struct store *st, const char *backend, const char *const *zones, size_t n,
                struct store_state *out, struct store_batch **hold, struct err *e);

/* store_batch_free - release what store_fetch kept; NULL is fine. */
void store_batch_free(struct store_batch *b);

/* store_commit - in one script: raise the applied version of each of the @nz @zones to
 * @versions[i] for @backend (never lowering it), then XACK the @nids stream @ids in group
 * @backend. Either list may be empty. Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int store_commit(struct store *st, const char *backend, const char *const *zones,
                 const uint64_t *versions, size_t nz, const char *const *ids, size_t nids,
                 struct err *e);

#endif
