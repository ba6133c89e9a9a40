/* bindbackend.c -- zone files, the include and rndc for one batch of changes (see bindbackend.h).
 *
 * Owns file I/O in zones_dir and the include's directory, and the bookkeeping of which zones
 * named has: text comes from bindconf.c, processes from rndc.c.
 *
 * Bookkeeping. S (zones) is the live set, what the include on disk lists once written. N is what
 * named loaded at the last successful "rndc reconfig"; it is not stored, only its difference
 * from S (pending = S xor N). So for a zone z:
 *   z in S, not pending  -> named has it: a rewritten file needs "rndc reload z";
 *   z in S, pending      -> named does not have it yet: the next reconfig loads it;
 *   z not in S, pending  -> named still has it: the next reconfig drops it (keep its file);
 *   z in neither         -> named does not have it: its file can go.
 * A change whose zone is pending after the batch succeeds only if the batch's reconfig does.
 * The include on disk is checked at the start of every batch (check_include): when it no longer
 * lists S (edited or lost behind our back), named may have loaded either list, so every zone
 * listed by only one of them becomes pending and the include is sent again. */
#include "bindbackend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bindconf.h"
#include "buf.h"
#include "rndc.h"
#include "strset.h"

#define INCLUDE_MAX     ((size_t)512 << 20) /* refuse a larger include file at start */
#define ZONE_HEADER_MAX 512                 /* room for the header line of a zone file */
#define FILE_MODE       0644                /* zone files and include: named must read them */
/* A forced batch compares the include's content at most this often (ms) while its stat is
 * untouched: a resync is thousands of forced batches. */
#define RECHECK_MS 1000

struct bindbackend {
    const struct backend_conf *bc; /* borrowed settings */
    char *include_path;            /* bc->named_conf, copied */
    const char *include_name;      /* its last component, inside include_path */
    int zdir;                      /* fd of zones_dir */
    int idir;                      /* fd of the include's directory */
    struct strset *zones;          /* S: live zones, as listed by the include */
    struct strset *pending;        /* S xor N (see the top of this file) */
    int need_reconfig;             /* include + reconfig owed to named */
    int inc_known;                 /* inc_st is the include as last written or found right */
    struct stat inc_st;            /* its stat then (see check_include) */
    struct timespec inc_at;        /* when (CLOCK_MONOTONIC) */
    unsigned long seq;             /* for temporary names of very long zone names */
    struct rndc rndc;              /* how to run rndc */
};

/* Per-change state inside one apply. */
enum {
    F_WROTE = 1,   /* the zone file was (re)written */
    F_RELOAD = 2,  /* named has the zone: reload it */
    F_DEP = 4,     /* pending after the batch: succeeds only with the reconfig */
    F_UNKNOWN = 8, /* named did not know the zone: it comes back with a reconfig */
};

/* ------------------------------------------------------------------------------------------ */
/* Files */

/* write_all - write @len octets of @p to @fd. Returns 0 or -errno. */
static int write_all(int fd, const char *p, size_t len)
{
    ssize_t w;

    while (len > 0) {
        w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* newer_than - make @fd's mtime later than @old's.
 *
 * Measured on this machine (BIND 9.18.49, ext4, Linux 6.18): "rndc reload <zone>" answers
 * "zone reload up-to-date" and keeps serving the old content when the zone file's mtime is not
 * after the zone's load time, which named records as the mtime of the file it loaded (or the
 * wall-clock time of the load when that is earlier: a future-dated file), compared to the
 * nanosecond. A rewrite within the same second is therefore fine (tested: 200 rewrite+reload
 * rounds, all loaded), and a new file with an mtime equal to the loaded one is ignored (tested
 * with touch). Files are stamped from the kernel's coarse clock, one tick of a few ms (five
 * files written in a row got the same mtime to the nanosecond), so a second push of a zone
 * within the tick of the first would be ignored; a clock stepped back does the same for longer.
 * Hence a new file whose mtime is not after the file it replaces is moved 1 ms past it. */
