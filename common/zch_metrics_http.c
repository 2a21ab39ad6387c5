/*  zch_metrics_http: the Prometheus endpoint, served by libmicrohttpd in
    its own thread; every request renders the sums afresh.                  */
#include "zch_metrics.h"
#include "zch_log.h"

#include <microhttpd.h>
#include <netdb.h>
#include <string.h>

struct zch_metrics_server_t {
    struct MHD_Daemon *daemon;
};

//  Queues a response of text (copied) with status.
static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned int status, const char *text)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        strlen (text), (void *) text, MHD_RESPMEM_MUST_COPY);
    if (!response)
        return MHD_NO;
    MHD_add_response_header (response, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

//  /readyz: 200 once every role serves, else 503 saying which does not.
static enum MHD_Result
s_readiness (struct MHD_Connection *connection)
{
    char why [256], text [300];
    bool ready = zch_metrics_ready (why, sizeof why);
    snprintf (text, sizeof text, ready? "ready\n": "not ready: %s\n", why);
    return s_reply (connection, ready? MHD_HTTP_OK: MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

//  Answers GET /metrics (and /) with the text format, /healthz (the
//  process answers: alive) and /readyz; 404 otherwise.
static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    (void) cls;
    (void) version;
    (void) upload_data;
    (void) upload_data_size;
    (void) state;
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
        return s_reply (connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
    if (strcmp (url, "/healthz") == 0)
        return s_reply (connection, MHD_HTTP_OK, "ok\n");
    if (strcmp (url, "/readyz") == 0)
        return s_readiness (connection);
    if (strcmp (url, "/metrics") != 0 && strcmp (url, "/") != 0)
        return s_reply (connection, MHD_HTTP_NOT_FOUND, "not found; try /metrics, /healthz, /readyz\n");
    char *text = zch_metrics_render ();
    if (!text)
        return s_reply (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    struct MHD_Response *response = MHD_create_response_from_buffer (strlen (text), text,
                                                                     MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (response, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response (connection, MHD_HTTP_OK, response);
    MHD_destroy_response (response);
    return rc;
}

//  Resolves "HOST:PORT", "[V6]:PORT" or "*:PORT" to a socket address.
static struct addrinfo *
s_resolve (const char *listen, char *error, size_t error_size)
{
    char host [256];
    const char *colon = strrchr (listen, ':');
    if (!colon || colon == listen || !colon [1] || (size_t) (colon - listen) >= sizeof host) {
        snprintf (error, error_size, "--metrics-listen wants HOST:PORT, not '%s'", listen);
        return NULL;
    }
    memcpy (host, listen, (size_t) (colon - listen));
    host [colon - listen] = 0;
    char *name = host;
    if (host [0] == '[' && host [strlen (host) - 1] == ']') {
        host [strlen (host) - 1] = 0;
        name = host + 1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (strcmp (name, "*") == 0? NULL: name, colon + 1, &hints, &found);
    if (rc) {
        snprintf (error, error_size, "metrics: cannot resolve %s: %s", listen, gai_strerror (rc));
        return NULL;
    }
    return found;
}

zch_metrics_server_t *
zch_metrics_server_new (const char *listen, char *error, size_t error_size)
{
    struct addrinfo *address = s_resolve (listen, error, error_size);
    if (!address)
        return NULL;
    zch_metrics_server_t *self = calloc (1, sizeof *self);
    if (self) {
        unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD;
        if (address->ai_family == AF_INET6)
            flags |= MHD_USE_IPv6;
        uint16_t port = ntohs (address->ai_family == AF_INET6
                               ? ((struct sockaddr_in6 *) address->ai_addr)->sin6_port
                               : ((struct sockaddr_in *) address->ai_addr)->sin_port);
        self->daemon = MHD_start_daemon (flags, port, NULL, NULL, s_answer, NULL,
                                         MHD_OPTION_SOCK_ADDR, address->ai_addr,
                                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
                                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                                         MHD_OPTION_END);
    }
    freeaddrinfo (address);
    if (!self || !self->daemon) {
        snprintf (error, error_size, "metrics: cannot listen on %s: %s", listen,
                  self? "address in use or not available": "out of memory");
        free (self);
        return NULL;
    }
    zch_notice ("metrics: serving Prometheus text on http://%s/metrics, and /healthz, /readyz", listen);
    return self;
}

void
zch_metrics_server_destroy (zch_metrics_server_t **self_p)
{
    zch_metrics_server_t *self = *self_p;
    if (!self)
        return;
    MHD_stop_daemon (self->daemon);
    free (self);
    *self_p = NULL;
}
