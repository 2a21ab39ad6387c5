/*  client_sub: `zchannel sub`, a subscriber over the subscriber
    front-end's text protocol.

    Output goes through one buffer written with write(2), not stdio, so a
    closed stdout (EPIPE, e.g. `| head`) is seen at once and ends the tool
    quietly. The buffer is flushed after every message on a terminal, and
    otherwise whenever the socket has nothing more to read, so a pipe gets
    big writes under load and still sees each message without delay when
    the stream is quiet.                                                   */
#include "zchannel_client.h"
#include "client_common.h"
#include "client_format.h"
#include "client_frames.h"
#include "client_workerman.h"
#include "zch_epoch.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUB_PROG         "zchannel sub"
#define SUB_DEFAULT_HOST "127.0.0.1"
#define SUB_DEFAULT_PORT "2346"
#define SUB_GREETING     "Welcome to Subscriber Server"
#define SUB_OUT_SIZE     (64 * 1024)

//  What handling one step of input led to
#define SUB_GO_ON   0
#define SUB_DONE    1           //  stop, success (count reached, stdout closed)
#define SUB_FAILED -1           //  stop, failure (already reported)

//  The command line
typedef struct {
    const char *host;
    int port;
    int count;
    bool verbose;
    bool snapshot;
    const char *from;           //  "" unless given
    int format;                 //  client_format_t
    bool frame;
    const char *frame_port;     //  "" unless given
    client_shared_t shared;     //  --token, --profile, --tls, --tls-ca, --help
} sub_args_t;

static const zch_option_t s_sub_table [] = {
    { "host", ZCH_OPT_STRING, offsetof (sub_args_t, host), SUB_DEFAULT_HOST, "HOST",
      "subscriber front-end host", .letter = 'H' },
    { "port", ZCH_OPT_INT, offsetof (sub_args_t, port), SUB_DEFAULT_PORT, "PORT",
      "subscriber front-end text port", .min = 1, .max = 65535, .letter = 'p' },
    { "count", ZCH_OPT_INT, offsetof (sub_args_t, count), "0", "N",
      "exit 0 after N messages (0: never)", .min = 0, .max = INT_MAX, .letter = 'n' },
    { "verbose", ZCH_OPT_BOOL, offsetof (sub_args_t, verbose), "false", NULL,
      "print '<topic> <seq> <payload>' instead", .letter = 'v' },
    { "snapshot", ZCH_OPT_BOOL, offsetof (sub_args_t, snapshot), "false", NULL,
      "first the current value of every matching topic", .letter = 's' },
    { "from", ZCH_OPT_STRING, offsetof (sub_args_t, from), "", "SEQ[@EPOCH]",
      "first every held message of the topic (PATTERN) after SEQ; see below", .letter = 'f' },
    { "format", ZCH_OPT_CHOICE, offsetof (sub_args_t, format), "line", "FMT",
      "line, raw or json; see below", .choices = "line|raw|json" },
    { "frame", ZCH_OPT_BOOL, offsetof (sub_args_t, frame), "false", NULL,
      "use the subscriber's frame port (headers, binary payloads)", .letter = 'F' },
    { "frame-port", ZCH_OPT_STRING, offsetof (sub_args_t, frame_port), "", "PORT",
      "the subscriber's frame port (" CLIENT_SUBSCRIBER_FRAME_PORT_TEXT " when not given; "
      "implies --frame)", .check = client_port_check },
    { "profile", ZCH_OPT_CHOICE, offsetof (sub_args_t, shared.profile), "none", "NAME",
      "workerman: the subscriber runs --profile workerman; PATTERN must be topic1, each "
      "'Received:' payload is printed on a line", .choices = "none|workerman" },
    CLIENT_SHARED_OPTIONS (sub_args_t, shared),
    { .name = NULL }
};

typedef struct {
    client_link_t link;
    sub_args_t args;            //  the command line
    bool verbose;
    bool tty;                   //  stdout is a terminal: flush per message
    uint64_t count;             //  messages to wait for; 0 = no limit
    bool snapshot;              //  --snapshot: current values first
    bool from_set;              //  --from SEQ[@EPOCH]: what came after SEQ first
    uint64_t from;
    uint64_t from_epoch;        //  0 when not given
    const char *from_text;      //  as given
    char epoch [ZCH_EPOCH_TEXT_MAX + 1];    //  json: of what follows (the +OK, then resets)
    uint64_t received;
    char out [SUB_OUT_SIZE];    //  stdout bytes not yet written
    size_t out_len;
    //  --format, and the frame protocol (--frame, --frame-port)
    client_format_t format;
    client_buf_t rendered;      //  one message as the format prints it
    bool frame;
    int frame_port;
} sub_t;

