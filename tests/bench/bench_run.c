/*  bench_run: the load engine of zch_bench over TCP. See bench_run.h.     */
#include "bench_run.h"
#include "bench_msg.h"
#include "bench_net.h"
#include "bench_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUN_OUT_CAP       (64 * 1024)       //  one publisher batch
#define RUN_IN_CAP        (1024 * 1024)     //  one subscriber read
#define RUN_PUB_IN_CAP    (64 * 1024)       //  publishers get little back
#define RUN_ROUNDS        4                 //  reads or writes per socket per wakeup
#define RUN_TICK_MS       100               //  longest sleep, to notice the timeout
#define RUN_ERRORS_SHOWN  5                 //  errors printed before going quiet
#define RUN_RSS_EVERY_NS  50000000          //  RSS sampling period
#define RUN_HELLO_MAX     1024              //  handshake and subscription bytes

typedef struct {
    bool publisher;
    int index;                  //  among its kind
    int fd;                     //  -1 once closed
    uint32_t events;            //  epoll interest now
    bool ready;                 //  subscription (or handshake) confirmed
    char *in;                   //  input not yet a whole unit
    size_t in_len;
    size_t in_cap;
    char *out;                  //  publisher: the batch being written
    size_t out_len;
    size_t out_sent;
    uint32_t *ends;             //  publisher: where each message of the batch ends
    size_t ends_count;
    size_t ends_done;           //  ... and how many are written
    uint64_t next_seq;          //  publisher: next seq to format, from 1
    uint64_t limit;             //  publisher: last seq it will send
    uint64_t written;           //  publisher: messages written completely
} run_conn_t;

typedef struct {
    const bench_config_t *config;
    const bench_proto_t *proto;
    bench_result_t *result;
    bench_check_t *check;
    int epoll_fd;
    run_conn_t *conns;          //  subscribers, then publishers
    int conn_count;
    int subs_ready;
    int pubs_ready;
    int *idle_fds;
    char *payload;              //  scratch for one payload
    char *topic;                //  the topic, or room for "<topic><sep><n>"
    size_t topic_len;
    size_t msg_max;             //  longest publish a message can take
    size_t out_cap;             //  publisher batch size
    bool connecting;            //  publishers connected, handshakes pending
    bool publishing;
    bool stopped;               //  duration reached: no more messages are formatted
    int64_t start_ns;           //  publishers' start
    int64_t progress_ns;        //  last time a byte went out or a message came in
    int64_t rss_ns;             //  last RSS sample
    int errors_shown;
} run_t;

//  Prints an error from a server, the first few times only.
static void
s_run_server_error (run_t *self, run_conn_t *conn, const char *text, size_t len)
{
    self->result->server_errors++;
    //  "-ERR gap <topic> <from>-<to>": a loss the subscriber was told of
    char line [256];
    unsigned long long from, to;
    snprintf (line, sizeof line, "%.*s", (int) (len < sizeof line? len: sizeof line - 1), text);
    if (!conn->publisher && sscanf (line, "-ERR gap %*s %llu-%llu", &from, &to) == 2 && to >= from)
        bench_check_told (self->check, conn->index, to - from + 1);
    if (self->errors_shown++ < RUN_ERRORS_SHOWN)
        fprintf (stderr, "zch_bench: %s %d: %.*s\n",
                 conn->publisher ? "publisher" : "subscriber", conn->index, (int) len, text);
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

//  Sends a few bytes on a fresh or quiet socket, whose buffer takes them.
static int
s_run_say (run_conn_t *conn, const char *data, size_t len)
{
    if (len && send (conn->fd, data, len, MSG_NOSIGNAL) != (ssize_t) len) {
        fprintf (stderr, "zch_bench: %s %d: send: %s\n",
                 conn->publisher ? "publisher" : "subscriber", conn->index, strerror (errno));
        return -1;
    }
    return 0;
}

//  Connects conn, registers it with epoll and sends its first words.
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
    char hello [RUN_HELLO_MAX];
    size_t len = conn->publisher
        ? self->proto->hello (hello, sizeof hello, true, conn->index)
        : self->proto->subscribe (hello, sizeof hello, self->config->topic,
                                  self->config->topics > 1, conn->index);
    if (!conn->publisher && len == 0) {
        fprintf (stderr, "zch_bench: topic too long for a subscription\n");
        return -1;
    }
    return s_run_say (conn, hello, len);
}

