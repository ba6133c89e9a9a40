/* test_spool.c -- Check suite for the ingest spool: the record codec (services/ingest/spoolrec.c:
 * round trips, CRC mismatches, malformed input) and the spool files (services/ingest/spool.c:
 * append and replay order, durable progress, removal when drained, torn tails, corrupt
 * records in the middle, the size limit, write failures, a failed directory fsync at removal and
 * the directory lock), each test in its own temporary directory; and the replay thread
 * (services/ingest/spooler.c) against a fake Redis on loopback when the spool gets stuck. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "spool.h"
#include "spooler.h"
#include "spoolrec.h"
#include "store.h"

/* ---- helpers --------------------------------------------------------------------------- */

static char tmpdir[256];
static char spooldir[300];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/dadns-spool-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(spooldir, sizeof(spooldir), "%s/a/spool", tmpdir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A save record for zone "z<i>.test" whose text says "text <i>". */
static void save_rec(struct spoolrec *r, int i, char *zone, size_t zsize, char *text, size_t tsize,
                     const char **zv)
{
    snprintf(zone, zsize, "z%d.test", i);
    snprintf(text, tsize, "text %d", i);
    zv[0] = zone;
    memset(r, 0, sizeof(*r));
    r->op = SPOOLREC_SAVE;
    r->serial = (uint32_t)(1000 + i);
    r->accepted_ms = 1700000000000ull + (uint64_t)i;
    r->host = "da1.example.net";
    r->user = "u1";
    r->zones = zv;
    r->nzones = 1;
    r->text = text;
    r->text_len = strlen(text);
}

static void append_save(struct spool *sp, int i)
{
    char zone[64], text[64];
    const char *zv[1];
    struct spoolrec r;
    struct err e;

    save_rec(&r, i, zone, sizeof(zone), text, sizeof(text), zv);
    ck_assert_msg(spool_append(sp, &r, &e) == 0, "append %d: %s", i, e.text);
}

static struct spool *open_ok(uint64_t max, struct spool_report *rep)
{
    struct spool *sp = NULL;
    struct err e;
    int rc = spool_open(spooldir, max, &sp, rep, &e);

    ck_assert_msg(rc == 0, "spool_open: %s", e.text);
    return sp;
}

static char logpath[400];

static const char *log_file(void)
{
    snprintf(logpath, sizeof(logpath), "%s/spool.log", spooldir);
    return logpath;
}

static off_t file_size(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return -1;
    return st.st_size;
}

/* Serial of record @i of batch @b. */
static uint32_t serial_of(const struct spool_batch *b, size_t i)
{
    return b->recs[i].serial;
}

/* Overwrite one octet of @path at @off with its complement. */
static void flip(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    unsigned char c;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, off), 1);
    c = (unsigned char)~c;
    ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void append_raw(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* ---- codec ----------------------------------------------------------------------------- */

START_TEST(codec_crc32_known_value)
{
    ck_assert_uint_eq(spoolrec_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(spoolrec_crc32(spoolrec_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    ck_assert_uint_eq(spoolrec_crc32(0, "", 0), 0);
}
END_TEST

START_TEST(codec_save_round_trip)
{
    static const char text[] = "$TTL 3600\n@ IN SOA a. b. 1 2 3 4 5\n\0binary\xff";
    const char *zv[] = {"example.com"};
    struct spoolrec r, d;
    struct buf b;
    struct err e;

    memset(&r, 0, sizeof(r));
    r.op = SPOOLREC_SAVE;
    r.serial = 2025031402;
    r.accepted_ms = 1735689600123ull;
    r.host = "da1.example.net";
    r.user = "admin";
    r.zones = zv;
    r.nzones = 1;
    r.text = text;
    r.text_len = sizeof(text) - 1;
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), 0);
    ck_assert_uint_eq(b.len, spoolrec_size(&r));
    ck_assert_int_eq(spoolrec_decode(b.data, b.len, &d, &e), 0);
    ck_assert_int_eq(d.op, SPOOLREC_SAVE);
    ck_assert_uint_eq(d.serial, 2025031402);
    ck_assert_uint_eq(d.accepted_ms, 1735689600123ull);
    ck_assert_str_eq(d.host, "da1.example.net");
    ck_assert_str_eq(d.user, "admin");
    ck_assert_uint_eq(d.nzones, 1);
    ck_assert_str_eq(d.zones[0], "example.com");
    ck_assert_uint_eq(d.text_len, sizeof(text) - 1);
    ck_assert_mem_eq(d.text, text, sizeof(text) - 1);
    spoolrec_clear(&d);
    spoolrec_clear(&d); /* twice is fine */
    spoolrec_clear(NULL);
    buf_free(&b);
}
END_TEST

START_TEST(codec_delete_round_trip)
{
    const char *zv[] = {"a.com", "b.example.org", "c.net"};
    struct spoolrec r, d;
    struct buf b;
    struct err e;

    memset(&r, 0, sizeof(r));
    r.op = SPOOLREC_DELETE;
    r.host = "";
    r.user = NULL; /* absent owner fields encode as "" */
    r.zones = zv;
    r.nzones = 3;
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), 0);
    ck_assert_int_eq(spoolrec_decode(b.data, b.len, &d, &e), 0);
    ck_assert_int_eq(d.op, SPOOLREC_DELETE);
    ck_assert_str_eq(d.host, "");
    ck_assert_str_eq(d.user, "");
    ck_assert_uint_eq(d.nzones, 3);
    ck_assert_str_eq(d.zones[0], "a.com");
    ck_assert_str_eq(d.zones[1], "b.example.org");
    ck_assert_str_eq(d.zones[2], "c.net");
    ck_assert_ptr_null(d.text);
    ck_assert_uint_eq(d.text_len, 0);
    spoolrec_clear(&d);
    buf_free(&b);
}
END_TEST

