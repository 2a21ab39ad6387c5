/*  zch_tls: TLS for the TCP edge, with OpenSSL, non-blocking.

    One zch_tls_t (an SSL_CTX: certificate, key, optional CA for client
    certificates) serves every worker of a front-end; each client gets a
    zch_tls_conn_t. Reads and writes look like recv and send: they return
    bytes, 0 at end of stream, or -1 with errno EAGAIN when the engine
    must wait, or another errno when the connection failed. While it
    waits, zch_tls_wants says which socket readiness it waits for, which
    may be the other direction (a write that needs to read a handshake
    record, a read that needs to write one). The handshake runs inside
    the first read or write, so the greeting goes out encrypted.           */
#ifndef ZCH_TLS_H_INCLUDED
#define ZCH_TLS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct zch_tls_t zch_tls_t;
typedef struct zch_tls_conn_t zch_tls_conn_t;

//  A server context from PEM files: cert (chain), key, and, when ca is
//  not NULL, the CAs a client certificate must come from (then one is
//  required). Returns NULL with a one-line reason in error.
zch_tls_t *zch_tls_new (const char *cert, const char *key, const char *ca,
                        char *error, size_t error_size);

//  Frees the context and NULLs the pointer; connections must be gone.
void zch_tls_destroy (zch_tls_t **self_p);

//  Frees what OpenSSL keeps for the calling thread (its random generators).
//  A worker calls it last: OpenSSL would free them as the thread exits, but
//  the process may end first, and that state is then lost, not freed.
void zch_tls_thread_end (void);

//  A server-side connection over the accepted socket fd (not taken over).
//  Returns NULL when out of memory.
zch_tls_conn_t *zch_tls_conn_new (zch_tls_t *tls, int fd);

//  Sends a close_notify when it can without blocking, frees the
//  connection and NULLs the pointer. Does not close the socket.
void zch_tls_conn_destroy (zch_tls_conn_t **self_p);

//  Like recv: bytes read, 0 at end of stream, -1 with errno set.
ssize_t zch_tls_read (zch_tls_conn_t *self, void *buf, size_t len);

//  Like send: bytes taken (possibly fewer than len), -1 with errno set.
//  After EAGAIN call again with the same bytes (more may follow them).
ssize_t zch_tls_write (zch_tls_conn_t *self, const void *buf, size_t len);

//  Epoll events the engine waits for besides the caller's own (EPOLLIN
//  and/or EPOLLOUT), after a read or write returned EAGAIN.
uint32_t zch_tls_wants (zch_tls_conn_t *self);

//  Why the last read or write failed, for the log (a static or
//  thread-local text).
const char *zch_tls_error (zch_tls_conn_t *self);

#endif