//  Samples the watched processes' RSS into the peak.
static void
s_run_rss (run_t *self, int64_t now)
{
    if (self->config->watch_count == 0 || now - self->rss_ns < RUN_RSS_EVERY_NS)
        return;
    self->rss_ns = now;
    uint64_t rss = bench_rss_kib (self->config->watch_pids, self->config->watch_count);
    if (rss > self->result->rss_peak_kib)
        self->result->rss_peak_kib = rss;
}

//  How many of a publisher's messages are due now: all of them at full
//  speed, or as many as the rate allows since the start; none past the
//  duration.
static uint64_t
s_run_due (run_t *self, run_conn_t *conn, int64_t now)
{
    const bench_config_t *config = self->config;
    if (config->duration_s > 0 && !self->stopped
    &&  now - self->start_ns >= (int64_t) (config->duration_s * 1e9)) {
        self->stopped = true;
        for (int i = config->subscribers; i < self->conn_count; i++)
            self->conns [i].limit = self->conns [i].next_seq - 1;
    }
    if (config->rate == 0)
        return conn->limit;
    double due = (double) (now - self->start_ns) * (double) config->rate / 1e9 + 1;
    return due >= (double) conn->limit ? conn->limit : (uint64_t) due;
}

//  The topic of a publisher's message: the topic, or one of its children.
static size_t
s_run_topic (run_t *self, run_conn_t *conn)
{
    if (self->config->topics <= 1)
        return self->topic_len;
    uint64_t n = (conn->next_seq * (uint64_t) self->config->publishers + (uint64_t) conn->index)
               % self->config->topics;
    return self->topic_len + 1 + bench_put_u64 (self->topic + self->topic_len + 1, n);
}

//  Fills an empty publisher batch with the messages due, each stamped
//  with the time it is formatted.
static void
s_pub_fill (run_t *self, run_conn_t *conn, uint64_t due)
{
    conn->ends_count = conn->ends_done = 0;
    while (conn->next_seq <= due && conn->out_len + self->msg_max <= self->out_cap) {
        size_t payload_len = bench_payload_fill (self->payload, self->config->size,
                                                 conn->index, conn->next_seq);
        size_t topic_len = s_run_topic (self, conn);
        conn->out_len += self->proto->publish (conn->out + conn->out_len, self->topic, topic_len,
                                               self->payload, payload_len);
        conn->ends [conn->ends_count++] = (uint32_t) conn->out_len;
        conn->next_seq++;
    }
}

//  Counts the messages whose last byte just went out.
static void
s_pub_count_written (run_t *self, run_conn_t *conn, size_t bytes, int64_t now)
{
    conn->out_sent += bytes;
    uint64_t done = 0;
    while (conn->ends_done < conn->ends_count && conn->ends [conn->ends_done] <= conn->out_sent) {
        conn->ends_done++;
        done++;
    }
    conn->written += done;
    self->result->sent += done;
    self->result->last_send_ns = now;
    self->progress_ns = now;
}

