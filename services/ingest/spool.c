/* spool.c -- the spool directory, its files and their durability (see spool.h). */
#include "spool.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define LOG_NAME   "spool.log"
#define POS_NAME   "spool.pos"
#define LOCK_NAME  "lock"
#define PROBE_NAME "probe.tmp"
#define POS_SLOT2  512 /* offset of the second progress slot (another sector) */
#define SCAN_BUF   65536

struct spool {
    char *dir;          /* the directory, as configured */
    char *path;         /* <dir>/spool.log */
    int dirfd;          /* the directory (fsync after creating/removing files) */
    int lockfd;         /* <dir>/lock, flock'ed */
    int fd;             /* spool.log, -1 while there is none */
    int posfd;          /* spool.pos, -1 until first needed */
    uint64_t id;        /* log id of the current spool.log */
    uint64_t size;      /* committed (fsynced) size of spool.log; 0 without a file */
    uint64_t replay;    /* offset of the first record not yet replayed */
    uint64_t stop_at;   /* replay stops here when stuck on a corrupt record (else 0) */
    size_t pending;     /* records in [replay, size) (or [replay, stop_at)) */
    uint64_t max_bytes; /* app.spool_max_bytes */
    uint64_t pos_seq;   /* sequence of the newest progress slot written */
    int full;           /* the last append was refused for lack of space */
    char stuck[512];    /* why replay cannot go past stop_at, "" while it can */
    char broken[512];   /* why appends are refused until a restart, "" while they work */
};

/* fsync of the spool directory after removing a drained file; tests replace it with
 * spool_set_dir_fsync to inject a failure. */
static int (*dir_fsync)(int fd) = fsync;

/* ---- small file helpers ---------------------------------------------------------------- */

/* Write all @n octets at @off. Returns 0 or -1 with errno set. */
static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Read exactly @n octets at @off. Returns 0, or -1 with errno set (EIO at end of file). */
static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
    char *c = p;

    while (n > 0) {
        ssize_t r = pread(fd, c, n, (off_t)off);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = EIO;
            return -1;
        }
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* mkdir -p @path: missing parents 0755, the last component 0700. */
static int make_dirs(const char *path, struct err *e)
{
    char tmp[4096];
    size_t len = strlen(path), i;
    struct stat st;

    if (len == 0 || len >= sizeof(tmp))
        return err_set(e, DADNS_EIO, "spool directory \"%s\": empty or too long a path", path);
    memcpy(tmp, path, len + 1);
    for (i = 1; i < len; i++) {
        if (tmp[i] != '/')
            continue;
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return err_set(e, DADNS_EIO, "cannot create spool directory %s (at %s): %s", path, tmp,
                           strerror(errno));
        tmp[i] = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return err_set(e, DADNS_EIO, "cannot create spool directory %s: %s", path, strerror(errno));
    if (stat(path, &st) != 0)
        return err_set(e, DADNS_EIO, "cannot use spool directory %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(e, DADNS_EIO, "cannot use spool directory %s: %s", path, strerror(ENOTDIR));
    return 0;
}

/* Create and remove a file in the directory @dirfd. Returns 0 or -1 with errno set. */
static int probe_dir(int dirfd)
{
    int fd = openat(dirfd, PROBE_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        return -1;
    close(fd);
    return unlinkat(dirfd, PROBE_NAME, 0);
}

static uint64_t new_log_id(void)
{
    uint64_t id = 0;
    struct timespec ts;

    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id)) {
        clock_gettime(CLOCK_REALTIME, &ts);
        id =
            ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 40);
    }
    return id != 0 ? id : 1;
}

/* ---- progress -------------------------------------------------------------------------- */

