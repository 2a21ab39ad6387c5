/*  source_udp: UDP ingest for a source worker.

    Each datagram is one message: a `PUB <topic> <payload>` line (one LF or
    CRLF at its end is dropped) or, with a fixed topic, the raw payload for
    that topic. Datagrams are never answered; one that does not parse is
    counted as malformed. The socket is read only while the broker takes
    more (source_udp_set_ready): a datagram the broker cannot take is held
    and reading stops, so the kernel's receive buffer holds the rest, and
    what the kernel drops when that buffer is full (SO_RXQ_OVFL) is counted
    too. Malformed and dropped datagrams are logged at most once a second. */
#ifndef SOURCE_UDP_H_INCLUDED
#define SOURCE_UDP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_loop.h"

typedef struct source_udp_t source_udp_t;

//  Publishes one message for the worker; src names the sender. Returns 0
//  (sent, or held back to go before anything else), 1 when a plugin
//  dropped it, or -1 when the broker cannot take it now.
typedef int (source_udp_publish_fn) (void *ctx, const char *topic, size_t topic_len,
                                     const char *payload, size_t payload_len, const char *src);

typedef struct {
    uint64_t received;          //  datagrams read
    uint64_t published;
    uint64_t malformed;         //  did not parse, bad topic, payload too large
    uint64_t dropped;           //  parsed, never taken by the broker (held at shutdown)
    uint64_t kernel_dropped;    //  never read: the receive buffer was full (SO_RXQ_OVFL)
    uint64_t plugin_dropped;    //  dropped by a source plugin
} source_udp_stats_t;

//  Serves fd (a bound datagram socket, taken over) in loop. topic NULL: each
//  datagram is a PUB line. The strings must outlive the object. Returns
//  NULL (fd closed) when out of memory.
source_udp_t *source_udp_new (zch_loop_t *loop, int fd, const char *topic, size_t max_payload,
                              source_udp_publish_fn *publish, void *ctx);

//  Closes the socket; NULLs the pointer.
void source_udp_destroy (source_udp_t **self_p);

//  Reads the socket while ready (the broker takes more), first trying the
//  datagram held back, if any; stops reading while not. A new object is
//  not ready.
void source_udp_set_ready (source_udp_t *self, bool ready);

//  True while a datagram the broker could not take is held back.
bool source_udp_holding (source_udp_t *self);

//  Stops reading for good (shutdown); set_ready then only retries the held
//  datagram. source_udp_discard then counts as dropped the held datagram
//  and those still in the receive buffer (read and thrown away), so that
//  every datagram that reached the socket is counted.
void source_udp_stop (source_udp_t *self);
void source_udp_discard (source_udp_t *self);

//  Counters since start.
const source_udp_stats_t *source_udp_stats (source_udp_t *self);

//  Logs what was malformed or dropped since the last report, at most once
//  a second (call once per loop turn; force reports now).
void source_udp_report (source_udp_t *self, bool force);

#endif
