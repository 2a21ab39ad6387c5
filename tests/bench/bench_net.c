/*  bench_net: addresses, sockets and process sizes for zch_bench. See
    bench_net.h.                                                           */
#include "bench_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FREE_PORT_LOW   20000
#define FREE_PORT_HIGH  32767
#define FREE_PORT_MAX   64

//  Splits host:port, accepting brackets around an IPv6 host.
int
bench_addr_parse (const char *text, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text)
        return -1;
    const char *from = text, *to = colon;
    if (*text == '[') {
        if (to [-1] != ']')
            return -1;
        from++;
        to--;
    }
    size_t len = (size_t) (to - from);
    if (len == 0 || len >= host_size)
        return -1;
    char *end;
    long value = strtol (colon + 1, &end, 10);
    if (colon [1] < '0' || colon [1] > '9' || *end || value < 1 || value > 65535)
        return -1;
    memcpy (host, from, len);
    host [len] = '\0';
    *port = (int) value;
    return 0;
}

//  Makes a connected socket ready for the event loop.
static int
s_socket_tune (int fd)
{
    int one = 1;
    int flags = fcntl (fd, F_GETFL);
    if (flags == -1 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) == -1)
        return -1;
    //  Only meaningful for TCP; harmless to ignore where it is not
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

//  Resolves host and connects to the first address that answers.
int
bench_connect (const char *host, int port)
{
    char service [16];
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list;
    int rc = getaddrinfo (host, service, &hints, &list);
    if (rc) {
        fprintf (stderr, "zch_bench: %s:%d: %s\n", host, port, gai_strerror (rc));
        return -1;
    }
    int fd = -1, error = 0;
    for (struct addrinfo *ai = list; ai && fd == -1; ai = ai->ai_next) {
        fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd != -1 && connect (fd, ai->ai_addr, ai->ai_addrlen) == -1) {
            error = errno;
            close (fd);
            fd = -1;
        }
        else
        if (fd == -1)
            error = errno;
    }
    freeaddrinfo (list);
    if (fd == -1 || s_socket_tune (fd)) {
        fprintf (stderr, "zch_bench: cannot connect to %s:%d: %s\n", host, port,
                 strerror (fd == -1 ? error : errno));
        if (fd != -1)
            close (fd);
        return -1;
    }
    return fd;
}

//  Binds a socket to 127.0.0.1:port; returns it, or -1 if taken.
static int
s_port_hold (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == -1) {
        close (fd);
        return -1;
    }
    return fd;
}

//  Finds free ports by binding them all at once, so they are distinct.
int
bench_free_ports (int count)
{
    if (count < 1 || count > FREE_PORT_MAX) {
        fprintf (stderr, "zch_bench: --free-ports takes 1..%d\n", FREE_PORT_MAX);
        return -1;
    }
    int held [FREE_PORT_MAX], ports [FREE_PORT_MAX], found = 0;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    srand ((unsigned) (ts.tv_nsec ^ getpid ()));
    for (int tries = 0; found < count && tries < 10000; tries++) {
        int port = FREE_PORT_LOW + rand () % (FREE_PORT_HIGH - FREE_PORT_LOW + 1);
        int fd = s_port_hold (port);
        if (fd != -1) {
            held [found] = fd;
            ports [found++] = port;
        }
    }
    for (int i = 0; i < found; i++) {
        printf ("%d%s", ports [i], i + 1 < found ? " " : "\n");
        close (held [i]);
    }
    if (found < count) {
        fprintf (stderr, "zch_bench: found only %d free ports\n", found);
        return -1;
    }
    return 0;
}

//  Reads VmRSS from each /proc/<pid>/status.
uint64_t
bench_rss_kib (const int *pids, int count)
{
    uint64_t total = 0;
    for (int i = 0; i < count; i++) {
        char path [64], line [256];
        snprintf (path, sizeof path, "/proc/%d/status", pids [i]);
        FILE *file = fopen (path, "r");
        if (!file)
            continue;
        while (fgets (line, sizeof line, file)) {
            unsigned long long kib;
            if (sscanf (line, "VmRSS: %llu kB", &kib) == 1) {
                total += kib;
                break;
            }
        }
        fclose (file);
    }
    return total;
}

//  Reads utime and stime (fields 14 and 15) from each /proc/<pid>/stat.
double
bench_cpu_seconds (const int *pids, int count)
{
    double total = 0;
    long ticks = sysconf (_SC_CLK_TCK);
    for (int i = 0; i < count; i++) {
        char path [64], text [1024];
        snprintf (path, sizeof path, "/proc/%d/stat", pids [i]);
        FILE *file = fopen (path, "r");
        if (!file)
            continue;
        size_t len = fread (text, 1, sizeof text - 1, file);
        fclose (file);
        text [len] = '\0';
        //  The command name may hold spaces: fields start after its ')'
        const char *at = strrchr (text, ')');
        unsigned long long utime, stime;
        if (at && sscanf (at + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                          &utime, &stime) == 2 && ticks > 0)
            total += (double) (utime + stime) / (double) ticks;
    }
    return total;
}

int
bench_number (const char *text, uint64_t low, uint64_t high, uint64_t *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (*text < '0' || *text > '9' || *end || errno || v < low || v > high)
        return -1;
    *value = v;
    return 0;
}