START_TEST(codec_refuses_bad_records)
{
    char longname[300];
    const char *zv[] = {"a.com", "b.com"};
    const char *lv[] = {longname};
    struct spoolrec r;
    struct buf b;
    struct err e;

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    buf_init(&b, 1 << 20);
    memset(&r, 0, sizeof(r));
    r.op = SPOOLREC_SAVE;
    r.zones = zv;
    r.nzones = 1;
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), DADNS_EINVAL); /* save without text */
    r.text = "x";
    r.text_len = 1;
    r.nzones = 2;
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), DADNS_EINVAL); /* save of two zones */
    r.nzones = 1;
    r.zones = lv;
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), DADNS_EINVAL); /* name too long */
    r.op = SPOOLREC_DELETE;
    r.zones = zv;
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), DADNS_EINVAL); /* delete with text */
    r.text = NULL;
    r.text_len = 0;
    r.nzones = 0;
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), DADNS_EINVAL); /* delete of nothing */
    r.op = (enum spoolrec_op)7;
    r.nzones = 1;
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), DADNS_EINVAL);
    ck_assert_uint_eq(spoolrec_size(&r), 0);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(codec_crc_mismatch)
{
    char zone[64], text[64];
    const char *zv[1];
    struct spoolrec r, d;
    struct buf b;
    struct err e;
    size_t i, total;

    save_rec(&r, 1, zone, sizeof(zone), text, sizeof(text), zv);
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), 0);
    /* Any flipped octet after the magic, version, op and length is a CRC mismatch. */
    for (i = 12; i < b.len; i++) {
        b.data[i] ^= 0x20;
        ck_assert_int_eq(spoolrec_header(b.data, b.len, &total, &e), 0);
        ck_assert_int_eq(spoolrec_decode(b.data, b.len, &d, &e), DADNS_EINVAL);
        ck_assert_str_eq(e.text, "CRC mismatch");
        b.data[i] ^= 0x20;
    }
    /* A flipped op or length is caught by the header check or the CRC. */
    b.data[5] = 2;
    ck_assert_int_eq(spoolrec_decode(b.data, b.len, &d, &e), DADNS_EINVAL);
    b.data[5] = 1;
    b.data[0] = 'X';
    ck_assert_int_eq(spoolrec_header(b.data, b.len, &total, &e), DADNS_EINVAL);
    b.data[0] = 'D';
    ck_assert_int_eq(spoolrec_decode(b.data, b.len, &d, &e), 0);
    spoolrec_clear(&d);
    buf_free(&b);
}
END_TEST

START_TEST(codec_truncated_input)
{
    char zone[64], text[64];
    const char *zv[1];
    struct spoolrec r, d;
    struct buf b;
    struct err e;
    size_t n, total;

    save_rec(&r, 2, zone, sizeof(zone), text, sizeof(text), zv);
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), 0);
    for (n = 0; n < b.len; n++) {
        ck_assert_int_eq(spoolrec_decode(b.data, n, &d, &e), DADNS_EINVAL);
        if (n < SPOOLREC_HDR_SIZE) {
            ck_assert_int_eq(spoolrec_header(b.data, n, &total, &e), DADNS_EINVAL);
        } else {
            ck_assert_int_eq(spoolrec_header(b.data, n, &total, &e), 0);
            ck_assert_uint_eq(total, b.len);
        }
    }
    buf_free(&b);
}
END_TEST

