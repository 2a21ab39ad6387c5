/*  broker_request: what a control request on the broker's ROUTER says,
    as a pure function over its frames (no sockets), so it can be fuzzed.

    A request is [routing id][body...] from a DEALER, or [routing id][empty
    delimiter][body...] from a REQ; the routing frames (and the delimiter)
    go back unchanged in the reply. The body is one frame of tokens
    separated by spaces, or one frame per token (broker_control.h lists
    the requests; proto/PROTOCOL.md section 5 is the reference).           */
#ifndef BROKER_REQUEST_H_INCLUDED
#define BROKER_REQUEST_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "zch_envelope.h"

#define BROKER_REQUEST_TAG_MAX  64

typedef enum {
    BROKER_REQUEST_UNKNOWN = 0, //  no body, too many tokens, or a verb not known
    BROKER_REQUEST_PING,        //  PING
    BROKER_REQUEST_STATS,       //  STATS
    BROKER_REQUEST_HEALTH,      //  HEALTH: whether the broker serves (a front-end's heartbeat)
    BROKER_REQUEST_SNAPSHOT,    //  SNAPSHOT <pattern> [tag]
    BROKER_REQUEST_SEQS,        //  SEQS <prefix> [tag]
    BROKER_REQUEST_HISTORY,     //  HISTORY <topic> <from-seq>[@<epoch>] [tag]
    BROKER_REQUEST_HEAL,        //  HEAL <topic> <from>[@<epoch>] <to> [tag]
    BROKER_REQUEST_HANDOVER     //  HANDOVER <marker> (the marker in tag)
} broker_request_kind_t;

//  A parsed request: views into the frames given, valid while they are.
typedef struct {
    broker_request_kind_t kind;
    size_t reply_frames;        //  leading frames that go back before the reply
    const char *error;          //  NULL, or why the request is refused (kind still set)
    const char *tag;            //  the optional tag ("" when none); set before
    size_t tag_len;             //  any error after the argument count
    const char *subject;        //  the pattern, prefix or topic
    size_t subject_len;
    uint64_t from;              //  HISTORY, HEAL
    uint64_t epoch;             //  HISTORY, HEAL: the epoch from names ("<seq>@<epoch>"); 0: none
    uint64_t to;                //  HEAL; UINT64_MAX for HISTORY
} broker_request_t;

//  Parses count frames (the first is the routing id) into request. Sets
//  reply_frames (at least 1 when count is not 0, never more than count).
//  An UNKNOWN request, or one with error set, is answered ERR.
void broker_request_parse (const zch_frame_t *frames, size_t count, broker_request_t *request);

#endif