//  Prints the usage text to stream.
static void
s_usage (FILE *stream)
{
    sub_args_t defaults;
    zch_option_defaults (s_sub_table, &defaults);
    fprintf (stream,
        "Usage: zchannel sub [OPTIONS] PATTERN\n"
        "Subscribe to PATTERN and print each message's payload on a line.\n"
        "\n");
    zch_option_help (s_sub_table, &defaults, stream);
    fprintf (stream,
        "\n"
        "--from SEQ@EPOCH: with the EPOCH SEQ belongs to, a position the broker cannot\n"
        "continue (another epoch, history trimmed) is told as a reset. --format line\n"
        "prints payloads, raw the payload bytes as they are (nothing between\n"
        "messages), json one object per line (topic, seq, epoch, payload, headers; a\n"
        "payload that is not UTF-8 is base64 with \"payload_encoding\": \"base64\").\n"
        "\n"
        "PATTERN is a topic whose tokens may be '*' (one token) or, last, '>'\n"
        "(one or more tokens). Payloads are printed as sent on the wire, with\n"
        "'\\', CR and LF escaped as \\\\, \\r and \\n. Exits 1 if the server closes\n"
        "the connection or reports an error (e.g. -ERR slow consumer); the\n"
        "notices '-ERR history starts at <seq>', '-ERR gap <topic> <from>-<to>'\n"
        "(messages the broker no longer holds) and '-ERR reset <topic> <epoch>'\n"
        "(the topic's seqs start afresh in a new epoch; with --frame the err\n"
        "frames history_starts, gap and reset) go to stderr and the tool goes on.\n");
}

//  Writes bytes to stdout, completely. Returns SUB_GO_ON, SUB_DONE when
//  the reader went away, or SUB_FAILED.
static int
s_sub_write (const char *data, size_t len)
{
    while (len > 0) {
        ssize_t put = write (STDOUT_FILENO, data, len);
        if (put >= 0) {
            data += put;
            len -= (size_t) put;
        }
        else
        if (errno == EPIPE)
            return SUB_DONE;
        else
        if (errno != EINTR) {
            fprintf (stderr, SUB_PROG ": writing standard output: %s\n", strerror (errno));
            return SUB_FAILED;
        }
    }
    return SUB_GO_ON;
}

//  Writes out what the output buffer holds.
static int
s_sub_flush (sub_t *self)
{
    int rc = s_sub_write (self->out, self->out_len);
    self->out_len = 0;
    return rc;
}

//  Puts one output line (text plus LF) into the buffer, flushing as needed.
static int
s_sub_emit (sub_t *self, const char *text, size_t len)
{
    int rc = SUB_GO_ON;
    if (self->out_len + len + 1 > SUB_OUT_SIZE)
        rc = s_sub_flush (self);
    if (rc == SUB_GO_ON && len + 1 > SUB_OUT_SIZE) {
        rc = s_sub_write (text, len);       //  too big to buffer: write it through
        if (rc == SUB_GO_ON)
            rc = s_sub_write ("\n", 1);
        return rc;
    }
    if (rc == SUB_GO_ON) {
        memcpy (self->out + self->out_len, text, len);
        self->out [self->out_len + len] = '\n';
        self->out_len += len + 1;
    }
    return rc;
}

//  Puts bytes into the output buffer as they are, flushing as needed.
static int
s_sub_emit_bytes (sub_t *self, const char *data, size_t len)
{
    int rc = SUB_GO_ON;
    if (self->out_len + len > SUB_OUT_SIZE)
        rc = s_sub_flush (self);
    if (rc != SUB_GO_ON)
        return rc;
    if (len > SUB_OUT_SIZE)
        return s_sub_write (data, len);
    memcpy (self->out + self->out_len, data, len);
    self->out_len += len;
    return SUB_GO_ON;
}

//  Prints one message in the chosen format and counts it.
static int
s_sub_render (sub_t *self, const char *topic, size_t topic_len, uint64_t seq,
              const uint8_t *payload, size_t payload_len,
              const uint8_t *headers, size_t headers_size)
{
    self->rendered.len = 0;
    if (client_format_render (&self->rendered, self->format, self->verbose, topic, topic_len,
                              seq, self->epoch, payload, payload_len, headers, headers_size)) {
        fprintf (stderr, SUB_PROG ": out of memory\n");
        return SUB_FAILED;
    }
    int rc = s_sub_emit_bytes (self, self->rendered.data, self->rendered.len);
    if (rc == SUB_GO_ON && self->tty)
        rc = s_sub_flush (self);
    self->received++;
    if (rc == SUB_GO_ON && self->count && self->received >= self->count)
        rc = SUB_DONE;
    return rc;
}