START_TEST(codec_file_header_and_progress)
{
    unsigned char h[SPOOLREC_FILE_HDR_SIZE], p[SPOOLREC_POS_SIZE];
    struct spoolrec_pos pos = {7, 0x1122334455667788ull, 4096}, got;
    uint64_t id = 0;
    struct err e;

    spoolrec_file_header(0xdeadbeefcafef00dull, h);
    ck_assert_int_eq(spoolrec_file_header_parse(h, &id, &e), 0);
    ck_assert_uint_eq(id, 0xdeadbeefcafef00dull);
    h[20] ^= 1;
    ck_assert_int_eq(spoolrec_file_header_parse(h, &id, &e), DADNS_EINVAL);
    h[20] ^= 1;
    h[0] = 'x';
    ck_assert_int_eq(spoolrec_file_header_parse(h, &id, &e), DADNS_EINVAL);

    spoolrec_pos_encode(&pos, p);
    ck_assert_int_eq(spoolrec_pos_decode(p, &got), 0);
    ck_assert_uint_eq(got.seq, 7);
    ck_assert_uint_eq(got.id, 0x1122334455667788ull);
    ck_assert_uint_eq(got.offset, 4096);
    p[25] ^= 4;
    ck_assert_int_eq(spoolrec_pos_decode(p, &got), DADNS_EINVAL);
    memset(p, 0, sizeof(p));
    ck_assert_int_eq(spoolrec_pos_decode(p, &got), DADNS_EINVAL);
}
END_TEST

/* ---- files ----------------------------------------------------------------------------- */

START_TEST(file_append_read_in_order)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct spool_batch *b = NULL;
    struct err e;
    struct stat st;
    int i, removed = 0;

    ck_assert_uint_eq(spool_pending(sp), 0);
    ck_assert_uint_eq(spool_bytes(sp), 0);
    ck_assert_int_eq(stat(spooldir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 0);
    spool_batch_free(b);
    for (i = 1; i <= 10; i++)
        append_save(sp, i);
    ck_assert_uint_eq(spool_pending(sp), 10);
    ck_assert_uint_eq(spool_bytes(sp), (uint64_t)file_size(log_file()));
    ck_assert_int_eq(spool_read(sp, 4, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 4);
    for (i = 0; i < 4; i++) {
        ck_assert_uint_eq(serial_of(b, (size_t)i), (uint32_t)(1001 + i));
        ck_assert_mem_eq(b->recs[i].text, "text ", 5);
        ck_assert_int_eq(b->recs[i].text[b->recs[i].text_len], '\0'); /* store.c wants it */
    }
    ck_assert_str_eq(b->recs[3].zones[0], "z4.test");
    /* Only two applied: the next read starts at the third. */
    ck_assert_int_eq(spool_commit(sp, b, 2, &e), 0);
    spool_batch_free(b);
    ck_assert_uint_eq(spool_pending(sp), 8);
    ck_assert_int_eq(spool_read(sp, 100, 1, &b, &e), 0); /* byte limit: at least one record */
    ck_assert_uint_eq(b->n, 1);
    ck_assert_uint_eq(serial_of(b, 0), 1003);
    spool_batch_free(b);
    ck_assert_int_eq(spool_read(sp, 100, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 8);
    ck_assert_uint_eq(serial_of(b, 7), 1010);
    /* Not drained yet: nothing removed. */
    ck_assert_int_eq(spool_drain(sp, &removed, &e), 0);
    ck_assert_int_eq(removed, 0);
    ck_assert_int_eq(spool_commit(sp, b, b->n, &e), 0);
    spool_batch_free(b);
    ck_assert_uint_eq(spool_pending(sp), 0);
    ck_assert_int_eq(spool_drain(sp, &removed, &e), 0);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(file_size(log_file()), -1);
    ck_assert_uint_eq(spool_bytes(sp), 0);
    /* A new file after the drain. */
    append_save(sp, 11);
    ck_assert_uint_eq(spool_pending(sp), 1);
    spool_close(sp);
    /* The old progress (another log id) does not apply to the new file. */
    sp = open_ok(1 << 20, NULL);
    ck_assert_uint_eq(spool_pending(sp), 1);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 1);
    ck_assert_uint_eq(serial_of(b, 0), 1011);
    spool_batch_free(b);
    spool_close(sp);
}
END_TEST

START_TEST(file_progress_survives_reopen)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct spool_batch *b = NULL;
    struct spool_report rep;
    struct err e;
    char pospath[400];
    int i;

    for (i = 1; i <= 6; i++)
        append_save(sp, i);
    ck_assert_int_eq(spool_read(sp, 1, 1 << 20, &b, &e), 0);
    ck_assert_int_eq(spool_commit(sp, b, 1, &e), 0); /* seq 1: slot 2 */
    spool_batch_free(b);
    ck_assert_int_eq(spool_read(sp, 2, 1 << 20, &b, &e), 0);
    ck_assert_int_eq(spool_commit(sp, b, 2, &e), 0); /* seq 2: slot 1 */
    spool_batch_free(b);
    spool_close(sp);

    sp = open_ok(1 << 20, &rep);
    ck_assert_uint_eq(spool_pending(sp), 3);
    ck_assert_int_eq(rep.progress_lost, 0);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(serial_of(b, 0), 1004);
    spool_batch_free(b);
    spool_close(sp);

    /* A torn newest slot: the older one is used (records after it are applied again). */
    snprintf(pospath, sizeof(pospath), "%s/spool.pos", spooldir);
    flip(pospath, 10);
    sp = open_ok(1 << 20, &rep);
    ck_assert_uint_eq(spool_pending(sp), 5);
    ck_assert_int_eq(rep.progress_lost, 0);
    spool_close(sp);

    /* Both slots unreadable: replay restarts at the first record, and says so. */
    flip(pospath, 512 + 10);
    sp = open_ok(1 << 20, &rep);
    ck_assert_uint_eq(spool_pending(sp), 6);
    ck_assert_int_eq(rep.progress_lost, 1);
    spool_close(sp);
}
END_TEST

