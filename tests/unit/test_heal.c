/*  Unit tests of the seam between a client's catch-up stream and live
    delivery: gap healing (subscriber_heal) and a client's catch-up
    (subscriber_sync) driven through a fake control link. This file defines
    the link's functions itself (the build leaves subscriber_control.c
    out): every request is recorded, and the test answers it, in the order
    it chooses, through the handlers the request gave.

    The worker is played by a few lines: a live message goes to the heal
    first, then, if it lets it through, to the client's sync; what the heal
    delivers later (healed, or held behind a gap) takes the same way; gaps
    are told. Every check compares everything the client got, in order.   */
#include "subscriber_control.h"
#include "subscriber_heal.h"
#include "subscriber_sync.h"
#include "test_loopback.h"
#include "zch_check.h"

#include <czmq.h>
#include <stdarg.h>
#include <string.h>

#define S_EPOCH     7
#define S_REQUESTS  64

//  The fake link: requests as they were asked.
struct subscriber_control_request_t {
    char verb [16];
    char args [3][64];
    size_t argc;
    const subscriber_control_handlers_t *handlers;
    void *arg;
    bool cancelled;
    bool ended;
};

struct subscriber_control_t {
    subscriber_control_request_t requests [S_REQUESTS];
    size_t count;
};

subscriber_control_request_t *
subscriber_control_request (subscriber_control_t *self, const char *const *tokens, const size_t *sizes,
                            size_t count, const subscriber_control_handlers_t *handlers, void *arg)
{
    if (self->count == S_REQUESTS || count == 0 || count > 4)
        return NULL;
    subscriber_control_request_t *request = &self->requests [self->count++];
    snprintf (request->verb, sizeof request->verb, "%.*s", (int) sizes [0], tokens [0]);
    for (size_t i = 1; i < count; i++)
        snprintf (request->args [i - 1], sizeof request->args [0], "%.*s", (int) sizes [i], tokens [i]);
    request->argc = count - 1;
    request->handlers = handlers;
    request->arg = arg;
    return request;
}

void
subscriber_control_cancel (subscriber_control_t *self, subscriber_control_request_t *request)
{
    (void) self;
    if (request)
        request->cancelled = true;
}

static void s_end (subscriber_control_request_t *request, bool complete, uint64_t a, uint64_t b);

//  As the real link: what was asked of the old broker fails now.
int
subscriber_control_move (subscriber_control_t *self, const char *from, const char *to,
                         char *error, size_t error_size)
{
    (void) from, (void) to, (void) error, (void) error_size;
    size_t count = self->count;
    for (size_t i = 0; i < count; i++)
        if (!self->requests [i].ended)
            s_end (&self->requests [i], false, 0, 0);
    return 0;
}

//  The oldest request with verb not answered to its end, or NULL.
static subscriber_control_request_t *
s_pending (subscriber_control_t *link, const char *verb)
{
    for (size_t i = 0; i < link->count; i++)
        if (!link->requests [i].ended && streq (link->requests [i].verb, verb))
            return &link->requests [i];
    return NULL;
}

//  The first request with verb on topic (its first argument) not answered yet, or NULL.
static subscriber_control_request_t *
s_pending_for (subscriber_control_t *link, const char *verb, const char *topic)
{
    for (size_t i = 0; i < link->count; i++)
        if (!link->requests [i].ended && streq (link->requests [i].verb, verb)
        &&  streq (link->requests [i].args [0], topic))
            return &link->requests [i];
    return NULL;
}

//  Requests with verb asked so far.
static size_t
s_asked (subscriber_control_t *link, const char *verb)
{
    size_t count = 0;
    for (size_t i = 0; i < link->count; i++)
        count += streq (link->requests [i].verb, verb);
    return count;
}

//  The broker answers: a MSG, a SEQ, the END (or a failure).
static void
s_msg (subscriber_control_request_t *request, const char *topic, uint64_t seq)
{
    if (request && !request->cancelled && request->handlers->message)
        request->handlers->message (request->arg, topic, strlen (topic), seq, S_EPOCH, "v", 1);
}

static void
s_seq (subscriber_control_request_t *request, const char *topic, uint64_t seq)
{
    if (request && !request->cancelled && request->handlers->seq)
        request->handlers->seq (request->arg, topic, strlen (topic), seq, S_EPOCH);
}

