/*  source_udp: UDP ingest for a source worker. See source_udp.h.           */
#include "source_udp.h"
#include "zch_log.h"
#include "zch_net.h"
#include "zch_text.h"
#include "zch_topic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_DATAGRAM_MAX    65536   //  larger than any UDP payload
#define UDP_BATCH           256     //  datagrams per loop turn, so TCP clients get turns
#define UDP_REPORT_MS       1000    //  at most one log line a second per worker

struct source_udp_t {
    zch_watch_t watch;              //  first, so a watch is its object
    zch_loop_t *loop;
    const char *topic;
    size_t max_payload;
    source_udp_publish_fn *publish;
    void *ctx;
    source_udp_stats_t stats;
    uint64_t reported_malformed, reported_dropped;
    const char *last_reason;        //  why the last malformed datagram was
    char last_peer [64];
    int64_t next_report;
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
    if (zch_loop_add (loop, &self->watch, EPOLLIN)) {
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

//  Turns one datagram into a message and publishes it.
static void
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
            return;
        }
        zch_command_t command;
        const char *reason;
        if (zch_command_parse (data, size, &command, &reason)) {
            s_malformed (self, reason, peer);
            return;
        }
        if (command.verb != ZCH_VERB_PUB) {
            s_malformed (self, "not a PUB line", peer);
            return;
        }
        if (zch_topic_validate (command.arg, command.arg_len, &reason)) {
            s_malformed (self, "invalid topic", peer);
            return;
        }
        topic = command.arg;
        topic_len = command.arg_len;
        payload = command.rest;
        payload_len = command.rest_len;
    }
    if (payload_len > self->max_payload) {
        s_malformed (self, "payload too large", peer);
        return;
    }
    int rc = self->publish (self->ctx, topic, topic_len, payload, payload_len, peer);
    if (rc < 0)
        self->stats.dropped++;
    else
    if (rc > 0)
        self->stats.plugin_dropped++;   //  the worker counts it with its plugin drops
    else
        self->stats.published++;
}

//  Reads a batch of datagrams.
static void
s_ready (zch_watch_t *watch, uint32_t events)
{
    (void) events;
    source_udp_t *self = (source_udp_t *) watch;
    for (int i = 0; i < UDP_BATCH; i++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t got = recvfrom (watch->fd, self->buffer, sizeof self->buffer, MSG_TRUNC,
                                (struct sockaddr *) &from, &from_len);
        if (got < 0)
            break;                      //  EAGAIN: all read; anything else: try next turn
        self->stats.received++;
        char peer [64];
        s_peer_name (&from, peer, sizeof peer);
        if ((size_t) got > sizeof self->buffer)
            s_malformed (self, "datagram too large", peer);
        else
            s_datagram (self, self->buffer, (size_t) got, peer);
    }
}

void
source_udp_report (source_udp_t *self, bool force)
{
    int64_t now = zclock_mono ();
    if (!force && now < self->next_report)
        return;
    uint64_t malformed = self->stats.malformed - self->reported_malformed;
    uint64_t dropped = self->stats.dropped - self->reported_dropped;
    if (malformed == 0 && dropped == 0)
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
    self->reported_malformed = self->stats.malformed;
    self->reported_dropped = self->stats.dropped;
    self->next_report = now + UDP_REPORT_MS;
}
