/*  bench_proto_mqtt: MQTT 3.1.1 at QoS 0 for zch_bench. Every connection
    sends CONNECT (clean session, keep-alive off, its own client id);
    subscribers then SUBSCRIBE (to "<topic>/#" with several topics) and are
    live at SUBACK; publishers start at CONNACK. See bench_proto.h.       */
#include "bench_proto.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MQTT_CONNECT    0x10
#define MQTT_CONNACK    0x20
#define MQTT_PUBLISH    0x30
#define MQTT_SUBSCRIBE  0x82        //  with the reserved bits 3.1.1 asks for
#define MQTT_SUBACK     0x90

//  Writes the remaining length as MQTT's variable-length integer.
static size_t
s_mqtt_varint (unsigned char *to, size_t value)
{
    size_t n = 0;
    do {
        unsigned char byte = value % 128;
        value /= 128;
        to [n++] = (unsigned char) (value ? byte | 0x80 : byte);
    } while (value && n < 4);
    return n;
}

//  Writes a length-prefixed string.
static size_t
s_mqtt_string (unsigned char *to, const char *text, size_t len)
{
    to [0] = (unsigned char) (len >> 8);
    to [1] = (unsigned char) len;
    memcpy (to + 2, text, len);
    return 2 + len;
}

//  Writes a CONNECT with a client id unique to this process and role.
static size_t
s_mqtt_connect (unsigned char *to, size_t cap, const char *role, int index)
{
    char id [64];
    int id_len = snprintf (id, sizeof id, "zch_bench-%d-%s%d", (int) getpid (), role, index);
    size_t body = 10 + 2 + (size_t) id_len;
    if (cap < body + 5)
        return 0;
    size_t n = 0;
    to [n++] = MQTT_CONNECT;
    n += s_mqtt_varint (to + n, body);
    n += s_mqtt_string (to + n, "MQTT", 4);
    to [n++] = 4;                       //  protocol level 3.1.1
    to [n++] = 0x02;                    //  clean session
    to [n++] = 0;                       //  keep-alive 0: off
    to [n++] = 0;
    n += s_mqtt_string (to + n, id, (size_t) id_len);
    return n;
}

//  CONNECT then SUBSCRIBE at QoS 0.
static size_t
s_mqtt_subscribe (char *buffer, size_t cap, const char *topic, bool wildcard, int index)
{
    unsigned char *to = (unsigned char *) buffer;
    size_t n = s_mqtt_connect (to, cap, "s", index);
    char filter [300];
    int filter_len = snprintf (filter, sizeof filter, "%s%s", topic, wildcard ? "/#" : "");
    size_t body = 2 + 2 + (size_t) filter_len + 1;
    if (n == 0 || filter_len < 0 || (size_t) filter_len >= sizeof filter || cap < n + body + 5)
        return 0;
    to [n++] = MQTT_SUBSCRIBE;
    n += s_mqtt_varint (to + n, body);
    to [n++] = 0;                       //  packet id 1
    to [n++] = 1;
    n += s_mqtt_string (to + n, filter, (size_t) filter_len);
    to [n++] = 0;                       //  QoS 0
    return n;
}

//  CONNECT for publishers and idle connections.
static size_t
s_mqtt_hello (char *to, size_t cap, bool publisher, int index)
{
    return s_mqtt_connect ((unsigned char *) to, cap, publisher ? "p" : "i", index);
}

//  Fixed header (5 at most), topic length, topic.
static size_t
s_mqtt_overhead (size_t topic_len)
{
    return 5 + 2 + topic_len;
}

//  One PUBLISH at QoS 0 (no packet id).
static size_t
s_mqtt_publish (char *buffer, const char *topic, size_t topic_len, const char *payload,
                size_t payload_len)
{
    unsigned char *to = (unsigned char *) buffer;
    size_t n = 0;
    to [n++] = MQTT_PUBLISH;
    n += s_mqtt_varint (to + n, 2 + topic_len + payload_len);
    n += s_mqtt_string (to + n, topic, topic_len);
    memcpy (to + n, payload, payload_len);
    return n + payload_len;
}

//  Reads one packet: CONNACK, SUBACK, PUBLISH; others are ignored.
static long
s_mqtt_parse (const char *buffer, size_t len, bool publisher, bench_event_t *event)
{
    const unsigned char *from = (const unsigned char *) buffer;
    size_t remaining = 0, at = 1;
    for (int shift = 0; ; shift += 7) {
        if (at >= len)
            return 0;
        if (at > 4)
            return -1;
        remaining |= (size_t) (from [at] & 0x7f) << shift;
        if (!(from [at++] & 0x80))
            break;
    }
    if (len - at < remaining)
        return 0;
    const unsigned char *body = from + at;
    event->kind = BENCH_EV_NONE;
    switch (from [0] & 0xf0) {
        case MQTT_CONNACK:
            if (remaining < 2)
                return -1;
            if (body [1] != 0) {
                event->kind = BENCH_EV_ERROR;
                event->payload = "CONNACK refused";
                event->payload_len = 15;
            }
            else
            if (publisher)
                event->kind = BENCH_EV_READY;
            break;
        case MQTT_SUBACK:
            if (remaining < 3)
                return -1;
            event->kind = body [2] == 0x80 ? BENCH_EV_ERROR : BENCH_EV_READY;
            event->payload = "SUBACK failure";
            event->payload_len = 14;
            break;
        case MQTT_PUBLISH: {
            size_t topic_len = remaining >= 2 ? (size_t) body [0] << 8 | body [1] : 0;
            size_t id = (from [0] & 0x06) ? 2 : 0;
            if (remaining < 2 || remaining < 2 + topic_len + id)
                return -1;
            event->kind = BENCH_EV_MSG;
            event->topic = (const char *) body + 2;
            event->topic_len = topic_len;
            event->payload = (const char *) body + 2 + topic_len + id;
            event->payload_len = remaining - 2 - topic_len - id;
            break;
        }
        default:
            break;
    }
    return (long) (at + remaining);
}

const bench_proto_t bench_proto_mqtt = {
    .name = "mqtt", .separator = '/', .pub_waits = true, .pong = NULL,
    .subscribe = s_mqtt_subscribe, .hello = s_mqtt_hello, .overhead = s_mqtt_overhead,
    .publish = s_mqtt_publish, .parse = s_mqtt_parse
};