//  A MSG line in a format other than line: its parts, payload unescaped.
static int
s_sub_handle_formatted (sub_t *self, char *line, size_t len)
{
    char *topic = line + 4;
    char *space = memchr (topic, ' ', len - 4);
    if (!space)
        return SUB_GO_ON;
    char *seq_text = space + 1;
    char *space2 = memchr (seq_text, ' ', len - (size_t) (seq_text - line));
    char *payload = space2? space2 + 1: line + len;
    uint64_t seq = strtoull (seq_text, NULL, 10);
    size_t payload_len = client_text_unescape (payload, (size_t) (line + len - payload));
    return s_sub_render (self, topic, (size_t) (space - topic), seq,
                         (const uint8_t *) payload, payload_len, NULL, 0);
}

//  A reset notice ("reset <topic> <epoch>"): what follows is of epoch.
static void
s_sub_reset (sub_t *self, const char *text, size_t len)
{
    if (len < 6 || memcmp (text, "reset ", 6) != 0)
        return;
    const char *epoch = memrchr (text, ' ', len);
    size_t epoch_len = (size_t) (text + len - epoch - 1);
    if (epoch_len <= ZCH_EPOCH_TEXT_MAX) {
        memcpy (self->epoch, epoch + 1, epoch_len);
        self->epoch [epoch_len] = 0;
    }
}

//  Handles one line from the server: prints a delivery, stops on an error.
static int
s_sub_handle (sub_t *self, char *line, size_t len)
{
    if (strncmp (line, "MSG ", 4) == 0 && self->format != CLIENT_FORMAT_LINE)
        return s_sub_handle_formatted (self, line, len);
    if (strncmp (line, "MSG ", 4) == 0) {
        char *text = line + 4;
        size_t text_len = len - 4;
        if (!self->verbose) {
            //  "<topic> <seq> <payload>": the payload follows the second space
            char *space = memchr (text, ' ', text_len);
            char *payload = space ? memchr (space + 1, ' ', text_len - (size_t) (space + 1 - text))
                                  : NULL;
            payload = payload ? payload + 1 : line + len;
            text_len -= (size_t) (payload - text);
            text = payload;
        }
        int rc = s_sub_emit (self, text, text_len);
        if (rc == SUB_GO_ON && self->tty)
            rc = s_sub_flush (self);
        self->received++;
        if (rc == SUB_GO_ON && self->count && self->received >= self->count)
            rc = SUB_DONE;
        return rc;
    }
    if (strncmp (line, "-ERR history starts at ", 23) == 0 || strncmp (line, "-ERR gap ", 9) == 0
    ||  strncmp (line, "-ERR reset ", 11) == 0) {
        int rc = s_sub_flush (self);        //  keep the notice next to its place in the stream
        fprintf (stderr, SUB_PROG ": %s\n", line + 5);
        s_sub_reset (self, line + 5, len - 5);
        return rc;
    }
    if (strncmp (line, "-ERR", 4) == 0) {
        int rc = s_sub_flush (self);        //  show what came before the error
        if (rc != SUB_FAILED)
            client_link_complain (&self->link, "server error", line);
        return SUB_FAILED;
    }
    return SUB_GO_ON;                       //  +OK, PONG: nothing to show
}

//  After the buffered lines or frames: reads more, or, when nothing is
//  there, writes what is pending and waits. Returns SUB_GO_ON, or what
//  ends the session.
static int
s_sub_refill (sub_t *self, int found)
{
    int rc = found == CLIENT_LINE_TOO_LONG? found: client_link_fill (&self->link);
    if (rc == CLIENT_FILL_AGAIN) {
        //  Nothing more to read now: a good moment to write
        rc = self->out_len? s_sub_flush (self): SUB_GO_ON;
        if (rc != SUB_GO_ON)
            return rc;
        struct pollfd pfd = { .fd = self->link.fd, .events = POLLIN };
        if (!client_link_buffered (&self->link) && poll (&pfd, 1, -1) == -1 && errno != EINTR) {
            fprintf (stderr, SUB_PROG ": poll: %s\n", strerror (errno));
            return SUB_FAILED;
        }
        return SUB_GO_ON;
    }
    if (rc != CLIENT_FILL_OK) {
        if (s_sub_flush (self) != SUB_FAILED)
            client_link_complain_fill (&self->link, rc);
        return SUB_FAILED;
    }
    return SUB_GO_ON;
}

