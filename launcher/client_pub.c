/*  client_pub: `zchannel pub`, a publisher over the source front-end's
    text protocol.

    It turns on VERBOSE so every PUB is answered with +OK or -ERR, then
    pipelines: while the socket takes bytes it keeps queueing messages,
    and it counts the answers as they come back, never waiting for one
    before sending the next. Replies arrive in the order of the commands,
    so the n-th answer belongs to the n-th message.                        */
#include "zchannel_client.h"
#include "client_common.h"
#include "client_frames.h"
#include "client_pub_frames.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_workerman.h"

#define PUB_PROG         "zchannel pub"
#define PUB_DEFAULT_HOST "127.0.0.1"
#define PUB_DEFAULT_PORT "2345"
#define PUB_GREETING     "Welcome to Data Source Server"
#define PUB_OUT_HIGH     (256 * 1024)   //  stop reading stdin above this backlog
#define PUB_READ_CHUNK   (64 * 1024)
#define PUB_ACK_WAIT_MS  30000          //  longest silence while owed answers

//  The command line
typedef struct {
    const char *host;
    int port;
    bool frame;
    const char *frame_port;     //  "" unless given
    const char *file;           //  "" unless given
    zch_option_list_t headers;
    client_shared_t shared;     //  --token, --profile, --tls, --tls-ca, --help
} pub_args_t;

//  A growable byte buffer
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} pub_buf_t;

typedef struct {
    client_link_t link;
    const char *topic;
    size_t topic_len;
    pub_buf_t out;              //  command lines to send
    size_t out_sent;            //  bytes of out already written
    pub_buf_t in;               //  stdin bytes that are not a whole line yet
    size_t in_scanned;          //  bytes of in known to hold no LF
    bool stdin_open;
    uint64_t queued;            //  messages put into out
    uint64_t answered;          //  +OK and -ERR answers received
    uint64_t errors;            //  -ERR answers received
    pub_args_t args;            //  the command line
    bool frame;                 //  the frame protocol: --frame, --frame-port, --file, --header
    int frame_port;
    uint8_t *header_entries;    //  msgpack key/value strings, count pairs
    size_t header_size;
    uint32_t header_count;
} pub_t;

//  The options' table
static const zch_option_t s_pub_table [] = {
    { "host", ZCH_OPT_STRING, offsetof (pub_args_t, host), PUB_DEFAULT_HOST, "HOST",
      "source front-end host", .letter = 'H' },
    { "port", ZCH_OPT_INT, offsetof (pub_args_t, port), PUB_DEFAULT_PORT, "PORT",
      "source front-end text port", .min = 1, .max = 65535, .letter = 'p' },
    { "frame", ZCH_OPT_BOOL, offsetof (pub_args_t, frame), "false", NULL,
      "use the source's frame port (binary-safe, headers)", .letter = 'F' },
    { "frame-port", ZCH_OPT_STRING, offsetof (pub_args_t, frame_port), "", "PORT",
      "the source's frame port (" CLIENT_SOURCE_FRAME_PORT_TEXT " when not given; implies --frame)",
      .check = client_port_check },
    { "file", ZCH_OPT_STRING, offsetof (pub_args_t, file), "", "PATH",
      "publish the whole file as one binary payload ('-': stdin; implies --frame)", .letter = 'f' },
    { "header", ZCH_OPT_LIST, offsetof (pub_args_t, headers), "", "K=V",
      "add a header (repeatable; implies --frame)", .letter = 'e' },
    { "profile", ZCH_OPT_CHOICE, offsetof (pub_args_t, shared.profile), "none", "NAME",
      "workerman: the source runs --profile workerman; TOPIC must be topic1, each line "
      "is sent as it is, nothing is answered", .choices = "none|workerman" },
    CLIENT_SHARED_OPTIONS (pub_args_t, shared),
    { .name = NULL }
};

