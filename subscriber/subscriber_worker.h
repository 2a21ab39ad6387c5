/*  subscriber_worker: the state of one loop of the subscriber front-end,
    shared by its parts: subscriber_worker.c (the loop, the broker link and
    fan-out), subscriber_barrier.c (subscriptions and the barriers that
    prove them live), subscriber_commands.c (what clients ask, text and
    frames) and subscriber_output.c (replies and deliveries, as each client
    speaks). Internal to subscriber/.                                       */
#ifndef SUBSCRIBER_WORKER_H_INCLUDED
#define SUBSCRIBER_WORKER_H_INCLUDED

#include "subscriber.h"
#include "subscriber_control.h"
#include "subscriber_heal.h"
#include "subscriber_index.h"
#include "subscriber_sync.h"
#include "zch_failover.h"
#include "zch_edge.h"
#include "zch_envelope.h"
#include "zch_guard.h"
#include "zch_link.h"
#include "zch_main.h"
#include "zch_metrics.h"
#include "zch_pipeline.h"
#include "zch_topic.h"
#include "zch_worker.h"

#define SUBSCRIBER_PATTERN_PENDING ((void *) 1)    //  waiting for its barrier
#define SUBSCRIBER_PATTERN_ACTIVE  ((void *) 2)    //  in the trie, delivering

//  One client, text or frames.
typedef struct {
    zch_conn_t *conn;
    zhashx_t *patterns;         //  pattern -> SUBSCRIBER_PATTERN_*; NULL until the first SUB
    uint64_t last_delivery;     //  number of the last delivery written, to write each once
    int barriers;               //  barriers in flight; other commands wait for them
    subscriber_sync_t *sync;    //  a SNAPSHOT or FROM catch-up; other commands wait for it
    bool framed;                //  a frame-protocol client: replies and deliveries are frames
    bool verbose;               //  text VERBOSE on: "+OK <epoch>" to a SUB
    bool confirms;              //  ["verbose", true]: its publishes answered once stamped
    bool channel;               //  a channel-protocol client (subscriber_channel.c)
    uint32_t relayed;           //  channel: channels of the current publish already relayed
    uint32_t queue_requests;    //  work-queue requests the broker has not answered yet
} subscriber_client_t;

//  A subscription barrier in flight: "$ack.<worker id>.<number>" was
//  subscribed after the client's pattern, so its answer proves the pattern
//  live at the broker.
typedef struct {
    uint64_t number;
    subscriber_client_t *client;    //  NULL once the client is gone
    subscriber_sync_options_t options;  //  a catch-up to start once live, and how to answer
    uint64_t settle;            //  a catch-up barrier round (no client): settles its edges
    bool probe;                 //  the worker's first (no client): its answer proves the link up
    bool moved;                 //  sent after a move to another broker: its answer says the
                                //  subscriptions are in place there (subscriber_heal_moved)
    bool confirm;               //  only answers the client (a queue-group join)
    int64_t sent_at;            //  when it was last subscribed upstream
    int sends;                  //  how often: the answer can be dropped at a high-water mark
    char pattern [ZCH_TOPIC_MAX + 1];
} subscriber_barrier_t;

