/*  zch_bench_floor: the floor ZeroMQ itself puts under `zchannel run`. The
    same three threads over the same inproc XPUB -> XSUB/XPUB -> SUB chain,
    with the same socket options, doing nothing but ZeroMQ: no TCP clients,
    no parsing, no seq stamping. Whatever zchannel run delivers, it cannot
    beat this.

    Exit status: 0 when every message arrived once and in order; 1 when
    anything was lost or reordered or the run could not be done; 2 on a
    usage error.                                                           */
#include "bench_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define FLOOR_INGRESS       "inproc://floor-ingress"
#define FLOOR_EGRESS        "inproc://floor-egress"
#define FLOOR_ENDPOINT_MAX  64
#define FLOOR_TOPIC         "bench.topic"
#define FLOOR_PREFIX        "bench."
#define FLOOR_META_SIZE     54          //  what the broker's meta takes on the wire
#define FLOOR_SEQ_SIZE      8           //  the payload starts with the producer's seq
#define FLOOR_PAYLOAD_MAX   (16u << 20)
#define FLOOR_MAX_FRAMES    4           //  one more than any valid form, to spot extras
#define FLOOR_QUIET_MS      5000        //  silence that ends a run: something was lost

//  Mirrored from source/source_worker.c, broker/broker.c (and broker.h)
//  and subscriber/subscriber.h, so the floor has the pipes zchannel has
#define SOURCE_SNDHWM       10000
#define SOURCE_LINGER       5000
#define BROKER_INGRESS_HWM  10000
#define BROKER_EGRESS_HWM   1000000
#define BROKER_LINGER       5000
#define BROKER_BATCH        1024
#define SUBSCRIBER_RCVHWM   1000000

typedef struct {
    uint64_t messages;
    size_t payload;
    int frames;                 //  3: [topic][meta][payload]; 2: [topic][payload]; 1: "topic payload"
    bool wait_poll;             //  at the HWM, poll for POLLOUT instead of a blocking send
    bool tcp;                   //  loopback TCP and a context per thread, as three processes
    bool json;
    char ingress [FLOOR_ENDPOINT_MAX];
    char egress [FLOOR_ENDPOINT_MAX];
} floor_options_t;

//  One thread's part: what it is given and, once joined, what it found.
//  Only main reads the results, after pthread_join.
typedef struct {
    const floor_options_t *options;
    void *context;
    uint64_t count;             //  sent, forwarded or received
    uint64_t out_of_order;      //  consumer: seqs not one more than the last
    uint64_t malformed;         //  consumer: wrong frame count or size
    uint64_t waits;             //  producer: sends refused at the HWM (NODROP)
    int64_t first_ns;           //  producer: first send; consumer: first receive
    int64_t last_ns;            //  consumer: last receive
    double cpu_s;               //  this thread's CPU time
    const char *error;
} floor_role_t;

//  Monotonic time, comparable across the threads.
static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  CPU time of the calling thread alone.
static double
s_thread_cpu_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