//  The delivery loop: reads lines until the count is reached, stdout
//  closes, or the server ends the conversation.
static int
s_sub_run (sub_t *self)
{
    while (true) {
        char *line;
        size_t len;
        int found;
        while ((found = client_link_line (&self->link, &line, &len)) == CLIENT_LINE_FOUND) {
            int rc = s_sub_handle (self, line, len);
            if (rc != SUB_GO_ON)
                return rc;
        }
        int rc = s_sub_refill (self, found);
        if (rc != SUB_GO_ON)
            return rc;
    }
}

//  Parses the command line; returns -1 after a usage error, 1 for
//  --help, 0 to go on with *pattern set.
static int
s_sub_options (sub_t *self, int argc, char **argv, const char **pattern)
{
    sub_args_t *args = &self->args;
    const char *words [2];
    int left = client_options_read (SUB_PROG, s_sub_table, args, &args->shared, argc, argv,
                                    words, 2);
    if (left < 0)
        return -1;
    if (args->shared.help)
        return 1;
    self->count = (uint64_t) args->count;
    self->verbose = args->verbose;
    self->snapshot = args->snapshot;
    self->format = (client_format_t) args->format;
    self->frame = args->frame || *args->frame_port;
    if (*args->frame_port)
        client_port_parse (args->frame_port, &self->frame_port);
    if (*args->from) {
        if (zch_position_parse (args->from, strlen (args->from), &self->from, &self->from_epoch)) {
            client_usage_error (SUB_PROG, "invalid position '%s' (SEQ or SEQ@EPOCH)", args->from);
            return -1;
        }
        self->from_text = args->from;
        self->from_set = true;
    }
    if (left != 1) {
        client_usage_error (SUB_PROG, "%s", left < 1 ? "missing PATTERN" : "too many arguments");
        return -1;
    }
    if (self->snapshot && self->from_set) {
        client_usage_error (SUB_PROG, "--snapshot and --from exclude each other");
        return -1;
    }
    if (*args->shared.token && self->frame) {
        client_usage_error (SUB_PROG, "--token works over the text port, not with --frame");
        return -1;
    }
    if (args->shared.workerman && (self->frame || self->snapshot || self->from_set || self->verbose
                            || self->format != CLIENT_FORMAT_LINE
                            || strcmp (words [0], CLIENT_WORKERMAN_TOPIC) != 0)) {
        client_usage_error (SUB_PROG, "--profile workerman subscribes to " CLIENT_WORKERMAN_TOPIC
                            " over the text port, payloads as lines, nothing else");
        return -1;
    }
    *pattern = words [0];
    if (!client_token_valid (*pattern)) {
        client_usage_error (SUB_PROG, "invalid pattern '%s': no spaces or control characters",
                            *pattern);
        return -1;
    }
    return 0;
}

//  True for the err codes that are notices (messages the broker no longer
//  holds), not failures.
static bool
s_sub_notice (const char *code, size_t len)
{
    return (len == 14 && memcmp (code, "history_starts", 14) == 0)
        || (len == 3 && memcmp (code, "gap", 3) == 0)
        || (len == 5 && memcmp (code, "reset", 5) == 0);
}

//  The delivery loop over the frame protocol.
static int
s_sub_run_frames (sub_t *self)
{
    while (true) {
        zch_frame_cmd_t cmd;
        int found;
        while ((found = client_frame_take (&self->link, &cmd)) == CLIENT_LINE_FOUND) {
            int rc = SUB_GO_ON;
            if (cmd.verb == ZCH_FRAME_MSG)
                rc = s_sub_render (self, cmd.topic, cmd.topic_len, cmd.seq, cmd.payload,
                                   cmd.payload_len, cmd.headers, cmd.headers_size);
            else
            if (cmd.verb == ZCH_FRAME_ERR && s_sub_notice (cmd.code, cmd.code_len)) {
                rc = s_sub_flush (self);    //  keep the notice next to its place in the stream
                fprintf (stderr, SUB_PROG ": %.*s\n", (int) cmd.text_len, cmd.text);
                s_sub_reset (self, cmd.text, cmd.text_len);
            }
            else
            if (cmd.verb == ZCH_FRAME_ERR) {
                char text [512];
                snprintf (text, sizeof text, "%.*s: %.*s", (int) cmd.code_len, cmd.code,
                          (int) cmd.text_len, cmd.text);
                if (s_sub_flush (self) != SUB_FAILED)
                    client_link_complain (&self->link, "server error", text);
                rc = SUB_FAILED;
            }
            if (rc != SUB_GO_ON)
                return rc;
        }
        int rc = s_sub_refill (self, found);
        if (rc != SUB_GO_ON)
            return rc;
    }
}

