/*  subscriber_workq: work queues for a worker's clients (see
    subscriber_workq.h; the broker's side is broker/broker_queues.c).       */
#include "subscriber_workq.h"
#include "subscriber_channel.h"
#include "zch_chanmsg.h"
#include "zch_failover.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_phpjson.h"
#include "zch_text.h"
#include "zch_zmq.h"

#include <arpa/inet.h>
#include <msgpack.h>

#define WORKQ_ID_MAX        24
#define WORKQ_ALIVE_MS      1000        //  QALIVE while watching (the broker waits 10 s)
#define WORKQ_LINGER_MS     1000        //  to hand back what is held at exit
#define WORKQ_FRAMES        8

//  One client's watch of one queue.
typedef struct {
    char name [WORKQ_ID_MAX];   //  the watcher's name at the broker
    char queue [ZCH_TOPIC_MAX + 1];
    subscriber_client_t *client;
    uint32_t prefetch;          //  0: one item per reserve (channel)
    bool reserved;              //  channel: one asked for, not come yet
    uint32_t written;           //  items written this turn: credit to give back
} watch_t;

//  An item written to a client's output, not yet to its socket.
typedef struct {
    char id [WORKQ_ID_MAX];
    char watcher [WORKQ_ID_MAX];
    zch_conn_t *conn;
    uint64_t mark;              //  written once zch_conn_written reaches it
} held_t;

//  A request the broker has yet to answer.
typedef struct {
    subscriber_client_t *client;    //  NULL once it is gone
    char watcher [WORKQ_ID_MAX];    //  a watch's: forgotten if refused; "" for an enqueue
} pending_t;

struct subscriber_workq_t {
    subscriber_worker_t *worker;
    void *dealer;               //  to the broker's control endpoint; NULL until first used
    zch_watch_t dealer_watch;
    zhashx_t *watches;          //  name -> watch_t
    zlistx_t *held;             //  held_t
    zhashx_t *pending;          //  tag -> pending_t
    uint64_t next_name;
    uint64_t next_tag;
    int64_t alive_at;
    char *line;                 //  an item as its client speaks
    size_t line_cap;
    uint64_t delivered;         //  items written to clients
    uint64_t returned;          //  items given back unwritten
};

static void
s_watch_nothing (zch_watch_t *watch, uint32_t events)
{
    (void) watch;
    (void) events;
}

subscriber_workq_t *
subscriber_workq_new (subscriber_worker_t *worker)
{
    subscriber_workq_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->worker = worker;
    self->watches = zhashx_new ();
    self->held = zlistx_new ();
    self->pending = zhashx_new ();
    if (!self->watches || !self->held || !self->pending) {
        subscriber_workq_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->watches, (zhashx_destructor_fn *) zstr_free);
    zhashx_set_destructor (self->pending, (zhashx_destructor_fn *) zstr_free);
    zlistx_set_destructor (self->held, (zlistx_destructor_fn *) zstr_free);
    return self;
}

void
subscriber_workq_destroy (subscriber_workq_t **self_p)
{
    subscriber_workq_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->watches);
    zlistx_destroy (&self->held);
    zhashx_destroy (&self->pending);
    if (self->dealer) {
        zch_loop_remove (self->worker->loop, &self->dealer_watch);
        zmq_close (self->dealer);
    }
    free (self->line);
    free (self);
    *self_p = NULL;
}

//  The broker link, made on first use, to the broker the worker uses then
//  (several brokers share a Redis engine, which serves no work queues, so
//  the link does not follow a failover). NULL when it cannot be made.
static void *
s_dealer (subscriber_workq_t *self)
{
    if (self->dealer)
        return self->dealer;
    const subscriber_config_t *config = self->worker->config;
    char error [256];
    void *dealer = zmq_socket (zsys_init (), ZMQ_DEALER);
    if (!dealer)
        return NULL;
    //  Never refused for room: what goes is bounded by the watchers' credit
    //  and the clients' outstanding requests
    zch_zmq_set (dealer, ZMQ_SNDHWM, 0);
    zch_zmq_set (dealer, ZMQ_LINGER, WORKQ_LINGER_MS);
    if (zch_secure_curve (&config->secure, dealer, error, sizeof error)
    ||  zch_zmq_attach (dealer, "to broker control (work queues)",
                        zch_failover_control (self->worker->failover), false, error, sizeof error)) {
        zch_error ("subscriber: work queues: %s", error);
        zmq_close (dealer);
        return NULL;
    }
    self->dealer = dealer;
    self->dealer_watch = (zch_watch_t) { .fd = zch_zmq_fd (dealer), .handler = s_watch_nothing };
    zch_loop_add (self->worker->loop, &self->dealer_watch, EPOLLIN);
    return dealer;
}

