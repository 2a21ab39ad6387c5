/*  bench_run: the load engine of zch_bench. See bench_run.h.              */
#include "bench_run.h"
#include "bench_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RUN_OUT_CAP       (64 * 1024)       //  one publisher batch
#define RUN_IN_CAP        (1024 * 1024)     //  one subscriber read
#define RUN_PUB_IN_CAP    (16 * 1024)       //  publishers only get errors back
#define RUN_ROUNDS        4                 //  reads or writes per socket per wakeup
#define RUN_TICK_MS       100               //  longest sleep, to notice the timeout
#define RUN_HEADER_MAX    64                //  "<pub>:<seq>:<ns>:" fits in this
#define RUN_ERRORS_SHOWN  5                 //  -ERR lines printed before going quiet
#define RUN_SEEN_MAX      (512u << 20)      //  bytes of duplicate bitmaps we allow

typedef struct {
    bool publisher;
    int index;                  //  among its kind
    int fd;                     //  -1 once closed
    uint32_t events;            //  epoll interest now
    bool ready;                 //  subscriber: +OK seen
    bool skipping;              //  input: dropping an over-long line up to its LF
    char *in;                   //  input not yet a whole line
    size_t in_len;
    size_t in_cap;
    char *out;                  //  publisher: the batch being written
    size_t out_len;
    size_t out_sent;
    uint64_t next_seq;          //  publisher: next seq to format, from 1
    uint64_t written;           //  publisher: messages written completely
} run_conn_t;

typedef struct {
    const bench_config_t *config;
    bench_result_t *result;
    int epoll_fd;
    run_conn_t *conns;          //  subscribers, then publishers
    int conn_count;
    int subs_ready;
    uint64_t *last_seq;         //  [subscriber * publishers + publisher]
    uint64_t *seen;             //  bitmaps of seqs received, per pair; NULL if too big
    size_t seen_words;          //  words per pair
    char *line;                 //  "PUB <topic> xxx...x\n", the line template
    size_t line_len;
    size_t payload_at;          //  offset of the payload in line
    size_t topic_len;
    size_t line_max;            //  longest line a message can take
    size_t out_cap;             //  publisher batch size
    bool publishing;
    int64_t start_ns;           //  publishers' start
    int64_t progress_ns;        //  last time a byte went out or a message came in
    int errors_shown;
} run_t;

//  Nanoseconds on the monotonic clock, the clock of the payload stamps.
static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  Writes value in decimal at to; returns the digits written.
static size_t
s_put_u64 (char *to, uint64_t value)
{
    char digits [20];
    size_t n = 0;
    do {
        digits [n++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t i = 0; i < n; i++)
        to [i] = digits [n - 1 - i];
    return n;
}

//  Reads a decimal number ending in stop from *p (below end); advances
//  *p past stop. Returns 0, or -1 if the text is not such a number.
static int
s_get_u64 (const char **p, const char *end, char stop, uint64_t *value)
{
    const char *at = *p;
    uint64_t v = 0;
    while (at < end && *at >= '0' && *at <= '9' && at - *p < 20)
        v = v * 10 + (uint64_t) (*at++ - '0');
    if (at == *p || at == end || *at != stop)
        return -1;
    *p = at + 1;
    *value = v;
    return 0;
}

//  Prints a -ERR from a front-end, the first few times only.
static void
s_run_server_error (run_t *self, run_conn_t *conn, const char *line, size_t len)
{
    self->result->server_errors++;
    if (self->errors_shown++ < RUN_ERRORS_SHOWN)
        fprintf (stderr, "zch_bench: %s %d: %.*s\n",
                 conn->publisher ? "publisher" : "subscriber", conn->index, (int) len, line);
    else
    if (self->errors_shown == RUN_ERRORS_SHOWN + 1)
        fprintf (stderr, "zch_bench: (more server errors not shown)\n");
}

//  Changes a connection's epoll interest, only when it differs.
static void
s_run_watch (run_t *self, run_conn_t *conn, uint32_t events)
{
    if (conn->fd == -1 || conn->events == events)
        return;
    struct epoll_event event = { .events = events, .data.ptr = conn };
    epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event);
    conn->events = events;
}