//  Subscribes over the frame protocol and runs its delivery loop.
static int
s_sub_session_frames (sub_t *self, const char *host, const char *pattern)
{
    if (client_link_open (&self->link, SUB_PROG, host, self->frame_port, &self->args.shared.tls))
        return CLIENT_EXIT_FAIL;
    int rc = CLIENT_EXIT_FAIL;
    const client_sub_options_t options = {
        .snapshot = self->snapshot, .from_set = self->from_set, .from = self->from,
        .from_epoch = self->from_epoch, .verbose = self->format == CLIENT_FORMAT_JSON
    };
    if (client_frame_subscribe (&self->link, pattern, &options, self->epoch, sizeof self->epoch) == 0
    &&  client_link_set_nonblocking (&self->link) == 0) {
        self->tty = isatty (STDOUT_FILENO);
        int done = s_sub_run_frames (self);
        if (done != SUB_FAILED && s_sub_flush (self) != SUB_FAILED)
            rc = CLIENT_EXIT_OK;
    }
    client_link_close (&self->link);
    return rc;
}

//  Subscribes and runs the delivery loop; the caller owns self's memory.
static int
s_sub_session (sub_t *self, const char *host, int port, const char *pattern)
{
    if (self->frame)
        return s_sub_session_frames (self, host, pattern);
    if (client_link_open (&self->link, SUB_PROG, host, port, &self->args.shared.tls))
        return CLIENT_EXIT_FAIL;
    int rc = CLIENT_EXIT_FAIL;
    size_t command_len = strlen (pattern) + 64;
    char *command = malloc (command_len);
    if (!command)
        goto cleanup;
    if (self->snapshot)
        snprintf (command, command_len, "SUB %s SNAPSHOT\n", pattern);
    else
    if (self->from_set)
        snprintf (command, command_len, "SUB %s FROM %s\n", pattern, self->from_text);
    else
        snprintf (command, command_len, "SUB %s\n", pattern);
    //  json names each message's epoch: the SUB's verbose +OK gives it
    bool json = self->format == CLIENT_FORMAT_JSON;
    if (client_link_greet (&self->link, SUB_GREETING)
    ||  client_link_auth (&self->link, self->args.shared.token)
    ||  (json && client_link_command (&self->link, "VERBOSE on\n"))
    ||  client_link_command_detail (&self->link, command, self->epoch, sizeof self->epoch)
    ||  client_link_set_nonblocking (&self->link))
        goto cleanup;
    self->tty = isatty (STDOUT_FILENO);
    int done = s_sub_run (self);
    if (done != SUB_FAILED && s_sub_flush (self) != SUB_FAILED)
        rc = CLIENT_EXIT_OK;

cleanup:
    free (command);
    client_link_close (&self->link);
    return rc;
}

//  Entry point of `zchannel sub`.
int
zchannel_sub_main (int argc, char **argv)
{
    sub_t *self = calloc (1, sizeof (sub_t));
    if (!self) {
        fprintf (stderr, SUB_PROG ": out of memory\n");
        return CLIENT_EXIT_FAIL;
    }
    self->frame_port = CLIENT_SUBSCRIBER_FRAME_PORT;
    const char *pattern = NULL;
    int rc = s_sub_options (self, argc, argv, &pattern);
    const char *host = self->args.host;
    int port = self->args.port;
    if (rc == 1) {
        s_usage (stdout);
        rc = CLIENT_EXIT_OK;
    }
    else
    if (rc)
        rc = CLIENT_EXIT_USAGE;
    else {
        //  A closed stdout must show up as EPIPE, not kill the process
        struct sigaction ignore = { .sa_handler = SIG_IGN }, saved;
        sigaction (SIGPIPE, &ignore, &saved);
        rc = self->args.shared.workerman? client_workerman_sub (host, port, &self->args.shared, self->count)
                            : s_sub_session (self, host, port, pattern);
        sigaction (SIGPIPE, &saved, NULL);
    }
    free (self->rendered.data);
    free (self);
    return rc;
}
