/*  zch_tls: non-blocking OpenSSL for the TCP edge.                         */
#include "zch_tls.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

struct zch_tls_t {
    SSL_CTX *ctx;
};

struct zch_tls_conn_t {
    SSL *ssl;
    uint32_t read_wants;        //  what the last read waits for
    uint32_t write_wants;       //  what the last write waits for
    char error [160];
};

//  Writes the oldest queued OpenSSL error, or fallback, into error.
static void
s_error_text (char *error, size_t error_size, const char *what, const char *fallback)
{
    unsigned long code = ERR_get_error ();
    char reason [256];
    if (code)
        ERR_error_string_n (code, reason, sizeof reason);
    int len = snprintf (error, error_size, "%s: ", what);
    if (len >= 0 && (size_t) len < error_size)
        snprintf (error + len, error_size - (size_t) len, "%s", code? reason: fallback);
    ERR_clear_error ();
}

zch_tls_t *
zch_tls_new (const char *cert, const char *key, const char *ca, char *error, size_t error_size)
{
    zch_tls_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->ctx = SSL_CTX_new (TLS_server_method ());
    if (!self->ctx) {
        s_error_text (error, error_size, "TLS", "cannot create a context");
        goto failed;
    }
    SSL_CTX_set_min_proto_version (self->ctx, TLS1_2_VERSION);
    //  A peer that just closes its socket ends its stream like any TCP client
    SSL_CTX_set_options (self->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    //  The edge retries from wherever its output buffer now is
    SSL_CTX_set_mode (self->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                               | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file (self->ctx, cert) != 1) {
        s_error_text (error, error_size, cert, "cannot load the certificate");
        goto failed;
    }
    if (SSL_CTX_use_PrivateKey_file (self->ctx, key, SSL_FILETYPE_PEM) != 1) {
        s_error_text (error, error_size, key, "cannot load the key");
        goto failed;
    }
    if (SSL_CTX_check_private_key (self->ctx) != 1) {
        s_error_text (error, error_size, key, "does not match the certificate");
        goto failed;
    }
    if (ca) {
        if (SSL_CTX_load_verify_locations (self->ctx, ca, NULL) != 1) {
            s_error_text (error, error_size, ca, "cannot load the CA certificates");
            goto failed;
        }
        SSL_CTX_set_verify (self->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return self;
failed:
    zch_tls_destroy (&self);
    return NULL;
}

void
zch_tls_destroy (zch_tls_t **self_p)
{
    zch_tls_t *self = *self_p;
    if (!self)
        return;
    SSL_CTX_free (self->ctx);
    free (self);
    *self_p = NULL;
}

void
zch_tls_thread_end (void)
{
    OPENSSL_thread_stop ();
}

zch_tls_conn_t *
zch_tls_conn_new (zch_tls_t *tls, int fd)
{
    zch_tls_conn_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ssl = SSL_new (tls->ctx);
    if (!self->ssl || SSL_set_fd (self->ssl, fd) != 1) {
        SSL_free (self->ssl);
        free (self);
        ERR_clear_error ();
        return NULL;
    }
    SSL_set_accept_state (self->ssl);
    return self;
}

void
zch_tls_conn_destroy (zch_tls_conn_t **self_p)
{
    zch_tls_conn_t *self = *self_p;
    if (!self)
        return;
    if (SSL_is_init_finished (self->ssl))
        SSL_shutdown (self->ssl);       //  one try: the socket does not block
    SSL_free (self->ssl);
    ERR_clear_error ();
    free (self);
    *self_p = NULL;
}

//  Maps an OpenSSL result to recv/send's: sets errno and *wants.
static ssize_t
s_result (zch_tls_conn_t *self, int rc, uint32_t *wants)
{
    *wants = 0;
    if (rc > 0)
        return rc;
    int code = SSL_get_error (self->ssl, rc);
    switch (code) {
        case SSL_ERROR_WANT_READ:
            *wants = EPOLLIN;
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_WANT_WRITE:
            *wants = EPOLLOUT;
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_ZERO_RETURN:
            return 0;                   //  close_notify: a clean end
        case SSL_ERROR_SYSCALL:
            if (errno == 0 || errno == EAGAIN) {
                snprintf (self->error, sizeof self->error, "connection ended without close_notify");
                ERR_clear_error ();
                return 0;
            }
            snprintf (self->error, sizeof self->error, "%s", strerror (errno));
            ERR_clear_error ();
            return -1;
        default:
            s_error_text (self->error, sizeof self->error, "TLS", "protocol error");
            errno = EPROTO;
            return -1;
    }
}

ssize_t
zch_tls_read (zch_tls_conn_t *self, void *buf, size_t len)
{
    ERR_clear_error ();
    errno = 0;
    int rc = SSL_read (self->ssl, buf, len > INT32_MAX? INT32_MAX: (int) len);
    return s_result (self, rc, &self->read_wants);
}

ssize_t
zch_tls_write (zch_tls_conn_t *self, const void *buf, size_t len)
{
    ERR_clear_error ();
    errno = 0;
    int rc = SSL_write (self->ssl, buf, len > INT32_MAX? INT32_MAX: (int) len);
    ssize_t sent = s_result (self, rc, &self->write_wants);
    if (sent == 0) {
        errno = EPIPE;                  //  the peer ended: nothing more goes out
        return -1;
    }
    return sent;
}

uint32_t
zch_tls_wants (zch_tls_conn_t *self)
{
    return self->read_wants | self->write_wants;
}

const char *
zch_tls_error (zch_tls_conn_t *self)
{
    return self->error [0]? self->error: "TLS error";
}