typedef struct {
    ZCH_WORKER_FIELDS           //  the base (zch_worker.h): loop, edges, guard, plugins
    struct subscriber_channel_t *channel;
    struct subscriber_relay_t *relay;   //  publishes of channel and WebSocket clients; NULL when none
    struct zch_confirm_t *confirm;      //  publisher confirms for WebSocket clients; NULL without relay
    zch_watch_t confirm_watch;
    struct subscriber_queue_t *queue;   //  queue-group members
    struct subscriber_workq_t *workq;   //  work-queue watchers and enqueues
    void *upstream;             //  SUB on the broker's egress
    subscriber_index_t *subscriptions;
    zch_watch_t upstream_watch;
    subscriber_control_t *control;  //  the link to the broker's control endpoint
    subscriber_heal_t *heal;        //  gap healing over it
    zch_watch_t control_watch;
    zch_link_t *link;           //  connections of upstream
    bool probing;               //  a probe barrier in flight: readiness once it returns
    zch_failover_t *failover;   //  the broker in use, and when to move to the next
    zch_watch_t failover_watch;
    zch_watch_t link_watch;
    zlistx_t *barriers;         //  subscriber_barrier_t, oldest first
    char ack_prefix [64];       //  "$ack.<worker id>."
    uint64_t next_barrier;
    uint64_t delivery;          //  number of the message being delivered
    uint8_t plugin_meta [ZCH_META_MAX];     //  meta with the headers egress plugins set
    char *line;                 //  the delivery line, built once per message
    size_t line_cap;
    char *json;                 //  the last PHP value made JSON for text and frame clients
    char *frame;                //  the delivery frame, built once per message
    size_t frame_cap;
    char *ws;                   //  the delivery as JSON for WebSocket clients, once per message
    size_t ws_cap;
    uint64_t frames_malformed;  //  frame requests that did not decode
    uint64_t frames_rejected;   //  publishes refused (bad topic, too large)
    uint64_t received;
    uint64_t burst;             //  messages read from the broker since it was last quiet
    uint64_t malformed;
    uint64_t received_bytes;
    uint64_t delivered;         //  one per message per client
    uint64_t delivered_bytes;
    uint64_t patterns;          //  client subscriptions held
    uint64_t too_many_subs;     //  SUBs refused over max_subscriptions
    int64_t waiting_since;      //  broker_local: since when a client far behind holds the
                                //  broker link unread; 0 while it is read
    size_t room;                //  broker_local: output this turn may still add to a client
    size_t budget;              //  this worker's share of the front-end's output budget
    uint64_t over_budget;       //  clients dropped to stay within it
} subscriber_worker_t;

//  What s_deliver_to needs while matching one message.
typedef struct {
    subscriber_worker_t *self;
    const char *topic;
    size_t topic_len;
    uint64_t seq;
    uint64_t epoch;             //  the epoch seq belongs to
    const char *payload;
    size_t payload_len;
    const uint8_t *meta;        //  for the headers frame clients get
    size_t meta_size;
    size_t line_len;            //  0 until built
    size_t frame_len;           //  0 until built
    size_t ws_len;              //  0 until built
    size_t channel_len;         //  0 until built
    int php;                    //  payload is a serialized PHP value: 0 not known yet, 1 yes, -1 no
    const char *json;           //  that value as JSON (the worker's json), NULL until made or when none
    size_t json_len;
} subscriber_delivery_t;

//  subscriber_output.c: writes "<text>" as a line.
void subscriber_reply (zch_conn_t *conn, const char *text);

//  Writes "-ERR <prefix><reason>".
void subscriber_reply_error (zch_conn_t *conn, const char *prefix, const char *reason);

//  Replies "+OK" or ["ok"], as the client speaks; with epoch (not 0)
//  "+OK <epoch>" or ["ok", epoch].
void subscriber_client_ok (subscriber_client_t *client, uint64_t epoch);

//  Replies "-ERR <prefix><reason>" or ["err", code, ...], as the client speaks.
void subscriber_client_error (subscriber_client_t *client, const char *code, const char *prefix,
                              const char *reason);

//  Writes a delivery to one client, as it speaks: a frame or a line, each
//  built once per delivery.
void subscriber_write_delivery (subscriber_worker_t *self, subscriber_client_t *client,
                                subscriber_delivery_t *delivery);

//  subscriber_commands.c: the client behind a connection, made on its
//  first request; NULL (and the connection closing) when out of memory.
subscriber_client_t *subscriber_client_of (zch_conn_t *conn, bool framed);

//  The limits and the ACL on a valid pattern a client wants; answers and
//  returns false when refused.
bool subscriber_may_subscribe (subscriber_worker_t *self, subscriber_client_t *client,
                               const char *pattern, size_t len);

