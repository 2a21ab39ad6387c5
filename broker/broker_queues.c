/*  broker_queues: work queues held in the broker (see broker_queues.h).

    A front-end (one DEALER per subscriber worker) is a peer, known by its
    routing id; its watchers are named by the peer (a number of its own).
    Items in flight remember their peer, so a peer gone or silent gives its
    items back to their queues without the front-end's help.               */
#include "broker_queues.h"
#include "broker_queues_check.h"
#include "zch_log.h"

#define QUEUES_MAX          65536       //  queues at once
#define QUEUES_NAME_MAX     255
#define QUEUES_WATCHER_MAX  32          //  a watcher's name: a number
#define QUEUES_CT_MAX       64          //  a content type
#define QUEUES_ROUTE_MAX    256
#define QUEUES_KEY_MAX      (2 * QUEUES_ROUTE_MAX + QUEUES_WATCHER_MAX + 2)
#define QUEUES_CREDIT_MAX   100000      //  credit one watcher may hold
#define QUEUES_RETRY_MS     5           //  a front-end that could not take an item: look again
#define QUEUES_CHECK_MS     1000        //  how often silent front-ends are looked for

typedef struct queue_s queue_t;

//  A front-end holding watchers or items in flight.
typedef struct {
    char key [2 * QUEUES_ROUTE_MAX + 1];    //  the routing id in hex
    uint8_t route [QUEUES_ROUTE_MAX];
    size_t route_len;
    int64_t seen;               //  when it last said anything
} peer_t;

typedef struct {
    char key [QUEUES_KEY_MAX];  //  peer key ":" name
    char name [QUEUES_WATCHER_MAX + 1];
    peer_t *peer;
    queue_t *queue;
    uint64_t credit;            //  items it may be given now
    void *handle;               //  in queue->watchers
} watcher_t;

typedef struct {
    uint64_t id;
    queue_t *queue;
    void *payload;
    size_t size;
    char ct [QUEUES_CT_MAX + 1];
    bool again;                 //  a watcher lost it: its next hand-out is a redelivery
    peer_t *peer;               //  in flight: the front-end holding it; NULL while waiting
} item_t;

struct queue_s {
    char name [QUEUES_NAME_MAX + 1];
    zlistx_t *waiting;          //  item_t, oldest first
    zlistx_t *watchers;         //  watcher_t, next turn first
    size_t items;               //  waiting and in flight
    size_t bytes;
};

struct broker_queues_t {
    void *control;
    size_t max_items;
    size_t max_bytes;
    const char *disabled;
    zhashx_t *queues;           //  name -> queue_t (owned)
    zhashx_t *watchers;         //  key -> watcher_t (owned)
    zhashx_t *peers;            //  key -> peer_t (owned)
    zhashx_t *inflight;         //  id -> item_t (owned, freed by hand: no destructor)
    uint64_t next_id;
    bool blocked;               //  a front-end could not take an item: dispatch again
    int64_t checked_at;
    uint64_t refused_logged;
    int64_t refused_log_at;
    broker_queues_stats_t stats;
};

static void
s_item_free (item_t **item_p)
{
    if (*item_p) {
        free ((*item_p)->payload);
        free (*item_p);
        *item_p = NULL;
    }
}

static void
s_item_destructor (void **item)
{
    s_item_free ((item_t **) item);
}

static void
s_queue_destructor (void **item)
{
    queue_t *queue = *item;
    if (queue) {
        zlistx_destroy (&queue->waiting);
        zlistx_destroy (&queue->watchers);
        free (queue);
    }
    *item = NULL;
}

//  Items wait in the order they came: one given back goes before later ones
static int
s_item_compare (const void *a, const void *b)
{
    uint64_t x = ((const item_t *) a)->id, y = ((const item_t *) b)->id;
    return x < y? -1: x > y;
}

static void
s_free_destructor (void **item)
{
    free (*item);
    *item = NULL;
}