//  Prints the usage text to stream.
static void
s_usage (FILE *stream)
{
    pub_args_t defaults;
    zch_option_defaults (s_pub_table, &defaults);
    fprintf (stream,
        "Usage: zchannel pub [OPTIONS] TOPIC [MESSAGE]\n"
        "Publish MESSAGE, or each line of standard input, to TOPIC.\n"
        "\n");
    zch_option_help (s_pub_table, &defaults, stream);
    fprintf (stream,
        "\n"
        "Without --file, MESSAGE and standard input are split into one message per\n"
        "line (at LF, a CR before it dropped): the text protocol cannot carry a\n"
        "newline inside a message. Exits 0 once the server acknowledged every\n"
        "message, 1 on any error (a -ERR or err answer, a lost connection), 2 on\n"
        "a usage error.\n");
}

//  Makes room for extra more bytes at the end of buf.
static int
s_buf_reserve (pub_buf_t *buf, size_t extra)
{
    if (buf->cap - buf->len >= extra)
        return 0;
    size_t cap = buf->cap ? buf->cap : PUB_READ_CHUNK;
    while (cap - buf->len < extra)
        cap *= 2;
    char *data = realloc (buf->data, cap);
    if (!data)
        return -1;
    buf->data = data;
    buf->cap = cap;
    return 0;
}

//  Drops the first n bytes of buf.
static void
s_buf_consume (pub_buf_t *buf, size_t n)
{
    memmove (buf->data, buf->data + n, buf->len - n);
    buf->len -= n;
}

//  Queues one message as a "PUB topic payload" line; a CR ending the
//  payload belongs to the line ending and is dropped.
static int
s_pub_queue (pub_t *self, const char *payload, size_t len)
{
    if (len > 0 && payload [len - 1] == '\r')
        len--;
    if (s_buf_reserve (&self->out, self->topic_len + len + 6))
        return -1;
    char *to = self->out.data + self->out.len;
    memcpy (to, "PUB ", 4);
    memcpy (to + 4, self->topic, self->topic_len);
    to [4 + self->topic_len] = ' ';
    memcpy (to + 5 + self->topic_len, payload, len);
    to [5 + self->topic_len + len] = '\n';
    self->out.len += self->topic_len + len + 6;
    self->queued++;
    return 0;
}

//  Queues every whole line of text; with final, the unterminated rest
//  too. Returns the bytes used, or -1 when out of memory.
static ssize_t
s_pub_queue_lines (pub_t *self, const char *text, size_t len, size_t scanned, bool final)
{
    size_t used = 0;
    const char *lf;
    while ((lf = memchr (text + used + scanned, '\n', len - used - scanned))) {
        if (s_pub_queue (self, text + used, (size_t) (lf - text) - used))
            return -1;
        used = (size_t) (lf - text) + 1;
        scanned = 0;
    }
    if (final && used < len) {
        if (s_pub_queue (self, text + used, len - used))
            return -1;
        used = len;
    }
    return (ssize_t) used;
}

//  Reads a chunk of stdin and queues the lines it completes.
static int
s_pub_read_stdin (pub_t *self)
{
    if (s_buf_reserve (&self->in, PUB_READ_CHUNK)) {
        fprintf (stderr, PUB_PROG ": out of memory\n");
        return -1;
    }
    ssize_t got = read (STDIN_FILENO, self->in.data + self->in.len, PUB_READ_CHUNK);
    if (got == -1) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        fprintf (stderr, PUB_PROG ": reading standard input: %s\n", strerror (errno));
        return -1;
    }
    self->in.len += (size_t) got;
    self->stdin_open = got > 0;
    ssize_t used = s_pub_queue_lines (self, self->in.data, self->in.len,
                                      self->in_scanned, !self->stdin_open);
    if (used == -1) {
        fprintf (stderr, PUB_PROG ": out of memory\n");
        return -1;
    }
    s_buf_consume (&self->in, (size_t) used);
    self->in_scanned = self->in.len;   //  what is left holds no LF
    if (self->in.len > CLIENT_LINE_MAX) {
        fprintf (stderr, PUB_PROG ": line %" PRIu64 " of the input is too long\n",
                 self->queued + 1);
        return -1;
    }
    return 0;
}

