/*  broker_engine_redis: the Redis engine's thread.

    Per shard two hiredis async connections: one for commands (the publish
    and range functions of broker_engine_redis.lua, pipelined: hiredis
    writes whatever is queued when the socket takes it, and replies come
    back in order), one for PSUBSCRIBE. Both are driven by zmq_poll beside
    the inproc pipe from the broker, through hiredis's event hooks. A shard
    given as a Sentinel group asks its sentinels where its master is before
    each connection (broker_engine_redis_sentinel.c).

    The first command on every commands connection checks the shard's
    generation (the zch_generation function): a master whose replication
    id changed through a promotion bumps it, and every topic then starts a
    new epoch at its next publish, since the promoted replica may lack the
    last writes the old master acknowledged and would hand their seqs out
    again. Publishes go out only once that answer is in.

    A prefix a front-end follows is PSUBSCRIBEd on every shard (its topics
    may live on any). Its own topic is then primed: once the PSUBSCRIBE is
    confirmed, the range function reads the topic's epoch, seq and newest
    entries; what the channel brings for that topic meanwhile is held and
    sent after the prime, so the broker sees one order. A barrier waits for
    the primes asked before it.                                            */
#include "broker_engine_redis_private.h"
#include "broker_patterns.h"
#include "zch_log.h"

#include <hiredis/async.h>
#include <sys/socket.h>

#define ENGINE_RETRY_MS     500     //  between attempts to reach a shard
#define ENGINE_PING_MS      1000    //  between PINGs on a shard's commands connection
#define ENGINE_DEAD_MS      4000    //  a PING unanswered this long: the shard is cut off
#define ENGINE_INFLIGHT_MAX 20000   //  publishes awaiting Redis before the pipe is left unread
#define ENGINE_EXIT_MS      1000    //  what publishes in flight may take at exit

static const char s_function [] = {
#include "broker_engine_redis.lua.h"
    0
};

typedef struct {
    uint64_t id;
    char *topic;                    //  the prefix, as a topic
    size_t len;
    shard_t *shard;
    bool asked;                     //  the range read is on its way
    zlist_t *held;                  //  zmsg_t: what the channel brought meanwhile
} prime_t;

typedef struct {
    uint64_t after;                 //  answered once no prime up to this id is left
    size_t len;
    uint8_t topic [];
} barrier_t;

//  hiredis's event hooks: what to poll for
static void s_add_read (void *data) { ((link_t *) data)->reading = true; }
static void s_del_read (void *data) { ((link_t *) data)->reading = false; }
static void s_add_write (void *data) { ((link_t *) data)->writing = true; }
static void s_del_write (void *data) { ((link_t *) data)->writing = false; }
static void s_cleanup (void *data) { link_t *link = data; link->reading = link->writing = false; }


//  FNV-1a, then Jump consistent hash (Lamping and Veach).
int
broker_redis_shard_of (engine_t *self, const char *topic, size_t len)
{
    uint64_t key = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        key = (key ^ (uint8_t) topic [i]) * 1099511628211ULL;
    int64_t bucket = -1, next = 0;
    while (next < self->shard_count) {
        bucket = next;
        key = key * 2862933555777941757ULL + 1;
        next = (int64_t) ((double) (bucket + 1) * ((double) (1LL << 31) / (double) ((key >> 33) + 1)));
    }
    return (int) bucket;
}

//  Writes "zch:<kind>:<topic>" into out. Returns its length.
size_t
broker_redis_key (char kind, const char *topic, size_t len, char *out)
{
    memcpy (out, "zch:", 4);
    out [4] = kind;
    out [5] = ':';
    memcpy (out + 6, topic, len);
    return 6 + len;
}

//  Sends a multipart to the broker (never blocks: the pipe back is unbounded).
void
broker_redis_send (engine_t *self, const char *kind, const void **parts, const size_t *sizes, size_t count)
{
    zmq_send (self->data, kind, 1, count? ZMQ_SNDMORE: 0);
    for (size_t i = 0; i < count; i++)
        zmq_send (self->data, parts [i], sizes [i], i + 1 < count? ZMQ_SNDMORE: 0);
}