//  Sends count parts to the broker. Returns 0 or -1.
static int
s_send (subscriber_workq_t *self, const void *const *parts, const size_t *sizes, size_t count)
{
    void *dealer = s_dealer (self);
    if (!dealer)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (zmq_send (dealer, parts [i], sizes [i], (i + 1 < count? ZMQ_SNDMORE: 0) | ZMQ_DONTWAIT) < 0)
            return -1;
    return 0;
}

//  Sends a verb with up to three text arguments.
static void
s_tell (subscriber_workq_t *self, const char *verb, const char *a, const char *b, const char *c)
{
    const void *parts [] = { verb, a, b, c };
    size_t sizes [] = { strlen (verb), a? strlen (a): 0, b? strlen (b): 0, c? strlen (c): 0 };
    size_t count = c? 4: b? 3: a? 2: 1;
    //  At exit the broker of zchannel run may be gone first: nothing to tell
    if (s_send (self, parts, sizes, count) && !self->worker->state.stopping)
        zch_warning ("subscriber: work queues: cannot reach the broker (%s): %s", verb,
                     zmq_strerror (zmq_errno ()));
}

//  Starts a request the broker answers; the client waits for it. Returns
//  the tag in tag, or -1 when out of memory.
static int
s_pending (subscriber_workq_t *self, subscriber_client_t *client, const char *watcher, char *tag)
{
    pending_t *pending = calloc (1, sizeof *pending);
    if (!pending)
        return -1;
    pending->client = client;
    snprintf (pending->watcher, sizeof pending->watcher, "%s", watcher? watcher: "");
    snprintf (tag, WORKQ_ID_MAX, "%llu", (unsigned long long) ++self->next_tag);
    zhashx_insert (self->pending, tag, pending);
    client->queue_requests++;
    return 0;
}

int
subscriber_workq_enqueue (subscriber_workq_t *self, subscriber_client_t *client,
                          const char *queue, size_t queue_len,
                          const void *payload, size_t payload_len, bool php)
{
    if (client->queue_requests >= SUBSCRIBER_WORKQ_PENDING_MAX)
        return ZCH_EDGE_PAUSE;
    char tag [WORKQ_ID_MAX];
    if (s_pending (self, client, NULL, tag)) {
        subscriber_client_error (client, "internal", "", "out of memory");
        return ZCH_EDGE_NEXT;
    }
    const char *ct = php? SUBSCRIBER_PHP_SERIALIZED: "";
    const void *parts [] = { "QPUT", tag, queue, payload, ct };
    size_t sizes [] = { 4, strlen (tag), queue_len, payload_len, strlen (ct) };
    if (s_send (self, parts, sizes, 5)) {
        zhashx_delete (self->pending, tag);
        client->queue_requests--;
        subscriber_client_error (client, "unavailable", "", "the broker cannot be reached");
    }
    return ZCH_EDGE_NEXT;
}

//  The client's watch of queue, or NULL.
static watch_t *
s_watch_of (subscriber_workq_t *self, subscriber_client_t *client, const char *queue)
{
    for (watch_t *watch = zhashx_first (self->watches); watch; watch = zhashx_next (self->watches))
        if (watch->client == client && strcmp (watch->queue, queue) == 0)
            return watch;
    return NULL;
}

void
subscriber_workq_watch (subscriber_workq_t *self, subscriber_client_t *client,
                        const char *queue, size_t queue_len, uint32_t prefetch)
{
    char name [ZCH_TOPIC_MAX + 1];
    snprintf (name, sizeof name, "%.*s", (int) queue_len, queue);
    if (s_watch_of (self, client, name)) {
        subscriber_client_ok (client, 0);       //  already: Channel\Client watches again on reconnect
        return;
    }
    watch_t *watch = calloc (1, sizeof *watch);
    char tag [WORKQ_ID_MAX];
    if (!watch || (snprintf (watch->name, sizeof watch->name, "%llu", (unsigned long long) ++self->next_name),
                   s_pending (self, client, watch->name, tag))) {
        free (watch);
        subscriber_client_error (client, "internal", "", "out of memory");
        return;
    }
    memcpy (watch->queue, name, sizeof name);
    watch->client = client;
    watch->prefetch = prefetch;
    zhashx_insert (self->watches, watch->name, watch);
    s_tell (self, "QWATCH", tag, watch->queue, watch->name);
    if (prefetch) {
        char credit [16];
        snprintf (credit, sizeof credit, "%u", prefetch);
        const void *parts [] = { "QCREDIT", watch->queue, watch->name, credit };
        size_t sizes [] = { 7, strlen (watch->queue), strlen (watch->name), strlen (credit) };
        s_send (self, parts, sizes, 4);
    }
}