START_TEST(file_torn_tail_is_cut)
{
    char zone[64], text[64];
    const char *zv[1];
    struct spool *sp = open_ok(1 << 20, NULL);
    struct spool_report rep;
    struct spoolrec r;
    struct buf b;
    struct err e;
    off_t good;
    static const char zeros[5000];

    append_save(sp, 1);
    append_save(sp, 2);
    append_save(sp, 3);
    spool_close(sp);
    good = file_size(log_file());

    /* Half a record: an append a crash interrupted. */
    save_rec(&r, 4, zone, sizeof(zone), text, sizeof(text), zv);
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(spoolrec_encode(&r, &b, &e), 0);
    append_raw(log_file(), b.data, b.len / 2);
    sp = open_ok(1 << 20, &rep);
    ck_assert_uint_eq(rep.torn_offset, (uint64_t)good);
    ck_assert_uint_eq(rep.torn_bytes, b.len / 2);
    ck_assert_uint_eq(spool_pending(sp), 3);
    ck_assert_ptr_null(spool_stuck(sp));
    ck_assert_int_eq(file_size(log_file()), good);
    append_save(sp, 5); /* appends continue after the cut */
    ck_assert_uint_eq(spool_pending(sp), 4);
    spool_close(sp);
    good = file_size(log_file());

    /* A whole record with a bad CRC at the very end is torn as well. */
    b.data[b.len - 1] ^= 1;
    append_raw(log_file(), b.data, b.len);
    sp = open_ok(1 << 20, &rep);
    ck_assert_uint_eq(rep.torn_bytes, b.len);
    ck_assert_uint_eq(spool_pending(sp), 4);
    spool_close(sp);

    /* Zeros (the size grew, the data never reached the disk) too. */
    append_raw(log_file(), zeros, sizeof(zeros));
    sp = open_ok(1 << 20, &rep);
    ck_assert_uint_eq(rep.torn_bytes, sizeof(zeros));
    ck_assert_uint_eq(spool_pending(sp), 4);
    ck_assert_int_eq(file_size(log_file()), good);
    spool_close(sp);
    buf_free(&b);
}
END_TEST

START_TEST(file_incomplete_header_removed)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct spool_report rep;
    int fd;

    spool_close(sp);
    fd = open(log_file(), O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "DADNS", 5), 5);
    close(fd);
    sp = open_ok(1 << 20, &rep);
    ck_assert_int_eq(rep.removed_incomplete, 1);
    ck_assert_int_eq(file_size(log_file()), -1);
    ck_assert_uint_eq(spool_pending(sp), 0);
    spool_close(sp);
}
END_TEST