//  Handles the answers that have arrived. Returns 0, or -1 when the
//  connection ended while answers were still owed (after saying so).
static int
s_pub_read_answers (pub_t *self)
{
    int rc;
    do {
        rc = client_link_fill (&self->link);
        char *line;
        size_t len;
        int found;
        while ((found = client_link_line (&self->link, &line, &len)) == CLIENT_LINE_FOUND) {
            if (strncmp (line, "+OK", 3) == 0)
                self->answered++;
            else
            if (strncmp (line, "-ERR", 4) == 0) {
                self->answered++;
                self->errors++;
                fprintf (stderr, PUB_PROG ": message %" PRIu64 ": %s\n",
                         self->answered, line);
            }
        }
        if (found == CLIENT_LINE_TOO_LONG)
            rc = CLIENT_LINE_TOO_LONG;
    } while (rc == CLIENT_FILL_OK);

    if (rc == CLIENT_FILL_AGAIN)
        return 0;
    if (rc == CLIENT_FILL_CLOSED && self->answered >= self->queued && !self->stdin_open)
        return 0;               //  a close that cost nothing
    client_link_complain_fill (&self->link, rc);
    fprintf (stderr, PUB_PROG ": %" PRIu64 " of %" PRIu64 " messages answered\n",
             self->answered, self->queued);
    return -1;
}

//  Writes as much of the queued commands as the socket takes now.
static int
s_pub_flush (pub_t *self)
{
    while (self->out_sent < self->out.len) {
        ssize_t put = client_link_send (&self->link, self->out.data + self->out_sent,
                                        self->out.len - self->out_sent);
        if (put >= 0)
            self->out_sent += (size_t) put;
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        else
        if (errno != EINTR) {
            int error = errno;
            //  The server may have said why it hung up: show that first
            if (s_pub_read_answers (self) == 0)
                client_link_complain (&self->link, "write failed", strerror (error));
            return -1;
        }
    }
    if (self->out_sent == self->out.len)
        self->out.len = self->out_sent = 0;
    else
    if (self->out_sent >= PUB_OUT_HIGH) {
        s_buf_consume (&self->out, self->out_sent);
        self->out_sent = 0;
    }
    return 0;
}

//  The poll loop: feeds stdin into the socket and counts answers until
//  every queued message is answered. Returns 0 or -1.
static int
s_pub_run (pub_t *self)
{
    while (self->stdin_open || self->out_sent < self->out.len
       ||  self->answered < self->queued) {
        size_t backlog = self->out.len - self->out_sent;
        struct pollfd pfd [2] = {
            { .fd = self->link.fd, .events = POLLIN | (backlog ? POLLOUT : 0) },
            { .fd = self->stdin_open && backlog < PUB_OUT_HIGH ? STDIN_FILENO : -1,
              .events = POLLIN }
        };
        int timeout = self->stdin_open || backlog ? -1 : PUB_ACK_WAIT_MS;
        //  TLS may hold answers already read: poll knows nothing of them
        int rc = client_link_buffered (&self->link)? 0: poll (pfd, 2, timeout);
        if (rc == 0 && client_link_buffered (&self->link)) {
            if (s_pub_read_answers (self))
                return -1;
            continue;
        }
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc == -1) {
            fprintf (stderr, PUB_PROG ": poll: %s\n", strerror (errno));
            return -1;
        }
        if (rc == 0) {
            client_link_complain (&self->link, "no answer from server", NULL);
            fprintf (stderr, PUB_PROG ": %" PRIu64 " of %" PRIu64 " messages answered\n",
                     self->answered, self->queued);
            return -1;
        }
        if ((pfd [0].revents & (POLLIN | POLLHUP | POLLERR)) && s_pub_read_answers (self))
            return -1;
        if (pfd [1].revents && s_pub_read_stdin (self))
            return -1;
        if (self->out_sent < self->out.len && s_pub_flush (self))
            return -1;
    }
    return 0;
}