bool
subscriber_workq_unwatch (subscriber_workq_t *self, subscriber_client_t *client, const char *queue)
{
    watch_t *watch = s_watch_of (self, client, queue);
    if (!watch)
        return false;
    s_tell (self, "QUNWATCH", watch->queue, watch->name, NULL);
    //  Items on their way to it are given back as they come
    zhashx_delete (self->watches, watch->name);
    return true;
}

void
subscriber_workq_reserve (subscriber_workq_t *self, subscriber_client_t *client)
{
    for (watch_t *watch = zhashx_first (self->watches); watch; watch = zhashx_next (self->watches))
        if (watch->client == client && watch->prefetch == 0 && !watch->reserved) {
            watch->reserved = true;
            s_tell (self, "QCREDIT", watch->queue, watch->name, "1");
        }
}

//  Tells the broker one held item was written (or, when not, gives it back).
static void
s_settle_one (subscriber_workq_t *self, held_t *held, bool written)
{
    s_tell (self, written? "QACK": "QNACK", held->id, NULL, NULL);
    if (written) {
        self->delivered++;
        watch_t *watch = zhashx_lookup (self->watches, held->watcher);
        if (watch && watch->prefetch)
            watch->written++;
    }
    else
        self->returned++;
}

void
subscriber_workq_leave (subscriber_workq_t *self, subscriber_client_t *client)
{
    if (!self)
        return;
    zlistx_t *names = NULL;
    for (watch_t *watch = zhashx_first (self->watches); watch; watch = zhashx_next (self->watches))
        if (watch->client == client && (names || (names = zlistx_new ())))
            zlistx_add_end (names, watch->name);
    for (char *name = names? zlistx_first (names): NULL; name; name = zlistx_next (names)) {
        watch_t *watch = zhashx_lookup (self->watches, name);
        s_tell (self, "QUNWATCH", watch->queue, watch->name, NULL);
        zhashx_delete (self->watches, name);
    }
    zlistx_destroy (&names);
    held_t *held = zlistx_first (self->held);
    while (held) {
        if (held->conn == client->conn) {
            s_settle_one (self, held, zch_conn_written (held->conn) >= held->mark);
            zlistx_delete (self->held, zlistx_cursor (self->held));
            held = zlistx_next (self->held);
        }
        else
            held = zlistx_next (self->held);
    }
    for (pending_t *pending = zhashx_first (self->pending); pending; pending = zhashx_next (self->pending))
        if (pending->client == client)
            pending->client = NULL;
}

//  Room for size bytes in the item buffer; NULL when out of memory.
static char *
s_line (subscriber_workq_t *self, size_t size)
{
    if (size > self->line_cap) {
        char *grown = realloc (self->line, size);
        if (!grown)
            return NULL;
        self->line = grown;
        self->line_cap = size;
    }
    return self->line;
}