//  Closes a connection; it stays in the table as closed.
static void
s_run_close (run_t *self, run_conn_t *conn)
{
    if (conn->fd == -1)
        return;
    epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
    close (conn->fd);
    conn->fd = -1;
}

//  Connects conn and registers it with epoll. Returns 0 or -1.
static int
s_run_open (run_t *self, run_conn_t *conn, const char *host, int port, uint32_t events)
{
    conn->fd = bench_connect (host, port);
    if (conn->fd == -1)
        return -1;
    conn->events = events;
    struct epoll_event event = { .events = events, .data.ptr = conn };
    if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, conn->fd, &event) == -1) {
        perror ("zch_bench: epoll_ctl");
        return -1;
    }
    return 0;
}

//  How many of a publisher's messages are due now: all of them at full
//  speed, or as many as the rate allows since the start.
static uint64_t
s_run_due (run_t *self, int64_t now)
{
    const bench_config_t *config = self->config;
    if (config->rate == 0)
        return config->messages;
    double due = (double) (now - self->start_ns) * (double) config->rate / 1e9 + 1;
    return due >= (double) config->messages ? config->messages : (uint64_t) due;
}

//  Fills an empty publisher batch with the messages due, each stamped
//  with the time it is formatted.
static void
s_pub_fill (run_t *self, run_conn_t *conn, uint64_t due)
{
    size_t payload = self->config->size;
    while (conn->next_seq <= due && conn->out_len + self->line_max <= self->out_cap) {
        char header [RUN_HEADER_MAX];
        size_t n = s_put_u64 (header, (uint64_t) conn->index);
        header [n++] = ':';
        n += s_put_u64 (header + n, conn->next_seq);
        header [n++] = ':';
        n += s_put_u64 (header + n, (uint64_t) s_now_ns ());
        header [n++] = ':';
        char *to = conn->out + conn->out_len;
        if (n <= payload) {
            memcpy (to, self->line, self->line_len);
            memcpy (to + self->payload_at, header, n);
            conn->out_len += self->line_len;
        }
        else {
            //  The header alone is longer than the payload size asked for
            memcpy (to, self->line, self->payload_at);
            memcpy (to + self->payload_at, header, n);
            to [self->payload_at + n] = '\n';
            conn->out_len += self->payload_at + n + 1;
        }
        conn->next_seq++;
    }
}

//  Counts the messages whose last byte just went out.
static void
s_pub_count_written (run_t *self, run_conn_t *conn, size_t bytes, int64_t now)
{
    const char *at = conn->out + conn->out_sent, *end = at + bytes;
    uint64_t lines = 0;
    while ((at = memchr (at, '\n', (size_t) (end - at)))) {
        lines++;
        at++;
    }
    conn->out_sent += bytes;
    conn->written += lines;
    self->result->sent += lines;
    self->result->last_send_ns = now;
    self->progress_ns = now;
}

