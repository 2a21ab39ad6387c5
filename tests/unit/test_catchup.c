/*  Unit tests of a client's catch-up (subscriber_sync) and gap healing
    (subscriber_heal) over the worker's control link (subscriber_control),
    against a scripted broker: a ROUTER
    on inproc that answers each request exactly as the test says. The
    client is a real connection on a loopback edge; what the catch-up
    writes to it is recorded by the write handler.

    The seam under test: a prefix goes live, its prime (SEQS) says a topic
    stands at seq 4, a SNAPSHOT then gives that topic's value at seq 4, and
    seq 4 comes live afterwards (it was published after the prefix went
    live). The client must get seq 4 once. And a FROM on the same client
    later must not inherit the snapshot's floor of its own topic.          */
#include "subscriber_control.h"
#include "subscriber_heal.h"
#include "subscriber_sync.h"
#include "test_loopback.h"
#include "zch_check.h"
#include "zch_envelope.h"

#include <czmq.h>
#include <string.h>

#define S_ENDPOINT  "inproc://test-catchup"
#define S_WRITES    16

//  What the handlers saw.
typedef struct {
    size_t writes;              //  messages written to the client
    char topic [S_WRITES][32];
    uint64_t seq [S_WRITES];
    size_t delivered;           //  healed or released messages (deliver handler)
    size_t barriers;            //  barrier rounds asked for
    uint64_t round;             //  the last one
    size_t resets;              //  topics told they start afresh (reset handler)
    uint64_t reset_epoch;       //  the last one's epoch
    char notice [128];          //  the last notice to the client
} s_seen_t;

#define S_EPOCH     7           //  the broker's epoch in the script
#define S_EPOCH_2   8           //  after its "restart"

static void
s_deliver (void *ctx, const char *topic, size_t topic_len, uint64_t seq,
           const char *payload, size_t payload_len)
{
    (void) topic, (void) topic_len, (void) seq, (void) payload, (void) payload_len;
    ((s_seen_t *) ctx)->delivered++;
}

static void
s_gap (void *ctx, const char *topic, size_t topic_len, uint64_t from, uint64_t to)
{
    (void) ctx, (void) topic, (void) topic_len, (void) from, (void) to;
}

static void
s_reset (void *ctx, const char *topic, size_t topic_len, uint64_t epoch)
{
    (void) topic, (void) topic_len;
    s_seen_t *seen = ctx;
    seen->resets++;
    seen->reset_epoch = epoch;
}

static void
s_sync_ended (void *ctx)
{
    (void) ctx;
}

static void
s_write (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len, uint64_t seq,
         const char *payload, size_t payload_len, bool processed)
{
    (void) conn, (void) payload, (void) payload_len, (void) processed;
    s_seen_t *seen = ctx;
    if (seen->writes < S_WRITES && topic_len < sizeof seen->topic [0]) {
        memcpy (seen->topic [seen->writes], topic, topic_len);
        seen->topic [seen->writes][topic_len] = 0;
        seen->seq [seen->writes] = seq;
    }
    seen->writes++;
}

static void
s_notice (void *ctx, zch_conn_t *conn, const char *code, const char *text)
{
    (void) conn, (void) code;
    s_seen_t *seen = ctx;
    snprintf (seen->notice, sizeof seen->notice, "%s", text);
}

static void
s_barrier (void *ctx, uint64_t round)
{
    s_seen_t *seen = ctx;
    seen->barriers++;
    seen->round = round;
}

//  The next request on router: its routing id and its frames as strings
//  (verb first, the tag last). Returns NULL when none came in time.
static zmsg_t *
s_request (zsock_t *router, zframe_t **identity)
{
    zpoller_t *poller = zpoller_new (router, NULL);
    void *ready = zpoller_wait (poller, 2000);
    zpoller_destroy (&poller);
    zmsg_t *request = ready? zmsg_recv (router): NULL;
    if (request)
        *identity = zmsg_pop (request);
    return request;
}

//  Takes the next request, checks its verb, and returns its tag (freed by
//  the caller), or NULL.
static char *
s_expect (zsock_t *router, const char *verb, zframe_t **identity)
{
    zmsg_t *request = s_request (router, identity);
    if (!request)
        return NULL;
    char *first = zmsg_popstr (request);
    char *tag = NULL;
    if (first && streq (first, verb)) {
        zframe_t *last = zmsg_last (request);
        tag = last? zframe_strdup (last): NULL;
    }
    zstr_free (&first);
    zmsg_destroy (&request);
    return tag;
}

//  Sends one answer message: [kind, tag, ...] to identity.
static void
s_answer (zsock_t *router, zframe_t *identity, const char *kind, const char *tag,
          const char *a, const char *b, const char *c)
{
    zframe_send (&identity, router, ZFRAME_MORE + ZFRAME_REUSE);
    zstr_sendx (router, kind, tag, a, b, c, NULL);
}

