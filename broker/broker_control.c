/*  broker_control: requests on the broker's ROUTER control endpoint.        */
#include "broker_control.h"
#include "broker_request.h"

#include <msgpack.h>
#include <stdbool.h>
#include <string.h>
#include <zmq.h>

#define CONTROL_MAX_FRAMES 8

//  Packs the counters as a msgpack map into buffer.
static void
s_pack_stats (msgpack_sbuffer *buffer, const broker_stats_t *stats)
{
    struct { const char *name; uint64_t value; } fields [] = {
        { "messages_in", stats->messages_in },
        { "bytes_in", stats->bytes_in },
        { "malformed", stats->malformed },
        { "subscriptions", stats->subscriptions },
        { "unsubscriptions", stats->unsubscriptions },
        { "topics", stats->topics },
        { "control_errors", stats->control_errors },
        { "plugin_dropped", stats->plugin_dropped },
        { "plugin_errors", stats->plugin_errors },
    };
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, sizeof fields / sizeof fields [0]);
    for (size_t i = 0; i < sizeof fields / sizeof fields [0]; i++) {
        size_t name_len = strlen (fields [i].name);
        msgpack_pack_str (&packer, name_len);
        msgpack_pack_str_body (&packer, fields [i].name, name_len);
        msgpack_pack_uint64 (&packer, fields [i].value);
    }
}

//  Reads one request's frames (at most CONTROL_MAX_FRAMES are kept).
//  Returns the number of frames kept, 0 when none is waiting.
static size_t
s_recv_request (void *control, zmq_msg_t *frames)
{
    size_t count = 0;
    bool more = true;
    while (more) {
        zmq_msg_t *frame = &frames [count < CONTROL_MAX_FRAMES? count: CONTROL_MAX_FRAMES - 1];
        if (count >= CONTROL_MAX_FRAMES)
            zmq_msg_close (frame);
        zmq_msg_init (frame);
        if (zmq_msg_recv (frame, control, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (frame);
            return count < CONTROL_MAX_FRAMES? count: CONTROL_MAX_FRAMES;
        }
        more = zmq_msg_more (frame);
        count++;
    }
    if (count > CONTROL_MAX_FRAMES)
        count = CONTROL_MAX_FRAMES;
    return count;
}

void
broker_control_serve (void *control, broker_stats_t *stats)
{
    zmq_msg_t frames [CONTROL_MAX_FRAMES];
    size_t count;
    while ((count = s_recv_request (control, frames)) > 0) {
        zch_frame_t views [CONTROL_MAX_FRAMES];
        for (size_t i = 0; i < count; i++)
            views [i] = (zch_frame_t) { zmq_msg_data (&frames [i]), zmq_msg_size (&frames [i]) };
        size_t reply_frames;
        broker_request_t request = broker_request_parse (views, count, &reply_frames);
        for (size_t i = 0; i < reply_frames; i++)
            zmq_send (control, zmq_msg_data (&frames [i]), zmq_msg_size (&frames [i]), ZMQ_SNDMORE);
        if (request == BROKER_REQUEST_PING)
            zmq_send (control, "PONG", 4, 0);
        else
        if (request == BROKER_REQUEST_STATS) {
            msgpack_sbuffer buffer;
            msgpack_sbuffer_init (&buffer);
            s_pack_stats (&buffer, stats);
            zmq_send (control, "STATS", 5, ZMQ_SNDMORE);
            zmq_send (control, buffer.data, buffer.size, 0);
            msgpack_sbuffer_destroy (&buffer);
        }
        else {
            stats->control_errors++;
            zmq_send (control, "ERR", 3, ZMQ_SNDMORE);
            zmq_send (control, "unknown request", 15, 0);
        }
        for (size_t i = 0; i < count; i++)
            zmq_msg_close (&frames [i]);
    }
}
