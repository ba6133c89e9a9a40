/* spool.h -- the ingest spool on disk: a directory with a lock file, the spool file of writes
 * waiting for Redis (spool.log) and the replay progress (spool.pos).
 *
 * Owns the files: the directory lock, appending with fsync, the scan at open (a torn record at
 * the end is cut off, a corrupt record with valid data after it stops replay there), reading
 * batches for replay, durable progress, and removing the file once everything is replayed.
 * The byte layouts are spoolrec.c's; when to spool and the Redis side are spooler.c's.
 * Not thread-safe: the caller serializes every call on one spool. Never logs. */
#ifndef DADNS_SPOOL_H
#define DADNS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spoolrec.h"

struct spool;

/* What spool_open found and repaired, for the caller to log. */
struct spool_report {
    uint64_t torn_offset;   /* where a torn tail record started (when torn_bytes > 0) */
    uint64_t torn_bytes;    /* octets cut off the end (a write a crash interrupted), 0 = none */
    int removed_incomplete; /* a spool file without a complete header was removed */
    int progress_lost;      /* spool.pos unreadable: replay restarts at the first record */
};

/* One batch of records read for replay, in file order. */
struct spool_batch {
    struct spoolrec *recs; /* @n decoded records; texts borrow from @bufs, NUL terminated */
    uint64_t *ends;        /* file offset just after each record */
    unsigned char **bufs;  /* owned raw records */
    size_t n;
};

/* spool_open - open (creating it and missing parents, mode 0700) the spool directory @dir,
 * take an exclusive flock on <dir>/lock (a second process gets DADNS_EIO "in use"), and scan
 * the spool file left by an earlier run from the saved progress on. @max_bytes limits the
 * spool file's size. On success *@out is the spool (free with spool_close) and @report (may be
 * NULL) says what was repaired; a corrupt record in the middle does not fail the open but
 * makes the spool stuck (spool_stuck). Returns 0, DADNS_EIO (@e names the path and the system
 * error: cannot create, not a directory, not writable, locked, unreadable) or DADNS_ENOMEM. */
int spool_open(const char *dir, uint64_t max_bytes, struct spool **out, struct spool_report *report,
               struct err *e);

/* spool_close - close the files, release the lock, free; NULL is fine. Leaves the files. */
void spool_close(struct spool *sp);

/* spool_path - the spool file's path (borrowed; valid until spool_close). */
const char *spool_path(const struct spool *sp);

/* spool_pending - records appended and not yet replayed (spool_commit'ed). */
size_t spool_pending(const struct spool *sp);

/* spool_bytes - the spool file's size (header and replayed records included; 0 when there is
 * no file). This is what app.spool_max_bytes limits. */
uint64_t spool_bytes(const struct spool *sp);

/* spool_full - 1 when the last append was refused for lack of space (until an append succeeds
 * or the spool is drained). */
int spool_full(const struct spool *sp);

/* spool_stuck - NULL while replay can reach the end; otherwise why it cannot (borrowed text):
 * a corrupt record with valid records after it, or a damaged file header or progress. Replay
 * stops before it, appends are refused, and the file is kept for the operator. */
const char *spool_stuck(const struct spool *sp);

/* spool_broken - NULL while appends work; otherwise why they are refused until a restart
 * (borrowed text): the spool is stuck, or an fsync failed (the page cache can no longer be
 * trusted), or a failed write could not be cut off again. Records appended before it stay
 * replayable and the file is still removed once drained. */
const char *spool_broken(const struct spool *sp);

/* spool_append - append @r and fsync the file (and the directory when the file is created)
 * before returning. Returns 0 once the record is durable; DADNS_ETOOBIG when it would take
 * the file over max_bytes (spool_full is then 1); DADNS_EIO when writing or fsync failed or
 * the spool is broken (a failed write is cut off again; a failed fsync breaks the spool);
 * DADNS_EINVAL for a record spoolrec_encode refuses; DADNS_ENOMEM. @e says which, with the
 * path. */
int spool_append(struct spool *sp, const struct spoolrec *r, struct err *e);

/* spool_read - read the next records to replay, from the replay position: at most @max_n
 * records and, beyond the first, at most @max_bytes octets. *@out (free with spool_batch_free)
 * holds 0 records when there is nothing to replay. A record that cannot be read back or
 * decoded makes the spool stuck at it (the batch then ends before it). Returns 0, DADNS_EIO
 * (read error) or DADNS_ENOMEM. */
int spool_read(struct spool *sp, size_t max_n, size_t max_bytes, struct spool_batch **out,
               struct err *e);

/* spool_batch_free - release a batch; NULL is fine. */
void spool_batch_free(struct spool_batch *b);

/* spool_commit - the first @n records of @b (read by the last spool_read) have been applied:
 * advance the replay position past them and save it (spool.pos, two alternating CRC-checked
 * slots, fdatasync). The position advances in memory even when saving fails; then DADNS_EIO is
 * returned (a crash would only re-apply those records). Returns 0 or DADNS_EIO. */
int spool_commit(struct spool *sp, const struct spool_batch *b, size_t n, struct err *e);

/* spool_drain - when every record is replayed (pending 0, not stuck) remove the spool file and
 * fsync the directory; *@removed says whether a file was removed. Once removed, the file is
 * closed and the next append starts a new file (new log id, so an old progress slot never
 * applies to it; created durably, directory fsync included), even when the directory fsync
 * then fails: that returns DADNS_EIO with *@removed 1 (the removal may not survive a crash; the
 * file would come back fully replayed). Returns 0 or DADNS_EIO. */
int spool_drain(struct spool *sp, int *removed, struct err *e);

/* spool_set_dir_fsync - for tests only: replace the fsync spool_drain calls on the directory
 * with @fn (NULL restores fsync), to inject a failure. Process-wide, not thread-safe. */
void spool_set_dir_fsync(int (*fn)(int fd));

#endif