//  Sends [MSG, tag, topic, meta(seq, epoch), payload].
static void
s_answer_msg_in (zsock_t *router, zframe_t *identity, const char *tag, const char *topic, uint64_t seq,
                 uint64_t epoch)
{
    uint8_t meta [64];
    size_t meta_size = zch_meta_encode (seq, 1, epoch, NULL, 0, meta, sizeof meta);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, zframe_data (identity), zframe_size (identity));
    zmsg_addstr (msg, "MSG");
    zmsg_addstr (msg, tag);
    zmsg_addstr (msg, topic);
    zmsg_addmem (msg, meta, meta_size);
    zmsg_addstr (msg, "v");
    zmsg_send (&msg, router);
}

//  Sends [MSG, tag, topic, meta(seq), payload] in the broker's epoch.
static void
s_answer_msg (zsock_t *router, zframe_t *identity, const char *tag, const char *topic, uint64_t seq)
{
    s_answer_msg_in (router, identity, tag, topic, seq, S_EPOCH);
}

//  Lets the control link read what the router sent.
static subscriber_control_t *s_control;
static void
s_settle (subscriber_heal_t *catchup)
{
    (void) catchup;
    for (int i = 0; i < 20; i++) {
        zclock_sleep (5);
        subscriber_control_drain (s_control);
    }
}



//  A live message through the worker's path: the catch-up first, then the
//  client's sync. Returns true when the client would get it.
static bool
s_live_in (subscriber_heal_t *catchup, subscriber_sync_t **sync, const char *topic, uint64_t seq,
           uint64_t epoch)
{
    if (!subscriber_heal_live (catchup, topic, strlen (topic), seq, epoch, "v", 1))
        return false;
    return !*sync || subscriber_sync_offer (sync, topic, strlen (topic), seq, "v", 1);
}

static bool
s_live (subscriber_heal_t *catchup, subscriber_sync_t **sync, const char *topic, uint64_t seq)
{
    return s_live_in (catchup, sync, topic, seq, S_EPOCH);
}

static subscriber_heal_t *s_heal_now;
static uint64_t
s_last_seq (void *ctx, const char *topic, size_t topic_len)
{
    (void) ctx;
    return subscriber_heal_last_seq (s_heal_now, topic, topic_len);
}

static const subscriber_sync_handlers_t s_sync_handlers = {
    .write = s_write, .notice = s_notice, .last_seq = s_last_seq, .ended = s_sync_ended
};

