/*  bench_proto_resp: Redis RESP for zch_bench. Subscribers SUBSCRIBE (or
    PSUBSCRIBE to "<topic>.*"), publishers PUBLISH; the server answers
    every PUBLISH with the number of receivers, which is read and ignored.
    See bench_proto.h.                                                     */
#include "bench_proto.h"

#include <stdio.h>
#include <string.h>

#define RESP_ITEMS 4                //  the longest array we read: pmessage

//  Writes (P)SUBSCRIBE as a RESP array.
static size_t
s_resp_subscribe (char *to, size_t cap, const char *topic, bool wildcard, int index)
{
    (void) index;
    size_t topic_len = strlen (topic) + (wildcard ? 2 : 0);
    int n = snprintf (to, cap, "*2\r\n$%d\r\n%s\r\n$%zu\r\n%s%s\r\n",
                      wildcard ? 10 : 9, wildcard ? "PSUBSCRIBE" : "SUBSCRIBE",
                      topic_len, topic, wildcard ? ".*" : "");
    return n > 0 && (size_t) n < cap ? (size_t) n : 0;
}

//  Redis needs no handshake.
static size_t
s_resp_hello (char *to, size_t cap, bool publisher, int index)
{
    (void) to, (void) cap, (void) publisher, (void) index;
    return 0;
}

//  "*3\r\n$7\r\nPUBLISH\r\n$<t>\r\n" topic "\r\n$<n>\r\n" payload "\r\n".
static size_t
s_resp_overhead (size_t topic_len)
{
    return 17 + 1 + 20 + 2 + topic_len + 3 + 20 + 2 + 2;
}

//  One PUBLISH.
static size_t
s_resp_publish (char *to, const char *topic, size_t topic_len, const char *payload,
                size_t payload_len)
{
    size_t n = (size_t) sprintf (to, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n", topic_len);
    memcpy (to + n, topic, topic_len);
    n += topic_len;
    n += (size_t) sprintf (to + n, "\r\n$%zu\r\n", payload_len);
    memcpy (to + n, payload, payload_len);
    n += payload_len;
    memcpy (to + n, "\r\n", 2);
    return n + 2;
}

//  Reads a decimal (with an optional '-') that fills the line.
static int
s_resp_number (const char *from, size_t len, long *value)
{
    size_t i = from [0] == '-' ? 1 : 0;
    long v = 0;
    if (i == len)
        return -1;
    for (; i < len; i++) {
        if (from [i] < '0' || from [i] > '9' || v > (1L << 40))
            return -1;
        v = v * 10 + (from [i] - '0');
    }
    *value = from [0] == '-' ? -v : v;
    return 0;
}

//  Tells whether an array item is the word (a bulk string).
static bool
s_resp_is (const char *item, size_t len, const char *word)
{
    return item && len == strlen (word) && memcmp (item, word, len) == 0;
}

//  Reads one reply: a simple string, error or integer line, or an array
//  of bulk strings and integers (messages and subscription answers).
static long
s_resp_parse (const char *from, size_t len, bool publisher, bench_event_t *event)
{
    (void) publisher;
    size_t next;
    long line_len = bench_proto_line (from, len, &next);
    if (line_len < 1)
        return line_len < 0 ? 0 : -1;
    event->kind = BENCH_EV_NONE;
    if (from [0] == '-') {
        event->kind = BENCH_EV_ERROR;
        event->payload = from;
        event->payload_len = (size_t) line_len;
        return (long) next;
    }
    if (from [0] == '+' || from [0] == ':')
        return (long) next;
    long count;
    if (from [0] != '*' || s_resp_number (from + 1, (size_t) line_len - 1, &count)
    ||  count < 0 || count > 16)
        return -1;
    const char *item [RESP_ITEMS] = { NULL };
    size_t item_len [RESP_ITEMS] = { 0 };
    size_t at = next;
    for (long i = 0; i < count; i++) {
        line_len = bench_proto_line (from + at, len - at, &next);
        if (line_len < 0)
            return 0;
        if (line_len < 1)
            return -1;
        const char *head = from + at;
        long size;
        if (s_resp_number (head + 1, (size_t) line_len - 1, &size))
            return -1;
        at += next;
        if (head [0] == '$' && size >= 0) {
            if (len - at < (size_t) size + 2)
                return 0;
            if (i < RESP_ITEMS) {
                item [i] = from + at;
                item_len [i] = (size_t) size;
            }
            at += (size_t) size + 2;
        }
        else
        if (head [0] != ':' && head [0] != '$')
            return -1;
    }
    if (count == 3 && s_resp_is (item [0], item_len [0], "message")) {
        event->kind = BENCH_EV_MSG;
        event->topic = item [1];
        event->topic_len = item_len [1];
        event->payload = item [2];
        event->payload_len = item_len [2];
    }
    else
    if (count == 4 && s_resp_is (item [0], item_len [0], "pmessage")) {
        event->kind = BENCH_EV_MSG;
        event->topic = item [2];
        event->topic_len = item_len [2];
        event->payload = item [3];
        event->payload_len = item_len [3];
    }
    else
    if (s_resp_is (item [0], item_len [0], "subscribe")
    ||  s_resp_is (item [0], item_len [0], "psubscribe"))
        event->kind = BENCH_EV_READY;
    return (long) at;
}

const bench_proto_t bench_proto_resp = {
    .name = "redis", .separator = '.', .pub_waits = false, .pong = NULL,
    .subscribe = s_resp_subscribe, .hello = s_resp_hello, .overhead = s_resp_overhead,
    .publish = s_resp_publish, .parse = s_resp_parse
};
