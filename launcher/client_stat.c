/*  client_stat: `zchannel stat`, a compact live view of the broker's
    counters from its control endpoint (STATS, a msgpack map).              */
#include "zchannel_client.h"

#include <czmq.h>
#include <getopt.h>
#include <msgpack.h>

#define STAT_CONTROL_DEFAULT    "tcp://127.0.0.1:2208"
#define STAT_FIELDS_MAX         32

typedef struct {
    char name [32];
    uint64_t value;
} field_t;

static void
s_usage (void)
{
    printf ("Usage: zchannel stat [OPTION]...\n"
            "Print the broker's counters (messages_in, bytes_in, malformed, topics,\n"
            "subscriptions, ...) every second, with rates per second.\n\n"
            "  --control EP     the broker's control endpoint, default " STAT_CONTROL_DEFAULT "\n"
            "  --once           print one line and exit\n"
            "  --timeout MS     how long to wait for the broker, default 2000\n"
            "  --help           show this help and exit\n");
}

//  Asks for STATS and decodes the map into fields. Returns the number of
//  fields, or -1 with a reason on stderr.
static int
s_fetch (zsock_t *control, int timeout, field_t *fields)
{
    if (zstr_send (control, "STATS")) {
        fprintf (stderr, "zchannel stat: cannot send to the broker\n");
        return -1;
    }
    zpoller_t *poller = zpoller_new (control, NULL);
    void *ready = zpoller_wait (poller, timeout);
    zpoller_destroy (&poller);
    if (!ready) {
        fprintf (stderr, "zchannel stat: no answer from the broker within %d ms\n", timeout);
        return -1;
    }
    zmsg_t *reply = zmsg_recv (control);
    char *kind = reply? zmsg_popstr (reply): NULL;
    zframe_t *body = reply? zmsg_pop (reply): NULL;
    int count = -1;
    if (kind && streq (kind, "STATS") && body) {
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        if (msgpack_unpack_next (&unpacked, (const char *) zframe_data (body), zframe_size (body), NULL)
            == MSGPACK_UNPACK_SUCCESS && unpacked.data.type == MSGPACK_OBJECT_MAP) {
            msgpack_object_map *map = &unpacked.data.via.map;
            count = 0;
            for (uint32_t i = 0; i < map->size && count < STAT_FIELDS_MAX; i++) {
                msgpack_object *key = &map->ptr [i].key;
                msgpack_object *value = &map->ptr [i].val;
                if (key->type != MSGPACK_OBJECT_STR || value->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                    continue;
                snprintf (fields [count].name, sizeof fields [count].name, "%.*s",
                          (int) key->via.str.size, key->via.str.ptr);
                fields [count].value = value->via.u64;
                count++;
            }
        }
        msgpack_unpacked_destroy (&unpacked);
    }
    if (count < 0)
        fprintf (stderr, "zchannel stat: unexpected answer from the broker\n");
    zstr_free (&kind);
    zframe_destroy (&body);
    zmsg_destroy (&reply);
    return count;
}

//  Prints one line; with previous (taken elapsed ms ago), the rates of
//  the message and byte counters too.
static void
s_print (const field_t *fields, int count, const field_t *previous, int previous_count, int64_t elapsed)
{
    for (int i = 0; i < count; i++) {
        printf ("%s%s=%llu", i? " ": "", fields [i].name, (unsigned long long) fields [i].value);
        bool rated = strstr (fields [i].name, "_in") || strstr (fields [i].name, "_out");
        for (int j = 0; rated && elapsed > 0 && j < previous_count; j++)
            if (streq (previous [j].name, fields [i].name) && fields [i].value >= previous [j].value)
                printf (" (%.0f/s)", (double) (fields [i].value - previous [j].value) * 1000.0 / (double) elapsed);
    }
    printf ("\n");
    fflush (stdout);
}

int
zchannel_stat_main (int argc, char **argv)
{
    static const struct option options [] = {
        { "control", required_argument, NULL, 'c' },
        { "once", no_argument, NULL, '1' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *endpoint = STAT_CONTROL_DEFAULT;
    bool once = false;
    int timeout = 2000;
    opterr = 0;
    optind = 0;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case 'c': endpoint = optarg; break;
            case '1': once = true; break;
            case 't': timeout = atoi (optarg); break;
            case 'h': s_usage (); return 0;
            default:
                fprintf (stderr, "zchannel stat: unknown or incomplete option '%s' (see --help)\n",
                         argv [optind - 1]);
                return 2;
        }
    }
    if (optind < argc || timeout <= 0) {
        fprintf (stderr, "zchannel stat: unexpected argument (see --help)\n");
        return 2;
    }
    zsys_handler_set (NULL);
    zsock_t *control = zsock_new (ZMQ_DEALER);
    if (!control || zsock_connect (control, "%s", endpoint)) {
        fprintf (stderr, "zchannel stat: cannot connect to %s\n", endpoint);
        zsock_destroy (&control);
        return 1;
    }
    zsock_set_linger (control, 0);
    field_t fields [STAT_FIELDS_MAX], previous [STAT_FIELDS_MAX];
    int previous_count = 0;
    int64_t previous_at = 0;
    int exit_code = 0;
    while (true) {
        int count = s_fetch (control, timeout, fields);
        if (count < 0) {
            exit_code = 1;
            break;
        }
        int64_t now = zclock_mono ();
        s_print (fields, count, previous, previous_count, previous_at? now - previous_at: 0);
        if (once || zsys_interrupted)
            break;
        memcpy (previous, fields, sizeof fields);
        previous_count = count;
        previous_at = now;
        zclock_sleep (1000);
        if (zsys_interrupted)
            break;
    }
    zsock_destroy (&control);
    return exit_code;
}