//  Writes a publisher's due messages, a few batches per wakeup so every
//  socket gets its turn, and asks for EPOLLOUT while more can be sent.
static void
s_pub_pump (run_t *self, run_conn_t *conn, int64_t now)
{
    if (conn->fd == -1 || !self->publishing)
        return;
    for (int round = 0; round < RUN_ROUNDS; round++) {
        if (conn->out_sent == conn->out_len) {
            conn->out_len = conn->out_sent = 0;
            s_pub_fill (self, conn, s_run_due (self, conn, now));
            if (conn->out_len == 0)
                break;
        }
        ssize_t put = send (conn->fd, conn->out + conn->out_sent,
                            conn->out_len - conn->out_sent, MSG_NOSIGNAL);
        if (put > 0)
            s_pub_count_written (self, conn, (size_t) put, now = bench_now_ns ());
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
             || (self->config->rate == 0 && conn->next_seq <= conn->limit);
    s_run_watch (self, conn, EPOLLIN | (more ? EPOLLOUT : 0));
}

//  Handles one event from a server.
static void
s_run_event (run_t *self, run_conn_t *conn, const bench_event_t *event, int64_t now)
{
    int publisher;
    switch (event->kind) {
        case BENCH_EV_MSG:
            if (conn->publisher || !bench_check_topic (self->check, event->topic, event->topic_len))
                self->result->foreign++;
            else
            if (bench_check_payload (self->check, conn->index, event->payload,
                                     event->payload_len, now, &publisher) == BENCH_MSG_COUNTED)
                self->progress_ns = now;
            break;
        case BENCH_EV_READY:
            if (!conn->ready) {
                conn->ready = true;
                if (conn->publisher)
                    self->pubs_ready++;
                else
                    self->subs_ready++;
                self->progress_ns = now;
            }
            break;
        case BENCH_EV_ERROR:
            s_run_server_error (self, conn, event->payload, event->payload_len);
            break;
        case BENCH_EV_PING:
            if (self->proto->pong)
                s_run_say (conn, self->proto->pong, strlen (self->proto->pong));
            break;
        case BENCH_EV_NONE:
            break;
    }
}

//  Takes every whole unit out of the input buffer, keeping a partial one.
//  Returns 0, or -1 when the input makes no sense or does not fit.
static int
s_run_units (run_t *self, run_conn_t *conn, int64_t now)
{
    size_t at = 0;
    while (at < conn->in_len) {
        bench_event_t event;
        long used = self->proto->parse (conn->in + at, conn->in_len - at, conn->publisher, &event);
        if (used == 0)
            break;
        if (used < 0) {
            fprintf (stderr, "zch_bench: %s %d: %s input makes no sense\n",
                     conn->publisher ? "publisher" : "subscriber", conn->index, self->proto->name);
            return -1;
        }
        s_run_event (self, conn, &event, now);
        at += (size_t) used;
    }
    conn->in_len -= at;
    if (conn->in_len == conn->in_cap) {
        fprintf (stderr, "zch_bench: %s %d: a server message is longer than %zu bytes\n",
                 conn->publisher ? "publisher" : "subscriber", conn->index, conn->in_cap);
        return -1;
    }
    if (at && conn->in_len)
        memmove (conn->in, conn->in + at, conn->in_len);
    return 0;
}

//  Reads what a connection has, a few chunks per wakeup, and handles
//  it. A close is final: it is reported unless expected.
static void
s_run_read (run_t *self, run_conn_t *conn)
{
    for (int round = 0; round < RUN_ROUNDS && conn->fd != -1; round++) {
        size_t room = conn->in_cap - conn->in_len;
        ssize_t got = read (conn->fd, conn->in + conn->in_len, room);
        if (got > 0) {
            conn->in_len += (size_t) got;
            if (s_run_units (self, conn, bench_now_ns ())) {
                s_run_close (self, conn);
                return;
            }
            if ((size_t) got < room)
                break;                      //  drained
        }
        else
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            bool finished = conn->publisher && conn->written == conn->limit;
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

//  Connects every publisher; they publish once their handshakes are done.
static int
s_run_connect_publishers (run_t *self)
{
    const bench_config_t *config = self->config;
    for (int i = config->subscribers; i < self->conn_count; i++)
        if (s_run_open (self, &self->conns [i], config->source_host, config->source_port,
                        EPOLLIN))
            return -1;
    self->connecting = true;
    self->progress_ns = bench_now_ns ();
    return 0;
}

//  Starts the clock and the publishers.
static void
s_run_start (run_t *self)
{
    self->publishing = true;
    self->start_ns = self->progress_ns = bench_now_ns ();
    self->result->first_send_ns = self->start_ns;
    if (self->config->watch_count)
        self->result->server_cpu_s = -bench_cpu_seconds (self->config->watch_pids,
                                                         self->config->watch_count);
    for (int i = self->config->subscribers; i < self->conn_count; i++)
        s_run_watch (self, &self->conns [i], EPOLLIN | EPOLLOUT);
}

//  Tells whether every publisher is done or gone.
static bool
s_run_published (run_t *self)
{
    for (int i = self->config->subscribers; i < self->conn_count; i++) {
        run_conn_t *conn = &self->conns [i];
        if (conn->fd != -1 && conn->written < conn->limit)
            return false;
    }
    return true;
}

//  Tells whether nothing more can happen: every publisher is done or
//  gone, and every subscriber has everything or is gone.
static bool
s_run_finished (run_t *self)
{
    if (!self->publishing || !s_run_published (self))
        return false;
    int subs_open = 0;
    for (int i = 0; i < self->config->subscribers; i++)
        subs_open += self->conns [i].fd != -1;
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
        if (conn->fd == -1 || (conn->events & EPOLLOUT) || conn->next_seq > conn->limit)
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

//  Tells whether the run should stop for want of progress: the timeout
//  at any time, or the linger once the publishers are done.
static bool
s_run_stalled (run_t *self, int64_t now)
{
    int64_t quiet = now - self->progress_ns;
    if (quiet > (int64_t) self->config->timeout_s * 1000000000) {
        self->result->timed_out = true;
        return true;
    }
    return self->publishing && self->config->linger_s > 0 && s_run_published (self)
        && quiet > (int64_t) (self->config->linger_s * 1e9);
}

//  The event loop, from the first subscription to the last delivery.
static int
s_run_loop (run_t *self)
{
    const bench_config_t *config = self->config;
    struct epoll_event events [64];
    while (true) {
        int64_t now = bench_now_ns ();
        if (!self->connecting && self->subs_ready == config->subscribers
        &&  s_run_connect_publishers (self))
            return -1;
        if (self->connecting && !self->publishing
        &&  (!self->proto->pub_waits || self->pubs_ready == config->publishers))
            s_run_start (self);
        if (s_run_finished (self))
            return 0;
        s_run_rss (self, now);
        if (s_run_stalled (self, now)) {
            if (!self->publishing)
                fprintf (stderr, "zch_bench: %d of %d subscriptions and %d of %d publishers "
                         "confirmed after %d s\n", self->subs_ready, config->subscribers,
                         self->pubs_ready, config->publishers, config->timeout_s);
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
                s_pub_pump (self, conn, bench_now_ns ());
        }
        if (self->publishing && config->rate)
            for (int i = config->subscribers; i < self->conn_count; i++)
                if (!(self->conns [i].events & EPOLLOUT))
                    s_pub_pump (self, &self->conns [i], bench_now_ns ());
        if (!self->publishing)
            for (int i = 0; i < self->conn_count; i++)
                if (self->conns [i].fd == -1 && (!self->conns [i].publisher || self->connecting))
                    return -1;              //  lost before the start: already said why
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
    size_t sub_in_cap = self->msg_max * 4 > RUN_IN_CAP ? self->msg_max * 4 : RUN_IN_CAP;
    size_t ends_cap = self->out_cap / 8 + 1;       //  every publish takes 8 bytes or more
    int failed = 0;
    for (int i = 0; i < self->conn_count; i++) {
        run_conn_t *conn = &self->conns [i];
        conn->publisher = i >= config->subscribers;
        conn->index = conn->publisher ? i - config->subscribers : i;
        conn->fd = -1;
        conn->next_seq = 1;
        conn->limit = config->messages;
        conn->in_cap = conn->publisher ? RUN_PUB_IN_CAP : sub_in_cap;
        conn->in = malloc (conn->in_cap);
        if (conn->publisher) {
            conn->out = malloc (self->out_cap);
            conn->ends = calloc (ends_cap, sizeof (uint32_t));
        }
        failed |= !conn->in || (conn->publisher && (!conn->out || !conn->ends));
    }
    return failed ? -1 : 0;
}

//  Allocates the tables, the buffers and the topic.
static int
s_run_prepare (run_t *self)
{
    const bench_config_t *config = self->config;
    self->topic_len = strlen (config->topic);
    self->topic = malloc (self->topic_len + 32);
    size_t payload = config->size > BENCH_HEADER_MAX ? config->size : BENCH_HEADER_MAX;
    self->payload = malloc (payload);
    if (!self->topic || !self->payload)
        return -1;
    memcpy (self->topic, config->topic, self->topic_len);
    self->topic [self->topic_len] = self->proto->separator;
    self->msg_max = self->proto->overhead (self->topic_len + 21) + payload;
    self->out_cap = self->msg_max > RUN_OUT_CAP ? self->msg_max : RUN_OUT_CAP;
    self->check = bench_check_new (config, self->result);
    if (!self->check)
        return -1;
    return s_run_prepare_conns (self);
}

//  Opens the idle connections, half on each front-end when they differ,
//  each with the protocol's handshake, and never reads them.
static int
s_run_idle (run_t *self)
{
    const bench_config_t *config = self->config;
    if (config->idle == 0)
        return 0;
    self->idle_fds = malloc ((size_t) config->idle * sizeof (int));
    if (!self->idle_fds)
        return -1;
    for (int i = 0; i < config->idle; i++) {
        bool pub_side = i % 2 == 0;
        int fd = bench_connect (pub_side ? config->source_host : config->subscriber_host,
                                pub_side ? config->source_port : config->subscriber_port);
        if (fd == -1)
            return -1;
        self->idle_fds [self->result->idle_open++] = fd;
        char hello [RUN_HELLO_MAX];
        size_t len = self->proto->hello (hello, sizeof hello, false, i);
        if (len && send (fd, hello, len, MSG_NOSIGNAL) != (ssize_t) len)
            return -1;
    }
    return 0;
}

//  Subscribes every subscriber; confirmations come back through the loop.
static int
s_run_subscribe (run_t *self)
{
    for (int i = 0; i < self->config->subscribers; i++)
        if (s_run_open (self, &self->conns [i], self->config->subscriber_host,
                        self->config->subscriber_port, EPOLLIN))
            return -1;
    self->progress_ns = bench_now_ns ();
    return 0;
}

//  Runs one benchmark; see bench_run.h.
int
bench_run (const bench_config_t *config, bench_result_t *result)
{
    *result = (bench_result_t) { .latency = NULL };
    run_t self = { .config = config, .result = result };
    int rc = -1;
    self.proto = bench_proto_find (config->proto);
    self.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (!self.proto || self.epoll_fd == -1 || s_run_prepare (&self)) {
        fprintf (stderr, "zch_bench: out of memory or descriptors\n");
        goto cleanup;
    }
    if (config->watch_count)
        result->rss_base_kib = bench_rss_kib (config->watch_pids, config->watch_count);
    if (s_run_idle (&self)) {
        fprintf (stderr, "zch_bench: could not open idle connection %d of %d\n",
                 result->idle_open + 1, config->idle);
        goto cleanup;
    }
    if (config->watch_count) {
        result->rss_idle_kib = bench_rss_kib (config->watch_pids, config->watch_count);
        result->rss_peak_kib = result->rss_idle_kib;
    }
    if (s_run_subscribe (&self) == 0)
        rc = s_run_loop (&self);
    if (config->watch_count && self.publishing)
        result->server_cpu_s += bench_cpu_seconds (config->watch_pids, config->watch_count);
    for (int i = config->subscribers; i < self.conn_count; i++)
        result->planned += self.conns [i].limit;
    result->expected = result->sent * (uint64_t) config->subscribers;
    result->lost = result->expected > result->unique ? result->expected - result->unique : 0;
    result->mistold = bench_check_mistold (self.check);

cleanup:
    for (int i = 0; self.conns && i < self.conn_count; i++) {
        s_run_close (&self, &self.conns [i]);
        free (self.conns [i].in);
        free (self.conns [i].out);
        free (self.conns [i].ends);
    }
    for (int i = 0; i < result->idle_open; i++)
        close (self.idle_fds [i]);
    if (self.epoll_fd != -1)
        close (self.epoll_fd);
    bench_check_destroy (&self.check);
    free (self.conns);
    free (self.idle_fds);
    free (self.payload);
    free (self.topic);
    return rc;
}