int
main (void)
{
    s_seen_t seen;
    memset (&seen, 0, sizeof seen);
    test_loopback_t client;
    CHECK (test_loopback_open (&client) == 0);
    zsock_t *router = zsock_new_router (S_ENDPOINT);
    CHECK (router != NULL);
    subscriber_heal_handlers_t handlers = {
        .deliver = s_deliver, .gap = s_gap, .reset = s_reset, .barrier = s_barrier
    };
    zch_secure_config_t secure;
    memset (&secure, 0, sizeof secure);
    char error [256];
    s_control = subscriber_control_new (S_ENDPOINT, &secure, error, sizeof error);
    CHECK (s_control != NULL);
    subscriber_heal_t *catchup = s_control? subscriber_heal_new (s_control, &handlers, &seen): NULL;
    CHECK (catchup != NULL);
    if (!client.conn || !router || !catchup)
        return 1;
    s_heal_now = catchup;

    //  The prefix t. goes live; the client's SNAPSHOT is asked right after
    //  the prime, as the worker does when the barrier returns
    subscriber_heal_prime (catchup, "t.", 2);
    subscriber_sync_t *sync = NULL;
    subscriber_sync_options_t snapshot = { .kind = SUBSCRIBER_SYNC_SNAPSHOT };
    sync = subscriber_sync_new (s_control, &s_sync_handlers, &seen, client.conn, &snapshot, "t.>", 3, 1 << 20, &sync);
    CHECK (sync != NULL);
    zframe_t *identity = NULL;
    char *seqs_tag = s_expect (router, "SEQS", &identity);
    zframe_destroy (&identity);
    char *snap_tag = s_expect (router, "SNAPSHOT", &identity);
    CHECK (seqs_tag && snap_tag);
    if (!seqs_tag || !snap_tag)
        return 1;
    //  The broker: t.a stands at 4 (4 was published after the prefix went
    //  live, and is still on its way live); t.b at 7 (published long before:
    //  it never comes live)
    s_answer (router, identity, "SEQ", seqs_tag, "t.a", "4", NULL);
    s_answer (router, identity, "SEQ", seqs_tag, "t.b", "7", NULL);
    s_answer (router, identity, "END", seqs_tag, "OK", "2", "0");
    s_answer_msg (router, identity, snap_tag, "t.a", 4);
    s_answer_msg (router, identity, snap_tag, "t.b", 7);
    s_answer (router, identity, "END", snap_tag, "OK", "2", "0");
    s_settle (catchup);
    CHECK (seen.writes == 2);
    CHECK (!subscriber_sync_streaming (sync));
    //  A barrier round is asked for behind the prime's answers
    CHECK (seen.barriers == 1);
    //  The edge is not a delivery yet
    CHECK (subscriber_heal_last_seq (catchup, "t.a", 3) == 3);

    //  Seq 4 comes live: the worker delivers it (its other clients are owed
    //  it), but this client had it from the snapshot
    CHECK (!s_live (catchup, &sync, "t.a", 4));
    CHECK (seen.writes == 2);
    CHECK (subscriber_heal_last_seq (catchup, "t.a", 3) == 4);
    CHECK (s_live (catchup, &sync, "t.a", 5));
    CHECK (!s_live (catchup, &sync, "t.a", 5));     //  a repeat on the link

    //  The barrier returns: t.b's edge never came and no longer waits
    CHECK (subscriber_heal_last_seq (catchup, "t.b", 3) == 6);
    subscriber_heal_settle (catchup, seen.round);
    CHECK (subscriber_heal_last_seq (catchup, "t.b", 3) == 7);
    CHECK (!s_live (catchup, &sync, "t.b", 7));     //  not an edge any more: a repeat

    //  The client then asks t.b FROM 5: the history's 6 and 7 come, though
    //  the snapshot's floor of t.b (7) is still held
    CHECK (sync != NULL);
    subscriber_sync_options_t from = { .kind = SUBSCRIBER_SYNC_FROM, .from = 5 };
    sync = subscriber_sync_new (s_control, &s_sync_handlers, &seen, client.conn, &from, "t.b", 3, 1 << 20, &sync);
    CHECK (sync != NULL);
    zframe_destroy (&identity);
    char *history_tag = s_expect (router, "HISTORY", &identity);
    CHECK (history_tag != NULL);
    if (history_tag) {
        s_answer_msg (router, identity, history_tag, "t.b", 6);
        s_answer_msg (router, identity, history_tag, "t.b", 7);
        s_answer (router, identity, "END", history_tag, "OK", "6", "7");
        s_settle (catchup);
    }
    CHECK (seen.writes == 4);
    CHECK (streq (seen.topic [2], "t.b") && seen.seq [2] == 6);
    CHECK (streq (seen.topic [3], "t.b") && seen.seq [3] == 7);
    //  Live goes on after the history
    CHECK (s_live (catchup, &sync, "t.b", 8));
    CHECK (seen.delivered == 0);    //  live ones are delivered by the caller
    CHECK (seen.resets == 0);

    //  The broker starts afresh: t.b's next message is seq 1 of a new
    //  epoch. The topic is reset (told once) and seq 1 goes out at once;
    //  seq 3 then is a gap from 2 in the new epoch, healed with HEAL 1@8
    CHECK (s_live_in (catchup, &sync, "t.b", 1, S_EPOCH_2));
    CHECK (seen.resets == 1 && seen.reset_epoch == S_EPOCH_2);
    CHECK (subscriber_heal_last_seq (catchup, "t.b", 3) == 1);
    CHECK (!s_live_in (catchup, &sync, "t.b", 3, S_EPOCH_2));
    zframe_destroy (&identity);
    char *heal_tag = s_expect (router, "HEAL", &identity);
    CHECK (heal_tag != NULL);
    if (heal_tag) {
        //  a message of the old epoch in the answer is not the one missing
        s_answer_msg_in (router, identity, heal_tag, "t.b", 2, S_EPOCH);
        s_settle (catchup);
        CHECK (seen.delivered == 0);
        s_answer_msg_in (router, identity, heal_tag, "t.b", 2, S_EPOCH_2);
        s_answer (router, identity, "END", heal_tag, "OK", "1", "0");
        s_settle (catchup);
    }
    CHECK (seen.delivered == 2);    //  2 healed, then the held 3
    CHECK (seen.resets == 1);

    //  FROM 2@<old epoch>: the history answers in the new one, so the
    //  client is told "reset t.b 8" first and gets seq 1 on
    sync = subscriber_sync_new (s_control, &s_sync_handlers, &seen, client.conn,
                                &(subscriber_sync_options_t) { .kind = SUBSCRIBER_SYNC_FROM, .from = 2,
                                                               .epoch = S_EPOCH }, "t.b", 3, 1 << 20, &sync);
    CHECK (sync != NULL);
    zframe_destroy (&identity);
    char *reset_tag = s_expect (router, "HISTORY", &identity);
    CHECK (reset_tag != NULL);
    if (reset_tag) {
        size_t writes = seen.writes;
        for (uint64_t seq = 1; seq <= 3; seq++)
            s_answer_msg_in (router, identity, reset_tag, "t.b", seq, S_EPOCH_2);
        s_answer (router, identity, "END", reset_tag, "RESET", "1", "3");
        s_settle (catchup);
        CHECK (streq (seen.notice, "reset t.b 8"));
        CHECK (seen.writes == writes + 3 && seen.seq [writes] == 1);
    }
    zstr_free (&heal_tag);
    zstr_free (&reset_tag);

    zstr_free (&seqs_tag);
    zstr_free (&snap_tag);
    zstr_free (&history_tag);
    zframe_destroy (&identity);
    subscriber_sync_destroy (&sync);
    subscriber_heal_destroy (&catchup);
    subscriber_control_destroy (&s_control);
    zsock_destroy (&router);
    test_loopback_close (&client);
    CHECK_DONE ("test_catchup");
}