//  Writes one item to its watcher as it speaks. Returns 0, or -1 when it
//  could not be queued.
static int
s_write_item (subscriber_workq_t *self, watch_t *watch, const char *id, uint64_t number,
              const uint8_t *payload, size_t size, bool php)
{
    subscriber_client_t *client = watch->client;
    size_t queue_len = strlen (watch->queue);
    if (client->channel) {
        size_t cap = zch_chanmsg_event_size (queue_len, size);
        uint8_t *frame = (uint8_t *) s_line (self, cap);
        size_t len = frame? zch_chanmsg_encode_event (frame, cap, "queue", watch->queue, queue_len,
                                                      payload, size, php): 0;
        return len? zch_conn_write (client->conn, frame, len): -1;
    }
    //  A PHP value reads as JSON elsewhere, as it does when published
    char *json = NULL;
    size_t json_len = 0;
    if (php && (json = zch_phpjson_convert (payload, size, &json_len))) {
        payload = (const uint8_t *) json;
        size = json_len;
    }
    int rc = -1;
    if (client->framed) {
        static const uint8_t json_headers [] = "\x81\xac" "content-type" "\xb0" "application/json";
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
        uint32_t length = 0;
        msgpack_sbuffer_write (&buffer, (const char *) &length, 4);
        msgpack_pack_array (&packer, 5);
        msgpack_pack_str_with_body (&packer, "item", 4);
        msgpack_pack_str_with_body (&packer, watch->queue, queue_len);
        msgpack_pack_uint64 (&packer, number);
        msgpack_pack_bin_with_body (&packer, payload, size);
        if (json)
            msgpack_sbuffer_write (&buffer, (const char *) json_headers, sizeof json_headers - 1);
        else
            msgpack_pack_map (&packer, 0);
        if (buffer.data) {
            length = htonl ((uint32_t) (buffer.size - 4));
            memcpy (buffer.data, &length, 4);
            rc = zch_conn_write (client->conn, buffer.data, buffer.size);
        }
        msgpack_sbuffer_destroy (&buffer);
    }
    else {
        //  ITEM <queue> <id> <payload>, escaped as MSG lines are
        size_t cap = 5 + queue_len + 1 + strlen (id) + 1 + zch_text_escaped_size ((const char *) payload, size) + 1;
        char *line = s_line (self, cap);
        if (line) {
            int at = snprintf (line, cap, "ITEM %s %s ", watch->queue, id);
            size_t len = (size_t) at + zch_text_escape ((const char *) payload, size, line + at);
            line [len++] = '\n';
            rc = zch_conn_write (client->conn, line, len);
        }
    }
    free (json);
    return rc;
}

//  QITEM <queue> <watcher> <id> <payload> <content-type>: writes it to
//  its watcher and holds it until written, or gives it back at once.
static void
s_item (subscriber_workq_t *self, zmq_msg_t *frames, size_t count)
{
    char watcher [WORKQ_ID_MAX], id [WORKQ_ID_MAX];
    if (count != 6 || zmq_msg_size (&frames [2]) >= sizeof watcher || zmq_msg_size (&frames [3]) >= sizeof id
    ||  zmq_msg_size (&frames [3]) == 0)
        return;
    snprintf (watcher, sizeof watcher, "%.*s", (int) zmq_msg_size (&frames [2]), (char *) zmq_msg_data (&frames [2]));
    snprintf (id, sizeof id, "%.*s", (int) zmq_msg_size (&frames [3]), (char *) zmq_msg_data (&frames [3]));
    watch_t *watch = zhashx_lookup (self->watches, watcher);
    bool php = zmq_msg_size (&frames [5]) == strlen (SUBSCRIBER_PHP_SERIALIZED)
            && memcmp (zmq_msg_data (&frames [5]), SUBSCRIBER_PHP_SERIALIZED, zmq_msg_size (&frames [5])) == 0;
    held_t *held = watch? calloc (1, sizeof *held): NULL;
    if (!held || zch_conn_closing (watch->client->conn)
    ||  s_write_item (self, watch, id, strtoull (id, NULL, 10), zmq_msg_data (&frames [4]),
                      zmq_msg_size (&frames [4]), php)) {
        free (held);
        self->returned++;
        s_tell (self, "QNACK", id, NULL, NULL);
        return;
    }
    memcpy (held->id, id, sizeof id);
    memcpy (held->watcher, watcher, sizeof watcher);
    held->conn = watch->client->conn;
    held->mark = zch_conn_written (held->conn) + zch_conn_pending (held->conn);
    watch->reserved = false;
    zlistx_add_end (self->held, held);
}

//  QAGAIN: the broker does not know this worker (it restarted, or took
//  it as gone): every watch is made again, with the credit it had. Items
//  held for the old one are settled as they come; the broker ignores ids
//  it does not know.
static void
s_watch_again (subscriber_workq_t *self)
{
    zch_info ("subscriber: work queues: the broker does not know %zu watch%s of this worker; watching again",
              zhashx_size (self->watches), zhashx_size (self->watches) == 1? "": "es");
    for (watch_t *watch = zhashx_first (self->watches); watch; watch = zhashx_next (self->watches)) {
        s_tell (self, "QWATCH", "", watch->queue, watch->name);
        uint32_t credit = watch->prefetch? watch->prefetch: watch->reserved? 1: 0;
        if (credit) {
            char text [16];
            snprintf (text, sizeof text, "%u", credit);
            s_tell (self, "QCREDIT", watch->queue, watch->name, text);
        }
    }
}

