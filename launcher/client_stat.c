/*  client_stat: `zchannel stat`, a live table with one row per role: the
    broker's from its control endpoint (STATS, a msgpack map), and every
    role's that a --metrics endpoint reports; --json for scripts.           */
#include "zchannel_client.h"
#include "client_stat_metrics.h"

#include <czmq.h>
#include "zch_option.h"
#include <jansson.h>
#include <msgpack.h>

#define STAT_CONTROL_DEFAULT    "tcp://127.0.0.1:2208"
#define STAT_METRICS_MAX        8

typedef client_stat_field_t field_t;

//  Table columns: a field, and whether its rate per second follows it
static const struct {
    const char *title;
    const char *field;
    bool rate;
} s_table [] = {
    { "messages in", "messages_in", true },
    { "messages out", "messages_out", true },
    { "dropped", "dropped", false },
    { "clients", "clients", false },
    { "subscriptions", "subscriptions_held", false },
    { "topics", "topics", false },
    { "queued", "queue_items", false },
};

//  The command line
typedef struct {
    const char *control;
    zch_option_list_t metrics;
    bool once;
    bool json;
    int timeout;
    bool help;
} stat_args_t;

static const zch_option_t s_stat_table [] = {
    { "control", ZCH_OPT_STRING, offsetof (stat_args_t, control), STAT_CONTROL_DEFAULT, "EP",
      "the broker's control endpoint ('' for none: --metrics rows only)", .flags = 0 },
    { "metrics", ZCH_OPT_LIST, offsetof (stat_args_t, metrics), "", "HOST:PORT",
      "a process's --metrics-listen (repeatable)", .max = STAT_METRICS_MAX },
    { "once", ZCH_OPT_BOOL, offsetof (stat_args_t, once), "false", NULL,
      "print once and exit", .flags = 0 },
    { "json", ZCH_OPT_BOOL, offsetof (stat_args_t, json), "false", NULL,
      "print each refresh as one JSON object per line: {\"<role>\": {\"<counter>\": N, ...}, "
      "...}, the broker's with every STATS counter", .flags = 0 },
    { "timeout", ZCH_OPT_INT, offsetof (stat_args_t, timeout), "2000", "MS",
      "how long to wait for an answer, in milliseconds", .min = 1, .max = 3600000 },
    { "help", ZCH_OPT_BOOL, offsetof (stat_args_t, help), "false", NULL,
      "show this help and exit", .letter = 'h' },
    { .name = NULL }
};

static void
s_usage (void)
{
    stat_args_t defaults;
    zch_option_defaults (s_stat_table, &defaults);
    printf ("Usage: zchannel stat [OPTION]...\n"
            "Print a table, one row per role, every second: messages in and out with\n"
            "their rates per second, drops, clients, subscriptions, topics, work-queue\n"
            "items waiting. The broker's\n"
            "row comes from its control endpoint (STATS); --metrics adds the rows of\n"
            "every role a process's Prometheus endpoint reports (front-ends, zchannel run).\n\n");
    zch_option_help (s_stat_table, &defaults, stdout);
}

//  The field of row, 0 when it has none.
static uint64_t
s_known (const client_stat_row_t *row, const char *name)
{
    int64_t value = client_stat_row_get (row, name);
    return value < 0? 0: (uint64_t) value;
}

