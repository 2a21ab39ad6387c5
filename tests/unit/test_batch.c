/*  Unit tests of zch_batch: one topic's consecutive messages in one
    message of the internal envelope, and a send that keeps the batch when
    the socket is at its high-water mark.                                  */
#include "zch_batch.h"
#include "zch_check.h"
#include "zch_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static const uint8_t s_meta [] = { 0x81, 0xa1, 'v', 0x01 };

//  Reads one batch from sub and checks its topic and payloads ("0".."n-1"
//  from first). Returns the count, or -1.
static int
s_read_batch (void *sub, const char *topic, int first)
{
    zmq_msg_t frames [2];
    zmq_msg_init (&frames [0]);
    zmq_msg_init (&frames [1]);
    int count = -1;
    if (zmq_msg_recv (&frames [0], sub, 0) >= 0 && zmq_msg_more (&frames [0])
    &&  zmq_msg_recv (&frames [1], sub, 0) >= 0 && !zmq_msg_more (&frames [1])) {
        unsigned version;
        const char *name;
        size_t name_len;
        zch_internal_reader_t reader;
        if (zch_internal_topic (zmq_msg_data (&frames [0]), zmq_msg_size (&frames [0]),
                                &version, &name, &name_len) == ZCH_INTERNAL_OK
        &&  name_len == strlen (topic) && memcmp (name, topic, name_len) == 0)
            count = zch_internal_open (&reader, zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]));
        const uint8_t *meta, *payload;
        size_t meta_size, payload_size;
        for (int i = 0; count > 0 && zch_internal_next (&reader, &meta, &meta_size, &payload, &payload_size); i++) {
            char want [16];
            int want_len = snprintf (want, sizeof want, "%d", first + i);
            CHECK (meta_size == sizeof s_meta && memcmp (meta, s_meta, meta_size) == 0);
            CHECK (payload_size == (size_t) want_len && memcmp (payload, want, payload_size) == 0);
        }
    }
    zmq_msg_close (&frames [0]);
    zmq_msg_close (&frames [1]);
    return count;
}

static int
s_add (zch_batch_t *batch, const char *topic, int i)
{
    char payload [16];
    int len = snprintf (payload, sizeof payload, "%d", i);
    return zch_batch_add (batch, topic, strlen (topic), s_meta, sizeof s_meta, payload, (size_t) len);
}

int
main (void)
{
    void *ctx = zmq_ctx_new ();
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    int one = 1, linger = 0;
    zmq_setsockopt (push, ZMQ_SNDHWM, &one, sizeof one);
    zmq_setsockopt (pull, ZMQ_RCVHWM, &one, sizeof one);
    zmq_setsockopt (push, ZMQ_LINGER, &linger, sizeof linger);
    CHECK (zmq_bind (pull, "inproc://batch") == 0);
    CHECK (zmq_connect (push, "inproc://batch") == 0);

    //  Consecutive messages of one topic share a batch; another topic does not
    zch_batch_t *batch = zch_batch_new (4096, 8);
    CHECK (batch && zch_batch_count (batch) == 0);
    CHECK (zch_batch_send (batch, push) == 0);          //  empty: nothing to send
    for (int i = 0; i < 5; i++)
        CHECK (s_add (batch, "a.b", i) == 0);
    CHECK (zch_batch_count (batch) == 5);
    size_t topic_len;
    const char *topic = zch_batch_topic (batch, &topic_len);
    CHECK (topic_len == 3 && memcmp (topic, "a.b", 3) == 0);
    CHECK (s_add (batch, "a.c", 5) == -1);
    CHECK (zch_batch_count (batch) == 5);
    CHECK (zch_batch_send (batch, push) == 0);
    CHECK (zch_batch_count (batch) == 0);
    zch_batch_topic (batch, &topic_len);
    CHECK (topic_len == 0);
    CHECK (s_read_batch (pull, "a.b", 0) == 5);

    //  Full at max_messages
    for (int i = 0; i < 8; i++)
        CHECK (s_add (batch, "a.c", i) == 0);
    CHECK (s_add (batch, "a.c", 8) == -1);

    //  At the high-water mark the batch stays whole and goes later
    int sent = 0;
    while (sent < 100 && zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    CHECK (sent > 0 && zmq_errno () == EAGAIN);
    CHECK (zch_batch_send (batch, push) == -1);
    CHECK (zch_batch_count (batch) == 8);
    char frame [8];
    for (int i = 0; i < sent; i++)
        CHECK (zmq_recv (pull, frame, sizeof frame, 0) == 1);
    int rc = -1;
    for (int i = 0; i < 1000 && rc; i++) {
        rc = zch_batch_send (batch, push);
        if (rc)
            nanosleep (&(struct timespec) { 0, 1000000 }, NULL);
    }
    CHECK (rc == 0 && zch_batch_count (batch) == 0);
    CHECK (s_read_batch (pull, "a.c", 0) == 8);

    //  A message over max_bytes goes alone
    static uint8_t big [5000];
    CHECK (zch_batch_add (batch, "a.d", 3, s_meta, sizeof s_meta, big, sizeof big) == 0);
    CHECK (s_add (batch, "a.d", 1) == -1);
    zmq_msg_t frames [2];
    CHECK (zch_batch_take (batch, &frames [0], &frames [1]) == 0);
    CHECK (zmq_msg_size (&frames [1]) == ZCH_INTERNAL_COUNT_HEAD + zch_internal_entry_size (sizeof s_meta, sizeof big));
    zmq_msg_close (&frames [0]);
    zmq_msg_close (&frames [1]);
    CHECK (zch_batch_take (batch, &frames [0], &frames [1]) == -1);

    //  Cleared: what it held is gone, the next message starts afresh
    CHECK (s_add (batch, "a.e", 0) == 0);
    zch_batch_clear (batch);
    CHECK (zch_batch_count (batch) == 0);
    CHECK (s_add (batch, "a.f", 0) == 0 && zch_batch_count (batch) == 1);

    zch_batch_destroy (&batch);
    CHECK (batch == NULL);
    zch_batch_destroy (&batch);
    zmq_close (push);
    zmq_close (pull);
    zmq_ctx_term (ctx);
    CHECK_DONE ("test_batch");
}
