/*  test_loopback: a real client connection on a loopback edge.            */
#include "test_loopback.h"
#include "zch_net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
s_on_line (void *ctx, zch_conn_t *conn, const char *line, size_t len)
{
    (void) line, (void) len;
    ((test_loopback_t *) ctx)->conn = conn;
    return ZCH_EDGE_NEXT;
}

static void
s_on_close (void *ctx, zch_conn_t *conn)
{
    (void) ctx, (void) conn;
}

int
test_loopback_open (test_loopback_t *self)
{
    memset (self, 0, sizeof *self);
    self->client = -1;
    char error [256];
    self->loop = zch_loop_new ();
    int listen_fd = self->loop? zch_net_listen ("127.0.0.1:0", false, error, sizeof error): -1;
    if (listen_fd < 0) {
        test_loopback_close (self);
        return -1;
    }
    struct sockaddr_in address;
    socklen_t size = sizeof address;
    getsockname (listen_fd, (struct sockaddr *) &address, &size);
    static const zch_edge_handlers_t handlers = { .on_line = s_on_line, .on_close = s_on_close };
    static zch_edge_config_t config = { .role = "test", .max_line = 1024, .max_output = 1 << 20 };
    self->edge = zch_edge_new (self->loop, listen_fd, &config, &handlers, self);
    self->client = socket (AF_INET, SOCK_STREAM, 0);
    if (!self->edge || self->client < 0 || connect (self->client, (struct sockaddr *) &address, size)
    ||  write (self->client, "hello\n", 6) != 6) {
        test_loopback_close (self);
        return -1;
    }
    for (int i = 0; i < 200 && !self->conn; i++)
        zch_loop_run_once (self->loop, 10);
    if (!self->conn) {
        test_loopback_close (self);
        return -1;
    }
    return 0;
}

void
test_loopback_close (test_loopback_t *self)
{
    zch_edge_destroy (&self->edge);
    if (self->client >= 0)
        close (self->client);
    self->client = -1;
    zch_loop_destroy (&self->loop);
    self->conn = NULL;
}