broker_queues_t *
broker_queues_new (void *control, size_t max_items, size_t max_bytes, const char *disabled)
{
    broker_queues_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->control = control;
    self->max_items = max_items;
    self->max_bytes = max_bytes;
    self->disabled = disabled;
    self->queues = zhashx_new ();
    self->watchers = zhashx_new ();
    self->peers = zhashx_new ();
    self->inflight = zhashx_new ();
    if (!self->queues || !self->watchers || !self->peers || !self->inflight) {
        broker_queues_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->queues, s_queue_destructor);
    zhashx_set_destructor (self->watchers, s_free_destructor);
    zhashx_set_destructor (self->peers, s_free_destructor);
    self->next_id = 1;
    return self;
}

void
broker_queues_destroy (broker_queues_t **self_p)
{
    broker_queues_t *self = *self_p;
    if (!self)
        return;
    if (self->inflight)
        for (item_t *item = zhashx_first (self->inflight); item; item = zhashx_next (self->inflight))
            s_item_free (&item);
    zhashx_destroy (&self->inflight);
    zhashx_destroy (&self->watchers);
    zhashx_destroy (&self->queues);
    zhashx_destroy (&self->peers);
    free (self);
    *self_p = NULL;
}

bool
broker_queues_is_request (const void *verb, size_t size)
{
    return size >= 4 && ((const char *) verb) [0] == 'Q'
        && (  (size == 4 && memcmp (verb, "QPUT", 4) == 0)
           || (size == 4 && memcmp (verb, "QACK", 4) == 0)
           || (size == 5 && memcmp (verb, "QNACK", 5) == 0)
           || (size == 6 && memcmp (verb, "QWATCH", 6) == 0)
           || (size == 6 && memcmp (verb, "QALIVE", 6) == 0)
           || (size == 7 && memcmp (verb, "QCREDIT", 7) == 0)
           || (size == 8 && memcmp (verb, "QUNWATCH", 8) == 0));
}

//  A frame as a NUL-terminated string into out; -1 when empty or too long.
static int
s_text (zmq_msg_t *frame, char *out, size_t out_size)
{
    size_t size = zmq_msg_size (frame);
    if (size == 0 || size >= out_size || memchr (zmq_msg_data (frame), 0, size))
        return -1;
    memcpy (out, zmq_msg_data (frame), size);
    out [size] = 0;
    return 0;
}

//  A frame holding a decimal number; 0 when it is not one.
static uint64_t
s_number (zmq_msg_t *frame)
{
    char text [24];
    if (s_text (frame, text, sizeof text))
        return 0;
    char *end;
    unsigned long long value = strtoull (text, &end, 10);
    return *end || text [0] == '-'? 0: (uint64_t) value;
}

static void
s_hex (const uint8_t *data, size_t size, char *out)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out [2 * i] = digits [data [i] >> 4];
        out [2 * i + 1] = digits [data [i] & 15];
    }
    out [2 * size] = 0;
}

