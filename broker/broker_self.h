/*  broker_self: the broker actor's state, shared by the files that make
    up the actor: broker.c (sockets, loop, egress), broker_forward.c (a
    producer message's plain path) and broker_plugins.c (its path through
    the broker's plugins). One thread owns it; nothing here is locked.    */
#ifndef BROKER_SELF_H_INCLUDED
#define BROKER_SELF_H_INCLUDED

#include "broker.h"
#include "zch_batch.h"
#include "broker_interest.h"
#include "broker_confirm.h"
#include "broker_control.h"
#include "broker_engine.h"
#include "broker_groups.h"
#include "broker_history.h"
#include "broker_local.h"
#include "broker_watch.h"
#include "zch_envelope.h"
#include "zch_metrics.h"
#include "zch_pipeline.h"

typedef struct {
    zsock_t *pipe;
    const broker_config_t *config;
    void *ingress;              //  XSUB
    void *egress;               //  XPUB
    broker_local_t *local;      //  the egress to front-ends in this process; NULL: none
    broker_interest_t *interest;    //  who follows what on the TCP egress, in which form
    zch_batch_t *batch;         //  this turn's messages of one topic, for the front-ends
    void *control;              //  ROUTER
    broker_history_t *history;  //  seq, last value and history per topic
    zch_trie_t *no_history;     //  topics that keep none (--no-history)
    uint64_t epoch;             //  what this run's seqs belong to
    broker_control_t *requests; //  control requests and streams in progress
    struct broker_queues_t *queues; //  work queues, served with the control requests
    broker_confirm_t *confirms; //  publisher confirms to sources
    broker_stats_t stats;
    zch_counters_t *counters;   //  stats published for the metrics endpoint
    int64_t malformed_logged_at;
    uint64_t malformed_logged;
    int64_t too_large_logged_at;
    uint64_t too_large_logged;
    broker_watch_t *watch;      //  subscriptions held, peers connected
    broker_groups_t *groups;    //  queue groups and their members
    zch_pipeline_t *pipeline;   //  the broker's plugins; NULL: none
    zactor_t *curve_auth;       //  the ZAP handler when CURVE is on
    uint64_t plugin_dropped_bytes;  //  payload bytes of what plugins dropped
    uint64_t plugin_ns;         //  time in pipelines replaced by reloads
    broker_engine_t *engine;    //  the Redis engine; NULL: memory
    broker_engine_sink_t sink;  //  what the broker does with what it sends back
} broker_self_t;

//  broker.c: sends a stamped message to the front-ends, taking the frames
//  over (broker_engine_sink_t's forward; arg is the broker_self_t).
void broker_send_out (void *arg, zmq_msg_t *topic_frame, zmq_msg_t *meta_frame, zmq_msg_t *payload_frame);

//  broker.c: the same for a stamped message given as bytes (copied): into
//  the front-ends' batch, and as frames of its own only when an outside
//  consumer follows its topic or a queue group has members.
void broker_send_view (broker_self_t *self, const char *topic, size_t topic_len,
                       const uint8_t *meta, size_t meta_size, const uint8_t *payload, size_t payload_size);

//  broker_forward.c: three frames of their own holding copies of topic,
//  meta and payload (the caller's to send or close). Returns 0, or -1 when
//  out of memory (nothing to close then).
int broker_frames_make (zmq_msg_t frames [3], const char *topic, size_t topic_len, const uint8_t *meta,
                         size_t meta_size, const uint8_t *payload, size_t payload_size);

//  broker_forward.c: stamps and forwards one producer message held in
//  frames [0..count); the frames stay the caller's to close.
void broker_forward (broker_self_t *self, zmq_msg_t *frames, size_t count);

//  broker_forward.c: the same for every message of an internal batch from
//  a source (frames [0] starts with ZCH_INTERNAL_MARK): the topic checked
//  once, each message as if it came alone. A batch of another version or
//  malformed is dropped and counted. Returns how many messages it held
//  (1 for one that could not be read); the frames stay the caller's.
size_t broker_forward_batch (broker_self_t *self, zmq_msg_t *frames, size_t count);

//  broker_forward.c: counts and, at most once a second, logs a dropped
//  producer message.
void broker_malformed (broker_self_t *self, const char *reason);

//  broker_forward.c: answers a source that asked for a confirm (meta cf
//  and cn): the seq and epoch its message got, or (reason set) why not.
void broker_confirm_answer (broker_self_t *self, const zch_meta_t *producer, const char *topic,
                            size_t topic_len, uint64_t seq, uint64_t epoch, const char *reason);

//  broker_forward.c: hands one producer message to the Redis engine,
//  which takes its seq. msg: the plugins' result, or NULL without plugins.
void broker_forward_engine (broker_self_t *self, const zch_envelope_view_t *view, const zch_frame_t *views,
                            const zch_meta_t *producer, zch_pipeline_msg_t *msg, uint64_t now);

//  broker_forward.c: the outgoing topic and payload frames of a parsed
//  message, moved (or, for the one-frame form, sliced) out of frames.
//  Returns 0, or -1 out of memory (nothing moved).
int broker_forward_frames (zmq_msg_t *frames, size_t count, const zch_envelope_view_t *view,
                           zmq_msg_t *topic_frame, zmq_msg_t *payload_frame);

//  broker_forward.c: sends a stamped message out (meta: its stamped
//  bytes, copied unless meta_frame already holds them), counts it and
//  confirms it to its source.
void broker_forward_send (broker_self_t *self, zmq_msg_t *topic_frame, zmq_msg_t *meta_frame,
                          zmq_msg_t *payload_frame, const zch_envelope_view_t *view,
                          const zch_meta_t *producer, broker_topic_t *topic, uint64_t seq, uint64_t epoch);

//  broker_plugins.c: forward's path when the broker has plugins: they run
//  before any seq is taken, so that a drop leaves no gap.
void broker_plugins_forward (broker_self_t *self, zmq_msg_t *frames, size_t count,
                             const zch_envelope_view_t *view, const zch_frame_t *views,
                             const zch_meta_t *producer);

//  broker_plugins.c: takes the pipeline a reload sent, between two messages.
void broker_plugins_swap (broker_self_t *self, zch_pipeline_t *pipeline);

#endif
