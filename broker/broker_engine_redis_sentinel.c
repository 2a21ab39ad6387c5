/*  broker_engine_redis_sentinel: where a shard's master is, for a shard
    given as a Sentinel group (--sentinel HOST:PORT,... --sentinel-master
    NAME), and whether the master a shard reached was promoted since.

    Before each connection to the master the sentinels are asked, one
    after the other, SENTINEL get-master-addr-by-name; the answer is the
    address the shard's connections open. A third connection per shard
    follows +switch-master at one sentinel, so a master that was demoted
    without dying (a failover asked for, a partition) is left at once; a
    master that dies is left when its connections drop, and the sentinels
    are asked again at each retry until they name the new one.            */
#include "broker_engine_redis_private.h"
#include "zch_log.h"

#include <hiredis/hiredis.h>

#define SENTINEL_ASK_MS  300    //  what one sentinel may take to connect and answer
#define SENTINEL_RETRY_MS 2000  //  between rounds of asking when none answered

//  Reads sentinel number index of list "HOST:PORT,HOST:PORT,..." into host
//  and port. Returns 0, or -1 when the list has no such item.
static int
s_sentinel_at (const char *list, int index, char *host, size_t host_size, int *port)
{
    const char *item = list;
    for (int i = 0; i < index && item; i++) {
        item = strchr (item, ',');
        if (item)
            item++;
    }
    if (!item || !*item)
        return -1;
    const char *end = strchr (item, ',');
    size_t len = end? (size_t) (end - item): strlen (item);
    const char *colon = memrchr (item, ':', len);
    if (!colon || colon == item || (size_t) (colon - item) >= host_size)
        return -1;
    snprintf (host, host_size, "%.*s", (int) (colon - item), item);
    char *stop;
    long value = strtol (colon + 1, &stop, 10);
    if (stop != item + len || value < 1 || value > 65535)
        return -1;
    *port = (int) value;
    return 0;
}

int
broker_redis_sentinel_check (const char *list, char *error, size_t error_size)
{
    char host [256];
    int port, count = 1;
    for (const char *c = list; *c; c++)
        count += *c == ',';
    for (int i = 0; i < count; i++)
        if (s_sentinel_at (list, i, host, sizeof host, &port)) {
            snprintf (error, error_size, "--sentinel wants HOST:PORT,HOST:PORT,..., not '%s'", list);
            return -1;
        }
    return 0;
}

//  Asks one sentinel where master is. Returns 0 with host and port set, or -1.
static int
s_ask (const char *sentinel_host, int sentinel_port, const char *master,
       char *host, size_t host_size, int *port, char *why, size_t why_size)
{
    struct timeval timeout = { 0, SENTINEL_ASK_MS * 1000 };
    redisContext *context = redisConnectWithTimeout (sentinel_host, sentinel_port, timeout);
    if (!context || context->err) {
        snprintf (why, why_size, "%s", context? context->errstr: "out of memory");
        redisFree (context);
        return -1;
    }
    redisSetTimeout (context, timeout);
    redisReply *reply = redisCommand (context, "SENTINEL get-master-addr-by-name %s", master);
    int rc = -1;
    if (!reply)
        snprintf (why, why_size, "%s", context->errstr);
    else
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
    &&  reply->element [0]->type == REDIS_REPLY_STRING && reply->element [1]->type == REDIS_REPLY_STRING
    &&  reply->element [0]->len < host_size) {
        snprintf (host, host_size, "%s", reply->element [0]->str);
        *port = atoi (reply->element [1]->str);
        rc = *port > 0? 0: -1;
        if (rc)
            snprintf (why, why_size, "answered port '%s'", reply->element [1]->str);
    }
    else
        snprintf (why, why_size, "%s", reply->type == REDIS_REPLY_ERROR? reply->str:
                                      "does not know that master");
    freeReplyObject (reply);
    redisFree (context);
    return rc;
}