//  subscriber_commands.c: the work queues' requests from any protocol,
//  checked (payload size, queue name, ACL) and answered as the client
//  speaks. subscriber_enqueue returns ZCH_EDGE_NEXT or ZCH_EDGE_PAUSE.
int subscriber_enqueue (subscriber_worker_t *self, subscriber_client_t *client, const char *queue,
                        size_t len, const void *payload, size_t payload_len, bool php);
void subscriber_watch (subscriber_worker_t *self, subscriber_client_t *client, const char *queue,
                       size_t len, uint32_t prefetch);
void subscriber_unwatch (subscriber_worker_t *self, subscriber_client_t *client, const char *queue,
                         size_t len);

//  subscriber_barrier.c: answers the client "+OK" once the broker has seen
//  every subscription the worker made so far (a barrier that adds none).
void subscriber_worker_confirm (subscriber_worker_t *self, subscriber_client_t *client);

//  subscriber_pressure.c: the output a client may queue before the worker
//  stops reading an in-process broker (behind-mark, half max-output at most).
size_t subscriber_worker_behind_mark (subscriber_worker_t *self);

//  subscriber_worker.c: a connection is going (every edge's on_close).
void subscriber_on_close (void *ctx, zch_conn_t *conn);

//  subscriber_commands.c: the edge handlers for a text line and a frame.
int subscriber_on_line (void *ctx, zch_conn_t *conn, const char *line, size_t len);
int subscriber_on_frame (void *ctx, zch_conn_t *conn, const char *body, size_t len);

//  subscriber_pressure.c: this worker's share of the output budget; the
//  output queued over its edges; dropping the clients furthest behind while
//  it is over budget; and, with the broker in this process, whether a client
//  is so far behind that the broker must wait (true: do not read it now;
//  sets room, what reading may add to one client meanwhile).
size_t subscriber_budget (const subscriber_config_t *config);
size_t subscriber_output_queued (subscriber_worker_t *self);
void subscriber_keep_budget (subscriber_worker_t *self);
bool subscriber_clients_behind (subscriber_worker_t *self);

//  subscriber_barrier.c: starts a subscription (live once its barrier
//  returns; then the catch-up sync, if any, starts), and ends one.
void subscriber_worker_subscribe (subscriber_worker_t *self, subscriber_client_t *client,
                                  const char *pattern, size_t len,
                                  const subscriber_sync_options_t *options);
void subscriber_worker_unsubscribe (subscriber_worker_t *self, subscriber_client_t *client,
                                    const char *pattern);

//  subscriber_failover.c: heartbeats, and the moves to another broker
//  when the one in use stops answering (zch_failover.h).
void subscriber_failover_turn (subscriber_worker_t *self);

//  subscriber_barrier.c: subscribes a barrier behind every subscription the
//  SUB sends a broker it just moved to.
void subscriber_barrier_after_move (subscriber_worker_t *self);

//  subscriber_barrier.c: the worker's own barriers. A message on the
//  broker's "$ack." topics (its meta's epoch, its payload the broker's
//  internal envelope version) answers the barriers up to its number; those
//  whose answer is late are subscribed again (retry, every turn); a heal
//  round asks one behind its SEQ answers (settle: a subscriber_heal
//  handler, ctx the worker); the probe proves the link, for readiness;
//  free is the barrier list's destructor.
void subscriber_barrier_message (subscriber_worker_t *self, const char *topic, size_t topic_len,
                                 uint64_t epoch, const uint8_t *payload, size_t payload_len);
void subscriber_barrier_retry (subscriber_worker_t *self);
void subscriber_barrier_settle (void *ctx, uint64_t round);
void subscriber_barrier_probe (subscriber_worker_t *self);
void subscriber_barrier_free (void **item);

//  subscriber_worker.c: what a client's catch-up (subscriber_sync) calls
//  back, ctx the worker.
extern const subscriber_sync_handlers_t subscriber_worker_sync_handlers;

#endif
