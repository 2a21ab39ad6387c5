/*  zch_edge_limits: the edge's defences against hostile clients: admission
    (max clients over every worker, connections per second per address),
    TLS handshakes that fail, and the form of the edge's own errors.       */
#include "zch_edge_private.h"
#include "zch_chanmsg.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_net.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

//  Turns a client away at accept, before it costs anything: plain TCP
//  clients get the error (line or frame), TLS clients only the close.
//  Logged once a second at most, with the counters.
static void
s_refuse (zch_edge_t *self, int fd, const char *peer, const char *code, const char *text)
{
    if (!self->config.tls) {
        char reply [ZCH_REPLY_MAX];
        size_t len = self->config.framing != ZCH_EDGE_LINES?
            zch_edge_error_reply (self->config.framing, reply, sizeof reply, code, text):
            (size_t) snprintf (reply, sizeof reply, "-ERR %s\n", text);
        if (send (fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            zch_debug ("%s: cannot tell %s why: %s", self->config.role, peer, strerror (errno));
    }
    close (fd);
    int64_t now = zclock_mono ();
    if (now - self->refusal_logged_at >= 1000) {
        self->refusal_logged_at = now;
        zch_notice ("%s: refused %s: %s (refused for too many clients: %llu, for connection rate: %llu)",
                    self->config.role, peer, text, (unsigned long long) self->stats.refused_clients,
                    (unsigned long long) self->stats.rate_limited);
    }
}

//  Applies the limits on a new client. Returns 0 to take it, -1 when it
//  was refused (and its socket closed).
int
zch_edge_admit (zch_edge_t *self, int fd, const struct sockaddr_storage *address)
{
    if (!self->config.max_clients && !(self->config.rates && self->config.conn_rate > 0))
        return 0;
    char peer [64];
    zch_net_peer_name (fd, peer, sizeof peer);
    size_t clients = self->config.clients? atomic_load (self->config.clients): self->conn_count;
    if (self->config.max_clients && clients >= self->config.max_clients) {
        self->stats.refused_clients++;
        s_refuse (self, fd, peer, "too_many_clients", "too many clients");
        return -1;
    }
    const void *addr = NULL;
    size_t addr_len = 0;
    if (address->ss_family == AF_INET) {
        addr = &((const struct sockaddr_in *) address)->sin_addr;
        addr_len = sizeof (struct in_addr);
    }
    else
    if (address->ss_family == AF_INET6) {
        addr = &((const struct sockaddr_in6 *) address)->sin6_addr;
        addr_len = sizeof (struct in6_addr);
    }
    if (addr && self->config.rates && self->config.conn_rate > 0
    &&  !zch_rate_allow (self->config.rates, addr, addr_len, self->config.conn_rate,
                         self->config.conn_burst, zclock_mono ())) {
        self->stats.rate_limited++;
        s_refuse (self, fd, peer, "rate_exceeded", "connection rate exceeded");
        return -1;
    }
    return 0;
}

//  Counts and logs a TLS connection that failed.
void
zch_conn_tls_failed (zch_conn_t *conn)
{
    conn->edge->stats.tls_failures++;
    zch_info ("%s: TLS with %s failed: %s (TLS failures: %llu)", conn->edge->config.role,
              conn->peer, zch_tls_error (conn->tls),
              (unsigned long long) conn->edge->stats.tls_failures);
}

size_t
zch_edge_error_reply (int framing, char *out, size_t cap, const char *code, const char *text)
{
    if (framing == ZCH_EDGE_CHANNEL)
        return zch_chanmsg_encode_event ((uint8_t *) out, cap, "error", code, strlen (code),
                                         (const uint8_t *) text, strlen (text), false);
    return zch_frame_encode_err ((uint8_t *) out, cap, code, text);
}

void
zch_edge_set_guards (zch_edge_t *self, const zch_edge_config_t *from)
{
    self->config.max_clients = from->max_clients;
    self->config.idle_timeout_ms = from->idle_timeout_ms;
    self->config.keepalive_ms = from->keepalive_ms;
    self->config.conn_rate = from->conn_rate;
    self->config.conn_burst = from->conn_burst;
}
