/* backoff.c -- exponential backoff with jitter (see backoff.h). Pure: no clock, no I/O. */
#include "backoff.h"

#include <stddef.h>

int64_t backoff_ms(int64_t base_ms, int64_t cap_ms, uint64_t n, double r)
{
    int64_t d;
    uint64_t i;

    if (base_ms < 0)
        base_ms = 0;
    if (cap_ms < 0)
        cap_ms = 0;
    d = base_ms < cap_ms ? base_ms : cap_ms;
    for (i = 1; i < n && d < cap_ms; i++)
        d = d > cap_ms / 2 ? cap_ms : d * 2;
    if (!(r >= 0.0)) /* also NaN */
        r = 0.0;
    if (r >= 1.0)
        r = 0.999999;
    return (int64_t)((double)d * (0.8 + 0.4 * r));
}

/* to_fraction - the top 53 bits of @x as a double in [0, 1). */
static double to_fraction(uint64_t x)
{
    return (double)(x >> 11) / 9007199254740992.0; /* 2^53 */
}

double backoff_jitter_id(const char *id, uint64_t n)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 */
    size_t i;

    for (i = 0; id[i] != '\0'; i++) {
        h ^= (unsigned char)id[i];
        h *= 1099511628211ULL;
    }
    for (i = 0; i < 8; i++) {
        h ^= (n >> (8 * i)) & 0xff;
        h *= 1099511628211ULL;
    }
    /* finalizer (splitmix64): FNV's low bits alone are poorly mixed */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return to_fraction(h);
}

double backoff_jitter_next(uint64_t *state)
{
    uint64_t x = *state;

    if (x == 0)
        x = 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return to_fraction(x * 0x2545f4914f6cdd1dULL);
}
