/*  zch_control_dealer: a front-end worker's DEALER to the broker's control
    endpoint, and the answers read from it.

    Confirms, hand-overs and failover heartbeats each keep one such link;
    this is what they share: how it is opened, and how one multipart
    answer is taken off it without waiting.                               */
#ifndef ZCH_CONTROL_DEALER_H_INCLUDED
#define ZCH_CONTROL_DEALER_H_INCLUDED

#include "zch_secure.h"

#include <stddef.h>
#include <zmq.h>

//  Frames of one answer kept; the broker's longest answer has six
#define ZCH_CONTROL_FRAMES  6

typedef struct {
    zmq_msg_t frames [ZCH_CONTROL_FRAMES];
    size_t held;                //  frames kept in frames [], at most ZCH_CONTROL_FRAMES
    size_t count;               //  frames the answer had (more than held: too long)
} zch_control_answer_t;

//  A DEALER connected to the broker's control endpoint, with CURVE as
//  config says, no linger, no receive high-water mark, and routing_id
//  (NULL: libzmq's own) set before it connects. The caller closes it with
//  zch_control_dealer_close. Returns NULL with a reason.
void *zch_control_dealer_new (const zch_secure_config_t *config, const char *endpoint,
                              const char *routing_id, char *error, size_t error_size);

//  Closes the DEALER, if any, and NULLs the caller's pointer.
void zch_control_dealer_close (void **dealer_p);

//  Takes one whole answer off the DEALER without waiting. Returns its
//  number of frames, 0 when none is waiting. The first ZCH_CONTROL_FRAMES
//  frames are kept in answer; the caller releases them with
//  zch_control_answer_clear (also after a return of 0).
size_t zch_control_answer_recv (zch_control_answer_t *answer, void *dealer);

//  Releases the frames an answer holds.
void zch_control_answer_clear (zch_control_answer_t *answer);

#endif
