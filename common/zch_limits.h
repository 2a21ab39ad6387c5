/*  zch_limits: the per-address connection rate limit of a front-end.

    A token bucket per client address, in a small table of fixed size: an
    address that opens connections faster than its rate (after a burst)
    is refused. The table is bounded, so a flood of distinct addresses
    evicts the least recently seen bucket instead of growing memory; an
    evicted address starts again with a full bucket, which errs on the
    side of letting a client in. One table serves every worker of a
    front-end (a mutex guards it: it is touched once per accept, never on
    the data path).                                                         */
#ifndef ZCH_LIMITS_H_INCLUDED
#define ZCH_LIMITS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZCH_RATE_SLOTS_DEFAULT  4096    //  addresses remembered per front-end

typedef struct zch_rate_table_t zch_rate_table_t;

//  A table remembering up to slots addresses. Returns NULL when out of
//  memory or slots is 0.
zch_rate_table_t *zch_rate_table_new (size_t slots);

//  Frees the table and NULLs the pointer.
void zch_rate_table_destroy (zch_rate_table_t **self_p);

//  Takes one token from the bucket of addr (addr_len bytes, e.g. an
//  in_addr or in6_addr) at time now_ms, refilled at rate tokens per
//  second up to burst. Returns true when the connection may go on, false
//  when the address is over its rate. rate 0 lets everything through.
bool zch_rate_allow (zch_rate_table_t *self, const void *addr, size_t addr_len,
                     double rate, double burst, int64_t now_ms);

//  Addresses the table holds now.
size_t zch_rate_table_size (zch_rate_table_t *self);

#endif
