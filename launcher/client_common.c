/*  client_common: connection, line reading and writing for the client
    tools. See client_common.h.                                            */
#include "client_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_BUF_INITIAL (64 * 1024)

int
client_options_read (const char *prog, const zch_option_t *table, void *args,
                     client_shared_t *shared, int argc, char **argv,
                     const char **positional, int max)
{
    zch_option_defaults (table, args);
    char reason [512];
    int count = zch_option_argv (table, args, argc, argv, positional, max, reason, sizeof reason);
    if (count < 0) {
        client_usage_error (prog, "%s", reason);
        return -1;
    }
    shared->workerman = shared->profile == 1;
    shared->tls = (client_tls_t) {
        .on = shared->tls_on || *shared->tls_ca, .ca = *shared->tls_ca? shared->tls_ca: NULL
    };
    return count;
}

int
client_port_check (const char *text, char *reason, size_t reason_size)
{
    int port;
    if (*text == 0 || client_port_parse (text, &port) == 0)
        return 0;
    snprintf (reason, reason_size, "wants a port number from 1 to 65535, not '%s'", text);
    return -1;
}

//  Parses a TCP port number, refusing signs, junk and out-of-range values.
int
client_port_parse (const char *text, int *port)
{
    if (!text || *text < '0' || *text > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long value = strtoul (text, &end, 10);
    if (errno || *end || value < 1 || value > 65535)
        return -1;
    *port = (int) value;
    return 0;
}

//  Tells whether text can be sent as one space-free token on a line.
bool
client_token_valid (const char *text)
{
    if (!*text)
        return false;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

//  One-line usage errors, so scripts and people see the cause at once.
void
client_usage_error (const char *prog, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "%s: ", prog);
    vfprintf (stderr, format, args);
    fprintf (stderr, " (see --help)\n");
    va_end (args);
}

//  Prints "<prog>: host:port: what[: reason]" on stderr; IPv6 literals
//  get brackets so the port stays readable.
void
client_link_complain (client_link_t *link, const char *what, const char *reason)
{
    bool v6 = strchr (link->host, ':') != NULL;
    fprintf (stderr, "%s: %s%s%s:%d: %s%s%s\n", link->prog,
             v6 ? "[" : "", link->host, v6 ? "]" : "", link->port, what,
             reason ? ": " : "", reason ? reason : "");
}

//  Explains a failed fill or read_line result on stderr.
void
client_link_complain_fill (client_link_t *link, int rc)
{
    if (rc == CLIENT_FILL_CLOSED)
        client_link_complain (link, "connection closed by server", NULL);
    else
    if (rc == CLIENT_FILL_TIMEOUT)
        client_link_complain (link, "no answer from server", NULL);
    else
    if (rc == CLIENT_LINE_TOO_LONG)
        client_link_complain (link, "server sent a line that is too long", NULL);
    else
        client_link_complain (link, "read failed", strerror (errno));
}

//  Tries each address host resolves to until one connects; returns the
//  socket, or -1 with *reason saying why the last attempt failed.
static int
s_connect_any (const char *host, int port, const char **reason)
{
    char service [16];
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list;
    int rc = getaddrinfo (host, service, &hints, &list);
    if (rc) {
        *reason = gai_strerror (rc);
        return -1;
    }
    int fd = -1;
    *reason = "no address";
    for (struct addrinfo *ai = list; ai && fd == -1; ai = ai->ai_next) {
        fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1)
            *reason = strerror (errno);
        else
        if (connect (fd, ai->ai_addr, ai->ai_addrlen) == -1) {
            *reason = strerror (errno);
            close (fd);
            fd = -1;
        }
    }
    freeaddrinfo (list);
    return fd;
}