//  Answers every barrier no prime holds back any more.
static void
s_barriers_check (engine_t *self)
{
    uint64_t oldest = UINT64_MAX;
    for (prime_t *prime = zlistx_first (self->primes); prime; prime = zlistx_next (self->primes))
        if (prime->id < oldest)
            oldest = prime->id;
    barrier_t *barrier = zlistx_first (self->barriers);
    while (barrier && barrier->after < oldest) {
        const void *parts [] = { barrier->topic };
        size_t sizes [] = { barrier->len };
        broker_redis_send (self, "A", parts, sizes, 1);
        zlistx_delete (self->barriers, zlistx_cursor (self->barriers));
        barrier = zlistx_first (self->barriers);
    }
}

static void
s_prime_destroy (void **item)
{
    prime_t *prime = *item;
    if (!prime)
        return;
    zmsg_t *msg;
    while ((msg = zlist_pop (prime->held)))
        zmsg_destroy (&msg);
    zlist_destroy (&prime->held);
    free (prime->topic);
    free (prime);
    *item = NULL;
}

//  Sends the messages held for prime, then forgets it.
static void
s_prime_done (engine_t *self, prime_t *prime)
{
    zmsg_t *msg;
    while ((msg = zlist_pop (prime->held))) {
        zmsg_send (&msg, self->data);
    }
    void *handle = zlistx_find (self->primes, prime);
    if (handle)
        zlistx_delete (self->primes, handle);
    s_barriers_check (self);
}

//  Reads "<seq> <epoch> <meta length> " + meta + payload, as the publish
//  function writes it. Returns 0, or -1 when it is not that.
static int
s_channel_parse (const char *data, size_t size, uint64_t *seq, uint64_t *epoch,
                 const char **meta, size_t *meta_size, const char **payload, size_t *payload_size)
{
    char header [80];
    size_t header_len = size < sizeof header - 1? size: sizeof header - 1;
    memcpy (header, data, header_len);
    header [header_len] = 0;
    char *end;
    *seq = strtoull (header, &end, 10);
    if (*end != ' ')
        return -1;
    *epoch = strtoull (end + 1, &end, 10);
    if (*end != ' ')
        return -1;
    unsigned long long length = strtoull (end + 1, &end, 10);
    //  Seq and epoch 0 together: a topic without history, published plainly
    if (*end != ' ' || !*seq != !*epoch)
        return -1;
    size_t offset = (size_t) (end + 1 - header);
    if (length > size - offset)
        return -1;
    *meta = data + offset;
    *meta_size = (size_t) length;
    *payload = data + offset + length;
    *payload_size = size - offset - length;
    return 0;
}

//  A message for the broker: kind, topic, seq, epoch, meta, payload.
static zmsg_t *
s_message (const char *kind, const char *topic, size_t len, uint64_t seq, uint64_t epoch,
           const void *meta, size_t meta_size, const void *payload, size_t payload_size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, kind, 1);
    zmsg_addmem (msg, topic, len);
    zmsg_addmem (msg, &seq, sizeof seq);
    zmsg_addmem (msg, &epoch, sizeof epoch);
    zmsg_addmem (msg, meta, meta_size);
    zmsg_addmem (msg, payload, payload_size);
    return msg;
}

//  The prime in progress for exactly this topic, if any.
static prime_t *
s_prime_for (engine_t *self, const char *topic, size_t len)
{
    for (prime_t *prime = zlistx_first (self->primes); prime; prime = zlistx_next (self->primes))
        if (prime->len == len && memcmp (prime->topic, topic, len) == 0)
            return prime;
    return NULL;
}

static void s_prime_ask (engine_t *self, prime_t *prime);

