/*  test_bench_proto: the bench's protocol codecs against hand-written
    server bytes: every unit is recognised whole, "need more" is told
    apart from "malformed", and a unit split anywhere parses the same.   */
#include "bench_proto.h"

#include <stdio.h>
#include <string.h>

static int s_checks, s_failed;

#define CHECK(cond) do { \
    s_checks++; \
    if (!(cond)) { s_failed++; fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

//  Parses the first unit of text (len bytes) and checks what it was, and
//  that every shorter prefix asks for more.
static void
s_expect (const bench_proto_t *proto, const char *text, size_t len, bool publisher,
          bench_ev_kind_t kind, const char *topic, const char *payload)
{
    bench_event_t event;
    long used = proto->parse (text, len, publisher, &event);
    CHECK (used > 0);
    CHECK (event.kind == kind);
    if (kind == BENCH_EV_MSG && used > 0) {
        CHECK (event.topic_len == strlen (topic) && memcmp (event.topic, topic, event.topic_len) == 0);
        CHECK (event.payload_len == strlen (payload)
               && memcmp (event.payload, payload, event.payload_len) == 0);
    }
    for (long cut = 0; cut < used; cut++)
        CHECK (proto->parse (text, (size_t) cut, publisher, &event) == 0);
}

//  zchannel text: deliveries, confirmations, errors, greetings.
static void
s_test_zch (void)
{
    const bench_proto_t *p = bench_proto_find ("zch");
    CHECK (p != NULL);
    const char msg [] = "MSG bench.1 42 0:7:123:xx\r\n";
    s_expect (p, msg, sizeof msg - 1, false, BENCH_EV_MSG, "bench.1", "0:7:123:xx");
    s_expect (p, "+OK\n", 4, false, BENCH_EV_READY, NULL, NULL);
    s_expect (p, "-ERR slow consumer\n", 19, false, BENCH_EV_ERROR, NULL, NULL);
    s_expect (p, "Welcome to Subscriber Server\n", 29, false, BENCH_EV_NONE, NULL, NULL);
    bench_event_t event;
    CHECK (p->parse ("MSG nospace\n", 12, false, &event) == -1);
    char out [128];
    size_t n = p->publish (out, "t", 1, "pay", 3);
    CHECK (n == 10 && memcmp (out, "PUB t pay\n", n) == 0);
}

//  NATS: MSG with and without a reply subject, PING, PONG.
static void
s_test_nats (void)
{
    const bench_proto_t *p = bench_proto_find ("nats");
    CHECK (p != NULL);
    const char msg [] = "MSG bench 1 5\r\nhello\r\n";
    s_expect (p, msg, sizeof msg - 1, false, BENCH_EV_MSG, "bench", "hello");
    const char reply [] = "MSG a.b 9 inbox.1 2\r\nhi\r\n";
    s_expect (p, reply, sizeof reply - 1, false, BENCH_EV_MSG, "a.b", "hi");
    s_expect (p, "PONG\r\n", 6, false, BENCH_EV_READY, NULL, NULL);
    s_expect (p, "PING\r\n", 6, false, BENCH_EV_PING, NULL, NULL);
    s_expect (p, "INFO {\"x\":1}\r\n", 14, false, BENCH_EV_NONE, NULL, NULL);
    bench_event_t event;
    CHECK (p->parse ("MSG bench 1 x\r\n", 15, false, &event) == -1);
    char out [128];
    size_t n = p->publish (out, "t", 1, "pay", 3);
    CHECK (n == 14 && memcmp (out, "PUB t 3\r\npay\r\n", n) == 0);
}

//  Redis: message, pmessage, subscribe answers, PUBLISH counts, errors.
static void
s_test_resp (void)
{
    const bench_proto_t *p = bench_proto_find ("redis");
    CHECK (p != NULL);
    const char msg [] = "*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$2\r\nhi\r\n";
    s_expect (p, msg, sizeof msg - 1, false, BENCH_EV_MSG, "bench", "hi");
    const char pmsg [] = "*4\r\n$8\r\npmessage\r\n$7\r\nbench.*\r\n$7\r\nbench.3\r\n$3\r\nabc\r\n";
    s_expect (p, pmsg, sizeof pmsg - 1, false, BENCH_EV_MSG, "bench.3", "abc");
    const char sub [] = "*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n";
    s_expect (p, sub, sizeof sub - 1, false, BENCH_EV_READY, NULL, NULL);
    s_expect (p, ":1\r\n", 4, true, BENCH_EV_NONE, NULL, NULL);
    s_expect (p, "-ERR wrong\r\n", 12, true, BENCH_EV_ERROR, NULL, NULL);
    bench_event_t event;
    CHECK (p->parse ("?\r\n", 3, false, &event) == -1);
}

//  MQTT: what we publish parses back as a delivery; CONNACK and SUBACK.
static void
s_test_mqtt (void)
{
    const bench_proto_t *p = bench_proto_find ("mqtt");
    CHECK (p != NULL);
    char out [512], payload [200];
    memset (payload, 'x', sizeof payload - 1);
    payload [sizeof payload - 1] = '\0';
    //  200 bytes: a two-byte remaining length
    size_t n = p->publish (out, "bench/7", 7, payload, strlen (payload));
    CHECK (n == 1 + 2 + 2 + 7 + strlen (payload));
    s_expect (p, out, n, false, BENCH_EV_MSG, "bench/7", payload);
    const char connack [] = { 0x20, 2, 0, 0 };
    s_expect (p, connack, 4, true, BENCH_EV_READY, NULL, NULL);
    s_expect (p, connack, 4, false, BENCH_EV_NONE, NULL, NULL);
    const char refused [] = { 0x20, 2, 0, 5 };
    s_expect (p, refused, 4, true, BENCH_EV_ERROR, NULL, NULL);
    const char suback [] = { (char) 0x90, 3, 0, 1, 0 };
    s_expect (p, suback, 5, false, BENCH_EV_READY, NULL, NULL);
    const char bad_length [] = { 0x30, (char) 0xff, (char) 0xff, (char) 0xff, (char) 0xff, 1 };
    bench_event_t event;
    CHECK (p->parse (bad_length, sizeof bad_length, false, &event) == -1);
    CHECK (p->subscribe (out, sizeof out, "bench", true, 0) > 0);
    CHECK (p->subscribe (out, 8, "bench", true, 0) == 0);
}

//  Runs every check; exits 1 if any failed.
int
main (void)
{
    s_test_zch ();
    s_test_nats ();
    s_test_resp ();
    s_test_mqtt ();
    CHECK (bench_proto_find ("nope") == NULL);
    printf ("test_bench_proto: %d checks, %d failed\n", s_checks, s_failed);
    return s_failed ? 1 : 0;
}