//  User plus system CPU of the whole process, ZeroMQ's own threads included.
static double
s_process_cpu_s (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
         + (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

//  Sets an int socket option; the values are constants known to be valid.
static void
s_set (void *socket, int option, int value)
{
    zmq_setsockopt (socket, option, &value, sizeof value);
}

//  Sends one frame; at the HWM (NODROP says EAGAIN) waits for room, so
//  nothing is dropped. A blocking send sleeps until the forwarder has read;
//  zmq_poll cannot, as libzmq 4.3.4 always reports an XPUB writable, so
//  --wait poll spins, which is what re-checking POLLOUT costs.
static int
s_send_frame (floor_role_t *self, void *socket, const void *data, size_t size, int flags)
{
    while (zmq_send (socket, data, size, flags | ZMQ_DONTWAIT) < 0) {
        if (zmq_errno () != EAGAIN)
            return -1;
        self->waits++;
        if (!self->options->wait_poll)
            return zmq_send (socket, data, size, flags) < 0? -1: 0;
        zmq_pollitem_t item = { socket, 0, ZMQ_POLLOUT, 0 };
        if (zmq_poll (&item, 1, FLOOR_QUIET_MS) <= 0)
            return -1;
    }
    return 0;
}

//  Waits for a subscription to arrive on an XPUB. Returns 0 or -1.
static int
s_await_subscription (void *xpub)
{
    zmq_pollitem_t item = { xpub, 0, ZMQ_POLLIN, 0 };
    while (zmq_poll (&item, 1, FLOOR_QUIET_MS) > 0) {
        uint8_t event [256];
        int size = zmq_recv (xpub, event, sizeof event, ZMQ_DONTWAIT);
        if (size >= 1 && event [0] == 1)
            return 0;
    }
    return -1;
}

//  Sends messages in the form --frames asks for, seq in the payload's
//  first 8 bytes, once the forwarder has subscribed.
static int
s_produce (floor_role_t *self, void *publisher)
{
    const floor_options_t *options = self->options;
    size_t topic_len = strlen (FLOOR_TOPIC);
    //  One frame carries "topic payload"; the others carry the payload alone
    size_t offset = options->frames == 1? topic_len + 1: 0;
    uint8_t *buffer = malloc (offset + options->payload);
    uint8_t meta [FLOOR_META_SIZE];
    if (!buffer)
        return -1;
    memset (meta, 'm', sizeof meta);
    memset (buffer, 'p', offset + options->payload);
    if (options->frames == 1) {
        memcpy (buffer, FLOOR_TOPIC, topic_len);
        buffer [topic_len] = ' ';
    }
    if (s_await_subscription (publisher)) {
        free (buffer);
        return -1;
    }
    self->first_ns = s_now_ns ();
    int rc = 0;
    for (uint64_t seq = 0; seq < options->messages && rc == 0; seq++) {
        memcpy (buffer + offset, &seq, FLOOR_SEQ_SIZE);
        if (options->frames > 1)
            rc = s_send_frame (self, publisher, FLOOR_TOPIC, topic_len, ZMQ_SNDMORE);
        if (rc == 0 && options->frames == 3)
            rc = s_send_frame (self, publisher, meta, sizeof meta, ZMQ_SNDMORE);
        if (rc == 0)
            rc = s_send_frame (self, publisher, buffer, offset + options->payload, 0);
        if (rc == 0)
            self->count++;
    }
    free (buffer);
    return rc;
}

//  The source: an XPUB, NODROP, that connects to the forwarder's ingress.
static void *
s_producer (void *args)
{
    floor_role_t *self = args;
    double cpu_start = s_thread_cpu_s ();
    void *publisher = zmq_socket (self->context, ZMQ_XPUB);
    s_set (publisher, ZMQ_XPUB_NODROP, 1);
    s_set (publisher, ZMQ_SNDHWM, SOURCE_SNDHWM);
    s_set (publisher, ZMQ_LINGER, SOURCE_LINGER);
    s_set (publisher, ZMQ_SNDTIMEO, FLOOR_QUIET_MS);
    if (zmq_connect (publisher, self->options->ingress) || s_produce (self, publisher))
        self->error = "producer: no subscription, or a send failed";
    zmq_close (publisher);
    self->cpu_s = s_thread_cpu_s () - cpu_start;
    return NULL;
}

//  Reads subscription events on the egress XPUB, as the broker does.
//  Returns how many subscriptions arrived.
static int
s_egress_drain (void *egress)
{
    int subscriptions = 0;
    uint8_t event [256];
    int size;
    while ((size = zmq_recv (egress, event, sizeof event, ZMQ_DONTWAIT)) >= 0)
        if (size >= 1 && event [0] == 1)
            subscriptions++;
    return subscriptions;
}

//  Moves up to BROKER_BATCH messages from ingress to egress, frames as
//  they are. Returns how many it moved.
static size_t
s_ingress_drain (void *ingress, void *egress)
{
    size_t handled = 0;
    while (handled < BROKER_BATCH) {
        zmq_msg_t frames [FLOOR_MAX_FRAMES];
        int count = 0;
        bool more = true;
        while (more && count < FLOOR_MAX_FRAMES) {
            zmq_msg_init (&frames [count]);
            if (zmq_msg_recv (&frames [count], ingress, ZMQ_DONTWAIT) < 0) {
                //  Multiparts arrive whole: this can only be a first frame
                zmq_msg_close (&frames [count]);
                return handled;
            }
            more = zmq_msg_more (&frames [count]);
            count++;
        }
        for (int i = 0; i < count; i++) {
            zmq_msg_send (&frames [i], egress, i + 1 < count? ZMQ_SNDMORE: 0);
            zmq_msg_close (&frames [i]);
        }
        handled++;
    }
    return handled;
}

//  The broker's loop, minus the broker: poll, subscriptions first, then a
//  batch of ingress. It subscribes upstream only once the consumer has
//  subscribed, so the producer (which waits for that) cannot send into a
//  chain with no one at its end; the broker subscribes at once instead.
static void *
s_forwarder (void *args)
{
    floor_role_t *self = args;
    double cpu_start = s_thread_cpu_s ();
    void *ingress = zmq_socket (self->context, ZMQ_XSUB);
    void *egress = zmq_socket (self->context, ZMQ_XPUB);
    s_set (ingress, ZMQ_LINGER, 0);
    s_set (ingress, ZMQ_RCVHWM, BROKER_INGRESS_HWM);
    s_set (egress, ZMQ_LINGER, BROKER_LINGER);
    s_set (egress, ZMQ_SNDHWM, BROKER_EGRESS_HWM);
    s_set (egress, ZMQ_XPUB_VERBOSE, 1);
    if (zmq_bind (ingress, self->options->ingress) || zmq_bind (egress, self->options->egress))
        self->error = "forwarder: cannot bind";
    zmq_pollitem_t items [] = {
        { ingress, 0, ZMQ_POLLIN, 0 },
        { egress, 0, ZMQ_POLLIN, 0 }
    };
    bool subscribed = false;
    bool busy = false;
    while (!self->error && self->count < self->options->messages) {
        int ready = zmq_poll (items, 2, busy? 0: FLOOR_QUIET_MS);
        if (ready < 0 && zmq_errno () != EINTR)
            break;
        if (ready == 0 && !busy)
            break;          //  quiet for too long; the consumer will say what is missing
        if (s_egress_drain (egress) > 0 && !subscribed) {
            uint8_t subscribe_all = 1;
            zmq_send (ingress, &subscribe_all, 1, 0);
            subscribed = true;
        }
        size_t moved = s_ingress_drain (ingress, egress);
        self->count += moved;
        busy = moved == BROKER_BATCH;
    }
    zmq_close (ingress);
    zmq_close (egress);
    self->cpu_s = s_thread_cpu_s () - cpu_start;
    return NULL;
}

//  Checks one received message: its frame count, and that its seq is one
//  more than the last.
static void
s_check (floor_role_t *self, zmq_msg_t *frames, int count, uint64_t *expected)
{
    const floor_options_t *options = self->options;
    size_t offset = options->frames == 1? strlen (FLOOR_TOPIC) + 1: 0;
    zmq_msg_t *payload = &frames [count - 1];
    if (count != options->frames || zmq_msg_size (payload) != offset + options->payload) {
        self->malformed++;
        return;
    }
    uint64_t seq;
    memcpy (&seq, (uint8_t *) zmq_msg_data (payload) + offset, sizeof seq);
    if (seq != *expected)
        self->out_of_order++;
    *expected = seq + 1;
}

//  The subscriber: a SUB on the forwarder's egress, counting and checking.
static void *
s_consumer (void *args)
{
    floor_role_t *self = args;
    double cpu_start = s_thread_cpu_s ();
    void *subscriber = zmq_socket (self->context, ZMQ_SUB);
    s_set (subscriber, ZMQ_RCVHWM, SUBSCRIBER_RCVHWM);
    s_set (subscriber, ZMQ_LINGER, 0);
    s_set (subscriber, ZMQ_RCVTIMEO, FLOOR_QUIET_MS);
    if (zmq_connect (subscriber, self->options->egress)
    ||  zmq_setsockopt (subscriber, ZMQ_SUBSCRIBE, FLOOR_PREFIX, strlen (FLOOR_PREFIX)))
        self->error = "consumer: cannot connect";
    uint64_t expected = 0;
    while (!self->error && self->count < self->options->messages) {
        zmq_msg_t frames [FLOOR_MAX_FRAMES];
        int count = 0;
        bool more = true;
        while (more && count < FLOOR_MAX_FRAMES) {
            zmq_msg_init (&frames [count]);
            if (zmq_msg_recv (&frames [count], subscriber, 0) < 0) {
                zmq_msg_close (&frames [count]);
                break;
            }
            more = zmq_msg_more (&frames [count]);
            count++;
        }
        if (count == 0)
            break;          //  quiet for too long: the rest is lost
        if (self->count == 0)
            self->first_ns = s_now_ns ();
        s_check (self, frames, count, &expected);
        for (int i = 0; i < count; i++)
            zmq_msg_close (&frames [i]);
        self->count++;
    }
    self->last_ns = s_now_ns ();
    zmq_close (subscriber);
    self->cpu_s = s_thread_cpu_s () - cpu_start;
    return NULL;
}

//  Prints the usage text to stream.
static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "Usage: zch_bench_floor [OPTIONS]\n"
        "\n"
        "What ZeroMQ alone delivers through zchannel run's chain: a producer\n"
        "thread (XPUB, NODROP), a forwarder thread (XSUB -> XPUB) and a consumer\n"
        "thread (SUB), over inproc in one context, with zchannel's socket options.\n"
        "\n"
        "  --messages N       messages to send (default 2000000)\n"
        "  --payload BYTES    payload size, at least 8 (default 64)\n"
        "  --frames 3|2|1     3: [topic][meta][payload] as zchannel sends (default);\n"
        "                     2: [topic][payload]; 1: one frame \"topic payload\"\n"
        "  --wait block|poll  at the producer's HWM, sleep in a blocking send\n"
        "                     (default), or poll for POLLOUT, which libzmq 4.3.4\n"
        "                     always reports on an XPUB: a spin\n"
        "  --transport inproc|tcp\n"
        "                     inproc in one context, as zchannel run (default), or\n"
        "                     loopback TCP with a context (and I/O thread) per\n"
        "                     thread, as the three processes\n"
        "  --json             print the result as one JSON object\n"
        "  -h, --help         print this text\n"
        "\n"
        "Exit status: 0 when every message arrived once and in order, 1 otherwise,\n"
        "2 on a usage error.\n");
}