//  Parses the command line into self; returns -1 after a usage error,
//  1 when --help was given, 0 to go on.
static int
s_pub_options (pub_t *self, int argc, char **argv, const char **message)
{
    pub_args_t *args = &self->args;
    const char *words [3];
    int left = client_options_read (PUB_PROG, s_pub_table, args, &args->shared, argc, argv,
                                    words, 3);
    if (left < 0)
        return -1;
    if (args->shared.help)
        return 1;
    self->frame = args->frame || *args->frame_port || *args->file || args->headers.count;
    if (*args->frame_port)
        client_port_parse (args->frame_port, &self->frame_port);
    for (int i = 0; i < args->headers.count; i++)
        if (client_header_add (args->headers.items [i], &self->header_entries, &self->header_size,
                               &self->header_count)) {
            client_usage_error (PUB_PROG, "invalid header '%s' (want KEY=VALUE)",
                                args->headers.items [i]);
            return -1;
        }
    if (left < 1 || left > 2) {
        client_usage_error (PUB_PROG, "%s", left < 1 ? "missing TOPIC"
                            : "too many arguments (quote a MESSAGE that has spaces)");
        return -1;
    }
    self->topic = words [0];
    self->topic_len = strlen (self->topic);
    if (!client_token_valid (self->topic)) {
        client_usage_error (PUB_PROG, "invalid topic '%s': no spaces or control characters",
                            self->topic);
        return -1;
    }
    *message = left == 2 ? words [1] : NULL;
    if (*message && *args->file) {
        client_usage_error (PUB_PROG, "give either --file or MESSAGE, not both");
        return -1;
    }
    if (*args->shared.token && self->frame) {
        client_usage_error (PUB_PROG, "--token works over the text port, not with --frame");
        return -1;
    }
    if (args->shared.workerman && (self->frame || strcmp (self->topic, CLIENT_WORKERMAN_TOPIC) != 0)) {
        client_usage_error (PUB_PROG, "--profile workerman publishes on " CLIENT_WORKERMAN_TOPIC
                            " over the text port only");
        return -1;
    }
    return 0;
}

//  Entry point of `zchannel pub`.
int
zchannel_pub_main (int argc, char **argv)
{
    pub_t self = { .stdin_open = false, .frame_port = CLIENT_SOURCE_FRAME_PORT };
    const char *message = NULL;
    int rc = s_pub_options (&self, argc, argv, &message);
    const char *host = self.args.host;
    int port = self.args.port;
    client_shared_t *shared = &self.args.shared;
    if (rc == 1)
        s_usage (stdout);
    if (rc) {
        free (self.header_entries);
        return rc == 1 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
    }
    if (shared->workerman)
        return client_workerman_pub (host, port, shared, message);
    if (self.frame) {
        uint8_t *headers = NULL;
        size_t headers_size = self.header_count?
            client_headers_finish (self.header_entries, self.header_size, self.header_count,
                                   &headers): 0;
        rc = client_pub_frames (host, self.frame_port, &shared->tls, self.topic, message,
                                *self.args.file? self.args.file: NULL, headers, headers_size);
        free (headers);
        free (self.header_entries);
        return rc;
    }
    if (client_link_open (&self.link, PUB_PROG, host, port, &shared->tls))
        return CLIENT_EXIT_FAIL;

    rc = CLIENT_EXIT_FAIL;
    if (client_link_greet (&self.link, PUB_GREETING)
    ||  client_link_auth (&self.link, shared->token)
    ||  client_link_command (&self.link, "VERBOSE on\n")
    ||  client_link_set_nonblocking (&self.link))
        goto cleanup;
    if (message) {
        if (s_pub_queue_lines (&self, message, strlen (message), 0, true) == -1) {
            fprintf (stderr, PUB_PROG ": out of memory\n");
            goto cleanup;
        }
    }
    else
        self.stdin_open = true;
    if (s_pub_run (&self) == 0 && self.errors == 0)
        rc = CLIENT_EXIT_OK;

cleanup:
    client_link_close (&self.link);
    free (self.out.data);
    free (self.in.data);
    return rc;
}
