/*  zch_net: TCP listening sockets for the front-ends.                       */
#ifndef ZCH_NET_H_INCLUDED
#define ZCH_NET_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Opens a non-blocking TCP listener on address "HOST:PORT" ("[v6]:PORT"
//  for IPv6). With shared, sets SO_REUSEPORT so that several workers of one
//  process bind the same port and the kernel spreads connections. Returns
//  the descriptor, or -1 with a one-line reason in error.
int zch_net_listen (const char *address, bool shared, char *error, size_t error_size);

//  Checks that nothing else listens on address, so that SO_REUSEPORT does
//  not silently share a port with another program. Returns 0, or -1 with a
//  one-line reason in error.
int zch_net_check_free (const char *address, char *error, size_t error_size);

//  The same two for UDP: a non-blocking datagram socket bound to address
//  (shared: SO_REUSEPORT, the kernel spreads datagrams over the sockets),
//  and the check that no other socket has that port.
int zch_net_udp_bind (const char *address, bool shared, char *error, size_t error_size);
int zch_net_udp_check_free (const char *address, char *error, size_t error_size);

//  Writes "ip:port" of the socket's peer into out. Returns out.
char *zch_net_peer_name (int fd, char *out, size_t out_size);

#endif
