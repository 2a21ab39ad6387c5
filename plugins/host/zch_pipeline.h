/*  zch_pipeline: one stage's chain of plugin instances, for one thread.

    Built from spec strings (see zch_plugin_spec.h) off the hot path, then
    handed to the thread that runs it; a reload builds a new one and the
    thread swaps it in between two messages. Instances run in chain order,
    each only on topics its pattern matches (all when it has none). A drop
    ends the chain; an error restores the message as it was before that
    instance and then passes it on or drops it, as the instance's on_error
    says. Every outcome is counted per instance.

    Per-message memory (copies the plugins make) lives in an arena that
    zch_pipeline_done recycles, so a warm pipeline allocates nothing.      */
#ifndef ZCH_PIPELINE_H_INCLUDED
#define ZCH_PIPELINE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_envelope.h"
#include "zchannel/plugin.h"

#define ZCH_PIPELINE_HEADERS    32      //  headers a message may carry through a chain
#define ZCH_PIPELINE_MAX        32      //  instances per chain

typedef struct zch_pipeline_t zch_pipeline_t;

//  A message going through a chain. The caller fills the first block
//  (borrowed views that must stay valid until zch_pipeline_done); run
//  rewrites them to the result and sets the changed flags.
typedef struct {
    const char *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *meta;                //  read for headers; NULL if none
    size_t meta_size;
    uint64_t seq;                       //  0 when not known yet
    uint64_t ts;
    //  Set by run
    bool topic_changed;
    bool payload_changed;
    bool headers_changed;               //  then headers/header_count are the new set
    const zch_header_t *headers;
    size_t header_count;
    const char *dropped_by;             //  the instance that dropped it
} zch_pipeline_msg_t;

//  Per-instance counters.
typedef struct {
    const char *name;
    const char *pattern;                //  NULL: every topic
    uint64_t kept;
    uint64_t dropped;
    uint64_t errored;
    uint64_t ns;                        //  time spent in transform
} zch_pipeline_counters_t;

//  Loads, checks and creates the count instances of specs, looking for
//  plugins in the path_count directories of paths first. stage is a
//  zch_plugin_stage_t. Returns NULL with a one-line reason in error (then
//  nothing of it was kept).
zch_pipeline_t *zch_pipeline_new (const char *const *specs, size_t count,
                                  const char *const *paths, size_t path_count,
                                  int stage, char *error, size_t error_size);

//  Destroys every instance, closes the objects, NULLs the caller's pointer.
void zch_pipeline_destroy (zch_pipeline_t **self_p);

//  Runs msg through the chain. Returns ZCH_PLUGIN_KEEP (msg now holds the
//  result, valid until zch_pipeline_done) or ZCH_PLUGIN_DROP.
int zch_pipeline_run (zch_pipeline_t *self, zch_pipeline_msg_t *msg);

//  Recycles what the last run allocated. Call once the result is sent.
void zch_pipeline_done (zch_pipeline_t *self);

//  Number of instances in the chain.
size_t zch_pipeline_size (zch_pipeline_t *self);

//  Counters of instance index (0 .. size - 1).
zch_pipeline_counters_t zch_pipeline_counters (zch_pipeline_t *self, size_t index);

//  Total messages the chain dropped (by plugins or by the error policy).
uint64_t zch_pipeline_dropped (zch_pipeline_t *self);

//  Total errors the chain's plugins returned.
uint64_t zch_pipeline_errors (zch_pipeline_t *self);

//  Total nanoseconds the chain's plugins spent in transform.
uint64_t zch_pipeline_ns (zch_pipeline_t *self);

//  Logs one line per instance with its counters, prefixed with who.
void zch_pipeline_report (zch_pipeline_t *self, const char *who);

//  Builds a pipeline for a role from its settings: *pipeline stays NULL
//  when no plugin is configured. Returns 0, or -1 with a reason in error.
//  (zch_plugin_args_t is in zch_plugin_args.h.)
struct zch_plugin_args_s;
int zch_pipeline_build (const struct zch_plugin_args_s *args, int stage,
                        zch_pipeline_t **pipeline, char *error, size_t error_size);

//  Destroys a pipeline given as void **: the free function that
//  zch_workers_reload and zch_worker_state_t take.
void zch_pipeline_free (void **pipeline_p);

#endif
