/*  broker_engine: the broker's side of the Redis engine: the pipe to its
    thread, and what becomes of the messages Redis sends back (cached in
    broker_history under Redis's epoch and seq, then forwarded).          */
#include "broker_engine_redis_private.h"
#include "zch_envelope.h"
#include "zch_log.h"
#include "zch_main.h"

#define ENGINE_PIPE_HWM     10000   //  publishes queued towards the engine
#define ENGINE_PIPE_WAIT    1000    //  ms a full pipe may hold the broker

struct broker_engine_t {
    zactor_t *thread;
    void *data;                     //  the broker's end of the pipe
    void *thread_data;              //  the thread's end
    broker_engine_stats_t stats;
    broker_engine_redis_args_t args;
    broker_topic_t *priming;        //  the topic the entries now arriving fill
    bool prime_first;               //  no entry of it yet
};

//  Checks every shard is HOST:PORT, or every Sentinel group HOST:PORT,...
//  with a master's name. Returns 0, or -1 with a reason.
static int
s_shards_check (const zch_option_list_t *shards, const zch_option_list_t *sentinels,
                const zch_option_list_t *masters, char *error, size_t error_size)
{
    if (sentinels->count && shards->count) {
        snprintf (error, error_size, "give the Redis shards as --redis or as --sentinel, not both");
        return -1;
    }
    if (sentinels->count && masters->count != 1 && masters->count != sentinels->count) {
        snprintf (error, error_size, "--sentinel wants --sentinel-master NAME: one for all, or one for each "
                  "(%d --sentinel, %d --sentinel-master)", sentinels->count, masters->count);
        return -1;
    }
    if (masters->count && !sentinels->count) {
        snprintf (error, error_size, "--sentinel-master needs --sentinel HOST:PORT,...");
        return -1;
    }
    for (int i = 0; i < sentinels->count; i++)
        if (broker_redis_sentinel_check (sentinels->items [i], error, error_size))
            return -1;
    for (int i = 0; i < masters->count; i++)
        if (!*masters->items [i] || strpbrk (masters->items [i], " \t\r\n")) {
            snprintf (error, error_size, "--sentinel-master wants a name, not '%s'", masters->items [i]);
            return -1;
        }
    if (sentinels->count)
        return 0;
    if (shards->count == 0) {
        snprintf (error, error_size, "--engine redis needs at least one --redis HOST:PORT or --sentinel HOST:PORT,...");
        return -1;
    }
    for (int i = 0; i < shards->count; i++) {
        const char *colon = strrchr (shards->items [i], ':');
        char *end = NULL;
        long port = colon? strtol (colon + 1, &end, 10): 0;
        if (!colon || colon == shards->items [i] || *end || port < 1 || port > 65535
        ||  colon - shards->items [i] > 255) {
            snprintf (error, error_size, "--redis wants HOST:PORT, not '%s'", shards->items [i]);
            return -1;
        }
    }
    return 0;
}

broker_engine_t *
broker_engine_redis_new (const zch_option_list_t *shards, const zch_option_list_t *sentinels,
                         const zch_option_list_t *masters, const zch_option_list_t *no_history,
                         int history_per_topic, char *error, size_t error_size)
{
    if (s_shards_check (shards, sentinels, masters, error, error_size))
        return NULL;
    broker_engine_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    void *context = zsys_init ();
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://zch-engine-%p", (void *) self);
    self->data = zmq_socket (context, ZMQ_PAIR);
    self->thread_data = zmq_socket (context, ZMQ_PAIR);
    int hwm = ENGINE_PIPE_HWM, unbounded = 0, wait = ENGINE_PIPE_WAIT, linger = 0;
    if (!self->data || !self->thread_data) {
        snprintf (error, error_size, "cannot create the engine's pipe: %s", zmq_strerror (zmq_errno ()));
        broker_engine_destroy (&self);
        return NULL;
    }
    zmq_setsockopt (self->data, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->data, ZMQ_RCVHWM, &unbounded, sizeof unbounded);
    zmq_setsockopt (self->data, ZMQ_SNDTIMEO, &wait, sizeof wait);
    zmq_setsockopt (self->data, ZMQ_LINGER, &linger, sizeof linger);
    //  Back towards the broker, never blocking: a blocked engine could
    //  not take the publishes the broker is waiting to hand it
    zmq_setsockopt (self->thread_data, ZMQ_SNDHWM, &unbounded, sizeof unbounded);
    zmq_setsockopt (self->thread_data, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->thread_data, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind (self->thread_data, endpoint) || zmq_connect (self->data, endpoint)) {
        snprintf (error, error_size, "cannot open the engine's pipe: %s", zmq_strerror (zmq_errno ()));
        broker_engine_destroy (&self);
        return NULL;
    }
    self->args = (broker_engine_redis_args_t) { self->thread_data, &self->stats, shards, sentinels, masters,
                                                no_history, history_per_topic };
    self->thread = zactor_new (broker_engine_redis_run, &self->args);
    if (!self->thread) {
        snprintf (error, error_size, "cannot start the Redis engine's thread");
        broker_engine_destroy (&self);
        return NULL;
    }
    return self;
}