//  Everything the channel connection brings: confirmations and messages.
static void
s_channel_reply (redisAsyncContext *context, void *reply_p, void *arg)
{
    (void) context;
    shard_t *shard = arg;
    engine_t *self = shard->engine;
    redisReply *reply = reply_p;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3
    ||  reply->element [0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = reply->element [0]->str;
    if (streq (kind, "psubscribe")) {
        //  The prefix is followed on this shard: its prime may read now
        char prefix [ZCH_TOPIC_MAX + 1];
        size_t len = 0;
        redisReply *pattern = reply->element [1];
        for (size_t i = 6; i + 1 < pattern->len && len < ZCH_TOPIC_MAX; i++) {
            if (pattern->str [i] == '\\')
                i++;
            prefix [len++] = pattern->str [i];
        }
        for (prime_t *prime = zlistx_first (self->primes); prime; prime = zlistx_next (self->primes))
            if (prime->shard == shard && !prime->asked
            &&  prime->len == len && memcmp (prefix, prime->topic, len) == 0) {
                s_prime_ask (self, prime);
                break;
            }
        return;
    }
    if (!streq (kind, "pmessage") || reply->elements < 4)
        return;
    redisReply *channel = reply->element [2];
    redisReply *data = reply->element [3];
    uint64_t seq, epoch;
    const char *meta, *payload;
    size_t meta_size, payload_size;
    if (channel->len < 6 || channel->len - 6 > ZCH_TOPIC_MAX
    ||  s_channel_parse (data->str, data->len, &seq, &epoch, &meta, &meta_size, &payload, &payload_size)) {
        zch_warning ("broker: Redis engine: a message on '%.*s' not as zchannel publishes it",
                     (int) channel->len, channel->str);
        return;
    }
    atomic_fetch_add (&self->stats->received, 1);
    const char *topic = channel->str + 6;
    size_t len = channel->len - 6;
    zmsg_t *msg = s_message ("M", topic, len, seq, epoch, meta, meta_size, payload, payload_size);
    prime_t *prime = s_prime_for (self, topic, len);
    if (prime)
        zlist_append (prime->held, msg);
    else
        zmsg_send (&msg, self->data);
}

//  The range function's answer: { epoch or nil, seq, entries newest first }.
static void
s_range_reply (redisAsyncContext *context, void *reply_p, void *arg)
{
    (void) context;
    prime_t *prime = arg;
    engine_t *self = prime->shard->engine;
    redisReply *reply = reply_p;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
        //  No epoch: Redis holds nothing of the topic (epoch 0 says so)
        uint64_t epoch = reply->element [0]->type == REDIS_REPLY_STRING?
            strtoull (reply->element [0]->str, NULL, 10): 0;
        uint64_t last = (uint64_t) reply->element [1]->integer;
        zmsg_t *msg = s_message ("R", prime->topic, prime->len, last, epoch, "", 0, "", 0);
        zmsg_send (&msg, self->data);
        redisReply *entries = reply->element [2];
        for (size_t i = entries->elements; i-- > 0;) {
            redisReply *entry = entries->element [i];
            if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
            ||  entry->element [1]->type != REDIS_REPLY_ARRAY || entry->element [1]->elements != 4)
                continue;
            redisReply *fields = entry->element [1];
            uint64_t seq = strtoull (entry->element [0]->str, NULL, 10);
            msg = s_message ("E", prime->topic, prime->len, seq, epoch,
                             fields->element [1]->str, fields->element [1]->len,
                             fields->element [3]->str, fields->element [3]->len);
            zmsg_send (&msg, self->data);
        }
    }
    else
    if (reply && reply->type == REDIS_REPLY_ERROR)
        zch_warning ("broker: Redis engine: reading '%s' failed: %s", prime->topic, reply->str);
    s_prime_done (self, prime);
}

