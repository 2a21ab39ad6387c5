/*  broker_engine_redis_publish: the Redis engine's publishes: through the
    publish function (seq, stream, fan-out in one step) or, for a topic
    without history, as one plain PUBLISH; and what becomes of each: counted,
    and confirmed to its source when it asked.                             */
#include "broker_engine_redis_private.h"
#include "broker_patterns.h"
#include "zch_log.h"

//  Counts a publish Redis did not take, logging at most once a second.
static void
s_failed (engine_t *self, const char *reason)
{
    atomic_fetch_add (&self->stats->failed, 1);
    int64_t now = zclock_mono ();
    if (now - self->failed_logged_at >= 1000) {
        zch_warning ("broker: Redis engine dropped a publish (%s); %llu dropped so far", reason,
                     (unsigned long long) atomic_load (&self->stats->failed));
        self->failed_logged_at = now;
    }
}

//  Tells the broker what became of a publish its source wants confirmed:
//  the seq and epoch Redis gave it, or reason.
static void
s_confirm (engine_t *self, confirm_t *confirm, uint64_t seq, uint64_t epoch, const char *reason)
{
    if (!confirm)
        return;
    const void *parts [] = { confirm->data, &confirm->number, confirm->data + confirm->route_len,
                             &seq, &epoch, reason? reason: "" };
    size_t sizes [] = { confirm->route_len, sizeof confirm->number, confirm->topic_len,
                        sizeof seq, sizeof epoch, reason? strlen (reason): 0 };
    broker_redis_send (self, "C", parts, sizes, 6);
    free (confirm);
}

//  Redis's answer to a publish: { seq, epoch }, a count of receivers (a
//  plain PUBLISH: no seq to confirm), or an error.
static void
s_published (redisAsyncContext *context, void *reply_p, void *arg)
{
    confirm_t *confirm = arg;
    engine_t *self = confirm->engine;
    redisReply *reply = reply_p;
    self->inflight--;
    //  Lost: Redis may or may not have run it (the reply is what was lost)
    const char *reason = !reply? "Redis connection lost, stamped or not":
                         reply->type == REDIS_REPLY_ERROR? reply->str:
                         reply->type == REDIS_REPLY_INTEGER? NULL:
                         reply->type != REDIS_REPLY_ARRAY || reply->elements != 2? "Redis answered oddly": NULL;
    //  A master demoted under us (a failover): ask the sentinels again
    if (reply && reason && strncmp (reason, "READONLY", 8) == 0)
        ((link_t *) context->data)->shard->switch_wanted = true;
    if (reason) {
        s_failed (self, reason);
        s_confirm (self, confirm->route_len? confirm: NULL, 0, 0, reason);
    }
    else
    if (reply->type == REDIS_REPLY_INTEGER) {
        atomic_fetch_add (&self->stats->published, 1);
        s_confirm (self, confirm->route_len? confirm: NULL, 0, 0, NULL);
    }
    else {
        atomic_fetch_add (&self->stats->published, 1);
        s_confirm (self, confirm->route_len? confirm: NULL, (uint64_t) reply->element [0]->integer,
                   strtoull (reply->element [1]->str? reply->element [1]->str: "0", NULL, 10), NULL);
    }
}

//  A topic without history: one PUBLISH of "0 0 <meta length> " + meta +
//  payload (seq 0: each broker that forwards it numbers it), no function,
//  no stream.
static void
s_publish_plain (engine_t *self, shard_t *shard, confirm_t *confirm, const char *name, size_t len,
                 zframe_t *meta, zframe_t *payload)
{
    confirm_t *told = confirm->route_len? confirm: NULL;
    char channel [ZCH_TOPIC_MAX + 8], header [32];
    int header_len = snprintf (header, sizeof header, "0 0 %zu ", zframe_size (meta));
    size_t size = (size_t) header_len + zframe_size (meta) + zframe_size (payload);
    char *value = malloc (size);
    if (!value) {
        s_failed (self, "out of memory");
        s_confirm (self, told, 0, 0, "out of memory");
        return;
    }
    memcpy (value, header, (size_t) header_len);
    memcpy (value + header_len, zframe_data (meta), zframe_size (meta));
    memcpy (value + (size_t) header_len + zframe_size (meta), zframe_data (payload), zframe_size (payload));
    const char *argv [] = { "PUBLISH", channel, value };
    size_t argvlen [] = { 7, broker_redis_key ('c', name, len, channel), size };
    int rc = redisAsyncCommandArgv (shard->commands.context, s_published, confirm, 3, argv, argvlen);
    free (value);
    if (rc != REDIS_OK) {
        s_failed (self, "cannot queue");
        s_confirm (self, told, 0, 0, "Redis engine cannot queue");
        return;
    }
    self->inflight++;
}

