/*  source_udp: UDP ingest for a source worker. See source_udp.h.           */
#include "source_udp.h"
#include "zch_log.h"
#include "zch_net.h"
#include "zch_text.h"
#include "zch_topic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_DATAGRAM_MAX    65536   //  larger than any UDP payload
#define UDP_BATCH           256     //  datagrams per loop turn, so TCP clients get turns
#define UDP_REPORT_MS       1000    //  at most one log line a second per worker
#define UDP_DROPS_MS        200     //  how often the kernel's drop count is read between datagrams

struct source_udp_t {
    zch_watch_t watch;              //  first, so a watch is its object
    zch_loop_t *loop;
    const char *topic;
    size_t max_payload;
    source_udp_publish_fn *publish;
    void *ctx;
    source_udp_stats_t stats;
    uint64_t reported_malformed, reported_dropped, reported_kernel;
    const char *last_reason;        //  why the last malformed datagram was
    char last_peer [64];
    int64_t next_report;
    int64_t next_drops;             //  when to read the kernel's drop count again
    bool ready;                     //  the broker takes more: read
    bool stopped;                   //  shutting down: read no more
    bool holding;                   //  buffer holds a datagram the broker could not take
    size_t held_size;
    char held_peer [64];
    char control [CMSG_SPACE (sizeof (uint32_t))];
    char buffer [UDP_DATAGRAM_MAX];
};

static void s_ready (zch_watch_t *watch, uint32_t events);

source_udp_t *
source_udp_new (zch_loop_t *loop, int fd, const char *topic, size_t max_payload,
                source_udp_publish_fn *publish, void *ctx)
{
    source_udp_t *self = calloc (1, sizeof *self);
    if (!self) {
        close (fd);
        return NULL;
    }
    self->watch = (zch_watch_t) { .fd = fd, .handler = s_ready };
    self->loop = loop;
    self->topic = topic;
    self->max_payload = max_payload;
    self->publish = publish;
    self->ctx = ctx;
    //  The kernel tells with each datagram how many it dropped so far
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    //  Not read until the broker link is up (source_udp_set_ready)
    if (zch_loop_add (loop, &self->watch, 0)) {
        close (fd);
        free (self);
        return NULL;
    }
    return self;
}

void
source_udp_destroy (source_udp_t **self_p)
{
    source_udp_t *self = *self_p;
    if (!self)
        return;
    zch_loop_remove (self->loop, &self->watch);
    close (self->watch.fd);
    free (self);
    *self_p = NULL;
}

const source_udp_stats_t *
source_udp_stats (source_udp_t *self)
{
    return &self->stats;
}

//  Counts a datagram that does not parse and remembers why, for the report.
static void
s_malformed (source_udp_t *self, const char *reason, const char *peer)
{
    self->stats.malformed++;
    self->last_reason = reason;
    snprintf (self->last_peer, sizeof self->last_peer, "%s", peer);
}

//  Names a datagram's sender as "ip:port".
static void
s_peer_name (const struct sockaddr_storage *from, char *out, size_t out_size)
{
    char host [INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (from->ss_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *) from;
        inet_ntop (AF_INET, &in4->sin_addr, host, sizeof host);
        port = ntohs (in4->sin_port);
    }
    else
    if (from->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) from;
        inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs (in6->sin6_port);
    }
    snprintf (out, out_size, "%s:%d", host, port);
}

//  Turns one datagram into a message and publishes it. Returns -1 when the
//  broker cannot take it now (nothing was sent: the caller holds it).
static int
s_datagram (source_udp_t *self, char *data, size_t size, const char *peer)
{
    const char *topic = self->topic, *payload = data;
    size_t topic_len = topic? strlen (topic): 0, payload_len = size;
    if (!topic) {
        //  One line: a final LF (and a CR before it) is its terminator
        if (size > 0 && data [size - 1] == '\n')
            size--;
        if (size > 0 && data [size - 1] == '\r')
            size--;
        if (memchr (data, '\n', size)) {
            s_malformed (self, "more than one line", peer);
            return 0;
        }
        zch_command_t command;
        const char *reason;
        if (zch_command_parse (data, size, &command, &reason)) {
            s_malformed (self, reason, peer);
            return 0;
        }
        if (command.verb != ZCH_VERB_PUB) {
            s_malformed (self, "not a PUB line", peer);
            return 0;
        }
        if (zch_topic_validate (command.arg, command.arg_len, &reason)) {
            s_malformed (self, "invalid topic", peer);
            return 0;
        }
        topic = command.arg;
        topic_len = command.arg_len;
        payload = command.rest;
        payload_len = command.rest_len;
    }
    if (payload_len > self->max_payload) {
        s_malformed (self, "payload too large", peer);
        return 0;
    }
    int rc = self->publish (self->ctx, topic, topic_len, payload, payload_len, peer);
    if (rc < 0)
        return -1;
    if (rc > 0)
        self->stats.plugin_dropped++;   //  the worker counts it with its plugin drops
    else
        self->stats.published++;
    return 0;
}

//  Watches the socket while it should be read.
static void
s_watch (source_udp_t *self)
{
    bool read = self->ready && !self->stopped && !self->holding;
    zch_loop_modify (self->loop, &self->watch, read? EPOLLIN: 0);
}