static void
s_prime_ask (engine_t *self, prime_t *prime)
{
    shard_t *shard = prime->shard;
    prime->asked = true;
    if (!shard->commands.up) {
        s_prime_done (self, prime);
        return;
    }
    char hash [ZCH_TOPIC_MAX + 8], stream [ZCH_TOPIC_MAX + 8];
    const char *argv [] = { "FCALL_RO", "zch_range", "2", hash, stream, self->history };
    size_t argvlen [] = { 8, 9, 1, broker_redis_key ('h', prime->topic, prime->len, hash),
                          broker_redis_key ('s', prime->topic, prime->len, stream), strlen (self->history) };
    if (redisAsyncCommandArgv (shard->commands.context, s_range_reply, prime, 6, argv, argvlen) != REDIS_OK)
        s_prime_done (self, prime);
}

//  Starts priming the topic named like prefix (its own shard's
//  PSUBSCRIBE confirmation lets it read).
static void
s_prime_start (engine_t *self, const char *prefix, size_t len)
{
    prime_t *prime = calloc (1, sizeof *prime);
    prime->id = ++self->prime_ids;
    prime->topic = malloc (len + 1);
    memcpy (prime->topic, prefix, len);
    prime->topic [len] = 0;
    prime->len = len;
    prime->shard = &self->shards [broker_redis_shard_of (self, prefix, len)];
    prime->held = zlist_new ();
    zlistx_add_end (self->primes, prime);
    if (!prime->shard->channels.context)
        s_prime_done (self, prime);
}

//  PSUBSCRIBE or PUNSUBSCRIBE "zch:c:<prefix>*" on one shard (glob
//  characters in the prefix escaped).
static void
s_follow_on (shard_t *shard, bool on, const char *prefix, size_t len)
{
    if (!shard->channels.context)
        return;
    char pattern [2 * ZCH_TOPIC_MAX + 8];
    size_t size = broker_redis_key ('c', "", 0, pattern);
    for (size_t i = 0; i < len; i++) {
        if (strchr ("*?[]\\", prefix [i]) && prefix [i])
            pattern [size++] = '\\';
        pattern [size++] = prefix [i];
    }
    pattern [size++] = '*';
    const char *argv [] = { on? "PSUBSCRIBE": "PUNSUBSCRIBE", pattern };
    size_t argvlen [] = { strlen (argv [0]), size };
    redisAsyncCommandArgv (shard->channels.context, on? s_channel_reply: NULL, shard, 2, argv, argvlen);
}

static void
s_follow (engine_t *self, bool on, const char *prefix, size_t len)
{
    char key [ZCH_TOPIC_MAX + 1];
    if (len > ZCH_TOPIC_MAX)
        return;
    memcpy (key, prefix, len);
    key [len] = 0;
    bool followed = zhashx_lookup (self->prefixes, key) != NULL;
    if (on == followed)
        return;
    if (on) {
        zhashx_insert (self->prefixes, key, (void *) 1);
        s_prime_start (self, prefix, len);
    }
    else
        zhashx_delete (self->prefixes, key);
    for (int i = 0; i < self->shard_count; i++)
        s_follow_on (&self->shards [i], on, prefix, len);
}

//  One message from the broker: P (publish), F/U (follow, unfollow), A (barrier),
//  H (hand-over marker).
static void
s_command (engine_t *self, zmsg_t *msg)
{
    char *kind = zmsg_popstr (msg);
    zframe_t *first = zmsg_first (msg);
    if (kind && first && streq (kind, "P"))
        broker_redis_publish (self, msg);
    else
    if (kind && first && streq (kind, "H"))
        broker_redis_marker (self, first);
    else
    if (kind && first && (streq (kind, "F") || streq (kind, "U")))
        s_follow (self, streq (kind, "F"), (const char *) zframe_data (first), zframe_size (first));
    else
    if (kind && first && streq (kind, "A")) {
        barrier_t *barrier = malloc (sizeof *barrier + zframe_size (first));
        barrier->after = self->prime_ids;
        barrier->len = zframe_size (first);
        memcpy (barrier->topic, zframe_data (first), barrier->len);
        zlistx_add_end (self->barriers, barrier);
        s_barriers_check (self);
    }
    zstr_free (&kind);
}