//  Why the last TLS call failed, for the user: the certificate check's
//  verdict when that is what failed, else OpenSSL's first error.
static void
s_tls_reason (client_link_t *link, char *reason, size_t size)
{
    long verify = link->tls? SSL_get_verify_result (link->tls): X509_V_OK;
    unsigned long error = ERR_get_error ();
    if (verify != X509_V_OK)
        snprintf (reason, size, "the server's certificate is not trusted: %s",
                  X509_verify_cert_error_string (verify));
    else
    if (error)
        ERR_error_string_n (error, reason, size);
    else
        snprintf (reason, size, "the connection closed (not a TLS port?)");
    ERR_clear_error ();
}

//  The TLS handshake on the connected (blocking) socket: the server must
//  show a certificate from a trusted CA that names host (an address or
//  a DNS name). Returns 0, or -1 after saying why.
static int
s_tls_start (client_link_t *link, const client_tls_t *tls)
{
    char reason [256];
    link->tls_ctx = SSL_CTX_new (TLS_client_method ());
    if (!link->tls_ctx) {
        s_tls_reason (link, reason, sizeof reason);
        client_link_complain (link, "cannot set up TLS", reason);
        return -1;
    }
    SSL_CTX_set_min_proto_version (link->tls_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify (link->tls_ctx, SSL_VERIFY_PEER, NULL);
    //  The pub loop hands over as much as it has and retries from a buffer
    //  that may have moved
    SSL_CTX_set_mode (link->tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                                   | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (tls->ca? SSL_CTX_load_verify_locations (link->tls_ctx, tls->ca, NULL) != 1:
                 SSL_CTX_set_default_verify_paths (link->tls_ctx) != 1) {
        s_tls_reason (link, reason, sizeof reason);
        char what [300];
        snprintf (what, sizeof what, "cannot load the CA %s", tls->ca? tls->ca: "(system)");
        client_link_complain (link, what, reason);
        return -1;
    }
    link->tls = SSL_new (link->tls_ctx);
    if (!link->tls || SSL_set_fd (link->tls, link->fd) != 1) {
        s_tls_reason (link, reason, sizeof reason);
        client_link_complain (link, "cannot set up TLS", reason);
        return -1;
    }
    unsigned char address [16];
    X509_VERIFY_PARAM *param = SSL_get0_param (link->tls);
    if (inet_pton (AF_INET, link->host, address) == 1 || inet_pton (AF_INET6, link->host, address) == 1)
        X509_VERIFY_PARAM_set1_ip_asc (param, link->host);
    else {
        SSL_set_tlsext_host_name (link->tls, link->host);
        X509_VERIFY_PARAM_set1_host (param, link->host, 0);
    }
    if (SSL_connect (link->tls) != 1) {
        s_tls_reason (link, reason, sizeof reason);
        client_link_complain (link, "TLS handshake failed", reason);
        return -1;
    }
    return 0;
}

//  Opens the connection (with TLS when asked) and the read buffer of a link.
int
client_link_open (client_link_t *link, const char *prog, const char *host, int port,
                  const client_tls_t *tls)
{
    *link = (client_link_t) { .prog = prog, .host = host, .port = port, .fd = -1 };
    const char *reason;
    link->fd = s_connect_any (host, port, &reason);
    if (link->fd == -1) {
        client_link_complain (link, "cannot connect", reason);
        return -1;
    }
    if (tls && tls->on && s_tls_start (link, tls)) {
        client_link_close (link);
        return -1;
    }
    link->cap = CLIENT_BUF_INITIAL;
    link->buf = malloc (link->cap);
    if (!link->buf) {
        client_link_complain (link, "out of memory", NULL);
        client_link_close (link);
        return -1;
    }
    return 0;
}

//  Releases a link's socket and buffer; idempotent.
void
client_link_close (client_link_t *link)
{
    if (link->tls) {
        SSL_shutdown (link->tls);
        SSL_free (link->tls);
        link->tls = NULL;
    }
    SSL_CTX_free (link->tls_ctx);
    link->tls_ctx = NULL;
    if (link->fd != -1)
        close (link->fd);
    link->fd = -1;
    free (link->buf);
    link->buf = NULL;
    link->start = link->len = link->cap = link->scanned = 0;
}

//  Switches the link's socket to non-blocking mode for poll loops.
int
client_link_set_nonblocking (client_link_t *link)
{
    int flags = fcntl (link->fd, F_GETFL);
    if (flags == -1 || fcntl (link->fd, F_SETFL, flags | O_NONBLOCK) == -1)
        return -1;
    return 0;
}

//  Makes room at the end of the buffer: drops consumed bytes, then grows.
static int
s_link_make_room (client_link_t *link)
{
    if (link->start > 0) {
        memmove (link->buf, link->buf + link->start, link->len - link->start);
        link->len -= link->start;
        link->start = 0;
    }
    if (link->len < link->cap)
        return 0;
    char *bigger = realloc (link->buf, link->cap * 2);
    if (!bigger)
        return -1;
    link->buf = bigger;
    link->cap *= 2;
    return 0;
}

//  Maps a failed TLS read or write to errno (EAGAIN: try again later) and
//  returns -1, or 0 when the server closed the connection.
static ssize_t
s_tls_failed (client_link_t *link, int rc)
{
    int error = SSL_get_error (link->tls, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    if (error != SSL_ERROR_SYSCALL)
        errno = EPROTO;
    ERR_clear_error ();
    return -1;
}

//  Reads from the socket, through TLS when on.
static ssize_t
s_read (client_link_t *link, char *buf, size_t len)
{
    if (!link->tls)
        return read (link->fd, buf, len);
    size_t got = 0;
    int rc = SSL_read_ex (link->tls, buf, len, &got);
    return rc == 1? (ssize_t) got: s_tls_failed (link, rc);
}

ssize_t
client_link_send (client_link_t *link, const char *buf, size_t len)
{
    if (!link->tls)
        return send (link->fd, buf, len, MSG_NOSIGNAL);
    size_t put = 0;
    int rc = SSL_write_ex (link->tls, buf, len, &put);
    if (rc == 1)
        return (ssize_t) put;
    ssize_t failed = s_tls_failed (link, rc);
    if (failed == 0)
        errno = EPIPE;
    return -1;
}

bool
client_link_buffered (client_link_t *link)
{
    return link->tls && SSL_pending (link->tls) > 0;
}

//  Reads what the socket has into the buffer, once.
int
client_link_fill (client_link_t *link)
{
    if (s_link_make_room (link)) {
        errno = ENOMEM;
        return CLIENT_FILL_ERROR;
    }
    ssize_t got;
    do
        got = s_read (link, link->buf + link->len, link->cap - link->len);
    while (got == -1 && errno == EINTR);
    if (got > 0) {
        link->len += (size_t) got;
        return CLIENT_FILL_OK;
    }
    if (got == 0)
        return CLIENT_FILL_CLOSED;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return CLIENT_FILL_AGAIN;
    return CLIENT_FILL_ERROR;
}

//  Cuts the next whole line out of the buffer, remembering how far it
//  looked so a long line is not rescanned on every fill.
int
client_link_line (client_link_t *link, char **line, size_t *line_len)
{
    char *from = link->buf + link->start;
    size_t avail = link->len - link->start;
    char *lf = memchr (from + link->scanned, '\n', avail - link->scanned);
    if (!lf) {
        link->scanned = avail;
        return avail > CLIENT_LINE_MAX ? CLIENT_LINE_TOO_LONG : CLIENT_LINE_NONE;
    }
    size_t n = (size_t) (lf - from);
    link->start += n + 1;
    link->scanned = 0;
    if (n > 0 && from [n - 1] == '\r')
        n--;
    from [n] = '\0';
    *line = from;
    *line_len = n;
    return CLIENT_LINE_FOUND;
}

//  Milliseconds on the monotonic clock, for deadlines.
int64_t
client_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Waits for one line with a deadline; used for handshakes.
int
client_link_read_line (client_link_t *link, int timeout_ms, char **line, size_t *line_len)
{
    int64_t deadline = client_now_ms () + timeout_ms;
    while (true) {
        int rc = client_link_line (link, line, line_len);
        if (rc != CLIENT_LINE_NONE)
            return rc;
        rc = client_link_await (link, deadline);
        if (rc < 0)
            return rc;
    }
}

int
client_link_await (client_link_t *link, int64_t deadline)
{
    int64_t left = deadline - client_now_ms ();
    if (left <= 0)
        return CLIENT_FILL_TIMEOUT;
    if (client_link_buffered (link))
        return client_link_fill (link);
    struct pollfd pfd = { .fd = link->fd, .events = POLLIN };
    int rc = poll (&pfd, 1, (int) left);
    if (rc == -1 && errno != EINTR)
        return CLIENT_FILL_ERROR;
    if (rc > 0 && link->tls) {
        //  Bytes on the socket need not make a whole TLS record yet
        rc = client_link_fill (link);
        return rc == CLIENT_FILL_AGAIN? CLIENT_FILL_OK: rc;
    }
    return rc <= 0? CLIENT_FILL_OK: client_link_fill (link);
}

//  Writes a whole buffer, waiting out a full socket buffer.
int
client_link_write (client_link_t *link, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t put = client_link_send (link, buf, len);
        if (put >= 0) {
            buf += put;
            len -= (size_t) put;
        }
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd pfd = { .fd = link->fd, .events = POLLOUT };
            if (poll (&pfd, 1, -1) == -1 && errno != EINTR)
                return -1;
        }
        else
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

//  Waits for one line of the handshake (greeting, a first reply). Returns
//  0 with *line set, or -1 after saying what went wrong.
static int
s_handshake_line (client_link_t *link, char **line)
{
    size_t len;
    int rc = client_link_read_line (link, CLIENT_HANDSHAKE_MS, line, &len);
    if (rc == CLIENT_LINE_FOUND)
        return 0;
    client_link_complain_fill (link, rc);
    return -1;
}

//  Checks the front-end's greeting, so a wrong port fails clearly.
int
client_link_greet (client_link_t *link, const char *greeting)
{
    char *line;
    if (s_handshake_line (link, &line))
        return -1;
    if (strncmp (line, "-ERR", 4) == 0) {
        client_link_complain (link, "server refused the connection", line);
        return -1;
    }
    if (strcmp (line, greeting) != 0) {
        client_link_complain (link, "unexpected greeting (wrong port?)", line);
        return -1;
    }
    return 0;
}

//  Sends one command line and insists on "+OK" as the answer.
int
client_link_command (client_link_t *link, const char *command)
{
    return client_link_command_detail (link, command, NULL, 0);
}

int
client_link_command_detail (client_link_t *link, const char *command, char *detail, size_t cap)
{
    if (client_link_write (link, command, strlen (command))) {
        client_link_complain (link, "write failed", strerror (errno));
        return -1;
    }
    char *line;
    if (s_handshake_line (link, &line))
        return -1;
    if (strncmp (line, "+OK", 3) == 0 && (line [3] == '\0' || line [3] == ' ')) {
        if (detail && cap)
            snprintf (detail, cap, "%s", line [3]? line + 4: "");
        return 0;
    }
    client_link_complain (link, strncmp (line, "-ERR", 4) == 0
                          ? "server error" : "unexpected reply", line);
    return -1;
}

int
client_link_auth (client_link_t *link, const char *token)
{
    if (!token || !*token)
        return 0;
    if (!client_token_valid (token)) {
        client_usage_error (link->prog, "invalid token: no spaces or control characters");
        return -1;
    }
    size_t size = strlen (token) + 7;
    char *command = malloc (size);
    if (!command) {
        fprintf (stderr, "%s: out of memory\n", link->prog);
        return -1;
    }
    snprintf (command, size, "AUTH %s\n", token);
    int rc = client_link_command (link, command);
    free (command);
    return rc;
}