//  Writes a publisher's due messages, a few batches per wakeup so every
//  socket gets its turn, and asks for EPOLLOUT while more can be sent.
static void
s_pub_pump (run_t *self, run_conn_t *conn, int64_t now)
{
    if (conn->fd == -1)
        return;
    uint64_t due = s_run_due (self, now);
    for (int round = 0; round < RUN_ROUNDS; round++) {
        if (conn->out_sent == conn->out_len) {
            conn->out_len = conn->out_sent = 0;
            s_pub_fill (self, conn, due);
            if (conn->out_len == 0)
                break;
        }
        ssize_t put = send (conn->fd, conn->out + conn->out_sent,
                            conn->out_len - conn->out_sent, MSG_NOSIGNAL);
        if (put > 0)
            s_pub_count_written (self, conn, (size_t) put, s_now_ns ());
        else
        if (put == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else
        if (put == -1 && errno != EINTR) {
            fprintf (stderr, "zch_bench: publisher %d: send: %s (after %llu messages)\n",
                     conn->index, strerror (errno), (unsigned long long) conn->written);
            s_run_close (self, conn);
            return;
        }
    }
    bool more = conn->out_sent < conn->out_len
             || (self->config->rate == 0 && conn->next_seq <= self->config->messages);
    s_run_watch (self, conn, EPOLLIN | (more ? EPOLLOUT : 0));
}

//  Checks one delivery line: ours, in order, first time, and how late.
static void
s_sub_message (run_t *self, run_conn_t *conn, const char *line, size_t len, int64_t now)
{
    const bench_config_t *config = self->config;
    bench_result_t *result = self->result;
    const char *at = line + 4, *end = line + len;
    uint64_t broker_seq, publisher, seq, stamp;
    if ((size_t) (end - at) <= self->topic_len
    ||  memcmp (at, config->topic, self->topic_len) != 0 || at [self->topic_len] != ' ')
        goto foreign;
    at += self->topic_len + 1;
    if (s_get_u64 (&at, end, ' ', &broker_seq)
    ||  s_get_u64 (&at, end, ':', &publisher) || publisher >= (uint64_t) config->publishers
    ||  s_get_u64 (&at, end, ':', &seq) || seq < 1 || seq > config->messages
    ||  s_get_u64 (&at, end, ':', &stamp))
        goto foreign;

    result->received++;
    size_t pair = (size_t) conn->index * (size_t) config->publishers + publisher;
    if (self->seen) {
        uint64_t *word = self->seen + pair * self->seen_words + (seq - 1) / 64;
        uint64_t bit = 1ull << ((seq - 1) % 64);
        if (*word & bit) {
            result->duplicates++;
            return;
        }
        *word |= bit;
    }
    result->unique++;
    if (seq <= self->last_seq [pair])
        result->out_of_order++;
    else {
        if (seq > self->last_seq [pair] + 1)
            result->gaps++;
        self->last_seq [pair] = seq;
    }
    if ((int64_t) stamp <= now)
        bench_hist_add (result->latency, (uint64_t) (now - (int64_t) stamp));
    result->last_receive_ns = now;
    self->progress_ns = now;
    return;

foreign:
    result->foreign++;
}

//  Handles one line from a front-end.
static void
s_run_line (run_t *self, run_conn_t *conn, const char *line, size_t len, int64_t now)
{
    if (len >= 4 && memcmp (line, "MSG ", 4) == 0 && !conn->publisher)
        s_sub_message (self, conn, line, len, now);
    else
    if (len >= 3 && memcmp (line, "+OK", 3) == 0 && !conn->publisher && !conn->ready) {
        conn->ready = true;
        self->subs_ready++;
        self->progress_ns = now;
    }
    else
    if (len >= 4 && memcmp (line, "-ERR", 4) == 0)
        s_run_server_error (self, conn, line, len);
    //  Greetings and anything else: nothing to do
}

//  Splits the input buffer into lines, keeping a partial last line.
static void
s_run_lines (run_t *self, run_conn_t *conn, int64_t now)
{
    char *at = conn->in, *end = conn->in + conn->in_len, *lf;
    while ((lf = memchr (at, '\n', (size_t) (end - at)))) {
        size_t len = (size_t) (lf - at);
        if (len > 0 && at [len - 1] == '\r')
            len--;
        if (!conn->skipping)
            s_run_line (self, conn, at, len, now);
        conn->skipping = false;
        at = lf + 1;
    }
    conn->in_len = (size_t) (end - at);
    if (conn->in_len == conn->in_cap) {
        //  A line longer than the buffer is none of ours: drop it
        self->result->foreign++;
        conn->skipping = true;
        conn->in_len = 0;
    }
    else
        memmove (conn->in, at, conn->in_len);
}

//  Reads what a connection has, a few chunks per wakeup, and handles
//  the lines. A close is final: it is reported unless expected.
static void
s_run_read (run_t *self, run_conn_t *conn)
{
    for (int round = 0; round < RUN_ROUNDS && conn->fd != -1; round++) {
        size_t room = conn->in_cap - conn->in_len;
        ssize_t got = read (conn->fd, conn->in + conn->in_len, room);
        if (got > 0) {
            conn->in_len += (size_t) got;
            s_run_lines (self, conn, s_now_ns ());
            if ((size_t) got < room)
                break;                      //  drained
        }
        else
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            bool finished = conn->publisher ? conn->written == self->config->messages : false;
            if (!finished)
                fprintf (stderr, "zch_bench: %s %d: connection %s\n",
                         conn->publisher ? "publisher" : "subscriber", conn->index,
                         got == 0 ? "closed by server" : strerror (errno));
            s_run_close (self, conn);
        }
        else
        if (errno != EINTR)
            break;
    }
}

