/*  bench_net: addresses, sockets, process sizes and number arguments for
    the bench programs.                                                     */
#ifndef BENCH_NET_H_INCLUDED
#define BENCH_NET_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

//  Splits "host:port" (or "[v6-address]:port") into host, copied into a
//  buffer of host_size bytes, and port. Returns 0, or -1 if text is not
//  such an address.
int bench_addr_parse (const char *text, char *host, size_t host_size, int *port);

//  Connects to host:port (blocking), then makes the socket non-blocking
//  with TCP_NODELAY. Returns the socket, or -1 after printing why on
//  stderr. The caller closes it.
int bench_connect (const char *host, int port);

//  Prints count distinct TCP ports that are free on 127.0.0.1, on one
//  line, for scripts. They are picked below the kernel's ephemeral range
//  (at random in 20000..32767), so outgoing connections do not take them
//  before the server binds. Returns 0, or -1 after printing why.
int bench_free_ports (int count);

//  Sum of the resident set sizes (VmRSS) of the processes pids, in KiB,
//  read from /proc; a process that is gone counts 0.
uint64_t bench_rss_kib (const int *pids, int count);

//  CPU time (user + system, all threads) the processes pids have used so
//  far, in seconds, read from /proc; a process that is gone counts 0.
double bench_cpu_seconds (const int *pids, int count);

//  Parses an unsigned decimal in [low, high] (a command-line value).
//  Returns 0, or -1 for anything else.
int bench_number (const char *text, uint64_t low, uint64_t high, uint64_t *value);

#endif