void
broker_engine_destroy (broker_engine_t **self_p)
{
    broker_engine_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->thread);
    if (self->data)
        zmq_close (self->data);
    if (self->thread_data)
        zmq_close (self->thread_data);
    free (self);
    *self_p = NULL;
}

void *
broker_engine_socket (broker_engine_t *self)
{
    return self->data;
}

const broker_engine_stats_t *
broker_engine_stats (broker_engine_t *self)
{
    return &self->stats;
}

int
broker_engine_publish (broker_engine_t *self, const char *topic, size_t topic_len,
                       const uint8_t *meta, size_t meta_size,
                       const uint8_t *payload, size_t payload_size,
                       const char *route, size_t route_len, uint64_t number)
{
    if (zmq_send (self->data, "P", 1, ZMQ_SNDMORE) < 0) {
        atomic_fetch_add (&self->stats.failed, 1);
        return -1;
    }
    //  A multipart's later frames always follow its first
    zmq_send (self->data, topic, topic_len, ZMQ_SNDMORE);
    zmq_send (self->data, meta, meta_size, ZMQ_SNDMORE);
    zmq_send (self->data, payload, payload_size, route? ZMQ_SNDMORE: 0);
    if (route) {
        zmq_send (self->data, route, route_len, ZMQ_SNDMORE);
        zmq_send (self->data, &number, sizeof number, 0);
    }
    return 0;
}

void
broker_engine_fill_stats (broker_engine_t *self, const broker_engine_sink_t *sink, broker_stats_t *stats)
{
    stats->engine_published = atomic_load (&self->stats.published);
    stats->engine_failed = atomic_load (&self->stats.failed);
    stats->engine_received = atomic_load (&self->stats.received);
    stats->engine_connects = atomic_load (&self->stats.connects);
    stats->engine_master_changes = atomic_load (&self->stats.master_changes);
    stats->engine_generations = atomic_load (&self->stats.generations);
    stats->engine_duplicates = sink->duplicates;
    stats->engine_cache_resets = sink->cache_resets;
}

//  Sends kind and one frame; a subscription or barrier must not be lost,
//  so this waits as long as it takes.
static void
s_send_control (broker_engine_t *self, const char *kind, const void *data, size_t size)
{
    while (zmq_send (self->data, kind, 1, ZMQ_SNDMORE) < 0)
        if (zmq_errno () != EAGAIN && zmq_errno () != EINTR)
            return;
    zmq_send (self->data, data, size, 0);
}

void
broker_engine_follow (broker_engine_t *self, bool on, const char *prefix, size_t len)
{
    s_send_control (self, on? "F": "U", prefix, len);
}

void
broker_engine_barrier (broker_engine_t *self, const uint8_t *topic, size_t len)
{
    s_send_control (self, "A", topic, len);
}

void
broker_engine_marker (broker_engine_t *self, const uint8_t *frame, size_t size)
{
    s_send_control (self, "H", frame, size);
}

//  Caches one message as Redis ordered it and, when forward, sends it on
//  egress with its meta stamped. A seq already held is a duplicate; an
//  epoch or a gap the cache did not see starts the topic again there, so
//  what it holds stays contiguous (a front-end sees the gap and asks).
static void
s_message (broker_engine_sink_t *sink, broker_topic_t *topic, uint64_t seq, uint64_t epoch,
           zmq_msg_t *frames, bool forward)
{
    uint64_t last = broker_history_last_seq (topic);
    if (broker_history_topic_epoch (topic) != epoch || seq > last + 1) {
        broker_history_reset (sink->history, topic, epoch, seq - 1);
        sink->cache_resets++;
    }
    else
    if (seq <= last) {
        sink->duplicates++;
        return;
    }
    uint8_t stamped [ZCH_META_MAX];
    size_t meta_size = zch_meta_stamp (zmq_msg_size (&frames [4])? zmq_msg_data (&frames [4]): NULL,
                                       zmq_msg_size (&frames [4]), seq, zch_now_ns (), epoch,
                                       stamped, sizeof stamped);
    if (!meta_size) {
        zch_warning ("broker: Redis engine: a meta that cannot be stamped on seq %llu",
                     (unsigned long long) seq);
        meta_size = zch_meta_stamp (NULL, 0, seq, zch_now_ns (), epoch, stamped, sizeof stamped);
    }
    const uint8_t *payload = zmq_msg_data (&frames [5]);
    size_t payload_size = zmq_msg_size (&frames [5]);
    broker_history_add (sink->history, topic, seq, stamped, meta_size, payload, payload_size);
    if (!forward)
        return;
    zmq_msg_t topic_frame, meta_frame;
    zmq_msg_init (&topic_frame);
    zmq_msg_move (&topic_frame, &frames [1]);
    zmq_msg_init_size (&meta_frame, meta_size);
    memcpy (zmq_msg_data (&meta_frame), stamped, meta_size);
    sink->forward (sink->arg, &topic_frame, &meta_frame, &frames [5]);
    zmq_msg_close (&topic_frame);
    zmq_msg_close (&meta_frame);
}