//  Publishes the datagram in buffer, or holds it and stops reading when
//  the broker cannot take it. Returns 0, or -1 when held.
static int
s_take (source_udp_t *self, size_t size, const char *peer)
{
    //  s_datagram leaves the buffer as it is, so a held one can go again
    if (s_datagram (self, self->buffer, size, peer) == 0) {
        self->holding = false;
        return 0;
    }
    self->holding = true;
    self->held_size = size;
    if (peer != self->held_peer)
        snprintf (self->held_peer, sizeof self->held_peer, "%s", peer);
    s_watch (self);
    return -1;
}

//  Takes the kernel's running total of drops for this socket (32 bits,
//  followed across a wrap; an older reading than the last is ignored).
static void
s_kernel_total (source_udp_t *self, uint32_t total)
{
    uint32_t ahead = total - (uint32_t) self->stats.kernel_dropped;
    if (ahead && ahead < 0x80000000u)
        self->stats.kernel_dropped += ahead;
}

//  Notes the drop count a datagram carries (SO_RXQ_OVFL: the total when it
//  was queued).
static void
s_kernel_drops (source_udp_t *self, struct msghdr *header)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR (header); c; c = CMSG_NXTHDR (header, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL
        &&  c->cmsg_len >= CMSG_LEN (sizeof (uint32_t))) {
            uint32_t total;
            memcpy (&total, CMSG_DATA (c), sizeof total);
            s_kernel_total (self, total);
        }
}

//  Reads the drop count now: drops after the last datagram queued reach
//  no datagram's SO_RXQ_OVFL until another one arrives (SO_MEMINFO).
static void
s_kernel_refresh (source_udp_t *self)
{
    uint32_t info [SK_MEMINFO_VARS];
    socklen_t len = sizeof info;
    if (getsockopt (self->watch.fd, SOL_SOCKET, SO_MEMINFO, info, &len) == 0
    &&  len > SK_MEMINFO_DROPS * sizeof info [0])
        s_kernel_total (self, info [SK_MEMINFO_DROPS]);
}

//  Reads a batch of datagrams, until one must be held.
static void
s_ready (zch_watch_t *watch, uint32_t events)
{
    (void) events;
    source_udp_t *self = (source_udp_t *) watch;
    for (int i = 0; i < UDP_BATCH && self->ready && !self->holding && !self->stopped; i++) {
        struct sockaddr_storage from;
        struct iovec iov = { self->buffer, sizeof self->buffer };
        struct msghdr header = {
            .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = self->control, .msg_controllen = sizeof self->control
        };
        ssize_t got = recvmsg (watch->fd, &header, 0);
        if (got < 0)
            break;                      //  EAGAIN: all read; anything else: try next turn
        s_kernel_drops (self, &header);
        self->stats.received++;
        char peer [64];
        s_peer_name (&from, peer, sizeof peer);
        if (header.msg_flags & MSG_TRUNC)
            s_malformed (self, "datagram too large", peer);
        else
            s_take (self, (size_t) got, peer);
    }
}

void
source_udp_set_ready (source_udp_t *self, bool ready)
{
    self->ready = ready;
    if (ready && self->holding)
        s_take (self, self->held_size, self->held_peer);
    s_watch (self);
}

bool
source_udp_holding (source_udp_t *self)
{
    return self->holding;
}

void
source_udp_stop (source_udp_t *self)
{
    self->stopped = true;
    s_watch (self);
}

void
source_udp_discard (source_udp_t *self)
{
    s_kernel_refresh (self);
    if (self->holding) {
        self->holding = false;
        self->stats.dropped++;
    }
    while (true) {
        struct iovec iov = { self->buffer, sizeof self->buffer };
        struct msghdr header = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = self->control, .msg_controllen = sizeof self->control
        };
        if (recvmsg (self->watch.fd, &header, MSG_DONTWAIT) < 0)
            break;
        s_kernel_drops (self, &header);
        self->stats.received++;
        self->stats.dropped++;
    }
}

void
source_udp_report (source_udp_t *self, bool force)
{
    int64_t now = zclock_mono ();
    if (force || now >= self->next_drops) {
        s_kernel_refresh (self);
        self->next_drops = now + UDP_DROPS_MS;
    }
    if (!force && now < self->next_report)
        return;
    uint64_t malformed = self->stats.malformed - self->reported_malformed;
    uint64_t dropped = self->stats.dropped - self->reported_dropped;
    uint64_t kernel = self->stats.kernel_dropped - self->reported_kernel;
    if (malformed == 0 && dropped == 0 && kernel == 0)
        return;
    if (malformed)
        zch_notice ("source: udp: %llu malformed datagrams (total %llu of %llu received), "
                    "last from %s: %s", (unsigned long long) malformed,
                    (unsigned long long) self->stats.malformed,
                    (unsigned long long) self->stats.received, self->last_peer,
                    self->last_reason);
    if (dropped)
        zch_warning ("source: udp: %llu datagrams dropped, the broker could not take them "
                     "(total %llu of %llu received)", (unsigned long long) dropped,
                     (unsigned long long) self->stats.dropped,
                     (unsigned long long) self->stats.received);
    if (kernel)
        zch_warning ("source: udp: %llu datagrams dropped by the kernel, the receive buffer "
                     "was full while the broker could not take more (total %llu)",
                     (unsigned long long) kernel, (unsigned long long) self->stats.kernel_dropped);
    self->reported_malformed = self->stats.malformed;
    self->reported_dropped = self->stats.dropped;
    self->reported_kernel = self->stats.kernel_dropped;
    self->next_report = now + UDP_REPORT_MS;
}