START_TEST(file_damaged_header_or_progress_is_stuck)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct spool_batch *b = NULL;
    struct err e;
    int removed = 1;

    append_save(sp, 1);
    append_save(sp, 2);
    ck_assert_int_eq(spool_read(sp, 2, 1 << 20, &b, &e), 0);
    ck_assert_int_eq(spool_commit(sp, b, 2, &e), 0);
    spool_batch_free(b);
    spool_close(sp);
    /* Progress past the end: the file was cut behind ingest's back. */
    ck_assert_int_eq(truncate(log_file(), file_size(log_file()) - 10), 0);
    sp = open_ok(1 << 20, NULL);
    ck_assert_ptr_nonnull(spool_stuck(sp));
    ck_assert_ptr_nonnull(strstr(spool_stuck(sp), "replay progress"));
    ck_assert_int_eq(spool_drain(sp, &removed, &e), 0);
    ck_assert_int_eq(removed, 0);
    spool_close(sp);
    /* A damaged file header: nothing is replayed or appended, the file is kept. */
    flip(log_file(), 3);
    sp = open_ok(1 << 20, NULL);
    ck_assert_ptr_nonnull(spool_stuck(sp));
    ck_assert_ptr_nonnull(strstr(spool_stuck(sp), "not a dadns spool file"));
    ck_assert_uint_eq(spool_pending(sp), 0);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 0);
    spool_batch_free(b);
    spool_close(sp);
    ck_assert_int_gt(file_size(log_file()), 0);
}
END_TEST

START_TEST(file_corrupt_middle_stops_replay)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct spool_batch *b = NULL;
    struct spool_report rep;
    struct err e;
    off_t first_end;
    int removed = 1;

    append_save(sp, 1);
    first_end = file_size(log_file());
    append_save(sp, 2);
    append_save(sp, 3);
    spool_close(sp);
    flip(log_file(), first_end + SPOOLREC_HDR_SIZE + 2); /* record 2's payload */

    sp = open_ok(1 << 20, &rep);
    ck_assert_uint_eq(rep.torn_bytes, 0);
    ck_assert_ptr_nonnull(spool_stuck(sp));
    ck_assert_ptr_nonnull(strstr(spool_stuck(sp), "corrupt record at offset"));
    ck_assert_ptr_nonnull(spool_broken(sp));
    ck_assert_uint_eq(spool_pending(sp), 1); /* the record before it still replays */
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 1);
    ck_assert_uint_eq(serial_of(b, 0), 1001);
    ck_assert_int_eq(spool_commit(sp, b, 1, &e), 0);
    spool_batch_free(b);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 0);
    spool_batch_free(b);
    /* Nothing is appended behind it, and the file is kept. */
    {
        char zone[64], text[64];
        const char *zv[1];
        struct spoolrec r;

        save_rec(&r, 9, zone, sizeof(zone), text, sizeof(text), zv);
        ck_assert_int_eq(spool_append(sp, &r, &e), DADNS_EIO);
    }
    ck_assert_int_eq(spool_drain(sp, &removed, &e), 0);
    ck_assert_int_eq(removed, 0);
    ck_assert_int_ge(file_size(log_file()), first_end);
    spool_close(sp);
}
END_TEST

START_TEST(file_full_spool_refused)
{
    struct spool *sp = open_ok(65536, NULL);
    struct spool_batch *b = NULL;
    char zone[64], *text;
    const char *zv[1];
    struct spoolrec r;
    struct err e;
    int i, rc = 0, removed;

    text = malloc(10000);
    ck_assert_ptr_nonnull(text);
    memset(text, 'x', 10000);
    snprintf(zone, sizeof(zone), "big.test");
    zv[0] = zone;
    memset(&r, 0, sizeof(r));
    r.op = SPOOLREC_SAVE;
    r.host = "h";
    r.user = "u";
    r.zones = zv;
    r.nzones = 1;
    r.text = text;
    r.text_len = 10000;
    for (i = 0; i < 10 && rc == 0; i++)
        rc = spool_append(sp, &r, &e);
    ck_assert_int_eq(rc, DADNS_ETOOBIG);
    ck_assert_int_eq(i, 7); /* 6 records of ~10 KB fit in 64 KiB */
    ck_assert_ptr_nonnull(strstr(e.text, "spool full"));
    ck_assert_int_eq(spool_full(sp), 1);
    ck_assert_uint_eq(spool_pending(sp), 6);
    ck_assert_uint_le(spool_bytes(sp), 65536);
    ck_assert_int_eq(file_size(log_file()), (off_t)spool_bytes(sp));
    /* A smaller change still fits. */
    r.text_len = 100;
    ck_assert_int_eq(spool_append(sp, &r, &e), 0);
    ck_assert_int_eq(spool_full(sp), 0);
    /* Drained, the space is back. */
    ck_assert_int_eq(spool_read(sp, 100, 1 << 20, &b, &e), 0);
    ck_assert_int_eq(spool_commit(sp, b, b->n, &e), 0);
    spool_batch_free(b);
    ck_assert_int_eq(spool_drain(sp, &removed, &e), 0);
    ck_assert_int_eq(removed, 1);
    r.text_len = 10000;
    ck_assert_int_eq(spool_append(sp, &r, &e), 0);
    spool_close(sp);
    free(text);
}
END_TEST