//  The start of a prime: Redis's epoch and last seq of a topic. A cache
//  that already has them stays; else it starts again there, and the
//  entries that follow fill it.
static void
s_prime (broker_engine_t *self, broker_engine_sink_t *sink, const char *name, size_t len,
         uint64_t last, uint64_t epoch)
{
    broker_topic_t *topic = broker_history_find (sink->history, name, len);
    //  A topic without history has seqs of this broker's own: nothing to prime
    if (topic && !broker_history_keeps (topic))
        return;
    if (epoch == 0) {
        //  Redis holds nothing: a position from before means nothing now
        if (topic && broker_history_last_seq (topic))
            broker_history_reset (sink->history, topic, broker_history_epoch (sink->history), 0);
        return;
    }
    if (topic && broker_history_topic_epoch (topic) == epoch && broker_history_last_seq (topic) >= last)
        return;
    topic = broker_history_topic (sink->history, name, len);
    if (!topic)
        return;
    broker_history_reset (sink->history, topic, epoch, last);
    self->priming = topic;
    self->prime_first = true;
}

size_t
broker_engine_drain (broker_engine_t *self, broker_engine_sink_t *sink, size_t limit)
{
    size_t handled = 0;
    for (; handled < limit && !sink->held (sink->arg); handled++) {
        zmq_msg_t frames [7];
        size_t count = 0;
        bool more = true;
        while (more && count < 7) {
            zmq_msg_init (&frames [count]);
            if (zmq_msg_recv (&frames [count], self->data, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&frames [count]);
                break;
            }
            more = zmq_msg_more (&frames [count]);
            count++;
        }
        if (count == 0)
            break;
        char kind = *(char *) zmq_msg_data (&frames [0]);
        const char *name = count > 1? zmq_msg_data (&frames [1]): NULL;
        size_t len = count > 1? zmq_msg_size (&frames [1]): 0;
        uint64_t seq = 0, epoch = 0;
        if (count == 6) {
            memcpy (&seq, zmq_msg_data (&frames [2]), sizeof seq);
            memcpy (&epoch, zmq_msg_data (&frames [3]), sizeof epoch);
        }
        if (kind != 'E')
            self->priming = NULL;
        if (kind == 'C' && count == 7) {
            uint64_t number;
            memcpy (&number, zmq_msg_data (&frames [2]), sizeof number);
            memcpy (&seq, zmq_msg_data (&frames [4]), sizeof seq);
            memcpy (&epoch, zmq_msg_data (&frames [5]), sizeof epoch);
            char reason [256];
            snprintf (reason, sizeof reason, "%.*s", (int) zmq_msg_size (&frames [6]),
                      (const char *) zmq_msg_data (&frames [6]));
            sink->confirm (sink->arg, name, len, number, zmq_msg_data (&frames [3]),
                           zmq_msg_size (&frames [3]), seq, epoch, *reason? reason: NULL);
        }
        else
        if (kind == 'A' && count == 2)
            sink->barrier (sink->arg, (const uint8_t *) name, len);
        else
        if (kind == 'H' && count == 2)
            sink->marker (sink->arg, (const uint8_t *) name, len);
        else
        if (kind == 'R' && count == 6)
            s_prime (self, sink, name, len, seq, epoch);
        else
        if (kind == 'E' && count == 6 && self->priming) {
            if (self->prime_first)
                broker_history_reset (sink->history, self->priming, epoch, seq - 1);
            self->prime_first = false;
            s_message (sink, self->priming, seq, epoch, frames, false);
        }
        else
        if (kind == 'M' && count == 6) {
            broker_topic_t *topic = broker_history_topic (sink->history, name, len);
            //  Seq 0: a topic without history, published plainly; this
            //  broker numbers it in its own epoch
            if (topic && seq == 0) {
                seq = broker_history_next_seq (topic);
                epoch = broker_history_topic_epoch (topic);
            }
            if (topic)
                s_message (sink, topic, seq, epoch, frames, true);
        }
        for (size_t i = 0; i < count; i++)
            zmq_msg_close (&frames [i]);
    }
    return handled;
}
