/*  subscriber_sync: one client's catch-up, `SUB <pattern> SNAPSHOT` or
    `SUB <topic> FROM <seq>`.

    Once the subscription is live (+OK) the sync asks the broker for the
    snapshot or the history, writes what comes back to the client, and
    holds the client's live deliveries meanwhile. At the end of the stream
    it writes the held ones whose seq is past what the stream gave for
    their topic, then keeps dropping live repeats (a live message may still
    be on its way when the stream ends) until every topic has moved past
    its floor; then it is done. No message is lost or repeated at the seam.  */
#ifndef SUBSCRIBER_SYNC_H_INCLUDED
#define SUBSCRIBER_SYNC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "subscriber_control.h"
#include "zch_edge.h"

//  Codes of the notices a catch-up sends (frame clients get them as
//  ["err", code, text]; text clients as "-ERR text")
#define SUBSCRIBER_E_HISTORY_STARTS "history_starts"    //  FROM: older seqs are no longer held
#define SUBSCRIBER_E_GAP            "gap"               //  seqs lost for good
#define SUBSCRIBER_E_RESET          "reset"             //  the topic's seqs start afresh in a new epoch
#define SUBSCRIBER_E_INCOMPLETE     "snapshot_incomplete"   //  some last values no longer held
#define SUBSCRIBER_E_OFFLINE        "offline"           //  no broker answers: deliveries pause
#define SUBSCRIBER_E_ONLINE         "online"            //  a broker answers again: deliveries go on, gap-free
#define SUBSCRIBER_E_CATCHUP        "catchup_failed"    //  the broker's history did not answer
#define SUBSCRIBER_E_SLOW           "slow_consumer"
#define SUBSCRIBER_E_INTERNAL       "internal"

typedef struct subscriber_sync_t subscriber_sync_t;

typedef struct {
    //  Writes one message to the client behind conn, as it speaks;
    //  processed false when the egress plugins have not seen it yet (it
    //  comes from the broker's history).
    void (*write) (void *ctx, zch_conn_t *conn, const char *topic, size_t topic_len, uint64_t seq,
                   const char *payload, size_t payload_len, bool processed);
    //  Tells the client behind conn of a problem, as it speaks (text:
    //  "-ERR <text>"; frames: ["err", code, text]).
    void (*notice) (void *ctx, zch_conn_t *conn, const char *code, const char *text);
    //  The last seq of topic delivered live, 0 if none.
    uint64_t (*last_seq) (void *ctx, const char *topic, size_t topic_len);
    //  The stream ended: the client's paused commands may go on.
    void (*ended) (void *ctx);
} subscriber_sync_handlers_t;

typedef enum { SUBSCRIBER_SYNC_NONE = 0, SUBSCRIBER_SYNC_SNAPSHOT, SUBSCRIBER_SYNC_FROM } subscriber_sync_kind_t;

//  What a SUB asks for besides the subscription.
typedef struct {
    subscriber_sync_kind_t kind;    //  NONE for no options
    uint64_t from;              //  FROM: the client's last seq
    uint64_t epoch;             //  FROM: the epoch of from; 0 when not given
    bool verbose;               //  frames: answer ["ok", epoch]
    const char *queue;          //  QUEUE <group>: the group (a view into the request), or NULL
    size_t queue_len;
} subscriber_sync_options_t;

//  Parses the options of a SUB line ("SNAPSHOT", "FROM <seq>[@<epoch>]",
//  any case). Returns 0 with *options, or -1 with a reason for the client.
int subscriber_sync_parse (const char *text, size_t len, subscriber_sync_options_t *options,
                           const char **reason);

//  Parses the options map of a frame ["sub", pattern, opts]: {"snapshot":
//  true}, {"from": seq, "epoch": str?}, each with "verbose": bool if wanted.
//  Returns 0 with *options, or -1 with a reason for the client.
int subscriber_sync_parse_map (const uint8_t *opts, size_t size, subscriber_sync_options_t *options,
                               const char **reason);

//  Starts a catch-up for conn (borrowed) on pattern (a topic for FROM),
//  asking over control (borrowed); handlers and ctx are borrowed. Live
//  deliveries held meanwhile may take up to max_held bytes, past which
//  the client is a slow consumer. A previous sync of the client, done
//  streaming but still dropping repeats, is taken over (*previous is
//  destroyed and NULLed). Returns NULL when out of memory or the request
//  cannot be sent.
subscriber_sync_t *subscriber_sync_new (subscriber_control_t *control,
                                        const subscriber_sync_handlers_t *handlers, void *ctx,
                                        zch_conn_t *conn, const subscriber_sync_options_t *options,
                                        const char *pattern, size_t len, size_t max_held,
                                        subscriber_sync_t **previous);

//  Frees the sync (its request is cancelled); NULLs the pointer.
void subscriber_sync_destroy (subscriber_sync_t **self_p);

//  True while the stream is coming: the client's commands wait (a sync
//  that only drops repeats lets them go on).
bool subscriber_sync_streaming (subscriber_sync_t *self);

//  A live delivery for the sync's client. Returns true when the caller
//  should write it now; false when it is held or a repeat. Destroys the
//  sync (NULLing *self_p) once it has nothing left to do.
bool subscriber_sync_offer (subscriber_sync_t **self_p, const char *topic, size_t topic_len,
                            uint64_t seq, const char *payload, size_t payload_len);

//  The topic's seqs started afresh: its floor (from an older epoch) goes.
void subscriber_sync_forget (subscriber_sync_t *self, const char *topic, size_t topic_len);

#endif
