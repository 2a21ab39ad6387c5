/*  bench_proto: the table of protocols, zchannel text and NATS text.
    See bench_proto.h.                                                     */
#include "bench_proto.h"

#include <stdio.h>
#include <string.h>

#define NATS_CONNECT "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"zch_bench\"}\r\n"

//  Finds one line.
long
bench_proto_line (const char *from, size_t len, size_t *next)
{
    const char *lf = memchr (from, '\n', len);
    if (!lf)
        return -1;
    size_t line = (size_t) (lf - from);
    *next = line + 1;
    if (line > 0 && from [line - 1] == '\r')
        line--;
    return (long) line;
}

//  Tells whether a line starts with word (case as the servers send it).
static bool
s_starts (const char *line, size_t len, const char *word)
{
    size_t n = strlen (word);
    return len >= n && memcmp (line, word, n) == 0;
}

//  The length snprintf reported when the text fitted in cap bytes, else 0.
static size_t
s_fitted (size_t cap, int len)
{
    return len > 0 && (size_t) len < cap ? (size_t) len : 0;
}

//  zchannel: "SUB <topic>" or "SUB <topic>.>", answered "+OK".
static size_t
s_zch_subscribe (char *to, size_t cap, const char *topic, bool wildcard, int index)
{
    (void) index;
    return s_fitted (cap, snprintf (to, cap, "SUB %s%s\n", topic, wildcard ? ".>" : ""));
}

//  zchannel: publishers and idle connections say nothing first.
static size_t
s_zch_hello (char *to, size_t cap, bool publisher, int index)
{
    (void) to, (void) cap, (void) publisher, (void) index;
    return 0;
}

//  zchannel: "PUB " topic " " payload "\n".
static size_t
s_zch_overhead (size_t topic_len)
{
    return 4 + topic_len + 2;
}

//  zchannel: one PUB line.
static size_t
s_zch_publish (char *to, const char *topic, size_t topic_len, const char *payload,
               size_t payload_len)
{
    memcpy (to, "PUB ", 4);
    memcpy (to + 4, topic, topic_len);
    to [4 + topic_len] = ' ';
    memcpy (to + 5 + topic_len, payload, payload_len);
    to [5 + topic_len + payload_len] = '\n';
    return 6 + topic_len + payload_len;
}

//  zchannel: "MSG <topic> <seq> <payload>", "+OK", "-ERR ...", greetings.
static long
s_zch_parse (const char *from, size_t len, bool publisher, bench_event_t *event)
{
    size_t next;
    long line_len = bench_proto_line (from, len, &next);
    if (line_len < 0)
        return 0;
    size_t n = (size_t) line_len;
    event->kind = BENCH_EV_NONE;
    if (s_starts (from, n, "MSG ")) {
        const char *topic = from + 4, *end = from + n;
        const char *space = memchr (topic, ' ', (size_t) (end - topic));
        const char *seq_end = space ? memchr (space + 1, ' ', (size_t) (end - space - 1)) : NULL;
        if (!seq_end)
            return -1;
        event->kind = BENCH_EV_MSG;
        event->topic = topic;
        event->topic_len = (size_t) (space - topic);
        event->payload = seq_end + 1;
        event->payload_len = (size_t) (end - seq_end - 1);
    }
    else
    if (s_starts (from, n, "+OK") && !publisher)
        event->kind = BENCH_EV_READY;
    else
    if (s_starts (from, n, "-ERR")) {
        event->kind = BENCH_EV_ERROR;
        event->payload = from;
        event->payload_len = n;
    }
    return (long) next;
}

static const bench_proto_t s_zch = {
    .name = "zch", .separator = '.', .pub_waits = false, .pong = NULL,
    .subscribe = s_zch_subscribe, .hello = s_zch_hello, .overhead = s_zch_overhead,
    .publish = s_zch_publish, .parse = s_zch_parse
};

//  NATS: CONNECT, SUB with a sid, then PING: the PONG says it is live.
static size_t
s_nats_subscribe (char *to, size_t cap, const char *topic, bool wildcard, int index)
{
    return s_fitted (cap, snprintf (to, cap, NATS_CONNECT "SUB %s%s %d\r\nPING\r\n",
                                     topic, wildcard ? ".>" : "", index + 1));
}

//  NATS: CONNECT then PING, so a publisher knows it is connected.
static size_t
s_nats_hello (char *to, size_t cap, bool publisher, int index)
{
    (void) publisher, (void) index;
    return s_fitted (cap, snprintf (to, cap, NATS_CONNECT "PING\r\n"));
}

//  NATS: "PUB " topic " " <len> "\r\n" payload "\r\n".
static size_t
s_nats_overhead (size_t topic_len)
{
    return 4 + topic_len + 1 + 20 + 4;
}

//  NATS: one PUB.
static size_t
s_nats_publish (char *to, const char *topic, size_t topic_len, const char *payload,
                size_t payload_len)
{
    memcpy (to, "PUB ", 4);
    memcpy (to + 4, topic, topic_len);
    size_t n = 4 + topic_len;
    n += (size_t) sprintf (to + n, " %zu\r\n", payload_len);
    memcpy (to + n, payload, payload_len);
    n += payload_len;
    memcpy (to + n, "\r\n", 2);
    return n + 2;
}

//  NATS: "MSG <subject> <sid> [reply] <bytes>" then the payload; INFO,
//  +OK, PING, PONG, -ERR.
static long
s_nats_parse (const char *from, size_t len, bool publisher, bench_event_t *event)
{
    (void) publisher;
    size_t next;
    long line_len = bench_proto_line (from, len, &next);
    if (line_len < 0)
        return 0;
    size_t n = (size_t) line_len;
    event->kind = BENCH_EV_NONE;
    if (s_starts (from, n, "MSG ")) {
        const char *topic = from + 4, *end = from + n;
        const char *space = memchr (topic, ' ', (size_t) (end - topic));
        const char *last = end;
        while (last > topic && last [-1] != ' ')
            last--;
        if (!space || last <= space)
            return -1;
        size_t bytes = 0;
        for (const char *p = last; p < end; p++) {
            if (*p < '0' || *p > '9' || bytes > (1u << 30))
                return -1;
            bytes = bytes * 10 + (size_t) (*p - '0');
        }
        if (len < next + bytes + 2)
            return 0;
        event->kind = BENCH_EV_MSG;
        event->topic = topic;
        event->topic_len = (size_t) (space - topic);
        event->payload = from + next;
        event->payload_len = bytes;
        return (long) (next + bytes + 2);
    }
    if (s_starts (from, n, "PONG"))
        event->kind = BENCH_EV_READY;
    else
    if (s_starts (from, n, "PING"))
        event->kind = BENCH_EV_PING;
    else
    if (s_starts (from, n, "-ERR")) {
        event->kind = BENCH_EV_ERROR;
        event->payload = from;
        event->payload_len = n;
    }
    return (long) next;
}

static const bench_proto_t s_nats = {
    .name = "nats", .separator = '.', .pub_waits = true, .pong = "PONG\r\n",
    .subscribe = s_nats_subscribe, .hello = s_nats_hello, .overhead = s_nats_overhead,
    .publish = s_nats_publish, .parse = s_nats_parse
};

//  Looks a protocol up by name.
const bench_proto_t *
bench_proto_find (const char *name)
{
    const bench_proto_t *all [] = { &s_zch, &s_nats, &bench_proto_resp, &bench_proto_mqtt };
    for (size_t i = 0; i < sizeof all / sizeof all [0]; i++)
        if (strcmp (all [i]->name, name) == 0)
            return all [i];
    return NULL;
}