START_TEST(file_write_failure_is_cut_off)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct rlimit old, lim;
    char zone[64], *text;
    const char *zv[1];
    struct spoolrec r;
    struct err e;
    off_t before;

    append_save(sp, 1);
    before = file_size(log_file());
    text = malloc(20000);
    ck_assert_ptr_nonnull(text);
    memset(text, 'y', 20000);
    snprintf(zone, sizeof(zone), "w.test");
    zv[0] = zone;
    memset(&r, 0, sizeof(r));
    r.op = SPOOLREC_SAVE;
    r.host = "";
    r.user = "";
    r.zones = zv;
    r.nzones = 1;
    r.text = text;
    r.text_len = 20000;
    /* A file size limit makes the write fail part way (EFBIG), like a full disk would. */
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 8192;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ck_assert_int_eq(spool_append(sp, &r, &e), DADNS_EIO);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    ck_assert_ptr_nonnull(strstr(e.text, "cannot write"));
    ck_assert_ptr_nonnull(strstr(e.text, "spool.log"));
    ck_assert_int_eq(file_size(log_file()), before);
    ck_assert_uint_eq(spool_pending(sp), 1);
    ck_assert_ptr_null(spool_broken(sp));
    /* The spool goes on once writing works again. */
    ck_assert_int_eq(spool_append(sp, &r, &e), 0);
    ck_assert_uint_eq(spool_pending(sp), 2);
    spool_close(sp);
    sp = open_ok(1 << 20, NULL);
    ck_assert_uint_eq(spool_pending(sp), 2);
    spool_close(sp);
    free(text);
}
END_TEST

START_TEST(file_lock_and_directory_errors)
{
    struct spool *sp = open_ok(1 << 20, NULL), *sp2 = NULL;
    char path[400];
    struct err e;
    int fd;

    ck_assert_int_eq(spool_open(spooldir, 1 << 20, &sp2, NULL, &e), DADNS_EIO);
    ck_assert_ptr_nonnull(strstr(e.text, "in use by another dadns-ingest"));
    ck_assert_ptr_nonnull(strstr(e.text, spooldir));
    spool_close(sp);
    /* Released on close. */
    sp = open_ok(1 << 20, NULL);
    spool_close(sp);

    /* A file where the directory should be. */
    snprintf(path, sizeof(path), "%s/file", tmpdir);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(spool_open(path, 1 << 20, &sp2, NULL, &e), DADNS_EIO);
    ck_assert_ptr_nonnull(strstr(e.text, path));
    ck_assert_ptr_nonnull(strstr(e.text, "Not a directory"));
    snprintf(path, sizeof(path), "%s/file/below", tmpdir);
    ck_assert_int_eq(spool_open(path, 1 << 20, &sp2, NULL, &e), DADNS_EIO);
    ck_assert_ptr_nonnull(strstr(e.text, "cannot create spool directory"));
    ck_assert_ptr_nonnull(strstr(e.text, "Not a directory"));
    ck_assert_int_eq(spool_open("", 1 << 20, &sp2, NULL, &e), DADNS_EIO);
    ck_assert_ptr_null(sp2);
    spool_close(NULL);
}
END_TEST

static int fsync_fails(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

START_TEST(file_drain_dir_fsync_failure)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct spool_batch *b = NULL;
    struct err e;
    int removed = 0;

    append_save(sp, 1);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_int_eq(spool_commit(sp, b, b->n, &e), 0);
    spool_batch_free(b);
    /* The file is removed, then the directory fsync fails. */
    spool_set_dir_fsync(fsync_fails);
    ck_assert_int_eq(spool_drain(sp, &removed, &e), DADNS_EIO);
    spool_set_dir_fsync(NULL);
    ck_assert_int_eq(removed, 1);
    ck_assert_ptr_nonnull(strstr(e.text, "cannot fsync directory"));
    ck_assert_int_eq(file_size(log_file()), -1);
    ck_assert_uint_eq(spool_bytes(sp), 0);
    ck_assert_ptr_null(spool_broken(sp));
    /* The next append goes to a new file, not to the deleted one. */
    append_save(sp, 2);
    ck_assert_int_gt(file_size(log_file()), 0);
    ck_assert_int_eq(file_size(log_file()), (off_t)spool_bytes(sp));
    ck_assert_uint_eq(spool_pending(sp), 1);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_uint_eq(b->n, 1);
    ck_assert_uint_eq(serial_of(b, 0), 1002);
    spool_batch_free(b);
    /* Durable: a restart finds it. */
    spool_close(sp);
    sp = open_ok(1 << 20, NULL);
    ck_assert_uint_eq(spool_pending(sp), 1);
    ck_assert_int_eq(spool_read(sp, 10, 1 << 20, &b, &e), 0);
    ck_assert_int_eq(spool_commit(sp, b, b->n, &e), 0);
    spool_batch_free(b);
    ck_assert_int_eq(spool_drain(sp, &removed, &e), 0);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(file_size(log_file()), -1);
    spool_close(sp);
}
END_TEST

