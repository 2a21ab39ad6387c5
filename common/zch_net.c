/*  zch_net: TCP listening sockets for the front-ends.                       */
#include "zch_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

//  Splits "HOST:PORT" or "[HOST]:PORT" and resolves it for a passive socket.
static int
s_resolve (const char *address, int type, struct addrinfo **result, char *error, size_t error_size)
{
    char host [256];
    const char *colon = strrchr (address, ':');
    if (!colon || colon == address || colon [1] == 0) {
        snprintf (error, error_size, "invalid address '%s' (want HOST:PORT)", address);
        return -1;
    }
    size_t host_len = (size_t) (colon - address);
    const char *host_start = address;
    if (address [0] == '[' && colon [-1] == ']') {
        host_start++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof host) {
        snprintf (error, error_size, "invalid address '%s' (want HOST:PORT)", address);
        return -1;
    }
    memcpy (host, host_start, host_len);
    host [host_len] = 0;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf (error, error_size, "invalid port in '%s'", address);
        return -1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = type,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    if (strcmp (host, "*") == 0)
        strcpy (host, "0.0.0.0");
    int rc = getaddrinfo (host, colon + 1, &hints, result);
    if (rc != 0) {
        snprintf (error, error_size, "cannot resolve '%s': %s", address, gai_strerror (rc));
        return -1;
    }
    return 0;
}

//  Creates and binds a socket on the first resolved address.
static int
s_bind_type (const char *address, int type, bool shared, bool listen_now,
             char *error, size_t error_size)
{
    struct addrinfo *result;
    if (s_resolve (address, type, &result, error, error_size))
        return -1;
    int fd = socket (result->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf (error, error_size, "cannot open socket for %s: %s", address, strerror (errno));
        freeaddrinfo (result);
        return -1;
    }
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (shared)
        setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (bind (fd, result->ai_addr, result->ai_addrlen) < 0
    || (listen_now && listen (fd, 1024) < 0)) {
        snprintf (error, error_size, "cannot %s on %s: %s", type == SOCK_DGRAM? "bind UDP": "listen",
                  address, strerror (errno));
        close (fd);
        freeaddrinfo (result);
        return -1;
    }
    freeaddrinfo (result);
    return fd;
}

//  Creates and binds a TCP socket on the first resolved address.
static int
s_bind (const char *address, bool shared, bool listen_now, char *error, size_t error_size)
{
    return s_bind_type (address, SOCK_STREAM, shared, listen_now, error, error_size);
}

int
zch_net_udp_bind (const char *address, bool shared, char *error, size_t error_size)
{
    int fd = s_bind_type (address, SOCK_DGRAM, shared, false, error, error_size);
    //  Room for bursts: UDP has no back-pressure, what overflows is lost
    int size = 4 * 1024 * 1024;
    if (fd >= 0)
        setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return fd;
}

int
zch_net_udp_check_free (const char *address, char *error, size_t error_size)
{
    int fd = s_bind_type (address, SOCK_DGRAM, false, false, error, error_size);
    if (fd < 0)
        return -1;
    close (fd);
    return 0;
}

int
zch_net_listen (const char *address, bool shared, char *error, size_t error_size)
{
    return s_bind (address, shared, true, error, error_size);
}

int
zch_net_check_free (const char *address, char *error, size_t error_size)
{
    //  A plain bind fails while any socket, shared or not, listens there.
    int fd = s_bind (address, false, false, error, error_size);
    if (fd < 0)
        return -1;
    close (fd);
    return 0;
}

char *
zch_net_peer_name (int fd, char *out, size_t out_size)
{
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    char host [INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername (fd, (struct sockaddr *) &peer, &peer_len) == 0) {
        if (peer.ss_family == AF_INET) {
            struct sockaddr_in *in4 = (struct sockaddr_in *) &peer;
            inet_ntop (AF_INET, &in4->sin_addr, host, sizeof host);
            port = ntohs (in4->sin_port);
        }
        else
        if (peer.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &peer;
            inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
            port = ntohs (in6->sin6_port);
        }
    }
    snprintf (out, out_size, "%s:%d", host, port);
    return out;
}