static void
s_end (subscriber_control_request_t *request, bool complete, uint64_t a, uint64_t b)
{
    if (!request)
        return;
    request->ended = true;
    if (!request->cancelled)
        request->handlers->end (request->arg, complete, a, b, false, complete? S_EPOCH: 0);
}

//  The client: what it got, as "t.a 5" or "gap t.a 3-4", joined by ", ".
typedef struct {
    subscriber_heal_t *heal;
    subscriber_sync_t *sync;
    char got [4096];
    uint64_t round;             //  the last barrier round asked for
} s_client_t;

static void
s_got (s_client_t *client, const char *format, ...)
{
    size_t len = strlen (client->got);
    if (len)
        len += (size_t) snprintf (client->got + len, sizeof client->got - len, ", ");
    va_list args;
    va_start (args, format);
    vsnprintf (client->got + len, sizeof client->got - len, format, args);
    va_end (args);
}

//  A message for the client, live or released by the heal: its catch-up
//  may hold it or drop it as a repeat.
static void
s_to_client (s_client_t *client, const char *topic, size_t topic_len, uint64_t seq)
{
    if (client->sync && !subscriber_sync_offer (&client->sync, topic, topic_len, seq, "v", 1))
        return;
    s_got (client, "%.*s %llu", (int) topic_len, topic, (unsigned long long) seq);
}

static void
s_deliver (void *ctx, const char *topic, size_t topic_len, uint64_t seq, const char *payload,
           size_t payload_len)
{
    (void) payload, (void) payload_len;
    s_to_client (ctx, topic, topic_len, seq);
}

static void
s_gap (void *ctx, const char *topic, size_t topic_len, uint64_t from, uint64_t to)
{
    s_got (ctx, "gap %.*s %llu-%llu", (int) topic_len, topic, (unsigned long long) from,
           (unsigned long long) to);
}

static void
s_reset (void *ctx, const char *topic, size_t topic_len, uint64_t epoch)
{
    s_got (ctx, "reset %.*s %llu", (int) topic_len, topic, (unsigned long long) epoch);
}

static void
s_barrier (void *ctx, uint64_t round)
{
    ((s_client_t *) ctx)->round = round;
}

static void
s_write (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len, uint64_t seq,
         const char *payload, size_t payload_len, bool processed)
{
    (void) conn, (void) payload, (void) payload_len, (void) processed;
    s_got (ctx, "%.*s %llu", (int) topic_len, topic, (unsigned long long) seq);
}

static void
s_notice (void *ctx, zch_conn_t *conn, const char *code, const char *text)
{
    (void) conn, (void) code;
    s_got (ctx, "-ERR %s", text);
}

static uint64_t
s_last_seq (void *ctx, const char *topic, size_t topic_len)
{
    return subscriber_heal_last_seq (((s_client_t *) ctx)->heal, topic, topic_len);
}

static void
s_ended (void *ctx)
{
    (void) ctx;
}

//  A live message from the broker, as the worker takes it.
static void
s_live (s_client_t *client, const char *topic, uint64_t seq)
{
    if (subscriber_heal_live (client->heal, topic, strlen (topic), seq, S_EPOCH, "v", 1))
        s_to_client (client, topic, strlen (topic), seq);
}

//  Checks that the client got exactly want since the last call.
#define CHECK_GOT(client, want) do { \
    CHECK (streq ((client)->got, (want))); \
    if (!streq ((client)->got, (want))) \
        fprintf (stderr, "  got:  %s\n  want: %s\n", (client)->got, (want)); \
    (client)->got [0] = 0; \
} while (0)

