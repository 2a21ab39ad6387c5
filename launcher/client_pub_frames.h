/*  client_pub_frames: `zchannel pub` over the frame protocol. Private to
    the launcher's client tools.                                            */
#ifndef CLIENT_PUB_FRAMES_H_INCLUDED
#define CLIENT_PUB_FRAMES_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "client_common.h"

//  Publishes the contents of file (one payload; "-" for stdin), or message,
//  or, with both NULL, one message per line of stdin, to topic at
//  host:port's frame port (over TLS as tls says), each with headers (a
//  msgpack map, or NULL).
//  Returns a CLIENT_EXIT_* code after reporting failures on stderr.
int client_pub_frames (const char *host, int port, const client_tls_t *tls, const char *topic,
                       const char *message,
                       const char *file, const uint8_t *headers, size_t headers_size);

#endif