static int newer_than(int fd, const struct stat *old)
{
    struct stat st;
    struct timespec ts[2];

    if (fstat(fd, &st) != 0)
        return -errno;
    if (st.st_mtim.tv_sec > old->st_mtim.tv_sec ||
        (st.st_mtim.tv_sec == old->st_mtim.tv_sec && st.st_mtim.tv_nsec > old->st_mtim.tv_nsec))
        return 0;
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = old->st_mtim;
    ts[1].tv_nsec += 1000000;
    if (ts[1].tv_nsec >= 1000000000) {
        ts[1].tv_sec++;
        ts[1].tv_nsec -= 1000000000;
    }
    if (futimens(fd, ts) != 0)
        return -errno;
    return 0;
}

/* write_atomic - replace @name in directory @dfd with the @len octets of @data: a temporary file
 * ".<name>.tmp.<pid>" (".dadns.tmp.<pid>.<n>" when that would be too long) is written, made
 * newer than the file it replaces (see newer_than), fsync'ed and renamed over @name. The caller
 * fsyncs the directory. Returns 0 or a negative errno with @e set. */
static int write_atomic(struct bindbackend *b, int dfd, const char *name, const char *data,
                        size_t len, struct err *e)
{
    char tmp[300];
    struct stat old;
    int fd = -1, rc, n, have_old;

    n = snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, (long)getpid());
    if (n < 0 || n > 255)
        snprintf(tmp, sizeof(tmp), ".dadns.tmp.%ld.%lu", (long)getpid(), ++b->seq);
    have_old = fstatat(dfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
    if (fd < 0) {
        rc = -errno;
        err_set(e, rc, "cannot create %s: %s", tmp, strerror(-rc));
        return rc;
    }
    rc = write_all(fd, data, len);
    if (rc != 0) {
        err_set(e, rc, "cannot write %s: %s", tmp, strerror(-rc));
        goto fail;
    }
    if (fchmod(fd, FILE_MODE) != 0) {
        rc = -errno;
        err_set(e, rc, "cannot chmod %s: %s", tmp, strerror(-rc));
        goto fail;
    }
    if (have_old) {
        rc = newer_than(fd, &old);
        if (rc != 0) {
            err_set(e, rc, "cannot set the mtime of %s: %s", tmp, strerror(-rc));
            goto fail;
        }
    }
    if (fsync(fd) != 0) {
        rc = -errno;
        err_set(e, rc, "cannot fsync %s: %s", tmp, strerror(-rc));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = -errno;
        err_set(e, rc, "cannot close %s: %s", tmp, strerror(-rc));
        goto fail;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, name) != 0) {
        rc = -errno;
        err_set(e, rc, "cannot rename %s to %s: %s", tmp, name, strerror(-rc));
        goto fail;
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
    return rc;
}

/* same_content - 1 when file @name in @dfd holds exactly the @len octets of @data, 0 when not
 * (missing, other size or bytes, not a regular file). */
static int same_content(int dfd, const char *name, const char *data, size_t len)
{
    char chunk[65536];
    struct stat st;
    size_t off = 0;
    ssize_t r;
    int fd, same = 0;

    fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != (uint64_t)len)
        goto out;
    while (off < len) {
        r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (size_t)r > len - off || memcmp(chunk, data + off, (size_t)r) != 0)
            goto out;
        off += (size_t)r;
    }
    r = read(fd, chunk, 1); /* the file must end here too */
    same = r == 0;
out:
    close(fd);
    return same;
}

/* read_file - the whole of @path into @out (NUL terminated, at most @max octets).
 * Returns 0, DADNS_ENOTFOUND (no such file), DADNS_ETOOBIG, DADNS_EIO or DADNS_ENOMEM. */
