/* rconn.h -- one Redis connection (hiredis 0.14), with reconnect and a single reply checker.
 *
 * Owns connecting (connect timeout, read timeout, TCP keepalive, AUTH, SELECT, CLIENT SETNAME,
 * re-applied after every reconnect) and the translation of every hiredis outcome into the
 * dadns error space: a NULL reply (broken context) is DADNS_EREDIS and drops the connection so
 * the next call reconnects; an error reply is DADNS_EREPLY with Redis's text. Not thread-safe:
 * one rconn per thread. */
#ifndef DADNS_RCONN_H
#define DADNS_RCONN_H

#include <hiredis.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

struct rconn;

/* rconn_new - a disconnected handle for the Redis settings of @cfg, named @client_name (shown
 * by CLIENT LIST; copied). Connects lazily. *@out is freed with rconn_free.
 * Returns 0 or DADNS_ENOMEM. */
int rconn_new(const struct config *cfg, const char *client_name, struct rconn **out);

/* rconn_free - close and release; NULL is fine. */
void rconn_free(struct rconn *rc);

/* rconn_connect - connect now if not connected (no-op when connected). Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY (e.g. AUTH refused) with @e set. */
int rconn_connect(struct rconn *rc, struct err *e);

/* rconn_drop - close the connection (the next command reconnects). */
void rconn_drop(struct rconn *rc);

/* rconn_set_read_timeout - change the read timeout of the current and future connections
 * (writers need it above their XREADGROUP BLOCK). @ms > 0. */
void rconn_set_read_timeout(struct rconn *rc, int ms);

/* rconn_fd - the socket of the current connection, or -1 while disconnected. Only for waking a
 * thread blocked on it (shutdown(2) from a signal handler); never read or write it directly. */
int rconn_fd(const struct rconn *rc);

/* rconn_reconnects - how many times the handle connected after its first connection. */
unsigned long rconn_reconnects(const struct rconn *rc);

/* rconn_command - run one command given as @argc arguments (@argv with lengths @lens, binary
 * safe; @lens NULL = strlen) and check the reply with rconn_check against @want (a
 * REDIS_REPLY_* type, or -1 for any non-error type). When a connection kept from an earlier
 * call turns out to be broken (Redis restarted meanwhile), it reconnects and sends the command
 * once more, so only use it for commands that are safe to repeat (every dadns script is).
 * On success *@reply is the reply (caller frees with freeReplyObject) and 0 is returned. On
 * failure *@reply is NULL and the code is DADNS_EREDIS (connection lost: outcome unknown) or
 * DADNS_EREPLY (@e holds Redis's text). */
int rconn_command(struct rconn *rc, int argc, const char **argv, const size_t *lens, int want,
                  redisReply **reply, struct err *e);

/* rconn_append - queue one command for pipelining (sent with the next rconn_get_reply).
 * Connects first if needed. Returns 0, DADNS_EREDIS or DADNS_ENOMEM. */
int rconn_append(struct rconn *rc, int argc, const char **argv, const size_t *lens, struct err *e);

/* rconn_get_reply - read the next pipelined reply and check it against @want as
 * rconn_command does. The caller must read one reply per appended command, even after an
 * error reply (a DADNS_EREDIS failure drops the connection and the rest are lost). */
int rconn_get_reply(struct rconn *rc, int want, redisReply **reply, struct err *e);

/* rconn_check - the one place a hiredis reply is judged: NULL -> DADNS_EREDIS (using the
 * context's error text from @c, which may be NULL), REDIS_REPLY_ERROR -> DADNS_EREPLY with the
 * error text, a type other than @want (-1 = any) -> DADNS_EREPLY "unexpected reply type".
 * Does not free @r. */
int rconn_check(const redisContext *c, const redisReply *r, int want, struct err *e);

#endif
