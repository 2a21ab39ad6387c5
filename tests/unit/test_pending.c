/*  Unit tests of source_pending: a message held back for a full XPUB.     */
#include "source_pending.h"
#include "zch_check.h"
#include "zch_envelope.h"
#include "zch_topic.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static void
s_sleep_ms (int ms)
{
    struct timespec t = { 0, ms * 1000000L };
    nanosleep (&t, NULL);
}

//  Sends one-frame messages until the XPUB refuses; returns how many went.
static int
s_fill (void *xpub)
{
    int sent = 0;
    while (sent < 1000 && zmq_send (xpub, "x", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    CHECK (zmq_errno () == EAGAIN);
    return sent;
}

//  Retries the held message for up to a second: the XPUB learns that the
//  reader made room only when it next processes its commands.
static int
s_send_soon (source_pending_t *pending, void *xpub)
{
    for (int i = 0; i < 1000; i++) {
        if (source_pending_send (pending, xpub) == 0)
            return 0;
        s_sleep_ms (1);
    }
    return -1;
}

int
main (void)
{
    void *ctx = zmq_ctx_new ();
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int one = 1, linger = 0;
    zmq_setsockopt (xpub, ZMQ_XPUB_NODROP, &one, sizeof one);
    zmq_setsockopt (xpub, ZMQ_SNDHWM, &one, sizeof one);
    zmq_setsockopt (sub, ZMQ_RCVHWM, &one, sizeof one);
    zmq_setsockopt (xpub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sub, ZMQ_LINGER, &linger, sizeof linger);
    CHECK (zmq_bind (xpub, "inproc://pending") == 0);
    CHECK (zmq_connect (sub, "inproc://pending") == 0);
    CHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0) == 0);
    char subscription [8];
    CHECK (zmq_recv (xpub, subscription, sizeof subscription, 0) == 1 && subscription [0] == 1);

    source_pending_t *pending = source_pending_new ();
    CHECK (pending && !source_pending_held (pending));
    CHECK (source_pending_send (pending, xpub) == 0);      //  nothing held: nothing to wait for

    int filled = s_fill (xpub);
    CHECK (filled > 0);
    const uint8_t meta [] = { 0x81, 0xa1, 'v', 0x01 };
    CHECK (source_pending_keep (pending, "10.0.0.1:5000", "a.b", 3, meta, sizeof meta,
                                (const uint8_t *) "hello", 5) == 0);
    CHECK (source_pending_held (pending));
    CHECK (source_pending_payload_size (pending) == 5);
    CHECK (strcmp (source_pending_topic (pending), "a.b") == 0);
    CHECK (strcmp (source_pending_src (pending), "10.0.0.1:5000") == 0);
    CHECK (source_pending_keep (pending, "x", "c", 1, meta, sizeof meta, NULL, 0) == -1);
    CHECK (source_pending_send (pending, xpub) == -1);     //  still full
    CHECK (source_pending_held (pending));

    //  The reader makes room: the held message goes, whole, after the rest
    char frame [64];
    for (int i = 0; i < filled; i++)
        CHECK (zmq_recv (sub, frame, sizeof frame, 0) == 1);
    CHECK (s_send_soon (pending, xpub) == 0);
    CHECK (!source_pending_held (pending));
    int more = 0;
    size_t more_size = sizeof more;
    CHECK (zmq_recv (sub, frame, sizeof frame, 0) == 3 && memcmp (frame, "a.b", 3) == 0);
    CHECK (zmq_recv (sub, frame, sizeof frame, 0) == (int) sizeof meta
           && memcmp (frame, meta, sizeof meta) == 0);
    CHECK (zmq_recv (sub, frame, sizeof frame, 0) == 5 && memcmp (frame, "hello", 5) == 0);
    zmq_getsockopt (sub, ZMQ_RCVMORE, &more, &more_size);
    CHECK (more == 0);

    //  Limits: nothing is held past the envelope's bounds
    char topic [ZCH_TOPIC_MAX + 1];
    memset (topic, 't', sizeof topic);
    static uint8_t big_meta [ZCH_META_MAX + 1];
    CHECK (source_pending_keep (pending, "x", topic, sizeof topic, meta, sizeof meta, NULL, 0) == -1);
    CHECK (source_pending_keep (pending, "x", "a", 1, big_meta, sizeof big_meta, NULL, 0) == -1);
    CHECK (!source_pending_held (pending));
    CHECK (source_pending_keep (pending, "x", topic, ZCH_TOPIC_MAX, meta, sizeof meta, NULL, 0) == 0);
    CHECK (source_pending_payload_size (pending) == 0);
    source_pending_drop (pending);
    CHECK (!source_pending_held (pending));

    source_pending_destroy (&pending);
    CHECK (pending == NULL);
    source_pending_destroy (&pending);
    zmq_close (sub);
    zmq_close (xpub);
    zmq_ctx_term (ctx);
    CHECK_DONE ("test_pending");
}
