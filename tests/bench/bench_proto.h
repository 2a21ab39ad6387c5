/*  bench_proto: the client protocols zch_bench speaks over TCP, behind one
    table of functions: zchannel's text protocol, NATS text (verbose and
    pedantic off), Redis RESP (SUBSCRIBE/PSUBSCRIBE/PUBLISH) and MQTT 3.1.1
    at QoS 0. The load engine (bench_run) only frames and unframes through
    this table; the payload and its checks are bench_msg's.

    With several topics the publishers write to "<topic><sep><n>" and the
    subscribers follow the protocol's wildcard for all of them.           */
#ifndef BENCH_PROTO_H_INCLUDED
#define BENCH_PROTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  What one unit of server input was.
typedef enum {
    BENCH_EV_NONE,              //  nothing the engine needs (greeting, INFO, a PUBLISH count)
    BENCH_EV_MSG,               //  a delivery: topic and payload set
    BENCH_EV_READY,             //  the handshake or subscription is confirmed
    BENCH_EV_ERROR,             //  the server refused something: text set
    BENCH_EV_PING               //  the server wants the protocol's pong
} bench_ev_kind_t;

typedef struct {
    bench_ev_kind_t kind;
    const char *topic;
    size_t topic_len;
    const char *payload;        //  MSG: the payload; ERROR: the text
    size_t payload_len;
} bench_event_t;

typedef struct {
    const char *name;           //  "zch", "nats", "redis", "mqtt"
    char separator;             //  between the topic and its child with --topics
    bool pub_waits;             //  a publisher waits for READY before publishing
    const char *pong;           //  answer to BENCH_EV_PING, or NULL

    //  Writes what a subscriber sends once connected (handshake and one
    //  subscription, to topic or, when wildcard, all its children) into
    //  to (cap bytes). Returns the length, or 0 when it does not fit.
    size_t (*subscribe) (char *to, size_t cap, const char *topic, bool wildcard, int index);

    //  Writes what a publisher (or an idle connection) sends once
    //  connected. Returns the length, 0 for nothing (or when it does not
    //  fit).
    size_t (*hello) (char *to, size_t cap, bool publisher, int index);

    //  Bytes of framing around a payload on topic_len bytes of topic.
    size_t (*overhead) (size_t topic_len);

    //  Writes one publish at to (room for overhead + payload_len bytes).
    //  Returns its length.
    size_t (*publish) (char *to, const char *topic, size_t topic_len,
                       const char *payload, size_t payload_len);

    //  Reads one unit from the len bytes at from into event. Returns the
    //  bytes it takes, 0 when more are needed, -1 when the input makes no
    //  sense (the connection is then closed).
    long (*parse) (const char *from, size_t len, bool publisher, bench_event_t *event);
} bench_proto_t;

//  The protocol called name, or NULL.
const bench_proto_t *bench_proto_find (const char *name);

//  The protocols defined in their own files.
extern const bench_proto_t bench_proto_resp;
extern const bench_proto_t bench_proto_mqtt;

//  Finds the end of the line at from: returns the length of the line
//  without its LF (nor a CR before it), and sets *next past the LF;
//  returns -1 when no LF is there yet.
long bench_proto_line (const char *from, size_t len, size_t *next);

#endif