void
broker_redis_publish (engine_t *self, zmsg_t *msg)
{
    zframe_t *topic = zmsg_first (msg);
    zframe_t *meta = zmsg_next (msg);
    zframe_t *payload = zmsg_next (msg);
    zframe_t *route = zmsg_next (msg);
    zframe_t *number = zmsg_next (msg);
    if (!payload)
        return;
    const char *name = (const char *) zframe_data (topic);
    size_t len = zframe_size (topic);
    confirm_t *confirm = self->unconfirmed;
    if (route && number && zframe_size (route) && zframe_size (number) == sizeof (uint64_t)) {
        confirm = malloc (sizeof *confirm + zframe_size (route) + len);
        if (confirm) {
            confirm->engine = self;
            memcpy (&confirm->number, zframe_data (number), sizeof confirm->number);
            confirm->route_len = zframe_size (route);
            confirm->topic_len = len;
            memcpy (confirm->data, zframe_data (route), confirm->route_len);
            memcpy (confirm->data + confirm->route_len, name, len);
        }
        else
            confirm = self->unconfirmed;
    }
    confirm_t *told = confirm->route_len? confirm: NULL;
    shard_t *shard = &self->shards [broker_redis_shard_of (self, name, len)];
    //  Only over a connection that is up: one still connecting would keep
    //  it, and send it once the network heals, long after it was told
    //  nor before the shard's generation is checked (a failover may be under way)
    if (!shard->ready) {
        s_failed (self, "Redis unreachable");
        s_confirm (self, told, 0, 0, "Redis unreachable");
        return;
    }
    char hash [ZCH_TOPIC_MAX + 8], stream [ZCH_TOPIC_MAX + 8], channel [ZCH_TOPIC_MAX + 8];
    if (broker_patterns_match (self->no_history, name, len)) {
        s_publish_plain (self, shard, confirm, name, len, meta, payload);
        return;
    }
    const char *argv [] = { "FCALL", "zch_publish", "4", hash, stream, channel, "zch:gen", shard->epoch,
                            self->history, (const char *) zframe_data (meta),
                            (const char *) zframe_data (payload) };
    size_t argvlen [] = { 5, 11, 1, broker_redis_key ('h', name, len, hash), broker_redis_key ('s', name, len, stream),
                          broker_redis_key ('c', name, len, channel), 7, strlen (shard->epoch), strlen (self->history),
                          zframe_size (meta), zframe_size (payload) };
    if (redisAsyncCommandArgv (shard->commands.context, s_published, confirm, 11, argv, argvlen) != REDIS_OK) {
        s_failed (self, "cannot queue");
        s_confirm (self, told, 0, 0, "Redis engine cannot queue");
        return;
    }
    self->inflight++;
}

//  A marker waits for one PING per shard that took publishes.
typedef struct {
    engine_t *engine;
    int waiting;
    size_t size;
    uint8_t frame [];
} marker_t;

//  A shard answered (or its connection went: what it had then failed,
//  counted and told): the last one hands the marker back.
static void
s_marker_answered (redisAsyncContext *context, void *reply, void *arg)
{
    (void) context;
    (void) reply;
    marker_t *marker = arg;
    if (--marker->waiting > 0)
        return;
    const void *parts [] = { marker->frame };
    size_t sizes [] = { marker->size };
    broker_redis_send (marker->engine, "H", parts, sizes, 1);
    free (marker);
}

void
broker_redis_marker (engine_t *self, zframe_t *frame)
{
    marker_t *marker = malloc (sizeof *marker + zframe_size (frame));
    if (!marker)
        return;     //  never answered: the source counts all it sent since as lost
    marker->engine = self;
    marker->waiting = 1;
    marker->size = zframe_size (frame);
    memcpy (marker->frame, zframe_data (frame), marker->size);
    //  Redis answers a connection in order: the PING's answer comes after
    //  every publish queued before it. A shard not ready took none.
    for (int i = 0; i < self->shard_count; i++) {
        shard_t *shard = &self->shards [i];
        if (shard->ready && shard->commands.context
        &&  redisAsyncCommand (shard->commands.context, s_marker_answered, marker, "PING") == REDIS_OK)
            marker->waiting++;
    }
    s_marker_answered (NULL, NULL, marker);
}
