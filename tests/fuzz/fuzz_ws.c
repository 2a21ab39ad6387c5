/*  fuzz_ws: a WebSocket connection from raw client bytes: the upgrade
    request (http-parser), then frames (wslay), then text messages (JSON)
    mapped onto the frame protocol, and what that yields written back
    through the reply path (frames to JSON or binary messages).

    Input: byte 0 picks the size of the pieces the rest arrives in; the
    rest is what a client sends. Nothing may crash or leak, the connection
    must end (0) once the input is spent, and every read must hand up
    whole-or-partial frame-protocol bytes no longer than asked for.        */
#include "zch_frame.h"
#include "zch_ws.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

typedef struct {
    const uint8_t *data;
    size_t size, pos, piece;
    bool starve;            //  one EAGAIN between pieces
    size_t written;
} s_wire_t;

static ssize_t
s_read (void *io, void *buf, size_t len)
{
    s_wire_t *wire = io;
    if (wire->pos == wire->size)
        return 0;
    wire->starve = !wire->starve;
    if (wire->starve) {
        errno = EAGAIN;
        return -1;
    }
    size_t take = wire->size - wire->pos;
    if (take > wire->piece)
        take = wire->piece;
    if (take > len)
        take = len;
    memcpy (buf, wire->data + wire->pos, take);
    wire->pos += take;
    return (ssize_t) take;
}

static ssize_t
s_write (void *io, const void *buf, size_t len)
{
    (void) buf;
    s_wire_t *wire = io;
    wire->written += len;
    return (ssize_t) len;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    s_wire_t wire = { .data = data + 1, .size = size - 1, .piece = (size_t) data [0] % 64 + 1 };
    static const zch_ws_config_t config = {
        .origins = "http://allowed.example", .root = NULL, .max_message = 16384
    };
    zch_ws_t *ws = zch_ws_new (&config, s_read, s_write, &wire);
    if (!ws)
        return 0;
    uint8_t in [4096];
    size_t have = 0;
    //  Each pass reads a piece at most; the input ends in far fewer passes
    for (size_t pass = 0; pass < 4 * size + 16; pass++) {
        ssize_t got = zch_ws_read (ws, in + have, sizeof in - have);
        if (got == 0)
            break;
        if (got < 0) {
            S_ASSERT (errno == EAGAIN);
            continue;
        }
        S_ASSERT ((size_t) got <= sizeof in - have);
        have += (size_t) got;
        //  Whole frames go back out through the reply path; a frame too
        //  long for the buffer is dropped with everything after it
        size_t offset = 0;
        while (true) {
            const uint8_t *body;
            size_t body_len, consumed;
            int rc = zch_frame_next (in + offset, have - offset, sizeof in - 4, &body, &body_len,
                                     &consumed, NULL);
            if (rc != ZCH_FRAME_FOUND) {
                if (rc == ZCH_FRAME_TOO_LONG)
                    offset = have;
                break;
            }
            zch_ws_write (ws, in + offset, consumed);
            offset += consumed;
        }
        memmove (in, in + offset, have - offset);
        have -= offset;
    }
    S_ASSERT (wire.pos == wire.size || zch_ws_read (ws, in, sizeof in) == 0);
    zch_ws_set_close (ws, 1001, "going away");
    zch_ws_end (ws);
    zch_ws_send (ws);
    zch_ws_destroy (&ws);
    return 0;
}
