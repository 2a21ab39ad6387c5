/*  source_frames: the frame protocol on the source front-end (private to
    source/). A worker owns one source_frames_t and gives it as the context
    of its frame edge; requests are decoded here and published through the
    worker's callback, so the worker's own code stays the text path.       */
#ifndef SOURCE_FRAMES_H_INCLUDED
#define SOURCE_FRAMES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_edge.h"
#include "zch_guard.h"
#include "zch_secure.h"

//  Publishes for a frame client; headers is a checked msgpack map or NULL.
//  Returns 0 (sent, or held back to go before anything else), 1 when a
//  plugin dropped it, or -1 when the broker cannot take it now (nothing
//  was sent; the client is paused and offers it again).
typedef int (source_frames_publish_fn) (void *ctx, zch_conn_t *conn,
                                        const char *topic, size_t topic_len,
                                        const char *payload, size_t payload_len,
                                        const uint8_t *headers, size_t headers_size);

//  Per-connection flags, in the connection's user pointer (both edges)
#define SOURCE_CLIENT_VERBOSE   1       //  publisher confirms on

//  True when a request must wait (the client is owed confirms, and its
//  answer would overtake them): a pub of topic (payload_len bytes) that
//  would be refused, or (topic NULL) any other request.
typedef bool (source_frames_wait_fn) (void *ctx, zch_conn_t *conn, const char *topic,
                                      size_t topic_len, size_t payload_len);

//  The connection is going.
typedef void (source_frames_closed_fn) (void *ctx, zch_conn_t *conn);

typedef struct {
    source_frames_publish_fn *publish;
    source_frames_wait_fn *wait;        //  NULL: nothing waits
    source_frames_closed_fn *closed;    //  may be NULL
    void *ctx;
    size_t max_payload;
    zch_guard_t *guard;         //  the worker's, for AUTH and ACLs
    const zch_secure_config_t *secure;  //  topic limits
    uint64_t malformed;         //  frames that did not decode (bad msgpack, shape, verb)
    uint64_t rejected;          //  requests refused (bad topic, too large, wrong port)
} source_frames_t;

//  The frame edge's on_line and on_close handlers; ctx is a source_frames_t.
int source_frames_on_frame (void *ctx, zch_conn_t *conn, const char *body, size_t len);
void source_frames_on_close (void *ctx, zch_conn_t *conn);

#endif
