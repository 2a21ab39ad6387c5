/*  Unit tests of subscriber_catchup against a scripted broker control
    endpoint (a ROUTER on inproc): what a prime's seqs mean for the last
    seq delivered, which a client's catch-up uses to drop its floors.      */
#include "subscriber_catchup.h"
#include "zch_check.h"

#include <czmq.h>
#include <string.h>

#define S_ENDPOINT "inproc://test-catchup"

//  What the handlers saw.
typedef struct {
    uint64_t delivered;
    uint64_t last_seq;
} s_seen_t;

static void
s_deliver (void *ctx, const char *topic, size_t topic_len, uint64_t seq,
           const char *payload, size_t payload_len)
{
    (void) topic;
    (void) topic_len;
    (void) payload;
    (void) payload_len;
    s_seen_t *seen = ctx;
    seen->delivered++;
    seen->last_seq = seq;
}

static void
s_gap (void *ctx, const char *topic, size_t topic_len, uint64_t from, uint64_t to)
{
    (void) ctx;
    (void) topic;
    (void) topic_len;
    (void) from;
    (void) to;
}

//  Answers the one SEQS request waiting on router: topic at seq, then END.
//  Returns 0, or -1 when no SEQS request came.
static int
s_answer_seqs (zsock_t *router, const char *topic, const char *seq)
{
    zpoller_t *poller = zpoller_new (router, NULL);
    void *ready = zpoller_wait (poller, 2000);
    zpoller_destroy (&poller);
    zmsg_t *request = ready? zmsg_recv (router): NULL;
    if (!request)
        return -1;
    zframe_t *identity = zmsg_pop (request);
    char *verb = zmsg_popstr (request);
    char *prefix = zmsg_popstr (request);
    char *tag = zmsg_popstr (request);
    int rc = verb && streq (verb, "SEQS") && tag? 0: -1;
    if (rc == 0) {
        zframe_send (&identity, router, ZFRAME_MORE + ZFRAME_REUSE);
        zstr_sendx (router, "SEQ", tag, topic, seq, NULL);
        zframe_send (&identity, router, ZFRAME_MORE);
        zstr_sendx (router, "END", tag, "OK", "0", "0", NULL);
    }
    zframe_destroy (&identity);
    zstr_free (&verb);
    zstr_free (&prefix);
    zstr_free (&tag);
    zmsg_destroy (&request);
    return rc;
}

//  Lets catchup read what the router sent.
static void
s_settle (subscriber_catchup_t *catchup)
{
    for (int i = 0; i < 20; i++) {
        zclock_sleep (10);
        subscriber_catchup_drain (catchup);
    }
}

int
main (void)
{
    zsock_t *router = zsock_new_router (S_ENDPOINT);
    CHECK (router != NULL);
    s_seen_t seen = { 0, 0 };
    subscriber_catchup_handlers_t handlers = { .deliver = s_deliver, .gap = s_gap };
    zch_secure_config_t secure;
    memset (&secure, 0, sizeof secure);
    char error [256];
    subscriber_catchup_t *catchup = subscriber_catchup_new (S_ENDPOINT, &secure, &handlers, &seen,
                                                            error, sizeof error);
    CHECK (catchup != NULL);
    if (!router || !catchup)
        return 1;

    //  The prefix goes live; the broker says t.a stood at seq 4 then
    subscriber_catchup_prime (catchup, "t.", 2);
    CHECK (s_answer_seqs (router, "t.a", "4") == 0);
    s_settle (catchup);
    //  Seq 4 may still come live: it is not delivered yet, so a client's
    //  snapshot floor at 4 must stay to drop it
    CHECK (subscriber_catchup_last_seq (catchup, "t.a", 3) == 3);
    CHECK (subscriber_catchup_live (catchup, "t.a", 3, 4, "x", 1));
    CHECK (subscriber_catchup_last_seq (catchup, "t.a", 3) == 4);
    //  Then live as usual; a repeat is not delivered again
    CHECK (subscriber_catchup_live (catchup, "t.a", 3, 5, "y", 1));
    CHECK (!subscriber_catchup_live (catchup, "t.a", 3, 5, "y", 1));
    CHECK (subscriber_catchup_last_seq (catchup, "t.a", 3) == 5);
    //  A topic never seen has delivered nothing
    CHECK (subscriber_catchup_last_seq (catchup, "t.b", 3) == 0);
    CHECK (seen.delivered == 0);    //  live ones are delivered by the caller

    subscriber_catchup_destroy (&catchup);
    zsock_destroy (&router);
    CHECK_DONE ("test_catchup");
}
