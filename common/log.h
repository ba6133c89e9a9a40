/* log.h -- one line per event on stderr, key=value (default) or JSON.
 *
 * Services call log_init once, then log_msg with a message and key=value pairs. Thread-safe
 * (one write(2) per line). Library code in common/ does not log; services do. */
#ifndef DADNS_LOG_H
#define DADNS_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* log_init - set the service name (borrowed, must outlive logging), the minimum level name
 * ("debug", "info", "warn", "error"; NULL = info) and the format ("kv" or "json"; NULL = kv). */
void log_init(const char *service, const char *level, const char *format);

/* log_msg - log @msg at @lvl, followed by NULL-terminated key, value string pairs:
 *   log_msg(LOG_INFO, "zone saved", "zone", name, "version", vbuf, NULL);
 * Values are quoted/escaped as needed, so untrusted text cannot forge fields or lines. */
void log_msg(enum log_level lvl, const char *msg, ...) __attribute__((sentinel));

#endif