int
main (void)
{
    static const subscriber_heal_handlers_t heal_handlers = {
        .deliver = s_deliver, .gap = s_gap, .reset = s_reset, .barrier = s_barrier
    };
    static const subscriber_sync_handlers_t sync_handlers = {
        .write = s_write, .notice = s_notice, .last_seq = s_last_seq, .ended = s_ended
    };
    static subscriber_control_t link;
    s_client_t client;
    memset (&client, 0, sizeof client);
    test_loopback_t loopback;
    CHECK (test_loopback_open (&loopback) == 0);
    client.heal = subscriber_heal_new (&link, &heal_handlers, &client);
    CHECK (client.heal != NULL);
    if (!client.heal || !loopback.conn)
        return 1;

    //  The prefix t. goes live: t.a stands at 10 (published long before)
    subscriber_heal_prime (client.heal, "t.", 2);
    subscriber_control_request_t *prime = s_pending (&link, "SEQS");
    CHECK (prime && streq (prime->args [0], "t."));
    s_seq (prime, "t.a", 10);
    s_end (prime, true, 1, 0);
    CHECK (client.round == 1);
    subscriber_heal_settle (client.heal, client.round);
    CHECK (subscriber_heal_last_seq (client.heal, "t.a", 3) == 10);

    //  SUB t.a FROM 7: a catch-up stream from the history
    subscriber_sync_options_t from = { .kind = SUBSCRIBER_SYNC_FROM, .from = 7 };
    client.sync = subscriber_sync_new (&link, &sync_handlers, &client, loopback.conn, &from, "t.a", 3,
                                       1 << 20, &client.sync);
    CHECK (client.sync && subscriber_sync_streaming (client.sync));
    subscriber_control_request_t *history = s_pending (&link, "HISTORY");
    CHECK (history && streq (history->args [0], "t.a") && streq (history->args [1], "7"));

    //  While it streams, 11 and 12 come live, then 15: 13 and 14 were
    //  dropped on the link, and the heal asks for them
    s_live (&client, "t.a", 11);
    s_live (&client, "t.a", 12);
    s_live (&client, "t.a", 15);
    CHECK_GOT (&client, "");
    subscriber_control_request_t *heal = s_pending (&link, "HEAL");
    CHECK (heal && streq (heal->args [0], "t.a") && streq (heal->args [1], "12@7")
           && streq (heal->args [2], "14"));
    //  No check of every topic while a heal is in flight
    size_t seqs = s_asked (&link, "SEQS");
    subscriber_heal_backlog (client.heal);
    subscriber_heal_quiet (client.heal);
    CHECK (s_asked (&link, "SEQS") == seqs);

    //  The heal answers first: 13 and 14 then the held 15 go to the client's
    //  catch-up, which holds them behind its stream
    s_msg (heal, "t.a", 13);
    s_msg (heal, "t.a", 14);
    s_end (heal, true, 13, 14);
    CHECK_GOT (&client, "");
    //  The history gives 8 to 12 (11 and 12 were published meanwhile:
    //  their live copies are repeats), then what it held
    for (uint64_t seq = 8; seq <= 12; seq++)
        s_msg (history, "t.a", seq);
    s_end (history, true, 8, 12);
    CHECK_GOT (&client, "t.a 8, t.a 9, t.a 10, t.a 11, t.a 12, t.a 13, t.a 14, t.a 15");
    CHECK (client.sync == NULL || !subscriber_sync_streaming (client.sync));

    //  Live goes on; a repeat on the link is dropped
    s_live (&client, "t.a", 15);
    s_live (&client, "t.a", 16);
    s_live (&client, "t.a", 17);
    CHECK_GOT (&client, "t.a 16, t.a 17");
    CHECK (client.sync == NULL);    //  every floor passed: the catch-up is over

    //  The link dropped the end of a burst: 19 and 20 of t.a, and all of
    //  t.b, a topic never seen; 18 is still on its way. Nothing later shows
    //  the drops; the link is quiet. One check must find both, and heal up
    //  to the last seq the broker gave (20), not stop short of it; but only
    //  once a barrier shows the broker's stream has passed its answer, so
    //  that what was still on its way (more than the history may keep,
    //  after a burst) comes live instead of being healed
    subscriber_heal_backlog (client.heal);
    subscriber_heal_quiet (client.heal);
    subscriber_control_request_t *check = s_pending (&link, "SEQS");
    CHECK (check && streq (check->args [0], "t.") && s_asked (&link, "SEQS") == seqs + 1);
    uint64_t round = client.round;
    s_seq (check, "t.a", 20);
    s_seq (check, "t.b", 3);
    s_end (check, true, 2, 0);
    CHECK (s_pending (&link, "HEAL") == NULL);
    CHECK (client.round == round + 1);
    s_live (&client, "t.a", 18);
    CHECK_GOT (&client, "t.a 18");
    subscriber_heal_settle (client.heal, client.round);
    subscriber_control_request_t *heal_a = s_pending_for (&link, "HEAL", "t.a");
    CHECK (heal_a && streq (heal_a->args [1], "18@7") && streq (heal_a->args [2], "20"));
    subscriber_control_request_t *heal_b = s_pending_for (&link, "HEAL", "t.b");
    CHECK (heal_b && streq (heal_b->args [2], "3"));
    //  The history no longer holds 19
    s_msg (heal_a, "t.a", 20);
    s_end (heal_a, true, 20, 20);
    for (uint64_t seq = 1; seq <= 3; seq++)
        s_msg (heal_b, "t.b", seq);
    s_end (heal_b, true, 1, 3);
    CHECK_GOT (&client, "gap t.a 19-19, t.a 20, t.b 1, t.b 2, t.b 3");
    //  20 was still on its way live after all: a repeat, not delivered again
    s_live (&client, "t.a", 20);
    s_live (&client, "t.a", 21);
    CHECK_GOT (&client, "t.a 21");

    //  A prefix whose prime fails: the next quiet moment asks it again (a
    //  prime, as the prefix has no seqs yet), beside the check of t.
    subscriber_heal_prime (client.heal, "u.", 2);
    subscriber_control_request_t *prime_u = s_pending (&link, "SEQS");
    CHECK (prime_u && streq (prime_u->args [0], "u."));
    s_end (prime_u, false, 0, 0);
    seqs = s_asked (&link, "SEQS");
    zclock_sleep (600);         //  past the least time between two checks
    subscriber_heal_quiet (client.heal);
    CHECK (s_asked (&link, "SEQS") == seqs + 2);
    subscriber_control_request_t *again = s_pending (&link, "SEQS");
    CHECK (again && streq (again->args [0], "t."));
    s_seq (again, "t.a", 21);
    s_seq (again, "t.b", 3);
    s_end (again, true, 2, 0);
    again = s_pending (&link, "SEQS");
    CHECK (again && streq (again->args [0], "u."));
    s_seq (again, "u.a", 4);
    s_end (again, true, 1, 0);
    CHECK_GOT (&client, "");
    //  Primed now: 5 of u.a was dropped, 6 shows it and the heal fills it
    s_live (&client, "u.a", 6);
    subscriber_control_request_t *heal_u = s_pending (&link, "HEAL");
    CHECK (heal_u && streq (heal_u->args [0], "u.a") && streq (heal_u->args [1], "4@7"));
    s_msg (heal_u, "u.a", 5);
    s_end (heal_u, true, 5, 5);
    CHECK_GOT (&client, "u.a 5, u.a 6");
    CHECK (subscriber_heal_stats (client.heal)->lost == 1);

    //  A prime the broker answered late, after v.a 1 to 3 were published
    //  (live, after the subscription): they come live after its answer
    //  and are no repeats, nothing of v.a having been delivered yet
    subscriber_heal_prime (client.heal, "v.", 2);
    subscriber_control_request_t *prime_v = s_pending (&link, "SEQS");
    CHECK (prime_v && streq (prime_v->args [0], "v."));
    s_seq (prime_v, "v.a", 3);
    s_end (prime_v, true, 1, 0);
    s_live (&client, "v.a", 1);
    s_live (&client, "v.a", 2);
    s_live (&client, "v.a", 3);
    s_live (&client, "v.a", 3);
    CHECK_GOT (&client, "v.a 1, v.a 2, v.a 3");

    //  Failover: a heal half answered by the old broker is asked again of
    //  the new one for what it still lacks; nothing is told lost
    s_live (&client, "v.a", 7);
    subscriber_control_request_t *heal_v = s_pending (&link, "HEAL");
    CHECK (heal_v && streq (heal_v->args [1], "3@7") && streq (heal_v->args [2], "6"));
    s_msg (heal_v, "v.a", 4);
    CHECK (subscriber_heal_move (client.heal, "old", "new", NULL, 0) == 0);
    CHECK (heal_v && heal_v->cancelled);
    subscriber_control_request_t *heal_again = s_pending (&link, "HEAL");
    CHECK (heal_again && heal_again != heal_v && streq (heal_again->args [1], "4@7")
           && streq (heal_again->args [2], "6"));
    s_msg (heal_again, "v.a", 5);
    s_msg (heal_again, "v.a", 6);
    s_end (heal_again, true, 5, 6);
    CHECK_GOT (&client, "v.a 4, v.a 5, v.a 6, v.a 7");

    subscriber_sync_destroy (&client.sync);
    subscriber_heal_destroy (&client.heal);
    test_loopback_close (&loopback);
    CHECK_DONE ("test_heal");
}