static int read_file(const char *path, size_t max, struct buf *out, struct err *e)
{
    char chunk[65536];
    ssize_t r;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return DADNS_ENOTFOUND;
        return err_set(e, DADNS_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    buf_init(out, max);
    for (;;) {
        r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_set(e, DADNS_EIO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        rc = buf_append(out, chunk, (size_t)r);
        if (rc != 0) {
            err_set(e, rc, "%s: %s (limit %zu octets)", path, err_str(rc), max);
            break;
        }
    }
    close(fd);
    if (rc == 0 && out->data == NULL)
        rc = buf_append(out, "", 0); /* an empty file is an empty, NUL-terminated text */
    return rc;
}

/* mkdir_p - create @dir and missing parents with mode 0755. */
static int mkdir_p(const char *dir, struct err *e)
{
    char path[BINDCONF_PATH_SIZE];
    size_t i, len = strlen(dir);

    if (len >= sizeof(path))
        return err_set(e, DADNS_ECONFIG, "zones_dir is too long");
    memcpy(path, dir, len + 1);
    for (i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return err_set(e, DADNS_EIO, "cannot create directory %s: %s", path, strerror(errno));
        path[i] = dir[i];
    }
    return 0;
}

/* sweep_temp - remove the temporary files a previous run left in directory @dfd: names that
 * start with @prefix and contain ".tmp." (zones_dir: prefix "."; the include's directory:
 * ".<include name>.tmp."). */
static void sweep_temp(int dfd, const char *prefix)
{
    struct dirent *de;
    DIR *d;
    int fd;

    fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
            strstr(de->d_name, ".tmp.") != NULL &&
            (de->d_type == DT_REG || de->d_type == DT_UNKNOWN))
            unlinkat(dfd, de->d_name, 0);
    }
    closedir(d);
}

/* remember_include - note the stat of the include as it is now (written by us, or found to be
 * exactly what S renders), for check_include's cheap test. */
static void remember_include(struct bindbackend *b)
{
    b->inc_known = fstatat(b->idir, b->include_name, &b->inc_st, AT_SYMLINK_NOFOLLOW) == 0;
    clock_gettime(CLOCK_MONOTONIC, &b->inc_at);
}

/* remembered_ms - milliseconds since remember_include last ran. */
static long long remembered_ms(const struct bindbackend *b)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - b->inc_at.tv_sec) * 1000 +
           (now.tv_nsec - b->inc_at.tv_nsec) / 1000000;
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* include_untouched - the include's stat is still what remember_include saw: same file (device,
 * inode), size, mtime and ctime. An edit in place within one tick of the coarse file clock that
 * keeps the size would slip through; forced changes compare the content. */