//  Asks for STATS and decodes the map into fields. Returns the number of
//  fields, or -1 with a reason on stderr.
static int
s_fetch (zsock_t *control, int timeout, client_stat_row_t *row)
{
    field_t *fields = row->fields;
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
            for (uint32_t i = 0; i < map->size && count < CLIENT_STAT_FIELDS_MAX; i++) {
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
    else {
        snprintf (row->role, sizeof row->role, "broker");
        row->count = count;
        //  the table's columns, in the broker's words
        client_stat_row_add (row, "clients", s_known (row, "peers"));
        client_stat_row_add (row, "dropped", s_known (row, "malformed") + s_known (row, "too_large")
                                             + s_known (row, "plugin_dropped"));
    }
    zstr_free (&kind);
    zframe_destroy (&body);
    zmsg_destroy (&reply);
    return count;
}

//  A number for the table, or "-" when the row has no such field.
static const char *
s_cell (const client_stat_row_t *row, const char *field, char *cell, size_t size)
{
    int64_t value = client_stat_row_get (row, field);
    if (value < 0 && strcmp (field, "subscriptions_held") == 0)
        value = client_stat_row_get (row, "subscriptions");     //  a front-end's gauge
    if (value < 0)
        return "-";
    snprintf (cell, size, "%lld", (long long) value);
    return cell;
}

//  The rate of field in row since the same role's row in previous, taken
//  elapsed ms ago, or "-".
static const char *
s_rate (const client_stat_row_t *row, const char *field, const client_stat_row_t *previous,
        int previous_count, int64_t elapsed, char *cell, size_t size)
{
    int64_t now = client_stat_row_get (row, field);
    for (int i = 0; elapsed > 0 && now >= 0 && i < previous_count; i++)
        if (streq (previous [i].role, row->role)) {
            int64_t before = client_stat_row_get (&previous [i], field);
            if (before < 0 || now < before)
                break;
            snprintf (cell, size, "%.0f", (double) (now - before) * 1000.0 / (double) elapsed);
            return cell;
        }
    return "-";
}

//  Prints the table: a header, then a row per role with rates since
//  previous (taken elapsed ms before).
static void
s_print_table (const client_stat_row_t *rows, int count, const client_stat_row_t *previous,
               int previous_count, int64_t elapsed, bool clear)
{
    if (clear)
        printf ("\033[H\033[2J");             //  a terminal: the table in place
    printf ("%-12s", "role");
    for (size_t c = 0; c < sizeof s_table / sizeof s_table [0]; c++)
        printf (s_table [c].rate? " %14s %9s": " %14s", s_table [c].title, "/s");
    printf ("\n");
    for (int r = 0; r < count; r++) {
        printf ("%-12s", rows [r].role);
        for (size_t c = 0; c < sizeof s_table / sizeof s_table [0]; c++) {
            char cell [32], rate [32];
            printf (" %14s", s_cell (&rows [r], s_table [c].field, cell, sizeof cell));
            if (s_table [c].rate)
                printf (" %9s", s_rate (&rows [r], s_table [c].field, previous, previous_count,
                                         elapsed, rate, sizeof rate));
        }
        printf ("\n");
    }
    if (!clear)
        printf ("\n");
    fflush (stdout);
}

//  Prints the rows as one JSON object on a line (jansson). Returns 0 or -1.
static int
s_print_json (const client_stat_row_t *rows, int count)
{
    json_t *object = json_object ();
    for (int r = 0; object && r < count; r++) {
        json_t *row = json_object ();
        for (int f = 0; row && f < rows [r].count; f++)
            if (json_object_set_new (row, rows [r].fields [f].name,
                                     json_integer ((json_int_t) rows [r].fields [f].value)))
                break;
        if (json_object_set_new (object, rows [r].role, row)) {
            json_decref (object);
            object = NULL;
        }
    }
    char *text = object? json_dumps (object, JSON_COMPACT): NULL;
    json_decref (object);
    if (!text) {
        fprintf (stderr, "zchannel stat: out of memory\n");
        return -1;
    }
    printf ("%s\n", text);
    fflush (stdout);
    free (text);
    return 0;
}

//  Fetches every row: the broker's (unless endpoint is empty), then each
//  metrics endpoint's. Returns the number of rows, or -1 (reported).
static int
s_fetch_rows (zsock_t *control, const char *const *metrics, int metrics_count, int timeout,
              client_stat_row_t *rows)
{
    int count = 0;
    if (control) {
        memset (&rows [0], 0, sizeof rows [0]);
        if (s_fetch (control, timeout, &rows [0]) < 0)
            return -1;
        count = 1;
    }
    for (int m = 0; m < metrics_count; m++) {
        client_stat_row_t scraped [CLIENT_STAT_ROLES_MAX];
        int scraped_count = 0;
        if (client_stat_metrics (metrics [m], timeout, scraped, &scraped_count))
            return -1;
        for (int s = 0; s < scraped_count; s++) {
            client_stat_row_t *into = NULL;
            for (int r = 0; r < count; r++)
                if (streq (rows [r].role, scraped [s].role))
                    into = &rows [r];
            if (!into && count < CLIENT_STAT_ROLES_MAX) {
                into = &rows [count++];
                *into = scraped [s];
            }
            else
            for (int f = 0; into && f < scraped [s].count; f++)
                if (client_stat_row_get (into, scraped [s].fields [f].name) < 0)
                    client_stat_row_add (into, scraped [s].fields [f].name, scraped [s].fields [f].value);
        }
    }
    return count;
}

int
zchannel_stat_main (int argc, char **argv)
{
    stat_args_t args;
    zch_option_defaults (s_stat_table, &args);
    char reason [512];
    const char *words [1];
    int left = zch_option_argv (s_stat_table, &args, argc, argv, words, 1, reason, sizeof reason);
    if (left == 0 && args.help) {
        s_usage ();
        return 0;
    }
    if (left != 0 || (!*args.control && args.metrics.count == 0)) {
        fprintf (stderr, "zchannel stat: %s (see --help)\n", left < 0? reason
                 : left > 0? "unexpected argument": "nothing to ask: no --control, no --metrics");
        return 2;
    }
    const char *endpoint = args.control;
    const char *const *metrics = args.metrics.items;
    int metrics_count = args.metrics.count;
    bool once = args.once, json = args.json;
    int timeout = args.timeout;
    zsys_handler_set (NULL);
    zsock_t *control = NULL;
    if (*endpoint) {
        control = zsock_new (ZMQ_DEALER);
        if (!control || zsock_connect (control, "%s", endpoint)) {
            fprintf (stderr, "zchannel stat: cannot connect to %s\n", endpoint);
            zsock_destroy (&control);
            return 1;
        }
        zsock_set_linger (control, 0);
    }
    client_stat_row_t rows [CLIENT_STAT_ROLES_MAX], previous [CLIENT_STAT_ROLES_MAX];
    int previous_count = 0;
    int64_t previous_at = 0;
    int exit_code = 0;
    bool clear = !json && !once && isatty (STDOUT_FILENO);
    while (true) {
        int count = s_fetch_rows (control, metrics, metrics_count, timeout, rows);
        if (count < 0) {
            exit_code = 1;
            break;
        }
        int64_t now = zclock_mono ();
        if (json) {
            if (s_print_json (rows, count)) {
                exit_code = 1;
                break;
            }
        }
        else
            s_print_table (rows, count, previous, previous_count,
                           previous_at? now - previous_at: 0, clear);
        if (once || zsys_interrupted)
            break;
        memcpy (previous, rows, sizeof rows);
        previous_count = count;
        previous_at = now;
        zclock_sleep (1000);
        if (zsys_interrupted)
            break;
    }
    zsock_destroy (&control);
    return exit_code;
}