//  Connects every publisher and starts the clock.
static int
s_run_start_publishers (run_t *self)
{
    const bench_config_t *config = self->config;
    for (int i = config->subscribers; i < self->conn_count; i++)
        if (s_run_open (self, &self->conns [i], config->source_host, config->source_port,
                        EPOLLIN | EPOLLOUT))
            return -1;
    self->publishing = true;
    self->start_ns = self->progress_ns = s_now_ns ();
    self->result->first_send_ns = self->start_ns;
    return 0;
}

//  Tells whether nothing more can happen: every publisher is done or
//  gone, and every subscriber has everything or is gone.
static bool
s_run_finished (run_t *self)
{
    if (!self->publishing)
        return false;
    int subs_open = 0;
    for (int i = 0; i < self->conn_count; i++) {
        run_conn_t *conn = &self->conns [i];
        if (conn->publisher && conn->fd != -1 && conn->written < self->config->messages)
            return false;
        if (!conn->publisher && conn->fd != -1)
            subs_open++;
    }
    return subs_open == 0
        || self->result->unique >= self->result->sent * (uint64_t) self->config->subscribers;
}

//  How long epoll may sleep: until the next paced message is due, or a
//  tick so the timeout is noticed.
static int
s_run_sleep_ms (run_t *self, int64_t now)
{
    if (!self->publishing || self->config->rate == 0)
        return RUN_TICK_MS;
    int64_t next = INT64_MAX;
    for (int i = self->config->subscribers; i < self->conn_count; i++) {
        run_conn_t *conn = &self->conns [i];
        if (conn->fd == -1 || (conn->events & EPOLLOUT)
        ||  conn->next_seq > self->config->messages)
            continue;
        int64_t due = self->start_ns
                    + (int64_t) ((double) (conn->next_seq - 1) * 1e9 / (double) self->config->rate);
        if (due < next)
            next = due;
    }
    if (next == INT64_MAX)
        return RUN_TICK_MS;
    int64_t ms = (next - now + 999999) / 1000000;
    return ms < 1 ? 1 : ms > RUN_TICK_MS ? RUN_TICK_MS : (int) ms;
}

