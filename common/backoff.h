/* backoff.h -- retry delays: exponential backoff with jitter, pure arithmetic.
 *
 * Owns the formula min(cap, base * 2^(n-1)) * jitter(0.8..1.2) and two jitter sources: one
 * derived from a stream entry id (every writer replica computes the same delay for the same
 * entry and delivery count) and a small PRNG for reconnects. Sleeping, and deciding what to
 * retry and when, are the callers'. */
#ifndef DADNS_BACKOFF_H
#define DADNS_BACKOFF_H

#include <stdint.h>

/* backoff_ms - the delay after failure number @n (1 = the first failure): min(@cap_ms,
 * @base_ms * 2^(@n-1)) scaled by 0.8 + 0.4 * @r. @n 0 counts as 1; @r is a jitter fraction in
 * [0, 1) (clamped); @base_ms and @cap_ms >= 0 (a cap below the base caps the base). Never
 * overflows, whatever @n. Returns milliseconds. */
int64_t backoff_ms(int64_t base_ms, int64_t cap_ms, uint64_t n, double r);

/* backoff_jitter_id - a jitter fraction in [0, 1) fixed by @id (a NUL-terminated string, e.g. a
 * stream entry id) and @n (its delivery count): the same inputs always give the same value,
 * different ones spread evenly. */
double backoff_jitter_id(const char *id, uint64_t n);

/* backoff_jitter_next - the next jitter fraction in [0, 1) from the PRNG state *@state
 * (xorshift64*; any seed, 0 included, is fine), which it advances. */
double backoff_jitter_next(uint64_t *state);

#endif
