/*  zch_zmq: ZeroMQ sockets inside an epoll loop, and endpoint set-up with
    errors a person can act on.                                             */
#ifndef ZCH_ZMQ_H_INCLUDED
#define ZCH_ZMQ_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

//  The descriptor that signals (edge-triggered) that the socket's events
//  may have changed; after it fires, check zch_zmq_readable/writable.
int zch_zmq_fd (void *socket);

//  True when a message can be received now.
bool zch_zmq_readable (void *socket);

//  True when a message can be sent now. Not for an XPUB: libzmq 4.3
//  reports POLLOUT on one always, full or not; only a send tells.
bool zch_zmq_writable (void *socket);

//  Takes one whole multipart message off socket without waiting. Keeps
//  its first max frames in frames (the caller closes the ones kept: the
//  lesser of the return and max) and lets the rest go. Returns the
//  number of frames the message had, 0 when none was waiting.
size_t zch_zmq_recv_frames (void *socket, zmq_msg_t *frames, size_t max);

//  Sets an integer socket option, asserting it is a valid option (a
//  programmer error otherwise).
void zch_zmq_set (void *socket, int option, int value);

//  Binds (bind true) or connects to endpoint. Returns 0, or -1 with a
//  one-line reason naming what and where in error.
int zch_zmq_attach (void *socket, const char *what, const char *endpoint, bool bind,
                    char *error, size_t error_size);

//  Moves a connected socket from one endpoint to another (a front-end's
//  failover): what was queued towards from is dropped. Returns 0, or -1
//  with a reason naming what.
int zch_zmq_move (void *socket, const char *what, const char *from, const char *to,
                  char *error, size_t error_size);

//  True when endpoint reaches only this host: inproc, ipc, or tcp on a
//  loopback address (127.x.x.x, ::1, localhost, lo). tcp://* is not.
bool zch_zmq_endpoint_local (const char *endpoint);

#endif