//  QOK <tag> or QERR <tag> <code> <text>: answers the client that asked.
static void
s_answer (subscriber_workq_t *self, zmq_msg_t *frames, size_t count, bool ok)
{
    char tag [WORKQ_ID_MAX];
    if (count < 2 || zmq_msg_size (&frames [1]) >= sizeof tag)
        return;
    snprintf (tag, sizeof tag, "%.*s", (int) zmq_msg_size (&frames [1]), (char *) zmq_msg_data (&frames [1]));
    pending_t *pending = zhashx_lookup (self->pending, tag);
    if (!pending)
        return;
    subscriber_client_t *client = pending->client;
    if (!ok && *pending->watcher)
        zhashx_delete (self->watches, pending->watcher);
    if (client) {
        client->queue_requests--;
        if (ok)
            subscriber_client_ok (client, 0);
        else {
            char code [64], text [320];
            snprintf (code, sizeof code, "%.*s", count > 2? (int) zmq_msg_size (&frames [2]): 0,
                      count > 2? (char *) zmq_msg_data (&frames [2]): "");
            snprintf (text, sizeof text, "%.*s", count > 3? (int) zmq_msg_size (&frames [3]): 0,
                      count > 3? (char *) zmq_msg_data (&frames [3]): "");
            subscriber_client_error (client, code, "", text);
        }
    }
    zhashx_delete (self->pending, tag);
}

void
subscriber_workq_turn (subscriber_workq_t *self)
{
    if (!self->dealer)
        return;
    bool answered = false;
    while (true) {
        zmq_msg_t frames [WORKQ_FRAMES];
        size_t count = 0;
        bool more = true;
        while (more) {
            zmq_msg_t *frame = &frames [count < WORKQ_FRAMES? count: WORKQ_FRAMES - 1];
            if (count >= WORKQ_FRAMES)
                zmq_msg_close (frame);
            zmq_msg_init (frame);
            if (zmq_msg_recv (frame, self->dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (frame);
                more = false;
                break;
            }
            more = zmq_msg_more (frame);
            count++;
        }
        if (count == 0)
            break;
        size_t held = count < WORKQ_FRAMES? count: WORKQ_FRAMES;
        size_t verb_size = zmq_msg_size (&frames [0]);
        const char *verb = zmq_msg_data (&frames [0]);
        if (verb_size == 5 && memcmp (verb, "QITEM", 5) == 0)
            s_item (self, frames, count);
        else
        if (verb_size == 6 && memcmp (verb, "QAGAIN", 6) == 0)
            s_watch_again (self);
        else
        if ((verb_size == 3 && memcmp (verb, "QOK", 3) == 0) || (verb_size == 4 && memcmp (verb, "QERR", 4) == 0)) {
            s_answer (self, frames, held, verb_size == 3);
            answered = true;
        }
        for (size_t i = 0; i < held; i++)
            zmq_msg_close (&frames [i]);
    }
    if (answered) {
        //  Clients that waited for an answer go on
        zch_worker_resume (ZCH_WORKER (self->worker));
    }
}

void
subscriber_workq_settle (subscriber_workq_t *self)
{
    if (!self->dealer)
        return;
    held_t *held = zlistx_first (self->held);
    while (held) {
        if (zch_conn_written (held->conn) >= held->mark) {
            s_settle_one (self, held, true);
            zlistx_delete (self->held, zlistx_cursor (self->held));
        }
        held = zlistx_next (self->held);
    }
    //  What was written makes room for as many more
    for (watch_t *watch = zhashx_first (self->watches); watch; watch = zhashx_next (self->watches))
        if (watch->written) {
            char credit [16];
            snprintf (credit, sizeof credit, "%u", watch->written);
            watch->written = 0;
            const void *parts [] = { "QCREDIT", watch->queue, watch->name, credit };
            size_t sizes [] = { 7, strlen (watch->queue), strlen (watch->name), strlen (credit) };
            s_send (self, parts, sizes, 4);
        }
    int64_t now = zclock_mono ();
    if ((zhashx_size (self->watches) || zlistx_size (self->held)) && now - self->alive_at >= WORKQ_ALIVE_MS) {
        self->alive_at = now;
        s_tell (self, "QALIVE", NULL, NULL, NULL);
    }
}

bool
subscriber_workq_readable (subscriber_workq_t *self)
{
    return self->dealer && zch_zmq_readable (self->dealer);
}

uint64_t
subscriber_workq_delivered (subscriber_workq_t *self)
{
    return self->delivered;
}