static int open_pos(struct spool *sp, struct err *e)
{
    int created = 0;

    if (sp->posfd >= 0)
        return 0;
    sp->posfd = openat(sp->dirfd, POS_NAME, O_RDWR | O_CLOEXEC);
    if (sp->posfd < 0 && errno == ENOENT) {
        sp->posfd = openat(sp->dirfd, POS_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        created = 1;
    }
    if (sp->posfd < 0)
        return err_set(e, DADNS_EIO, "cannot open %s/%s: %s", sp->dir, POS_NAME, strerror(errno));
    if (created && fsync(sp->dirfd) != 0)
        return err_set(e, DADNS_EIO, "cannot fsync spool directory %s: %s", sp->dir,
                       strerror(errno));
    return 0;
}

/* Read the newest valid progress slot. Returns 1 when one was found, 0 when there is no
 * progress file (or it is empty), -1 when it exists but no slot is valid. */
static int load_pos(struct spool *sp, struct spoolrec_pos *pos)
{
    unsigned char slot[SPOOLREC_POS_SIZE];
    struct spoolrec_pos a, b;
    int fd, ha, hb;
    struct stat st;

    fd = openat(sp->dirfd, POS_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        close(fd);
        return 0;
    }
    ha = pread_all(fd, slot, sizeof(slot), 0) == 0 && spoolrec_pos_decode(slot, &a) == 0;
    hb = pread_all(fd, slot, sizeof(slot), POS_SLOT2) == 0 && spoolrec_pos_decode(slot, &b) == 0;
    close(fd);
    if (!ha && !hb)
        return -1;
    if (ha && (!hb || a.seq >= b.seq))
        *pos = a;
    else
        *pos = b;
    return 1;
}

static int save_pos(struct spool *sp, uint64_t offset, struct err *e)
{
    unsigned char slot[SPOOLREC_POS_SIZE];
    struct spoolrec_pos pos;
    int rc;

    if ((rc = open_pos(sp, e)) != 0)
        return rc;
    pos.seq = sp->pos_seq + 1;
    pos.id = sp->id;
    pos.offset = offset;
    spoolrec_pos_encode(&pos, slot);
    if (pwrite_all(sp->posfd, slot, sizeof(slot), (pos.seq & 1) ? POS_SLOT2 : 0) != 0 ||
        fdatasync(sp->posfd) != 0)
        return err_set(e, DADNS_EIO, "cannot save replay progress in %s/%s: %s", sp->dir, POS_NAME,
                       strerror(errno));
    sp->pos_seq = pos.seq;
    return 0;
}

/* ---- scan at open ---------------------------------------------------------------------- */

/* Read and decode the record at @off (which must end by sp->size) into @rec, its raw octets
 * into *@raw (caller frees). Returns 0, DADNS_EINVAL (not a valid record: @e says why,
 * *@total is its announced size or 0), DADNS_EIO or DADNS_ENOMEM. */
static int read_record(struct spool *sp, uint64_t off, uint64_t end, struct spoolrec *rec,
                       unsigned char **raw, size_t *total, struct err *e)
{
    unsigned char hdr[SPOOLREC_HDR_SIZE];
    unsigned char *p;
    int rc;

    *raw = NULL;
    *total = 0;
    if (end - off < SPOOLREC_HDR_SIZE)
        return err_set(e, DADNS_EINVAL, "incomplete record header");
    if (pread_all(sp->fd, hdr, sizeof(hdr), off) != 0)
        return err_set(e, DADNS_EIO, "cannot read %s: %s", sp->path, strerror(errno));
    if ((rc = spoolrec_header(hdr, sizeof(hdr), total, e)) != 0) {
        *total = 0;
        return rc;
    }
    if (*total > end - off)
        return err_set(e, DADNS_EINVAL, "record of %zu octets, only %" PRIu64 " left", *total,
                       end - off);
    /* One octet more: a NUL after the record, so that the zone text (its last field) is
     * also a C string for callers that want one. */
    p = malloc(*total + 1);
    if (p == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    p[*total] = '\0';
    if (pread_all(sp->fd, p, *total, off) != 0) {
        free(p);
        return err_set(e, DADNS_EIO, "cannot read %s: %s", sp->path, strerror(errno));
    }
    rc = spoolrec_decode(p, *total, rec, e);
    if (rc != 0) {
        free(p);
        return rc;
    }
    *raw = p;
    return 0;
}

/* Is there a valid record anywhere after @from? (Tells a corrupt record in the middle from a
 * torn tail: a crash interrupts only the last append, so nothing valid follows a torn one.) */
static int valid_after(struct spool *sp, uint64_t from)
{
    unsigned char *chunk = malloc(SCAN_BUF);
    uint64_t off = from, end = sp->size;
    int found = 0;

    if (chunk == NULL)
        return 1; /* cannot tell: the cautious answer keeps the file */
    while (!found && off + 4 <= end) {
        size_t n = end - off > SCAN_BUF ? SCAN_BUF : (size_t)(end - off), i;

        if (pread_all(sp->fd, chunk, n, off) != 0) {
            found = 1;
            break;
        }
        for (i = 0; i + 4 <= n && !found; i++) {
            struct spoolrec rec;
            unsigned char *raw;
            size_t total;

            if (memcmp(chunk + i, "DSPR", 4) != 0)
                continue;
            if (read_record(sp, off + i, end, &rec, &raw, &total, NULL) == 0) {
                spoolrec_clear(&rec);
                free(raw);
                found = 1;
            }
        }
        if (n < SCAN_BUF)
            break;
        off += n - 3; /* overlap: a magic split across chunks */
    }
    free(chunk);
    return found;
}

/* Count the records from sp->replay; cut a torn tail, or mark the spool stuck at a corrupt
 * record that valid data follows. */
static int scan(struct spool *sp, struct spool_report *rep, struct err *e)
{
    uint64_t off = sp->replay;
    struct err re;
    int rc;

    while (off < sp->size) {
        struct spoolrec rec;
        unsigned char *raw;
        size_t total;

        rc = read_record(sp, off, sp->size, &rec, &raw, &total, &re);
        if (rc == 0) {
            spoolrec_clear(&rec);
            free(raw);
            sp->pending++;
            off += total;
            continue;
        }
        if (rc != DADNS_EINVAL)
            return err_set(e, rc, "%s", re.text);
        if (valid_after(sp, off + 1)) {
            sp->stop_at = off;
            snprintf(sp->stuck, sizeof(sp->stuck),
                     "corrupt record at offset %" PRIu64
                     " of %.200s (%.120s) with valid records after "
                     "it: replay stops there; move the file aside to continue",
                     off, sp->path, re.text);
            return 0;
        }
        /* A torn tail: an append a crash interrupted (never acknowledged). */
        if (ftruncate(sp->fd, (off_t)off) != 0 || fsync(sp->fd) != 0)
            return err_set(e, DADNS_EIO, "cannot truncate the torn end of %s: %s", sp->path,
                           strerror(errno));
        rep->torn_offset = off;
        rep->torn_bytes = sp->size - off;
        sp->size = off;
    }
    return 0;
}

/* Open spool.log if it exists, check its header, find the replay position and scan. */
static int open_log(struct spool *sp, struct spool_report *rep, struct err *e)
{
    unsigned char hdr[SPOOLREC_FILE_HDR_SIZE];
    struct spoolrec_pos pos;
    struct stat st;
    struct err he;
    int have;

    sp->fd = openat(sp->dirfd, LOG_NAME, O_RDWR | O_CLOEXEC);
    if (sp->fd < 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, DADNS_EIO, "cannot open %s: %s", sp->path, strerror(errno));
    }
    if (fstat(sp->fd, &st) != 0)
        return err_set(e, DADNS_EIO, "cannot stat %s: %s", sp->path, strerror(errno));
    sp->size = (uint64_t)st.st_size;
    if (sp->size < SPOOLREC_FILE_HDR_SIZE) {
        /* Created, but the crash came before its header was durable: no record in it was
         * ever acknowledged. */
        close(sp->fd);
        sp->fd = -1;
        sp->size = 0;
        if (unlinkat(sp->dirfd, LOG_NAME, 0) != 0 || fsync(sp->dirfd) != 0)
            return err_set(e, DADNS_EIO, "cannot remove the incomplete %s: %s", sp->path,
                           strerror(errno));
        rep->removed_incomplete = 1;
        return 0;
    }
    if (pread_all(sp->fd, hdr, sizeof(hdr), 0) != 0)
        return err_set(e, DADNS_EIO, "cannot read %s: %s", sp->path, strerror(errno));
    if (spoolrec_file_header_parse(hdr, &sp->id, &he) != 0) {
        sp->replay = sp->stop_at = SPOOLREC_FILE_HDR_SIZE;
        snprintf(sp->stuck, sizeof(sp->stuck), "%.200s: %.120s; move the file aside to continue",
                 sp->path, he.text);
        return 0;
    }
    sp->replay = SPOOLREC_FILE_HDR_SIZE;
    have = load_pos(sp, &pos);
    if (have > 0)
        sp->pos_seq = pos.seq;
    if (have > 0 && pos.id == sp->id) {
        if (pos.offset < SPOOLREC_FILE_HDR_SIZE || pos.offset > sp->size) {
            sp->stop_at = SPOOLREC_FILE_HDR_SIZE;
            snprintf(sp->stuck, sizeof(sp->stuck),
                     "replay progress %" PRIu64 " is outside %.200s (%" PRIu64
                     " octets): the file was changed behind ingest's back; move it aside",
                     pos.offset, sp->path, sp->size);
            return 0;
        }
        sp->replay = pos.offset;
    } else if (have < 0) {
        rep->progress_lost = 1;
    }
    return scan(sp, rep, e);
}

int spool_open(const char *dir, uint64_t max_bytes, struct spool **out, struct spool_report *report,
               struct err *e)
{
    struct spool *sp = calloc(1, sizeof(*sp));
    struct spool_report dummy;
    size_t plen;
    char pid[32];
    int rc;

    if (report == NULL)
        report = &dummy;
    memset(report, 0, sizeof(*report));
    if (sp == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    sp->dirfd = sp->lockfd = sp->fd = sp->posfd = -1;
    sp->max_bytes = max_bytes;
    plen = strlen(dir) + sizeof(LOG_NAME) + 2;
    sp->dir = strdup(dir);
    sp->path = malloc(plen);
    if (sp->dir == NULL || sp->path == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(sp->path, plen, "%s/%s", dir, LOG_NAME);
    if ((rc = make_dirs(dir, e)) != 0)
        goto fail;
    sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dirfd < 0) {
        rc = err_set(e, DADNS_EIO, "cannot open spool directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    sp->lockfd = openat(sp->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lockfd < 0) {
        rc = err_set(e, DADNS_EIO, "cannot write in spool directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = err_set(e, DADNS_EIO,
                         "spool directory %s is in use by another dadns-ingest (%s/" LOCK_NAME
                         " is locked)",
                         dir, dir);
        else
            rc = err_set(e, DADNS_EIO, "cannot lock spool directory %s (%s/" LOCK_NAME "): %s", dir,
                         dir, strerror(errno));
        goto fail;
    }
    /* The holder's pid, for the operator; then a file created and removed again proves that
     * the spool file can be created when Redis goes away (not only at that moment). */
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(sp->lockfd, 0) != 0 || pwrite_all(sp->lockfd, pid, strlen(pid), 0) != 0 ||
        probe_dir(sp->dirfd) != 0) {
        rc = err_set(e, DADNS_EIO, "cannot write in spool directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    if ((rc = open_log(sp, report, e)) != 0)
        goto fail;
    *out = sp;
    return 0;
fail:
    spool_close(sp);
    return rc;
}

void spool_close(struct spool *sp)
{
    if (sp == NULL)
        return;
    if (sp->fd >= 0)
        close(sp->fd);
    if (sp->posfd >= 0)
        close(sp->posfd);
    if (sp->lockfd >= 0)
        close(sp->lockfd);
    if (sp->dirfd >= 0)
        close(sp->dirfd);
    free(sp->dir);
    free(sp->path);
    free(sp);
}

const char *spool_path(const struct spool *sp)
{
    return sp->path;
}

size_t spool_pending(const struct spool *sp)
{
    return sp->pending;
}

uint64_t spool_bytes(const struct spool *sp)
{
    return sp->size;
}

int spool_full(const struct spool *sp)
{
    return sp->full;
}

const char *spool_stuck(const struct spool *sp)
{
    return sp->stuck[0] != '\0' ? sp->stuck : NULL;
}

const char *spool_broken(const struct spool *sp)
{
    if (sp->stuck[0] != '\0')
        return sp->stuck;
    return sp->broken[0] != '\0' ? sp->broken : NULL;
}

/* ---- append ---------------------------------------------------------------------------- */

/* Create spool.log with a fresh header, durable (file and directory) before use. */
static int create_log(struct spool *sp, struct err *e)
{
    unsigned char hdr[SPOOLREC_FILE_HDR_SIZE];
    int saved;

    sp->id = new_log_id();
    spoolrec_file_header(sp->id, hdr);
    sp->fd = openat(sp->dirfd, LOG_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (sp->fd < 0)
        return err_set(e, DADNS_EIO, "cannot create %s: %s", sp->path, strerror(errno));
    if (pwrite_all(sp->fd, hdr, sizeof(hdr), 0) != 0 || fsync(sp->fd) != 0 ||
        fsync(sp->dirfd) != 0) {
        saved = errno;
        close(sp->fd);
        sp->fd = -1;
        unlinkat(sp->dirfd, LOG_NAME, 0);
        return err_set(e, DADNS_EIO, "cannot create %s: %s", sp->path, strerror(saved));
    }
    sp->size = sp->replay = SPOOLREC_FILE_HDR_SIZE;
    sp->pending = 0;
    return 0;
}

int spool_append(struct spool *sp, const struct spoolrec *r, struct err *e)
{
    struct buf b;
    uint64_t need, have;
    int rc, saved;

    if (spool_broken(sp) != NULL)
        return err_set(e, DADNS_EIO, "spool unusable: %s", spool_broken(sp));
    buf_init(&b, (size_t)SPOOLREC_MAX_PAYLOAD + SPOOLREC_HDR_SIZE);
    if ((rc = spoolrec_encode(r, &b, e)) != 0)
        goto out;
    need = b.len + (sp->fd < 0 ? SPOOLREC_FILE_HDR_SIZE : 0);
    have = sp->size;
    if (have + need > sp->max_bytes) {
        sp->full = 1;
        rc = err_set(e, DADNS_ETOOBIG,
                     "spool full: %" PRIu64 " of %" PRIu64 " bytes used, the change needs %" PRIu64,
                     have, sp->max_bytes, need);
        goto out;
    }
    if (sp->fd < 0 && (rc = create_log(sp, e)) != 0)
        goto out;
    if (pwrite_all(sp->fd, b.data, b.len, sp->size) != 0) {
        saved = errno;
        rc = err_set(e, DADNS_EIO, "cannot write %s: %s", sp->path, strerror(saved));
        /* Cut the partial record off so that the next append does not follow garbage. */
        if (ftruncate(sp->fd, (off_t)sp->size) != 0)
            snprintf(sp->broken, sizeof(sp->broken),
                     "a failed append to %.200s could not be cut off (%s): restart ingest",
                     sp->path, strerror(errno));
        goto out;
    }
    if (fdatasync(sp->fd) != 0) {
        saved = errno;
        rc = err_set(e, DADNS_EIO, "cannot fsync %s: %s", sp->path, strerror(saved));
        /* After a failed fsync the page cache can no longer be trusted: stop appending. The
         * records before it were fsynced earlier and stay replayable. */
        if (ftruncate(sp->fd, (off_t)sp->size) != 0) {
            /* ignored: appends are refused from now on either way */
        }
        snprintf(sp->broken, sizeof(sp->broken), "fsync of %.200s failed (%s): restart ingest",
                 sp->path, strerror(saved));
        goto out;
    }
    sp->size += b.len;
    sp->pending++;
    sp->full = 0;
    rc = 0;
out:
    buf_free(&b);
    return rc;
}

/* ---- replay ---------------------------------------------------------------------------- */

void spool_batch_free(struct spool_batch *b)
{
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->n; i++) {
        spoolrec_clear(&b->recs[i]);
        free(b->bufs[i]);
    }
    free(b->recs);
    free(b->ends);
    free(b->bufs);
    free(b);
}

int spool_read(struct spool *sp, size_t max_n, size_t max_bytes, struct spool_batch **out,
               struct err *e)
{
    struct spool_batch *b = calloc(1, sizeof(*b));
    uint64_t off = sp->replay, end = sp->stop_at ? sp->stop_at : sp->size;
    size_t bytes = 0;
    struct err re;
    int rc = 0;

    *out = NULL;
    if (max_n == 0)
        max_n = 1;
    if (b == NULL || (b->recs = calloc(max_n, sizeof(*b->recs))) == NULL ||
        (b->ends = calloc(max_n, sizeof(*b->ends))) == NULL ||
        (b->bufs = calloc(max_n, sizeof(*b->bufs))) == NULL) {
        spool_batch_free(b);
        return err_set(e, DADNS_ENOMEM, "out of memory");
    }
    while (sp->fd >= 0 && off < end && b->n < max_n && (b->n == 0 || bytes < max_bytes)) {
        size_t total;

        rc = read_record(sp, off, end, &b->recs[b->n], &b->bufs[b->n], &total, &re);
        if (rc == DADNS_EINVAL) {
            /* It was valid when scanned or written: the disk changed under us. */
            sp->stop_at = off;
            snprintf(sp->stuck, sizeof(sp->stuck),
                     "record at offset %" PRIu64 " of %.200s cannot be read back (%.120s): replay "
                     "stops there; move the file aside to continue",
                     off, sp->path, re.text);
            rc = 0;
            break;
        }
        if (rc != 0) {
            err_set(e, rc, "%s", re.text);
            spool_batch_free(b);
            return rc;
        }
        bytes += total;
        off += total;
        b->ends[b->n++] = off;
    }
    *out = b;
    return 0;
}

int spool_commit(struct spool *sp, const struct spool_batch *b, size_t n, struct err *e)
{
    if (n == 0 || b == NULL)
        return 0;
    if (n > b->n)
        n = b->n;
    sp->replay = b->ends[n - 1];
    sp->pending = sp->pending >= n ? sp->pending - n : 0;
    return save_pos(sp, sp->replay, e);
}

int spool_drain(struct spool *sp, int *removed, struct err *e)
{
    *removed = 0;
    if (sp->fd < 0 || sp->pending > 0 || sp->stuck[0] != '\0')
        return 0;
    if (unlinkat(sp->dirfd, LOG_NAME, 0) != 0)
        return err_set(e, DADNS_EIO, "cannot remove the replayed %s: %s", sp->path,
                       strerror(errno));
    /* The file is gone: never append to the deleted inode. The next append creates a new file
     * and fsyncs it and the directory before acknowledging anything. */
    close(sp->fd);
    sp->fd = -1;
    sp->size = sp->replay = sp->stop_at = 0;
    sp->full = 0;
    *removed = 1;
    /* A failed fsync here only risks the replayed file coming back after a crash, with its
     * progress at its end (nothing to replay); report it, the spool stays usable. */
    if (dir_fsync(sp->dirfd) != 0)
        return err_set(e, DADNS_EIO, "removed the replayed %s, but cannot fsync directory %s: %s",
                       sp->path, sp->dir, strerror(errno));
    return 0;
}

void spool_set_dir_fsync(int (*fn)(int fd))
{
    dir_fsync = fn != NULL ? fn : fsync;
}