int
broker_redis_sentinel_locate (shard_t *shard)
{
    char sentinel [256], host [256], why [256] = "no sentinel";
    int sentinel_port, port;
    for (int i = 0; s_sentinel_at (shard->sentinels, i, sentinel, sizeof sentinel, &sentinel_port) == 0; i++) {
        if (s_ask (sentinel, sentinel_port, shard->master, host, sizeof host, &port, why, sizeof why))
            continue;
        if (strcmp (host, shard->host) || port != shard->port) {
            bool first = !*shard->host;
            zch_notice ("broker: Redis engine: shard %d: sentinel %s:%d says master '%s' is at %s:%d%s",
                        shard->index, sentinel, sentinel_port, shard->master, host, port,
                        first? "": " (a new master)");
            if (!first)
                atomic_fetch_add (&shard->engine->stats->master_changes, 1);
            snprintf (shard->host, sizeof shard->host, "%s", host);
            shard->port = port;
        }
        return 0;
    }
    //  Asking waits on each sentinel in turn, and the thread serves every
    //  shard: when none answers, ask again less often
    int64_t now = zclock_mono ();
    shard->retry_at = now + SENTINEL_RETRY_MS;
    if (now - shard->located_logged_at >= 5000) {
        zch_warning ("broker: Redis engine: shard %d: no sentinel of %s names master '%s' (%s); "
                     "trying again", shard->index, shard->sentinels, shard->master, why);
        shard->located_logged_at = now;
    }
    return -1;
}

//  What the watched sentinel publishes: "+switch-master" messages,
//  "<name> <old ip> <old port> <new ip> <new port>".
static void
s_event (redisAsyncContext *context, void *reply_p, void *arg)
{
    (void) context;
    shard_t *shard = arg;
    redisReply *reply = reply_p;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
    ||  reply->element [0]->type != REDIS_REPLY_STRING || !streq (reply->element [0]->str, "message")
    ||  reply->element [2]->type != REDIS_REPLY_STRING)
        return;
    char name [256], old_host [256], new_host [256];
    int old_port, new_port;
    if (sscanf (reply->element [2]->str, "%255s %255s %d %255s %d",
                name, old_host, &old_port, new_host, &new_port) != 5 || !streq (name, shard->master))
        return;
    zch_notice ("broker: Redis engine: shard %d: the sentinels switched master '%s' from %s:%d to %s:%d",
                shard->index, name, old_host, old_port, new_host, new_port);
    shard->switch_wanted = true;
}

static void
s_watch_connected (const redisAsyncContext *context, int status)
{
    link_t *link = context->data;
    if (status != REDIS_OK) {
        broker_redis_link_down (link);
        return;
    }
    link->up = true;
}

void
broker_redis_sentinel_watch (shard_t *shard)
{
    if (!shard->sentinels || shard->watch.context)
        return;
    char host [256];
    int port;
    if (s_sentinel_at (shard->sentinels, shard->watch_next, host, sizeof host, &port)) {
        shard->watch_next = 0;
        if (s_sentinel_at (shard->sentinels, 0, host, sizeof host, &port))
            return;
    }
    shard->watch_next++;
    if (broker_redis_link_open (shard, &shard->watch, host, port))
        return;
    redisAsyncSetConnectCallback (shard->watch.context, s_watch_connected);
    const char *argv [] = { "SUBSCRIBE", "+switch-master" };
    size_t argvlen [] = { 9, 14 };
    redisAsyncCommandArgv (shard->watch.context, s_event, shard, 2, argv, argvlen);
}

void
broker_redis_generation_reply (redisAsyncContext *context, void *reply_p, void *arg)
{
    (void) context;
    shard_t *shard = arg;
    redisReply *reply = reply_p;
    if (!reply)
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
    ||  reply->element [0]->type != REDIS_REPLY_STRING || reply->element [1]->type != REDIS_REPLY_STRING) {
        zch_warning ("broker: Redis engine: shard %d at %s:%d cannot take publishes (%s); connecting again",
                     shard->index, shard->host, shard->port,
                     reply->type == REDIS_REPLY_ERROR? reply->str: "odd answer to zch_generation");
        shard->switch_wanted = true;
        return;
    }
    const char *generation = reply->element [0]->str;
    const char *replid = reply->element [1]->str;
    if (reply->element [2]->integer) {
        atomic_fetch_add (&shard->engine->stats->generations, 1);
        zch_notice ("broker: Redis engine: shard %d: master %s:%d was promoted (replication id %s): "
                    "generation %s, every topic of the shard starts a new epoch at its next publish",
                    shard->index, shard->host, shard->port, replid, generation);
    }
    else
        zch_info ("broker: Redis engine: shard %d: master %s:%d, replication id %s, generation %s",
                  shard->index, shard->host, shard->port, replid, generation);
    shard->ready = true;
}
