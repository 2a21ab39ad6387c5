/*  zch_frame_pub: the checks every front-end makes on a frame client's
    ["pub", ...] before it publishes it (the source publishes it itself,
    the subscriber hands it to a source over the relay), so that both
    answer a publish the same way.                                          */
#ifndef ZCH_FRAME_PUB_H_INCLUDED
#define ZCH_FRAME_PUB_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zch_edge.h"
#include "zch_frame.h"
#include "zch_guard.h"
#include "zch_secure.h"

//  True when the pub may go: its topic is valid and within the limits
//  (secure), the client's token may publish to it (guard, which answers
//  and counts a refusal itself) and the payload has at most max_payload
//  bytes. Else answers ["err", bad_topic | forbidden | too_large, ...],
//  adds one to *rejected for a bad topic or size, and returns false.
bool zch_frame_pub_admits (zch_conn_t *conn, const zch_frame_cmd_t *cmd, zch_guard_t *guard,
                           const zch_secure_config_t *secure, size_t max_payload, uint64_t *rejected);

//  The same checks, answering nothing: true when a publish of topic with
//  payload_len bytes would pass them (a client owed publisher confirms
//  goes on publishing; anything it would be refused waits its turn).
bool zch_frame_pub_would_pass (zch_conn_t *conn, const char *topic, size_t topic_len, size_t payload_len,
                               const zch_guard_t *guard, const zch_secure_config_t *secure,
                               size_t max_payload);

#endif