static int include_untouched(const struct bindbackend *b)
{
    struct stat st;

    if (!b->inc_known || fstatat(b->idir, b->include_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    return st.st_dev == b->inc_st.st_dev && st.st_ino == b->inc_st.st_ino &&
           st.st_size == b->inc_st.st_size && same_time(&st.st_mtim, &b->inc_st.st_mtim) &&
           same_time(&st.st_ctim, &b->inc_st.st_ctim);
}

/* write_include - render S and replace the include with it (fsyncing its directory). */
static int write_include(struct bindbackend *b, struct err *e)
{
    struct buf text;
    struct err ie;
    int rc;

    buf_init(&text, SIZE_MAX / 2);
    rc = bindconf_render_include(b->zones, b->bc->zones_dir, &text, &ie);
    if (rc != 0) {
        err_set(e, rc, "cannot render %s: %s", b->include_path, ie.text);
        goto out;
    }
    rc = write_atomic(b, b->idir, b->include_name, text.data, text.len, &ie);
    if (rc != 0) {
        err_set(e, DADNS_EIO, "cannot write %s: %s", b->include_path, ie.text);
        rc = DADNS_EIO;
        goto out;
    }
    if (fsync(b->idir) != 0) {
        rc = err_set(e, DADNS_EIO, "cannot fsync the directory of %s: %s", b->include_path,
                     strerror(errno));
        goto out;
    }
    remember_include(b);
out:
    buf_free(&text);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Open / free */

int bindbackend_open(const struct backend_conf *bc, struct bindbackend **out, struct err *e)
{
    struct bindbackend *b = NULL;
    struct buf text;
    struct err pe;
    char *slash;
    int rc;

    *out = NULL;
    buf_init(&text, INCLUDE_MAX);
    if (bc->type != BACKEND_BIND)
        return err_set(e, DADNS_ECONFIG, "backend %s is not of type bind", bc->name);
    rc = bindconf_check_dir(bc->zones_dir, &pe);
    if (rc != 0)
        return err_set(e, rc, "backend %s: %s", bc->name, pe.text);
    if (bc->named_conf == NULL || bc->named_conf[0] != '/')
        return err_set(e, DADNS_ECONFIG, "backend %s: named_conf \"%s\" is not an absolute path",
                       bc->name, bc->named_conf ? bc->named_conf : "");

    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    b->bc = bc;
    b->zdir = -1;
    b->idir = -1;
    b->need_reconfig = 1;
    rndc_init(&b->rndc, bc);
    b->include_path = strdup(bc->named_conf);
    if (b->include_path == NULL || strset_new(&b->zones) != 0 || strset_new(&b->pending) != 0) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }

    /* zones_dir */
    rc = mkdir_p(bc->zones_dir, e);
    if (rc != 0)
        goto out;
    b->zdir = open(bc->zones_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b->zdir < 0) {
        rc = err_set(e, DADNS_EIO, "cannot open zones_dir %s: %s", bc->zones_dir, strerror(errno));
        goto out;
    }
    sweep_temp(b->zdir, ".");

    /* the include's directory (not created: it is named's) */
    slash = strrchr(b->include_path, '/');
    b->include_name = slash + 1;
    if (b->include_name[0] == '\0') {
        rc = err_set(e, DADNS_ECONFIG, "backend %s: named_conf \"%s\" names a directory", bc->name,
                     bc->named_conf);
        goto out;
    }
    *slash = '\0';
    b->idir =
        open(slash == b->include_path ? "/" : b->include_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b->idir < 0)
        rc = err_set(e, DADNS_EIO, "cannot open the directory of named_conf %s: %s", bc->named_conf,
                     strerror(errno));
    *slash = '/';
    if (rc != 0)
        goto out;
    {
        char prefix[300];

        snprintf(prefix, sizeof(prefix), ".%s.tmp.", b->include_name);
        sweep_temp(b->idir, prefix);
    }

    /* what named was last given */
    rc = read_file(b->include_path, INCLUDE_MAX, &text, e);
    if (rc == DADNS_ENOTFOUND) {
        rc = write_include(b, e);
        goto out;
    }
    if (rc != 0)
        goto out;
    rc = bindconf_parse_include(text.data, text.len, bc->zones_dir, b->zones, &pe);
    if (rc != 0) {
        err_setl(e, rc, pe.line, pe.col, "%s:%lu: %s (this file must be written by dadns only)",
                 b->include_path, pe.line, pe.text);
        goto out;
    }
out:
    buf_free(&text);
    if (rc != 0) {
        bindbackend_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

int bindbackend_probe(void *ctx, char *reason, size_t size)
{
    struct bindbackend *b = ctx;
    struct err e;
    int rc;

    err_clear(&e);
    rc = rndc_status(&b->rndc, &e);
    if (rc != 0)
        snprintf(reason, size, "%s", e.text);
    return rc;
}

size_t bindbackend_zone_count(const struct bindbackend *b)
{
    return strset_count(b->zones);
}

const struct backend_conf *bindbackend_conf(const struct bindbackend *b)
{
    return b->bc;
}

void bindbackend_free(struct bindbackend *b)
{
    if (b == NULL)
        return;
    if (b->zdir >= 0)
        close(b->zdir);
    if (b->idir >= 0)
        close(b->idir);
    strset_free(b->zones);
    strset_free(b->pending);
    free(b->include_path);
    free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* Apply */

/* toggle - flip @zone's membership of pending (S just changed for it). */
static int toggle(struct bindbackend *b, const char *zone)
{
    int rc;

    b->need_reconfig = 1;
    if (strset_del(b->pending, zone) == 1)
        return 0;
    rc = strset_add(b->pending, zone);
    return rc < 0 ? rc : 0;
}

/* fail - mark @c failed with @code and a reason. */
static void fail(struct change *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct change *c, int code, const char *fmt, ...)
{
    va_list ap;

    c->result = code;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
}

/* save - write @c's zone file (@fname) and make it live; sets F_* bits in *@flags. With
 * @again (a forced change, or an include found changed on disk), a zone already listed is
 * reloaded even when pending: named may hold an old copy that a reconfig would keep. */
static void save(struct bindbackend *b, struct change *c, const char *fname, int again,
                 unsigned *flags)
{
    struct buf content;
    struct err e;
    int rc;

    buf_init(&content, c->text_len + ZONE_HEADER_MAX);
    rc = bindconf_render_zone(c->zone, c->version, c->serial, c->text ? c->text : "",
                              c->text ? c->text_len : 0, &content, &e);
    if (rc != 0) {
        fail(c, rc, "%s", e.text);
        c->permanent = rc == DADNS_ENAME; /* rejected name: retrying cannot help */
        goto out;
    }
    rc = write_atomic(b, b->zdir, fname, content.data, content.len, &e);
    if (rc != 0) {
        fail(c, DADNS_EIO, "zone file: %s", e.text);
        goto out;
    }
    *flags |= F_WROTE;
    if (strset_has(b->zones, c->zone)) {
        if (!strset_has(b->pending, c->zone) || again)
            *flags |= F_RELOAD;
        goto out;
    }
    rc = strset_add(b->zones, c->zone);
    if (rc >= 0)
        rc = toggle(b, c->zone);
    if (rc < 0) {
        strset_del(b->zones, c->zone);
        fail(c, rc, "out of memory");
        goto out;
    }
    /* Back in S while named still had it (deleted in a batch whose reconfig failed): named
     * keeps serving its old copy unless told to reload. */
    if (!strset_has(b->pending, c->zone))
        *flags |= F_RELOAD;
out:
    buf_free(&content);
}

/* send_include - write the include and make named read it; on success nothing is owed. */
static int send_include(struct bindbackend *b, struct err *e)
{
    int rc = write_include(b, e);

    if (rc == 0)
        rc = rndc_reconfig(&b->rndc, e);
    if (rc == 0) {
        strset_clear(b->pending);
        b->need_reconfig = 0;
    }
    return rc;
}

/* verify - @c's zone is listed and its file is what save would write? */
static int verify(struct bindbackend *b, struct change *c, const char *fname)
{
    struct buf content;
    struct err e;
    int same = 0;

    if (!strset_has(b->zones, c->zone))
        return 0;
    buf_init(&content, c->text_len + ZONE_HEADER_MAX);
    if (bindconf_render_zone(c->zone, c->version, c->serial, c->text ? c->text : "",
                             c->text ? c->text_len : 0, &content, &e) == 0)
        same = same_content(b->zdir, fname, content.data, content.len);
    buf_free(&content);
    return same;
}

/* reload - reload the zones flagged F_RELOAD that have not failed. */
static void reload(struct bindbackend *b, struct change *changes, size_t n, unsigned *flags)
{
    struct rndc_job *jobs;
    size_t *which, k = 0, i;

    for (i = 0; i < n; i++) {
        if ((flags[i] & F_RELOAD) && changes[i].result == 0)
            k++;
    }
    if (k == 0)
        return;
    jobs = calloc(k, sizeof(*jobs));
    which = calloc(k, sizeof(*which));
    if (jobs == NULL || which == NULL) {
        for (i = 0; i < n; i++) {
            if ((flags[i] & F_RELOAD) && changes[i].result == 0)
                fail(&changes[i], DADNS_ENOMEM, "rndc reload: out of memory");
        }
        goto out;
    }
    k = 0;
    for (i = 0; i < n; i++) {
        if ((flags[i] & F_RELOAD) && changes[i].result == 0) {
            jobs[k].zone = changes[i].zone;
            which[k++] = i;
        }
    }
    rndc_reload_zones(&b->rndc, jobs, k);
    for (i = 0; i < k; i++) {
        if (jobs[i].result == 0)
            continue;
        /* named does not know a zone we think it has (its config was changed or restored
         * behind our back): the include is re-sent with a reconfig in this same batch, which
         * loads the file just written. */
        if (strstr(jobs[i].msg, "no matching zone") != NULL) {
            b->need_reconfig = 1;
            flags[which[i]] |= F_UNKNOWN;
            continue;
        }
        fail(&changes[which[i]], DADNS_EBACKEND, "rndc reload %s: %s", jobs[i].zone, jobs[i].msg);
    }
out:
    free(jobs);
    free(which);
}

/* The zones of one set missing from another, added to a third (check_include). */
struct mark {
    const struct strset *other; /* the set they are looked up in */
    struct strset *into;        /* where the missing ones go */
};

static int mark_missing(const char *zone, void *arg)
{
    struct mark *m = arg;

    if (strset_has(m->other, zone))
        return 0;
    return strset_add(m->into, zone) < 0 ? DADNS_ENOMEM : 0;
}

/* check_include - is the include on disk what S renders? Skipped (0) when its stat is what
 * remember_include saw -- with @full (a forced change), only when that was less than RECHECK_MS
 * ago. When it is not (edited, restored from a backup, deleted behind our back): every zone
 * listed by only one of the two joins pending (named may have loaded either), the include is
 * owed (need_reconfig) and 1 is returned. Else 0. */
static int check_include(struct bindbackend *b, int full)
{
    struct strset *listed = NULL;
    struct buf want, have;
    struct mark m;
    struct err e;
    int rc;

    if (include_untouched(b) && (!full || remembered_ms(b) < RECHECK_MS))
        return 0;
    buf_init(&want, SIZE_MAX / 2);
    buf_init(&have, INCLUDE_MAX);
    rc = bindconf_render_include(b->zones, b->bc->zones_dir, &want, &e);
    if (rc == 0)
        rc = read_file(b->include_path, INCLUDE_MAX, &have, &e);
    if (rc == 0 && have.len == want.len && memcmp(have.data, want.data, want.len) == 0) {
        remember_include(b);
        goto out;
    }
    /* what the file lists (nothing when it is gone or unreadable; the lines before an error
     * when it is not in dadns's format), against S */
    b->need_reconfig = 1;
    if (strset_new(&listed) != 0)
        goto differs;
    if (rc == 0)
        bindconf_parse_include(have.data, have.len, b->bc->zones_dir, listed, &e);
    m.other = listed;
    m.into = b->pending;
    if (strset_iterate(b->zones, mark_missing, &m) != 0)
        goto differs;
    m.other = b->zones;
    strset_iterate(listed, mark_missing, &m);
differs:
    rc = 1;
out:
    strset_free(listed);
    buf_free(&want);
    buf_free(&have);
    return rc == 1;
}

/* named_down - every change of the @n of @changes this call carried out (@skip[i] unset)
 * failed, some on rndc, and "rndc status" fails too: named itself is unreachable. */
static int named_down(struct bindbackend *b, const struct change *changes, const char *skip,
                      size_t n)
{
    size_t i, rndc_failed = 0;
    struct err e;

    for (i = 0; i < n; i++) {
        if (skip[i])
            continue;
        if (changes[i].result == 0)
            return 0; /* something went through: named is there */
        if (changes[i].result == DADNS_EBACKEND)
            rndc_failed++;
    }
    if (rndc_failed == 0)
        return 0;
    err_clear(&e);
    return rndc_status(&b->rndc, &e) != 0;
}

int bindbackend_apply(void *ctx, struct change *changes, size_t n)
{
    struct bindbackend *b = ctx;
    char fname[NAME_BUF_SIZE + 8];
    unsigned *flags = NULL;
    char *skip = NULL;
    struct err e;
    size_t i, wrote = 0, unknown;
    int rc, force = 0, unsure;

    if (n == 0 && !b->need_reconfig)
        return 0;
    flags = calloc(n ? n : 1, sizeof(*flags));
    skip = calloc(n ? n : 1, 1);
    if (flags == NULL || skip == NULL) {
        for (i = 0; i < n; i++) {
            if (changes[i].result == 0)
                fail(&changes[i], DADNS_ENOMEM, "out of memory");
        }
        free(flags);
        free(skip);
        return DADNS_ENOMEM;
    }
    /* changes that come failed (no text to write) are left as they are */
    for (i = 0; i < n; i++) {
        skip[i] = changes[i].result != 0;
        if (!skip[i] && changes[i].force)
            force = 1;
    }

    /* 0. the include on disk: a forced change compares it, otherwise only a changed stat */
    unsure = check_include(b, force);

    /* 1. files and membership */
    for (i = 0; i < n; i++) {
        struct change *c = &changes[i];

        if (skip[i])
            continue;
        c->repaired = 0;
        c->reason[0] = '\0';
        rc = bindconf_zone_file(c->zone, fname, sizeof(fname), &e);
        if (rc != 0) {
            fail(c, rc, "%s", e.text);
            c->permanent = 1; /* a name BIND cannot take: retrying cannot help */
            continue;
        }
        switch (c->op) {
        case CHANGE_SAVE:
            save(b, c, fname, c->force || unsure, &flags[i]);
            break;
        case CHANGE_VERIFY:
            if (verify(b, c, fname)) {
                /* the file is right; the include on disk had lost the zone? */
                if (unsure && strset_has(b->pending, c->zone))
                    c->repaired = 1;
                break;
            }
            c->repaired = 1;
            save(b, c, fname, c->force || unsure, &flags[i]);
            break;
        case CHANGE_DELETE:
            if (strset_del(b->zones, c->zone) == 1) {
                rc = toggle(b, c->zone);
                if (rc != 0)
                    fail(c, rc, "out of memory");
            }
            break;
        default:
            fail(c, DADNS_EINVAL, "unknown change op %d", (int)c->op);
            break;
        }
        if (flags[i] & F_WROTE)
            wrote++;
    }
    if (wrote > 0 && fsync(b->zdir) != 0) {
        int err = errno;

        for (i = 0; i < n; i++) {
            if ((flags[i] & F_WROTE) && changes[i].result == 0)
                fail(&changes[i], DADNS_EIO, "cannot fsync %s: %s", b->bc->zones_dir,
                     strerror(err));
        }
    }

    /* 2. one include + reconfig for every zone that came or went; after an include found
     *    changed on disk, every change of the batch depends on it */
    for (i = 0; i < n; i++) {
        if (!skip[i] && changes[i].result == 0 &&
            (unsure || strset_has(b->pending, changes[i].zone)))
            flags[i] |= F_DEP;
    }
    if (b->need_reconfig) {
        rc = send_include(b, &e);
        if (rc != 0) {
            for (i = 0; i < n; i++) {
                if ((flags[i] & F_DEP) && changes[i].result == 0)
                    fail(&changes[i], DADNS_EBACKEND, "%s", e.text);
            }
        }
    }

    /* 3. reloads of zones named already had (or may have had) */
    reload(b, changes, n, flags);
    for (unknown = 0, i = 0; i < n; i++)
        unknown += (flags[i] & F_UNKNOWN) ? 1 : 0;
    if (unknown > 0) {
        /* some zones were unknown to named: send the include again */
        rc = send_include(b, &e);
        for (i = 0; i < n; i++) {
            if (rc != 0 && (flags[i] & F_UNKNOWN) && changes[i].result == 0)
                fail(&changes[i], DADNS_EBACKEND, "%s", e.text);
            else if (rc == 0 && (flags[i] & F_UNKNOWN) && changes[i].result == 0)
                changes[i].repaired = 1;
        }
    }

    /* 4. files of deleted zones named no longer has (a forced delete removes the file even
     *    when the zone was not in S) */
    for (i = 0; i < n; i++) {
        struct change *c = &changes[i];

        if (skip[i] || c->op != CHANGE_DELETE || c->result != 0 || strset_has(b->zones, c->zone) ||
            strset_has(b->pending, c->zone))
            continue;
        if (bindconf_zone_file(c->zone, fname, sizeof(fname), NULL) == 0)
            unlinkat(b->zdir, fname, 0); /* a leftover file is harmless: not listed */
    }

    /* 5. a batch that failed on rndc throughout while named does not answer at all counts as
     *    a whole-batch failure (the consumer's circuit breaker) */
    rc = n > 0 && named_down(b, changes, skip, n) ? DADNS_EBACKEND : 0;
    free(flags);
    free(skip);
    return rc;
}