//  Sends parts to route. Returns 0, or -1 with errno EAGAIN (its queue is
//  full: nothing sent) or another (the peer is gone).
static int
s_send (broker_queues_t *self, const uint8_t *route, size_t route_len,
        const void *const *parts, const size_t *sizes, size_t count)
{
    if (zmq_send (self->control, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        zmq_send (self->control, parts [i], sizes [i], i + 1 < count? ZMQ_SNDMORE: 0);
    return 0;
}

//  QOK <tag>, or QERR <tag> <code> <text> when code is not NULL.
static void
s_answer (broker_queues_t *self, zmq_msg_t *frames, zmq_msg_t *tag, const char *code, const char *text)
{
    const void *parts [] = { code? "QERR": "QOK", zmq_msg_data (tag), code, text };
    size_t sizes [] = { code? 4: 3, zmq_msg_size (tag), code? strlen (code): 0, text? strlen (text): 0 };
    s_send (self, zmq_msg_data (&frames [0]), zmq_msg_size (&frames [0]), parts, sizes, code? 4: 2);
}

//  The queue named name, made when missing and make is set. NULL when
//  missing, out of memory, or over QUEUES_MAX.
static queue_t *
s_queue (broker_queues_t *self, const char *name, bool make)
{
    queue_t *queue = zhashx_lookup (self->queues, name);
    if (queue || !make || zhashx_size (self->queues) >= QUEUES_MAX)
        return queue;
    queue = calloc (1, sizeof *queue);
    if (!queue)
        return NULL;
    snprintf (queue->name, sizeof queue->name, "%s", name);
    queue->waiting = zlistx_new ();
    queue->watchers = zlistx_new ();
    if (!queue->waiting || !queue->watchers || zhashx_insert (self->queues, name, queue)) {
        void *item = queue;
        s_queue_destructor (&item);
        return NULL;
    }
    zlistx_set_destructor (queue->waiting, s_item_destructor);
    zlistx_set_comparator (queue->waiting, s_item_compare);
    self->stats.queues = zhashx_size (self->queues);
    return queue;
}

//  Forgets a queue nobody needs any more: no item, no watcher.
static void
s_queue_tidy (broker_queues_t *self, queue_t *queue)
{
    if (queue->items == 0 && zlistx_size (queue->watchers) == 0) {
        zhashx_delete (self->queues, queue->name);
        self->stats.queues = zhashx_size (self->queues);
    }
}

//  Hands waiting items to watchers with credit, round robin, while the
//  front-ends take them.
static void s_peer_gone (broker_queues_t *self, peer_t *peer, const char *why);

static void
s_dispatch (broker_queues_t *self, queue_t *queue)
{
    while (zlistx_size (queue->waiting) > 0) {
        watcher_t *watcher = NULL;
        size_t count = zlistx_size (queue->watchers);
        for (size_t i = 0; i < count && !watcher; i++) {
            watcher_t *next = zlistx_first (queue->watchers);
            zlistx_move_end (queue->watchers, next->handle);
            if (next->credit > 0)
                watcher = next;
        }
        if (!watcher)
            return;
        item_t *item = zlistx_first (queue->waiting);
        char id [24];
        snprintf (id, sizeof id, "%llu", (unsigned long long) item->id);
        const void *parts [] = { "QITEM", queue->name, watcher->name, id, item->payload, item->ct };
        size_t sizes [] = { 5, strlen (queue->name), strlen (watcher->name), strlen (id), item->size,
                            strlen (item->ct) };
        peer_t *peer = watcher->peer;
        if (s_send (self, peer->route, peer->route_len, parts, sizes, 6)) {
            if (errno == EAGAIN) {
                self->blocked = true;
                return;
            }
            s_peer_gone (self, peer, "unreachable");
            continue;
        }
        zlistx_detach (queue->waiting, NULL);
        item->peer = peer;
        zhashx_insert (self->inflight, id, item);
        watcher->credit--;
        self->stats.items--;
        self->stats.inflight++;
        self->stats.delivered++;
        if (item->again)
            self->stats.redelivered++;
    }
}

//  An item in flight that its watcher did not get: back in its queue,
//  before every item that came after it.
static void
s_item_back (broker_queues_t *self, item_t *item)
{
    item->peer = NULL;
    item->again = true;
    zlistx_insert (item->queue->waiting, item, true);
    self->stats.inflight--;
    self->stats.items++;
}

//  A watcher leaves its queue (its items in flight stay with their peer).
static void
s_watcher_remove (broker_queues_t *self, watcher_t *watcher)
{
    queue_t *queue = watcher->queue;
    zlistx_delete (queue->watchers, watcher->handle);
    zhashx_delete (self->watchers, watcher->key);
    self->stats.watchers = zhashx_size (self->watchers);
    s_queue_tidy (self, queue);
}

//  A front-end gone or silent: its watchers leave, its items in flight go
//  to other watchers.
static void
s_peer_gone (broker_queues_t *self, peer_t *peer, const char *why)
{
    size_t watchers = 0, items = 0;
    zlistx_t *doomed = zlistx_new ();
    if (!doomed)
        return;                 //  out of memory: tried again on the next check
    for (watcher_t *watcher = zhashx_first (self->watchers); watcher; watcher = zhashx_next (self->watchers))
        if (watcher->peer == peer)
            zlistx_add_end (doomed, watcher);
    for (watcher_t *watcher = zlistx_first (doomed); watcher; watcher = zlistx_next (doomed)) {
        s_watcher_remove (self, watcher);
        watchers++;
    }
    zlistx_purge (doomed);
    for (item_t *item = zhashx_first (self->inflight); item; item = zhashx_next (self->inflight))
        if (item->peer == peer)
            zlistx_add_end (doomed, item);
    for (item_t *item = zlistx_first (doomed); item; item = zlistx_next (doomed)) {
        char id [24];
        snprintf (id, sizeof id, "%llu", (unsigned long long) item->id);
        zhashx_delete (self->inflight, id);
        s_item_back (self, item);
        items++;
        self->blocked = true;       //  dispatched on the next work
    }
    zlistx_destroy (&doomed);
    if (watchers || items)
        zch_warning ("broker: work-queue front-end %.16s... %s: %zu watcher%s removed, %zu item%s in flight "
                     "given to other watchers", peer->key, why, watchers, watchers == 1? "": "s",
                     items, items == 1? "": "s");
    zhashx_delete (self->peers, peer->key);
}

//  The peer behind a request; made when missing and make is set.
static peer_t *
s_peer (broker_queues_t *self, zmq_msg_t *route, bool make)
{
    size_t size = zmq_msg_size (route);
    if (size == 0 || size > QUEUES_ROUTE_MAX)
        return NULL;
    char key [2 * QUEUES_ROUTE_MAX + 1];
    s_hex (zmq_msg_data (route), size, key);
    peer_t *peer = zhashx_lookup (self->peers, key);
    if (!peer && make && (peer = calloc (1, sizeof *peer))) {
        memcpy (peer->key, key, sizeof key);
        memcpy (peer->route, zmq_msg_data (route), size);
        peer->route_len = size;
        if (zhashx_insert (self->peers, key, peer)) {
            free (peer);
            peer = NULL;
        }
    }
    if (peer)
        peer->seen = zclock_mono ();
    return peer;
}

//  The watcher a peer names, or NULL.
static watcher_t *
s_watcher (broker_queues_t *self, peer_t *peer, zmq_msg_t *name, char *key)
{
    char text [QUEUES_WATCHER_MAX + 1];
    if (!peer || s_text (name, text, sizeof text))
        return NULL;
    snprintf (key, QUEUES_KEY_MAX, "%s:%s", peer->key, text);
    return zhashx_lookup (self->watchers, key);
}

//  Says (at most once a second) that enqueues are being refused.
static void
s_refused (broker_queues_t *self, const char *queue, const char *why)
{
    self->stats.refused++;
    int64_t now = zclock_mono ();
    if (now - self->refused_log_at >= 1000) {
        zch_warning ("broker: refused an enqueue to work queue %s: %s (refused: %llu)", queue, why,
                     (unsigned long long) self->stats.refused);
        self->refused_log_at = now;
    }
}

//  QPUT <tag> <queue> <payload> <content-type>
static void
s_put (broker_queues_t *self, zmq_msg_t *frames, size_t count)
{
    char name [QUEUES_NAME_MAX + 1], ct [QUEUES_CT_MAX + 1] = "", reason [QUEUES_NAME_MAX + 160];
    if (count != 6 || s_text (&frames [3], name, sizeof name)
    ||  (zmq_msg_size (&frames [5]) && s_text (&frames [5], ct, sizeof ct))) {
        if (count >= 3)
            s_answer (self, frames, &frames [2], "bad_request", "QPUT <tag> <queue> <payload> <content-type>");
        return;
    }
    if (self->disabled) {
        s_refused (self, name, self->disabled);
        s_answer (self, frames, &frames [2], "unsupported", self->disabled);
        return;
    }
    size_t size = zmq_msg_size (&frames [4]);
    queue_t *queue = s_queue (self, name, true);
    const char *code = NULL;
    if (!queue) {
        code = "too_many_queues";
        snprintf (reason, sizeof reason, "too many work queues (%d)", QUEUES_MAX);
    }
    else
    if (queue->items >= self->max_items) {
        code = "queue_full";
        snprintf (reason, sizeof reason, "work queue %s is full (%zu items, --queue-max-items)",
                  name, queue->items);
    }
    else
    if (queue->bytes + size > self->max_bytes) {
        code = "queue_full";
        snprintf (reason, sizeof reason, "work queue %s is full (%zu of %zu bytes, --queue-max-bytes)",
                  name, queue->bytes, self->max_bytes);
    }
    item_t *item = code? NULL: calloc (1, sizeof *item);
    if (!code && (!item || (size && !(item->payload = malloc (size))))) {
        code = "out_of_memory";
        snprintf (reason, sizeof reason, "out of memory");
        s_item_free (&item);
    }
    if (code) {
        s_refused (self, name, reason);
        s_answer (self, frames, &frames [2], code, reason);
        if (queue)
            s_queue_tidy (self, queue);
        return;
    }
    memcpy (item->payload, zmq_msg_data (&frames [4]), size);
    item->size = size;
    item->id = self->next_id++;
    item->queue = queue;
    memcpy (item->ct, ct, sizeof ct);
    zlistx_add_end (queue->waiting, item);
    queue->items++;
    queue->bytes += size;
    self->stats.items++;
    self->stats.bytes += size;
    self->stats.enqueued++;
    s_answer (self, frames, &frames [2], NULL, NULL);
    s_dispatch (self, queue);
}

//  QWATCH <tag> <queue> <watcher>
static void
s_watch (broker_queues_t *self, zmq_msg_t *frames, size_t count)
{
    char name [QUEUES_NAME_MAX + 1], key [QUEUES_KEY_MAX];
    if (count != 5 || s_text (&frames [3], name, sizeof name)) {
        if (count >= 3)
            s_answer (self, frames, &frames [2], "bad_request", "QWATCH <tag> <queue> <watcher>");
        return;
    }
    if (self->disabled) {
        s_answer (self, frames, &frames [2], "unsupported", self->disabled);
        return;
    }
    peer_t *peer = s_peer (self, &frames [0], true);
    watcher_t *watcher = s_watcher (self, peer, &frames [4], key);
    if (watcher) {
        s_answer (self, frames, &frames [2], NULL, NULL);
        return;
    }
    queue_t *queue = peer? s_queue (self, name, true): NULL;
    watcher = queue? calloc (1, sizeof *watcher): NULL;
    if (!watcher || s_text (&frames [4], watcher->name, sizeof watcher->name)) {
        free (watcher);
        s_answer (self, frames, &frames [2], !peer? "bad_request": "too_many_queues",
                  !peer? "bad routing id": "too many work queues, or out of memory");
        return;
    }
    snprintf (watcher->key, sizeof watcher->key, "%s", key);
    watcher->peer = peer;
    watcher->queue = queue;
    watcher->handle = zlistx_add_end (queue->watchers, watcher);
    zhashx_insert (self->watchers, watcher->key, watcher);
    self->stats.watchers = zhashx_size (self->watchers);
    s_answer (self, frames, &frames [2], NULL, NULL);
}

//  QACK <id> or QNACK <id> from peer: it wrote the item, or could not.
static void
s_settle (broker_queues_t *self, peer_t *peer, zmq_msg_t *frames, size_t count, bool written)
{
    if (count != 3 || !peer)
        return;
    char id [24];
    if (s_text (&frames [2], id, sizeof id))
        return;
    //  An item given back already (its front-end was taken as gone) may be
    //  in flight to another front-end now: only its holder settles it
    item_t *item = zhashx_lookup (self->inflight, id);
    if (!item || item->peer != peer)
        return;
    zhashx_delete (self->inflight, id);
    if (written) {
        queue_t *queue = item->queue;
        queue->items--;
        queue->bytes -= item->size;
        self->stats.inflight--;
        self->stats.bytes -= item->size;
        self->stats.acked++;
        s_item_free (&item);
        s_queue_tidy (self, queue);
    }
    else {
        s_item_back (self, item);
        s_dispatch (self, item->queue);
    }
}

void
broker_queues_request (broker_queues_t *self, zmq_msg_t *frames, size_t count)
{
    //  Only well-formed requests reach the handlers below; a malformed
    //  QPUT or QWATCH whose tag could be read is told why
    zch_frame_t views [8];
    size_t held = count < 8? count: 8;
    for (size_t i = 0; i < held; i++)
        views [i] = (zch_frame_t) { zmq_msg_data (&frames [i]), zmq_msg_size (&frames [i]) };
    const char *reason;
    broker_queues_verb_t kind = broker_queues_check (views, count <= 8? count: 0, &reason);
    if (kind == BROKER_QUEUES_BAD) {
        bool tagged = count >= 3 && zmq_msg_size (&frames [2]) <= BROKER_QUEUES_ID_MAX
                   && ((zmq_msg_size (&frames [1]) == 4 && memcmp (zmq_msg_data (&frames [1]), "QPUT", 4) == 0)
                    || (zmq_msg_size (&frames [1]) == 6 && memcmp (zmq_msg_data (&frames [1]), "QWATCH", 6) == 0));
        if (tagged)
            s_answer (self, frames, &frames [2], "bad_request", reason);
        return;
    }
    const char *verb = zmq_msg_data (&frames [1]);
    size_t size = zmq_msg_size (&frames [1]);
    char key [QUEUES_KEY_MAX];
    if (size == 4 && memcmp (verb, "QPUT", 4) == 0)
        s_put (self, frames, count);
    else
    if (size == 6 && memcmp (verb, "QWATCH", 6) == 0)
        s_watch (self, frames, count);
    else
    if (size == 4 && memcmp (verb, "QACK", 4) == 0)
        s_settle (self, s_peer (self, &frames [0], false), frames, count, true);
    else
    if (size == 5 && memcmp (verb, "QNACK", 5) == 0)
        s_settle (self, s_peer (self, &frames [0], false), frames, count, false);
    else
    if (size == 8 && memcmp (verb, "QUNWATCH", 8) == 0) {
        watcher_t *watcher = count == 4? s_watcher (self, s_peer (self, &frames [0], false), &frames [3], key): NULL;
        if (watcher)
            s_watcher_remove (self, watcher);
    }
    else
    if (size == 7 && memcmp (verb, "QCREDIT", 7) == 0) {
        watcher_t *watcher = count == 5? s_watcher (self, s_peer (self, &frames [0], false), &frames [3], key): NULL;
        uint64_t more = count == 5? s_number (&frames [4]): 0;
        if (watcher && more) {
            watcher->credit = watcher->credit + more > QUEUES_CREDIT_MAX? QUEUES_CREDIT_MAX:
                              watcher->credit + more;
            s_dispatch (self, watcher->queue);
        }
    }
    else
    if (!s_peer (self, &frames [0], false)) {
        //  QALIVE from a front-end this broker does not know (it restarted,
        //  or gave the front-end up as silent): it must watch again
        const void *parts [] = { "QAGAIN" };
        size_t sizes [] = { 6 };
        s_send (self, zmq_msg_data (&frames [0]), zmq_msg_size (&frames [0]), parts, sizes, 1);
    }
}

int
broker_queues_work (broker_queues_t *self)
{
    int64_t now = zclock_mono ();
    if (now - self->checked_at >= QUEUES_CHECK_MS) {
        self->checked_at = now;
        zlistx_t *silent = NULL;
        for (peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers))
            if (now - peer->seen > BROKER_QUEUES_SILENT_MS && (silent || (silent = zlistx_new ())))
                zlistx_add_end (silent, peer);
        for (peer_t *peer = silent? zlistx_first (silent): NULL; peer; peer = zlistx_next (silent))
            s_peer_gone (self, peer, "silent for 10 s");
        zlistx_destroy (&silent);
    }
    if (self->blocked) {
        self->blocked = false;
        zlistx_t *names = zhashx_keys (self->queues);
        for (const char *name = names? zlistx_first (names): NULL; name; name = zlistx_next (names)) {
            queue_t *queue = zhashx_lookup (self->queues, name);
            if (queue) {
                s_dispatch (self, queue);
                s_queue_tidy (self, queue);
            }
        }
        zlistx_destroy (&names);
    }
    if (self->blocked)
        return QUEUES_RETRY_MS;
    return zhashx_size (self->peers)? QUEUES_CHECK_MS: -1;
}

const broker_queues_stats_t *
broker_queues_stats (broker_queues_t *self)
{
    return &self->stats;
}

void
broker_queues_publish (broker_queues_t *self, zch_counters_t *counters)
{
    zch_metrics_set (&counters->queue_items, self->stats.items);
    zch_metrics_set (&counters->queue_inflight, self->stats.inflight);
    zch_metrics_set (&counters->queue_bytes, self->stats.bytes);
    zch_metrics_set (&counters->queue_enqueued, self->stats.enqueued);
    zch_metrics_set (&counters->queue_delivered, self->stats.delivered);
    zch_metrics_set (&counters->queue_redelivered, self->stats.redelivered);
    zch_metrics_set (&counters->queue_refused, self->stats.refused);
}