/* ---- replay thread against a fake Redis ------------------------------------------------ */

/* A loopback server speaking just enough RESP: PING is answered +PONG (only once @gate is
 * set: until then the caller's PING blocks), every other command +OK. Counts the PINGs. */
struct fake_redis {
    int lfd;
    int port;
    pthread_t thread;
    atomic_int stop;
    atomic_int gate;
    atomic_int pings;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Parse one complete RESP array command at @p (@n octets): its length, or 0 if incomplete;
 * *@ping says whether it is PING. */
static size_t resp_command(const char *p, size_t n, int *ping)
{
    const char *end = p + n, *q = p, *nl;
    long argc, i, len;

    *ping = 0;
    if (n == 0 || *q != '*' || (nl = memchr(q, '\n', n)) == NULL)
        return 0;
    argc = strtol(q + 1, NULL, 10);
    q = nl + 1;
    for (i = 0; i < argc; i++) {
        if (q >= end || *q != '$' || (nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
            return 0;
        len = strtol(q + 1, NULL, 10);
        q = nl + 1;
        if (end - q < len + 2)
            return 0;
        if (i == 0 && len == 4 && strncasecmp(q, "PING", 4) == 0)
            *ping = 1;
        q += len + 2;
    }
    return (size_t)(q - p);
}

static void *fake_redis_main(void *arg)
{
    struct fake_redis *fr = arg;
    char buf[65536];
    size_t have = 0;
    int cfd = -1;

    while (!fr->stop) {
        struct pollfd pf[2] = {{fr->lfd, POLLIN, 0}, {cfd, POLLIN, 0}};
        int nf = cfd >= 0 ? 2 : 1;

        if (poll(pf, (nfds_t)nf, 20) <= 0)
            continue;
        if (pf[0].revents & POLLIN) {
            int nfd = accept(fr->lfd, NULL, NULL);

            if (nfd >= 0) {
                if (cfd >= 0)
                    close(cfd);
                cfd = nfd;
                have = 0;
            }
            continue;
        }
        if (nf == 2 && pf[1].revents) {
            ssize_t r = read(cfd, buf + have, sizeof(buf) - have);
            size_t used;
            int ping;

            if (r <= 0) {
                close(cfd);
                cfd = -1;
                continue;
            }
            have += (size_t)r;
            while ((used = resp_command(buf, have, &ping)) > 0) {
                const char *ans = ping ? "+PONG\r\n" : "+OK\r\n";

                if (ping) {
                    fr->pings++;
                    while (!fr->gate && !fr->stop)
                        sleep_ms(5);
                }
                if (write(cfd, ans, strlen(ans)) < 0)
                    break;
                memmove(buf, buf + used, have - used);
                have -= used;
            }
        }
    }
    if (cfd >= 0)
        close(cfd);
    return NULL;
}

static void fake_redis_start(struct fake_redis *fr)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1;

    memset(fr, 0, sizeof(*fr));
    fr->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fr->lfd, 0);
    setsockopt(fr->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fr->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fr->lfd, 4), 0);
    ck_assert_int_eq(getsockname(fr->lfd, (struct sockaddr *)&a, &al), 0);
    fr->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&fr->thread, NULL, fake_redis_main, fr), 0);
}

static void fake_redis_stop(struct fake_redis *fr)
{
    fr->stop = 1;
    pthread_join(fr->thread, NULL);
    close(fr->lfd);
}

static struct spooler *spooler_on(const struct fake_redis *fr, struct config **cfg)
{
    struct spooler *sl = NULL;
    char port[16];
    struct err e;