//  link's connection is gone (hiredis frees it): primes that waited for
//  its PSUBSCRIBE confirmations end empty, so no barrier waits for them.
void
broker_redis_link_down (link_t *link)
{
    if (link->up && !link->subscriber)
        atomic_fetch_add (&link->shard->engine->stats->shards_down, 1);
    link->context = NULL;
    link->reading = link->writing = link->up = false;
    if (link == &link->shard->commands)
        link->shard->ready = false;
    if (!link->subscriber || link == &link->shard->watch)
        return;
    engine_t *self = link->shard->engine;
    prime_t *prime = zlistx_first (self->primes);
    while (prime) {
        if (prime->shard == link->shard && !prime->asked) {
            s_prime_done (self, prime);
            prime = zlistx_first (self->primes);
        }
        else
            prime = zlistx_next (self->primes);
    }
}

static void
s_link_connected (const redisAsyncContext *context, int status)
{
    link_t *link = context->data;
    if (status != REDIS_OK) {
        broker_redis_link_down (link);
        return;
    }
    link->up = true;
    if (!link->subscriber)
        atomic_fetch_sub (&link->shard->engine->stats->shards_down, 1);
    zch_notice ("broker: Redis engine: shard %d at %s:%d %s connected", link->shard->index,
                link->shard->host, link->shard->port, link->subscriber? "channels": "commands");
}

static void
s_link_disconnected (const redisAsyncContext *context, int status)
{
    link_t *link = context->data;
    broker_redis_link_down (link);
    if (status != REDIS_OK)
        zch_warning ("broker: Redis engine: lost shard %d at %s:%d (%s)", link->shard->index,
                     link->shard->host, link->shard->port, context->errstr);
}

int
broker_redis_link_open (shard_t *shard, link_t *link, const char *host, int port)
{
    redisAsyncContext *context = redisAsyncConnect (host, port);
    if (!context || context->err) {
        if (context)
            redisAsyncFree (context);
        return -1;
    }
    atomic_fetch_add (&shard->engine->stats->connects, 1);
    link->context = context;
    context->data = link;
    context->ev.data = link;
    context->ev.addRead = s_add_read;
    context->ev.delRead = s_del_read;
    context->ev.addWrite = s_add_write;
    context->ev.delWrite = s_del_write;
    context->ev.cleanup = s_cleanup;
    redisAsyncSetConnectCallback (context, s_link_connected);
    redisAsyncSetDisconnectCallback (context, s_link_disconnected);
    return 0;
}

//  (Re)connects what is down on shard. A new commands connection loads
//  the functions and picks the epoch topics created from now on get (the
//  shard may have lost its data); a new channels connection follows every
//  prefix again and primes them, as messages may have gone by unseen.
static void
s_shard_connect (engine_t *self, shard_t *shard)
{
    if (!shard->commands.context && shard->sentinels && broker_redis_sentinel_locate (shard))
        return;
    if (!shard->commands.context && broker_redis_link_open (shard, &shard->commands, shard->host, shard->port) == 0) {
        snprintf (shard->epoch, sizeof shard->epoch, "%llu", (unsigned long long) broker_epoch_new ());
        const char *argv [] = { "FUNCTION", "LOAD", "REPLACE", s_function };
        size_t argvlen [] = { 8, 4, 7, strlen (s_function) };
        redisAsyncCommandArgv (shard->commands.context, NULL, NULL, 4, argv, argvlen);
        const char *check [] = { "FCALL", "zch_generation", "2", "zch:gen", "zch:replid" };
        size_t checklen [] = { 5, 14, 1, 7, 10 };
        redisAsyncCommandArgv (shard->commands.context, broker_redis_generation_reply, shard, 5, check, checklen);
    }
    if (!shard->channels.context && shard->commands.context
    &&  broker_redis_link_open (shard, &shard->channels, shard->host, shard->port) == 0) {
        const char *prefix;
        for (void *item = zhashx_first (self->prefixes); item; item = zhashx_next (self->prefixes)) {
            prefix = zhashx_cursor (self->prefixes);
            if (broker_redis_shard_of (self, prefix, strlen (prefix)) == shard->index)
                s_prime_start (self, prefix, strlen (prefix));
            s_follow_on (shard, true, prefix, strlen (prefix));
        }
    }
}

