/*  zch_zmq: ZeroMQ sockets inside an epoll loop.                            */
#include "zch_zmq.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

int
zch_zmq_fd (void *socket)
{
    int fd = -1;
    size_t size = sizeof fd;
    zmq_getsockopt (socket, ZMQ_FD, &fd, &size);
    return fd;
}

static int
s_events (void *socket)
{
    int events = 0;
    size_t size = sizeof events;
    zmq_getsockopt (socket, ZMQ_EVENTS, &events, &size);
    return events;
}

bool
zch_zmq_readable (void *socket)
{
    return (s_events (socket) & ZMQ_POLLIN) != 0;
}

bool
zch_zmq_writable (void *socket)
{
    return (s_events (socket) & ZMQ_POLLOUT) != 0;
}

size_t
zch_zmq_recv_frames (void *socket, zmq_msg_t *frames, size_t max)
{
    size_t count = 0;
    bool more = true;
    while (more) {
        //  Frames past the kept ones are read, counted and let go
        zmq_msg_t spare;
        zmq_msg_t *frame = count < max? &frames [count]: &spare;
        zmq_msg_init (frame);
        if (zmq_msg_recv (frame, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (frame);
            break;
        }
        more = zmq_msg_more (frame);
        if (frame == &spare)
            zmq_msg_close (frame);
        count++;
    }
    return count;
}

void
zch_zmq_set (void *socket, int option, int value)
{
    int rc = zmq_setsockopt (socket, option, &value, sizeof value);
    assert (rc == 0);
    (void) rc;
}

int
zch_zmq_attach (void *socket, const char *what, const char *endpoint, bool bind,
                char *error, size_t error_size)
{
    int rc = bind? zmq_bind (socket, endpoint): zmq_connect (socket, endpoint);
    if (rc != 0) {
        snprintf (error, error_size, "cannot %s %s %s: %s", bind? "bind": "connect",
                  what, endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

int
zch_zmq_move (void *socket, const char *what, const char *from, const char *to,
              char *error, size_t error_size)
{
    if (strcmp (from, to) == 0)
        return 0;
    //  Not connected to from (any more) is no failure: the aim is to be off it
    zmq_disconnect (socket, from);
    return zch_zmq_attach (socket, what, to, false, error, error_size);
}

bool
zch_zmq_endpoint_local (const char *endpoint)
{
    if (strncmp (endpoint, "inproc://", 9) == 0 || strncmp (endpoint, "ipc://", 6) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    //  tcp://SOURCE;HOST:PORT names the address after the ';'
    const char *semicolon = strchr (host, ';');
    if (semicolon)
        host = semicolon + 1;
    const char *colon = strrchr (host, ':');
    size_t len = colon? (size_t) (colon - host): strlen (host);
    char name [64];
    if (len == 0 || len >= sizeof name)
        return false;
    memcpy (name, host, len);
    name [len] = 0;
    if (strcmp (name, "localhost") == 0 || strcmp (name, "lo") == 0)
        return true;
    struct in_addr v4;
    if (inet_pton (AF_INET, name, &v4) == 1)
        return (ntohl (v4.s_addr) >> 24) == 127;
    if (name [0] == '[' && name [len - 1] == ']') {
        name [len - 1] = 0;
        struct in6_addr v6;
        return inet_pton (AF_INET6, name + 1, &v6) == 1 && IN6_IS_ADDR_LOOPBACK (&v6);
    }
    return false;
}