    snprintf(port, sizeof(port), "%d", fr->port);
    setenv("DADNS_REDIS_PORT", port, 1);
    setenv("DADNS_APP_SPOOL_DIR", spooldir, 1);
    setenv("DADNS_LOG_LEVEL", "error", 1);
    ck_assert_msg(config_load(NULL, cfg, &e) == 0, "config: %s", e.text);
    ck_assert_msg(spooler_open(*cfg, &sl, &e) == 0, "spooler_open: %s", e.text);
    return sl;
}

START_TEST(replay_stuck_while_running_waits)
{
    struct spool *sp = open_ok(1 << 20, NULL);
    struct fake_redis fr;
    struct config *cfg = NULL;
    struct spooler *sl;
    struct store *st = NULL;
    struct buf out;
    struct err e;
    char why[256];
    int i, pings, status = 0, spooled = 1;
    time_t t0;

    append_save(sp, 1);
    append_save(sp, 2);
    spool_close(sp);
    fake_redis_start(&fr);
    sl = spooler_on(&fr, &cfg);
    ck_assert_uint_eq(spooler_pending(sl), 2);
    /* The replay thread waits in its first PING: damage record 1 behind its back. */
    for (i = 0; i < 500 && fr.pings == 0; i++)
        sleep_ms(10);
    ck_assert_int_eq(fr.pings, 1);
    flip(log_file(), SPOOLREC_FILE_HDR_SIZE + SPOOLREC_HDR_SIZE + 2);
    fr.gate = 1;
    for (i = 0; i < 500; i++) {
        if (spooler_busy(sl, why, sizeof(why)) && strstr(why, "stuck") != NULL)
            break;
        sleep_ms(10);
    }
    ck_assert_ptr_nonnull(strstr(why, "stuck"));
    /* Stuck with records pending: the thread must wait, not PING + read in a loop. */
    sleep_ms(100);
    pings = fr.pings;
    sleep_ms(400);
    ck_assert_msg(fr.pings - pings == 0, "%d PINGs in 400 ms while stuck", fr.pings - pings);
    ck_assert_int_le(fr.pings, 2);
    ck_assert_uint_eq(spooler_pending(sl), 2);
    /* Pushes are refused and /readyz is 503 while stuck. */
    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(spooler_save(sl, st, "z9.test", "text", 4, 9, "h", "u", NULL, &spooled, &e),
                     DADNS_EIO);
    ck_assert_int_eq(spooled, 0);
    ck_assert_ptr_nonnull(strstr(e.text, "spool stuck"));
    buf_init(&out, 4096);
    spooler_ready(sl, st, &out, &status);
    ck_assert_int_eq(status, 503);
    ck_assert_ptr_nonnull(strstr(out.data, "not ready"));
    buf_free(&out);
    /* The stop is honoured at once. */
    t0 = time(NULL);
    spooler_free(sl);
    ck_assert_int_le(time(NULL) - t0, 2);
    store_free(st);
    config_free(cfg);
    fake_redis_stop(&fr);
    ck_assert_int_gt(file_size(log_file()), 0); /* kept for the operator */
}
END_TEST

static Suite *spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *codec = tcase_create("codec");
    TCase *files = tcase_create("files");
    TCase *replay = tcase_create("replay");

    tcase_add_test(codec, codec_crc32_known_value);
    tcase_add_test(codec, codec_save_round_trip);
    tcase_add_test(codec, codec_delete_round_trip);
    tcase_add_test(codec, codec_refuses_bad_records);
    tcase_add_test(codec, codec_crc_mismatch);
    tcase_add_test(codec, codec_truncated_input);
    tcase_add_test(codec, codec_file_header_and_progress);
    tcase_add_checked_fixture(files, setup, teardown);
    tcase_add_test(files, file_append_read_in_order);
    tcase_add_test(files, file_progress_survives_reopen);
    tcase_add_test(files, file_torn_tail_is_cut);
    tcase_add_test(files, file_incomplete_header_removed);
    tcase_add_test(files, file_damaged_header_or_progress_is_stuck);
    tcase_add_test(files, file_corrupt_middle_stops_replay);
    tcase_add_test(files, file_full_spool_refused);
    tcase_add_test(files, file_write_failure_is_cut_off);
    tcase_add_test(files, file_lock_and_directory_errors);
    tcase_add_test(files, file_drain_dir_fsync_failure);
    tcase_add_checked_fixture(replay, setup, teardown);
    tcase_add_test(replay, replay_stuck_while_running_waits);
    suite_add_tcase(s, codec);
    suite_add_tcase(s, files);
    suite_add_tcase(s, replay);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(spool_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