//  Parses argv; returns 0 to run, 1 after --help, -1 on a usage error.
static int
s_parse (int argc, char **argv, floor_options_t *options)
{
    static const struct option long_options [] = {
        { "messages", required_argument, NULL, 'm' },
        { "payload", required_argument, NULL, 'p' },
        { "frames", required_argument, NULL, 'f' },
        { "wait", required_argument, NULL, 'w' },
        { "transport", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    uint64_t value;
    while ((opt = getopt_long (argc, argv, "h", long_options, NULL)) != -1) {
        if (opt == 'h') {
            s_usage (stdout);
            return 1;
        }
        if (opt == 'j')
            options->json = true;
        else
        if (opt == 'm' && bench_number (optarg, 1, UINT64_MAX / 2, &value) == 0)
            options->messages = value;
        else
        if (opt == 'p' && bench_number (optarg, FLOOR_SEQ_SIZE, FLOOR_PAYLOAD_MAX, &value) == 0)
            options->payload = (size_t) value;
        else
        if (opt == 'f' && bench_number (optarg, 1, 3, &value) == 0)
            options->frames = (int) value;
        else
        if (opt == 'w' && (strcmp (optarg, "block") == 0 || strcmp (optarg, "poll") == 0))
            options->wait_poll = strcmp (optarg, "poll") == 0;
        else
        if (opt == 't' && (strcmp (optarg, "inproc") == 0 || strcmp (optarg, "tcp") == 0))
            options->tcp = strcmp (optarg, "tcp") == 0;
        else {
            if (opt != '?')
                fprintf (stderr, "zch_bench_floor: invalid value '%s'\n", optarg);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "zch_bench_floor: unexpected argument '%s'\n", argv [optind]);
        return -1;
    }
    return 0;
}

//  Prints the figures, text or JSON. CPU is per message delivered; "other"
//  is the process less the three roles: ZeroMQ's I/O and reaper threads
//  and main.
static void
s_report (const floor_options_t *options, const floor_role_t roles [3], double seconds,
          double process_cpu_s)
{
    const floor_role_t *producer = &roles [0], *forwarder = &roles [1], *consumer = &roles [2];
    double per_msg = consumer->count? 1e6 / (double) consumer->count: 0;
    double other_s = process_cpu_s - producer->cpu_s - forwarder->cpu_s - consumer->cpu_s;
    double rate = seconds > 0? (double) consumer->count / seconds: 0;
    uint64_t lost = options->messages - consumer->count;
    if (options->json) {
        printf ("{\"messages\":%" PRIu64 ",\"payload\":%zu,\"frames\":%d,\"received\":%" PRIu64
                ",\"seconds\":%.6f,\"rate\":%.0f,\"cpu_us_per_msg\":%.4f"
                ",\"thread_cpu_us_per_msg\":{\"producer\":%.4f,\"forwarder\":%.4f"
                ",\"consumer\":%.4f,\"other\":%.4f}"
                ",\"lost\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"malformed\":%" PRIu64
                ",\"producer_waits\":%" PRIu64 ",\"wait\":\"%s\",\"transport\":\"%s\"}\n",
                options->messages, options->payload, options->frames, consumer->count, seconds,
                rate, process_cpu_s * per_msg, producer->cpu_s * per_msg,
                forwarder->cpu_s * per_msg, consumer->cpu_s * per_msg, other_s * per_msg,
                lost, consumer->out_of_order, consumer->malformed, producer->waits,
                options->wait_poll? "poll": "block", options->tcp? "tcp": "inproc");
        return;
    }
    printf ("frames          %d (%s), %zu-byte payload, over %s\n", options->frames,
            options->frames == 3? "topic, meta, payload":
            options->frames == 2? "topic, payload": "\"topic payload\"", options->payload,
            options->tcp? "loopback TCP, a context per thread": "inproc, one context");
    printf ("messages        %" PRIu64 " sent, %" PRIu64 " received\n", producer->count, consumer->count);
    printf ("seconds         %.3f\n", seconds);
    printf ("delivered       %.0f msg/s\n", rate);
    printf ("cpu             %.3f us/msg (process, user+sys)\n", process_cpu_s * per_msg);
    printf ("  producer      %.3f us/msg\n", producer->cpu_s * per_msg);
    printf ("  forwarder     %.3f us/msg\n", forwarder->cpu_s * per_msg);
    printf ("  consumer      %.3f us/msg\n", consumer->cpu_s * per_msg);
    printf ("  other         %.3f us/msg (ZeroMQ's threads, main)\n", other_s * per_msg);
    printf ("producer waits  %" PRIu64 " (sends refused at the HWM; then %s)\n", producer->waits,
            options->wait_poll? "poll and retry": "a blocking send");
    printf ("lost            %" PRIu64 "\n", lost);
    printf ("out of order    %" PRIu64 "\n", consumer->out_of_order);
    printf ("malformed       %" PRIu64 "\n", consumer->malformed);
}

//  A loopback port free now, or 0.
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t size = sizeof address;
    int port = 0;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &address, sizeof address) == 0
    &&  getsockname (fd, (struct sockaddr *) &address, &size) == 0)
        port = ntohs (address.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

//  Fills the forwarder's two endpoints for the transport. Returns 0 or -1.
static int
s_endpoints (floor_options_t *options)
{
    if (!options->tcp) {
        snprintf (options->ingress, sizeof options->ingress, "%s", FLOOR_INGRESS);
        snprintf (options->egress, sizeof options->egress, "%s", FLOOR_EGRESS);
        return 0;
    }
    int ingress = s_free_port (), egress = s_free_port ();
    if (!ingress || !egress || ingress == egress)
        return -1;
    snprintf (options->ingress, sizeof options->ingress, "tcp://127.0.0.1:%d", ingress);
    snprintf (options->egress, sizeof options->egress, "tcp://127.0.0.1:%d", egress);
    return 0;
}

//  Entry point: parse, start the forwarder, consumer and producer (on one
//  context, or one each over TCP), wait for all three, report.
int
main (int argc, char **argv)
{
    floor_options_t options = { .messages = 2000000, .payload = 64, .frames = 3 };
    int rc = s_parse (argc, argv, &options);
    if (rc != 0) {
        if (rc < 0)
            fprintf (stderr, "Try 'zch_bench_floor --help'.\n");
        return rc < 0? 2: 0;
    }
    if (s_endpoints (&options)) {
        fprintf (stderr, "zch_bench_floor: no free loopback port\n");
        return 1;
    }
    double cpu_start = s_process_cpu_s ();
    void *contexts [3] = { NULL };
    int context_count = options.tcp? 3: 1;
    for (int i = 0; i < context_count; i++)
        if (!(contexts [i] = zmq_ctx_new ()) || zmq_ctx_set (contexts [i], ZMQ_IO_THREADS, 1)) {
            fprintf (stderr, "zch_bench_floor: cannot create a context\n");
            return 1;
        }
    void *(*bodies [3]) (void *) = { s_producer, s_forwarder, s_consumer };
    floor_role_t roles [3];
    pthread_t threads [3];
    //  Forwarder first, then consumer, then producer: zchannel run's order
    for (int i = 0; i < 3; i++)
        roles [i] = (floor_role_t) { .options = &options, .context = contexts [options.tcp? i: 0] };
    int started = 0;
    for (int i = 1; i <= 3 && started == i - 1; i++)
        if (pthread_create (&threads [i % 3], NULL, bodies [i % 3], &roles [i % 3]) == 0)
            started++;
    for (int i = 1; i <= started; i++)
        pthread_join (threads [i % 3], NULL);
    double process_cpu_s = s_process_cpu_s () - cpu_start;
    for (int i = 0; i < context_count; i++)
        zmq_ctx_term (contexts [i]);
    if (started < 3) {
        fprintf (stderr, "zch_bench_floor: cannot start threads\n");
        return 1;
    }
    for (int i = 0; i < 3; i++)
        if (roles [i].error)
            fprintf (stderr, "zch_bench_floor: %s\n", roles [i].error);
    const floor_role_t *producer = &roles [0], *consumer = &roles [2];
    double seconds = consumer->count? (consumer->last_ns - producer->first_ns) / 1e9: 0;
    s_report (&options, roles, seconds, process_cpu_s);
    bool clean = consumer->count == options.messages && producer->count == options.messages
              && consumer->out_of_order == 0 && consumer->malformed == 0
              && !roles [0].error && !roles [1].error && !roles [2].error;
    return clean? 0: 1;
}
