/*  source_worker: the state of one loop of the source front-end, shared by
    its parts: source_worker.c (the loop, the broker link, publishing) and
    source_commands.c (what clients ask, and the answers VERBOSE clients
    get over both protocols). Internal to source/.                        */
#ifndef SOURCE_WORKER_H_INCLUDED
#define SOURCE_WORKER_H_INCLUDED

#include "source.h"
#include "zch_batch.h"
#include "zch_confirm.h"
#include "source_frames.h"
#include "source_handover.h"
#include "source_pending.h"
#include "source_relay.h"
#include "source_udp.h"
#include "zch_edge.h"
#include "zch_failover.h"
#include "zch_guard.h"
#include "zch_link.h"
#include "zch_main.h"
#include "zch_metrics.h"
#include "zch_pipeline.h"
#include "zch_worker.h"

typedef struct {
    ZCH_WORKER_FIELDS           //  the base (zch_worker.h): loop, edges, guard, plugins
    source_frames_t frames;     //  the frame edge's handler state
    source_udp_t *udp;          //  UDP ingest, NULL when off
    source_relay_t *relay;      //  channel clients' publishes from subscriber front-ends, NULL when off
    zch_watch_t relay_watch;
    void *publisher;            //  XPUB to the broker's ingress, NODROP
    zch_link_t *link;           //  its connections: not ready while the link is lost
    zch_watch_t link_watch;
    source_handover_t *handover;    //  proof the broker has what we sent; NULL: off
    zch_confirm_t *confirm;  //  publisher confirms for VERBOSE clients; NULL: off
    zch_watch_t confirm_watch;
    int64_t handover_at;        //  when the last one started
    uint64_t unconfirmed_lost;  //  sent, never confirmed before the drain timeout
    zch_watch_t publisher_watch;
    zch_watch_t handover_watch;
    int broker_subscriptions;   //  > 0 once the broker listens to us
    bool broker_internal;       //  it reads our internal envelope (its subscription says so)
    zch_batch_t *batch;         //  this turn's messages of one topic, in the internal envelope
    bool batch_stuck;           //  the broker could not take it: it goes before anything else
    uint64_t batch_bytes;       //  its payload bytes (for the counters)
    zch_failover_t *failover;   //  the broker in use, and when to move to the next
    zch_watch_t failover_watch;
    uint64_t failover_lost;     //  sent to brokers given up, never confirmed (at most this many lost)
    uint64_t published;
    uint64_t rejected;
    source_pending_t *pending;  //  what the plugins passed and the broker has not taken yet
    uint64_t pending_dropped;   //  held back and never taken before the drain timeout
    const char *dropped_by;     //  the plugin that dropped the last message
    uint64_t received_bytes;    //  payload bytes of what was taken from clients (as they sent it)
    uint64_t published_bytes;   //  as sent (after the plugins)
} source_worker_t;

//  source_worker.c: sends one envelope; src names the client, headers (a
//  checked msgpack map, or NULL) go into meta as "h", confirm (0: none)
//  asks the broker for a confirm (zch_confirm.h). Returns 0 when it was
//  sent or held back to go first, 1 when a plugin dropped it, or -1 when
//  the broker cannot take it now (nothing sent, no plugin saw it: the
//  caller pauses the client).
int source_worker_publish (source_worker_t *self, const char *src, const char *topic, size_t topic_len,
                           const char *payload, size_t payload_len, const uint8_t *headers,
                           size_t headers_size, uint64_t confirm);

//  source_commands.c: the text edge's handlers (ctx: the worker).
int source_commands_on_line (void *ctx, zch_conn_t *conn, const char *line, size_t len);
void source_commands_on_close (void *ctx, zch_conn_t *conn);

//  source_commands.c: the frame edge's publish, wait and close callbacks
//  (source_frames.h; ctx: the worker).
int source_commands_frame_publish (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len,
                                   const char *payload, size_t payload_len,
                                   const uint8_t *headers, size_t headers_size);
bool source_commands_frame_wait (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len,
                                 size_t payload_len);
void source_commands_frame_closed (void *ctx, zch_conn_t *conn);

//  source_worker.c: opens the XPUB to the broker in use (failover's) and
//  watches it; no subscription is known yet. Returns 0, or -1 with a
//  reason (publisher then NULL).
int source_worker_publisher_open (source_worker_t *self, char *error, size_t error_size);

//  source_failover.c: heartbeats, and the moves to another broker when
//  the one in use stops answering (zch_failover.h).
void source_failover_turn (source_worker_t *self);

#endif
