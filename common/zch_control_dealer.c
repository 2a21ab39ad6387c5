/*  zch_control_dealer: the DEALER to the broker's control endpoint.       */
#include "zch_control_dealer.h"
#include "zch_zmq.h"

#include <czmq.h>
#include <string.h>

void *
zch_control_dealer_new (const zch_secure_config_t *config, const char *endpoint,
                        const char *routing_id, char *error, size_t error_size)
{
    void *dealer = zmq_socket (zsys_init (), ZMQ_DEALER);
    if (!dealer) {
        snprintf (error, error_size, "cannot set up a control link: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zch_zmq_set (dealer, ZMQ_LINGER, 0);
    //  No high-water mark on answers: what may come is bounded by what was
    //  asked (a source's confirms in flight), and the broker never waits
    zch_zmq_set (dealer, ZMQ_RCVHWM, 0);
    if (routing_id)
        zmq_setsockopt (dealer, ZMQ_ROUTING_ID, routing_id, strlen (routing_id));
    if (zch_secure_curve (config, dealer, error, error_size)
    ||  zch_zmq_attach (dealer, "to broker control", endpoint, false, error, error_size)) {
        zmq_close (dealer);
        return NULL;
    }
    return dealer;
}

void
zch_control_dealer_close (void **dealer_p)
{
    if (*dealer_p)
        zmq_close (*dealer_p);
    *dealer_p = NULL;
}

size_t
zch_control_answer_recv (zch_control_answer_t *answer, void *dealer)
{
    answer->count = zch_zmq_recv_frames (dealer, answer->frames, ZCH_CONTROL_FRAMES);
    answer->held = answer->count < ZCH_CONTROL_FRAMES? answer->count: ZCH_CONTROL_FRAMES;
    return answer->count;
}

void
zch_control_answer_clear (zch_control_answer_t *answer)
{
    for (size_t i = 0; i < answer->held; i++)
        zmq_msg_close (&answer->frames [i]);
    answer->held = 0;
}