//  The event loop, from the first subscription to the last delivery.
static int
s_run_loop (run_t *self)
{
    const bench_config_t *config = self->config;
    struct epoll_event events [64];
    while (true) {
        int64_t now = s_now_ns ();
        if (!self->publishing && self->subs_ready == config->subscribers
        &&  s_run_start_publishers (self))
            return -1;
        if (s_run_finished (self))
            return 0;
        if (now - self->progress_ns > (int64_t) config->timeout_s * 1000000000) {
            self->result->timed_out = true;
            if (!self->publishing)
                fprintf (stderr, "zch_bench: %d of %d subscriptions confirmed after %d s\n",
                         self->subs_ready, config->subscribers, config->timeout_s);
            return self->publishing ? 0 : -1;
        }
        int count = epoll_wait (self->epoll_fd, events, 64, s_run_sleep_ms (self, now));
        if (count == -1 && errno != EINTR) {
            perror ("zch_bench: epoll_wait");
            return -1;
        }
        for (int i = 0; i < count; i++) {
            run_conn_t *conn = events [i].data.ptr;
            if (events [i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                s_run_read (self, conn);
            if ((events [i].events & EPOLLOUT) && conn->publisher)
                s_pub_pump (self, conn, s_now_ns ());
        }
        if (self->publishing && config->rate)
            for (int i = config->subscribers; i < self->conn_count; i++)
                if (!(self->conns [i].events & EPOLLOUT))
                    s_pub_pump (self, &self->conns [i], s_now_ns ());
        if (!self->publishing)
            for (int i = 0; i < config->subscribers; i++)
                if (self->conns [i].fd == -1)
                    return -1;              //  lost before its +OK: already said why
    }
}

//  Allocates the connection table and each connection's buffers.
static int
s_run_prepare_conns (run_t *self)
{
    const bench_config_t *config = self->config;
    self->conn_count = config->subscribers + config->publishers;
    self->conns = calloc ((size_t) self->conn_count, sizeof (run_conn_t));
    if (!self->conns)
        return -1;
    size_t sub_in_cap = self->line_max * 4 > RUN_IN_CAP ? self->line_max * 4 : RUN_IN_CAP;
    int failed = 0;
    for (int i = 0; i < self->conn_count; i++) {
        run_conn_t *conn = &self->conns [i];
        conn->publisher = i >= config->subscribers;
        conn->index = conn->publisher ? i - config->subscribers : i;
        conn->fd = -1;
        conn->next_seq = 1;
        conn->in_cap = conn->publisher ? RUN_PUB_IN_CAP : sub_in_cap;
        conn->in = malloc (conn->in_cap);
        conn->out = conn->publisher ? malloc (self->out_cap) : NULL;
        failed |= !conn->in || (conn->publisher && !conn->out);
    }
    return failed ? -1 : 0;
}

//  Allocates the tables, the buffers and the line template.
static int
s_run_prepare (run_t *self)
{
    const bench_config_t *config = self->config;
    self->topic_len = strlen (config->topic);
    self->payload_at = 4 + self->topic_len + 1;
    self->line_len = self->payload_at + config->size + 1;
    size_t payload = config->size > RUN_HEADER_MAX ? config->size : RUN_HEADER_MAX;
    self->line_max = self->payload_at + payload + 1;
    self->out_cap = self->line_max > RUN_OUT_CAP ? self->line_max : RUN_OUT_CAP;
    if (s_run_prepare_conns (self))
        return -1;

    size_t pairs = (size_t) config->subscribers * (size_t) config->publishers;
    self->last_seq = calloc (pairs, sizeof (uint64_t));
    self->seen_words = (size_t) ((config->messages + 63) / 64);
    if (pairs * self->seen_words <= RUN_SEEN_MAX / sizeof (uint64_t))
        self->seen = calloc (pairs * self->seen_words, sizeof (uint64_t));
    self->result->dup_check = self->seen != NULL;
    self->result->latency = bench_hist_new ();
    self->line = malloc (self->line_len);
    if (!self->line || !self->last_seq || !self->result->latency)
        return -1;
    memcpy (self->line, "PUB ", 4);
    memcpy (self->line + 4, config->topic, self->topic_len);
    self->line [4 + self->topic_len] = ' ';
    memset (self->line + self->payload_at, 'x', config->size);
    self->line [self->line_len - 1] = '\n';
    return 0;
}

//  Sends every subscriber its SUB; the +OKs come back through the loop.
static int
s_run_subscribe (run_t *self)
{
    const bench_config_t *config = self->config;
    size_t len = 4 + self->topic_len + 1;
    char *command = malloc (len + 1);
    if (!command)
        return -1;
    snprintf (command, len + 1, "SUB %s\n", config->topic);
    int rc = 0;
    for (int i = 0; i < config->subscribers && rc == 0; i++) {
        run_conn_t *conn = &self->conns [i];
        rc = s_run_open (self, conn, config->subscriber_host, config->subscriber_port, EPOLLIN);
        //  A fresh socket's buffer always takes a few bytes
        if (rc == 0 && send (conn->fd, command, len, MSG_NOSIGNAL) != (ssize_t) len) {
            fprintf (stderr, "zch_bench: subscriber %d: send: %s\n", i, strerror (errno));
            rc = -1;
        }
    }
    free (command);
    self->progress_ns = s_now_ns ();
    return rc;
}

//  Runs one benchmark; see bench_run.h.
int
bench_run (const bench_config_t *config, bench_result_t *result)
{
    *result = (bench_result_t) { .latency = NULL };
    run_t self = { .config = config, .result = result };
    int rc = -1;
    self.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (self.epoll_fd == -1 || s_run_prepare (&self)) {
        fprintf (stderr, "zch_bench: out of memory or descriptors\n");
        goto cleanup;
    }
    if (s_run_subscribe (&self) == 0)
        rc = s_run_loop (&self);
    result->expected = result->sent * (uint64_t) config->subscribers;
    result->lost = result->expected > result->unique ? result->expected - result->unique : 0;

cleanup:
    for (int i = 0; self.conns && i < self.conn_count; i++) {
        s_run_close (&self, &self.conns [i]);
        free (self.conns [i].in);
        free (self.conns [i].out);
    }
    if (self.epoll_fd != -1)
        close (self.epoll_fd);
    free (self.conns);
    free (self.last_seq);
    free (self.seen);
    free (self.line);
    return rc;
}