static void
s_pong (redisAsyncContext *context, void *reply, void *arg)
{
    (void) context;
    (void) reply;
    ((shard_t *) arg)->ping_sent = 0;
}

//  Closes link's connection now (what awaited a reply fails, counted),
//  with a reset: what the kernel still holds unsent is thrown away rather
//  than delivered once the network heals, after the publisher was told.
static void
s_link_drop (link_t *link)
{
    redisAsyncContext *context = link->context;
    if (!context)
        return;
    struct linger reset = { 1, 0 };
    setsockopt (context->c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    redisAsyncFree (context);
    broker_redis_link_down (link);
}

//  A shard that does not answer (a host cut off, a Redis stalled) is
//  dropped, as if it had closed: publishes to it then fail at once instead
//  of waiting on a connection TCP may hold for minutes, and the brokers
//  follow and prime again once it answers.
static void
s_shard_watch (shard_t *shard, int64_t now)
{
    if (!shard->commands.up)
        return;
    if (shard->ping_sent && now - shard->ping_sent > ENGINE_DEAD_MS) {
        zch_warning ("broker: Redis engine: shard %d at %s:%d has not answered for %d ms; "
                     "dropping its connections", shard->index, shard->host, shard->port, ENGINE_DEAD_MS);
        s_link_drop (&shard->commands);
        s_link_drop (&shard->channels);
        shard->ping_sent = 0;
        shard->retry_at = now + ENGINE_RETRY_MS;
        return;
    }
    if (!shard->ping_sent && now >= shard->ping_next) {
        const char *argv [] = { "PING" };
        size_t argvlen [] = { 4 };
        if (redisAsyncCommandArgv (shard->commands.context, s_pong, shard, 1, argv, argvlen) == REDIS_OK)
            shard->ping_sent = now;
        shard->ping_next = now + ENGINE_PING_MS;
    }
}

//  Polls one link's socket as hiredis asked.
static int
s_link_item (link_t *link, zmq_pollitem_t *item)
{
    if (!link->context)
        return 0;
    *item = (zmq_pollitem_t) { NULL, link->context->c.fd,
                               (short) ((link->reading? ZMQ_POLLIN: 0) | (link->writing? ZMQ_POLLOUT: 0)), 0 };
    return 1;
}

static void
s_link_handle (link_t *link, short revents)
{
    if (link->context && (revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
        redisAsyncHandleRead (link->context);
    if (link->context && (revents & ZMQ_POLLOUT))
        redisAsyncHandleWrite (link->context);
}

void
broker_engine_redis_run (zsock_t *pipe, void *args)
{
    broker_engine_redis_args_t *config = args;
    engine_t *self = calloc (1, sizeof *self);
    self->data = config->data;
    self->stats = config->stats;
    self->unconfirmed = calloc (1, sizeof *self->unconfirmed);
    self->unconfirmed->engine = self;
    self->shard_count = config->sentinels->count? config->sentinels->count: config->shards->count;
    atomic_store (&self->stats->shards_down, self->shard_count);
    self->shards = calloc ((size_t) self->shard_count, sizeof *self->shards);
    snprintf (self->history, sizeof self->history, "%d", config->history_per_topic);
    self->prefixes = zhashx_new ();
    char error [256];
    self->no_history = broker_patterns_new (config->no_history, "no-history", error, sizeof error);
    self->primes = zlistx_new ();
    zlistx_set_destructor (self->primes, s_prime_destroy);
    self->barriers = zlistx_new ();
    zlistx_set_destructor (self->barriers, (zlistx_destructor_fn *) zstr_free);
    for (int i = 0; i < self->shard_count; i++) {
        shard_t *shard = &self->shards [i];
        shard->engine = self;
        shard->index = i;
        if (config->sentinels->count) {
            shard->sentinels = config->sentinels->items [i];
            shard->master = config->masters->items [config->masters->count == 1? 0: i];
        }
        else {
            const char *endpoint = config->shards->items [i];
            const char *colon = strrchr (endpoint, ':');
            snprintf (shard->host, sizeof shard->host, "%.*s", (int) (colon - endpoint), endpoint);
            shard->port = atoi (colon + 1);
        }
        shard->commands = (link_t) { shard, NULL, false, false, false, false };
        shard->channels = (link_t) { shard, NULL, false, false, true, false };
        shard->watch = (link_t) { shard, NULL, false, false, true, false };
        s_shard_connect (self, shard);
    }
    zsock_signal (pipe, 0);

    bool terminated = false;
    int64_t exit_by = 0;
    while (!terminated || (self->inflight && zclock_mono () < exit_by)) {
        zmq_pollitem_t items [2 + 3 * self->shard_count];
        link_t *links [3 * self->shard_count];
        items [0] = (zmq_pollitem_t) { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
        items [1] = (zmq_pollitem_t) { self->data, 0,
                                       !terminated && self->inflight < ENGINE_INFLIGHT_MAX? ZMQ_POLLIN: 0, 0 };
        int count = 2;
        for (int i = 0; i < self->shard_count; i++) {
            link_t *pair [] = { &self->shards [i].commands, &self->shards [i].channels,
                                &self->shards [i].watch };
            for (int j = 0; j < 3; j++)
                if (s_link_item (pair [j], &items [count])) {
                    links [count - 2] = pair [j];
                    count++;
                }
        }
        if (zmq_poll (items, count, ENGINE_RETRY_MS / 5) < 0 && zmq_errno () != EINTR)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            terminated = !command || streq (command, "$TERM");
            exit_by = zclock_mono () + ENGINE_EXIT_MS;
            zstr_free (&command);
        }
        for (int i = 2; i < count; i++)
            s_link_handle (links [i - 2], items [i].revents);
        for (int i = 0; i < 1000 && (items [1].revents & ZMQ_POLLIN) && self->inflight < ENGINE_INFLIGHT_MAX; i++) {
            zmsg_t *msg = zmsg_recv_nowait (self->data);
            if (!msg)
                break;
            s_command (self, msg);
            zmsg_destroy (&msg);
        }
        int64_t now = zclock_mono ();
        for (int i = 0; i < self->shard_count && !terminated; i++) {
            shard_t *shard = &self->shards [i];
            if (shard->switch_wanted) {
                //  Publishes in flight there fail (counted, told); the
                //  sentinels name the master at the next attempt
                shard->switch_wanted = false;
                s_link_drop (&shard->commands);
                s_link_drop (&shard->channels);
                shard->ping_sent = 0;
                shard->retry_at = now + ENGINE_RETRY_MS / 5;
            }
            s_shard_watch (shard, now);
            if (!shard->watch.context && now >= shard->retry_at)
                broker_redis_sentinel_watch (shard);
            if ((!shard->commands.context || !shard->channels.context) && now >= shard->retry_at) {
                shard->retry_at = now + ENGINE_RETRY_MS;
                s_shard_connect (self, shard);
            }
        }
    }
    for (int i = 0; i < self->shard_count; i++) {
        if (self->shards [i].commands.context)
            redisAsyncFree (self->shards [i].commands.context);
        if (self->shards [i].channels.context)
            redisAsyncFree (self->shards [i].channels.context);
        if (self->shards [i].watch.context)
            redisAsyncFree (self->shards [i].watch.context);
    }
    zlistx_destroy (&self->primes);
    zlistx_destroy (&self->barriers);
    zhashx_destroy (&self->prefixes);
    zch_trie_destroy (&self->no_history);
    free (self->unconfirmed);
    free (self->shards);
    free (self);
}
