/*  client_frames: the frame protocol for the client tools, over a
    client_link_t (its buffer holds the bytes of frames not yet taken).
    Private to the launcher's client tools.                                 */
#ifndef CLIENT_FRAMES_H_INCLUDED
#define CLIENT_FRAMES_H_INCLUDED

#include "client_common.h"
#include "zch_frame.h"

//  Default frame ports of the tools: the source's and the subscriber's
//  --frame-listen in the documented examples (the servers have none by
//  default)
#define CLIENT_SOURCE_FRAME_PORT     2347
#define CLIENT_SUBSCRIBER_FRAME_PORT 2348
#define CLIENT_SOURCE_FRAME_PORT_TEXT     "2347"
#define CLIENT_SUBSCRIBER_FRAME_PORT_TEXT "2348"

//  Largest frame body the tools accept from a server
#define CLIENT_FRAME_MAX    (64 * 1024 * 1024)

//  Takes the next whole frame from the buffer, without I/O, and decodes it
//  into cmd (views into the buffer, valid until the next fill). Returns
//  CLIENT_LINE_FOUND, CLIENT_LINE_NONE, or CLIENT_LINE_TOO_LONG for a frame
//  that is too long or does not decode (the stream is then not trusted).
int client_frame_take (client_link_t *link, zch_frame_cmd_t *cmd);

//  Waits up to timeout_ms for one frame. Returns CLIENT_LINE_FOUND or a
//  CLIENT_FILL_* / CLIENT_LINE_TOO_LONG code, as client_link_read_line.
int client_frame_read (client_link_t *link, int timeout_ms, zch_frame_cmd_t *cmd);

//  Sends ["ping"] and reads up to ["pong"]; each ["err", ...] before it is
//  reported on stderr and counted in *errors. Returns 0, or -1 when the
//  conversation ended first (reported).
int client_frame_sync (client_link_t *link, uint64_t *errors);

//  What a sub asks for besides the subscription.
typedef struct {
    bool snapshot;
    bool from_set;
    uint64_t from;
    uint64_t from_epoch;        //  0: none
    bool verbose;               //  answered ["ok", epoch]
} client_sub_options_t;

//  Sends ["sub", pattern, opts] ({"snapshot": true}, {"from": seq, "epoch":
//  str}, "verbose": true as asked) and waits for ["ok"] or ["ok", epoch]
//  (the epoch goes into epoch, cap bytes; "" when none). Returns 0, or -1
//  after reporting an err frame, a timeout or a close.
int client_frame_subscribe (client_link_t *link, const char *pattern,
                            const client_sub_options_t *options, char *epoch, size_t cap);

//  Parses "K=V" into a headers list kept in *map (msgpack, grown with
//  realloc; *count entries). Returns 0, or -1 if text has no '=' or an
//  empty key.
int client_header_add (const char *text, uint8_t **map, size_t *map_size, uint32_t *count);

//  Makes the msgpack map of the collected headers in out (malloc'd, the
//  caller frees). Returns its size, 0 when out of memory.
size_t client_headers_finish (const uint8_t *entries, size_t entries_size, uint32_t count,
                              uint8_t **out);

#endif
