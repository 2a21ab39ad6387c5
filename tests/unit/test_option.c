/*  Unit tests of zch_option: parsing, formatting and bounds of each type,
    and that every shipped table's defaults parse and print back.           */
#include "zch_option.h"
#include "zch_failover.h"
#include "zch_frontend.h"
#include "zch_service.h"
#include "zch_plugin_args.h"
#include "broker.h"
#include "source.h"
#include "subscriber.h"
#include "zch_check.h"

#include <limits.h>
#include <string.h>

typedef struct {
    const char *text;
    int number;
    size_t size;
    bool flag;
    int choice;
    int ms;
    int bounded_ms;
    zch_option_list_t list;
} sample_t;

//  A check refusing items that start with '-'.
static int
s_no_dash (const char *text, char *reason, size_t reason_size)
{
    if (*text == '-') {
        snprintf (reason, reason_size, "no dash");
        return -1;
    }
    return 0;
}

static const zch_option_t s_table [] = {
    { "text", ZCH_OPT_STRING, offsetof (sample_t, text), "a b", "T", "text", .letter = 't' },
    { "number", ZCH_OPT_INT, offsetof (sample_t, number), "3", "N", "number", .min = 1, .max = 10 },
    { "size", ZCH_OPT_SIZE, offsetof (sample_t, size), "64K", "B", "size", .flags = ZCH_OPT_RELOAD },
    { "flag", ZCH_OPT_BOOL, offsetof (sample_t, flag), "false", NULL, "flag", .letter = 'f' },
    { "choice", ZCH_OPT_CHOICE, offsetof (sample_t, choice), "b", "C", "choice", .choices = "a|b|c" },
    { "ms", ZCH_OPT_DURATION, offsetof (sample_t, ms), "5s", "D", "duration", .flags = 0 },
    { "bounded", ZCH_OPT_DURATION, offsetof (sample_t, bounded_ms), "2s", "D", "bounded duration",
      .min = 1, .max = 60000 },
    { "list", ZCH_OPT_LIST, offsetof (sample_t, list), "", "L", "list", .max = 3, .check = s_no_dash },
    { .name = NULL }
};

//  Parses text into the option called name; returns 0 or -1.
static int
s_parse (sample_t *sample, const char *name, const char *text)
{
    char reason [256];
    return zch_option_parse (zch_option_find (s_table, name), sample, text, reason, sizeof reason);
}

//  Formats the option called name into a static buffer.
static const char *
s_format (const sample_t *sample, const char *name)
{
    static char out [256];
    zch_option_format (zch_option_find (s_table, name), sample, out, sizeof out);
    return out;
}

//  A command line read against the table: long, "=", short and bare
//  flags in any place among the words, "--" ending the flags; each error
//  said with the option's name.
static void
s_check_argv (void)
{
    sample_t sample;
    const char *words [3];
    char reason [256];
    char *good [] = { "tool", "one", "--number", "7", "-t", "x y", "--flag", "--choice=c", "two",
                      "--list", "a", "--list=b", "--", "--three", NULL };
    zch_option_defaults (s_table, &sample);
    CHECK (zch_option_argv (s_table, &sample, 14, good, words, 3, reason, sizeof reason) == 3);
    CHECK (streq (words [0], "one") && streq (words [1], "two") && streq (words [2], "--three"));
    CHECK (sample.number == 7 && streq (sample.text, "x y") && sample.flag && sample.choice == 2);
    CHECK (sample.list.count == 2 && streq (sample.list.items [1], "b"));
    char *bare [] = { "tool", "-f", "-", NULL };
    zch_option_defaults (s_table, &sample);
    CHECK (zch_option_argv (s_table, &sample, 3, bare, words, 3, reason, sizeof reason) == 1);
    CHECK (sample.flag && streq (words [0], "-"));
    char *unknown [] = { "tool", "--nope", NULL };
    CHECK (zch_option_argv (s_table, &sample, 2, unknown, words, 3, reason, sizeof reason) == -1);
    CHECK (streq (reason, "unknown option '--nope'"));
    char *bad [] = { "tool", "--number", "11", NULL };
    CHECK (zch_option_argv (s_table, &sample, 3, bad, words, 3, reason, sizeof reason) == -1);
    CHECK (strncmp (reason, "--number wants a number from 1 to 10", 36) == 0);
    char *missing [] = { "tool", "--text", NULL };
    CHECK (zch_option_argv (s_table, &sample, 2, missing, words, 3, reason, sizeof reason) == -1);
    char *many [] = { "tool", "a", "b", NULL };
    CHECK (zch_option_argv (s_table, &sample, 3, many, words, 1, reason, sizeof reason) == -1);
    CHECK (streq (reason, "too many arguments"));
}

//  Every default of a shipped table parses and formats back to a value
//  that parses to the same text.
static void
s_check_table (const zch_option_t *table, void *base)
{
    zch_option_defaults (table, base);
    for (const zch_option_t *option = table; option->name; option++) {
        char first [512], second [512], reason [256];
        zch_option_format (option, base, first, sizeof first);
        if (option->type == ZCH_OPT_LIST)
            zch_option_clear (option, base);    //  a shipped list's default is one item
        CHECK (zch_option_parse (option, base, first, reason, sizeof reason) == 0);
        zch_option_format (option, base, second, sizeof second);
        CHECK (strcmp (first, second) == 0);
        CHECK (option->help && *option->help);
        CHECK (option->type == ZCH_OPT_BOOL || option->arg);
    }
}

int
main (void)
{
    sample_t sample, other;
    memset (&sample, 0, sizeof sample);
    zch_option_defaults (s_table, &sample);
    CHECK (strcmp (sample.text, "a b") == 0);
    CHECK (sample.number == 3 && sample.size == 65536 && !sample.flag);
    CHECK (sample.choice == 1 && sample.ms == 5000);

    CHECK (s_parse (&sample, "number", "10") == 0 && sample.number == 10);
    CHECK (s_parse (&sample, "number", "11") == -1 && sample.number == 10);
    CHECK (s_parse (&sample, "number", "0") == -1);
    CHECK (s_parse (&sample, "number", "4x") == -1);
    CHECK (s_parse (&sample, "number", "") == -1);

    CHECK (s_parse (&sample, "size", "8M") == 0 && sample.size == 8 * 1024 * 1024);
    CHECK (strcmp (s_format (&sample, "size"), "8M") == 0);
    CHECK (s_parse (&sample, "size", "1000") == 0 && strcmp (s_format (&sample, "size"), "1000") == 0);
    CHECK (s_parse (&sample, "size", "0") == -1);
    CHECK (s_parse (&sample, "size", "-1") == -1);
    CHECK (s_parse (&sample, "size", "1T") == -1);
    CHECK (s_parse (&sample, "size", "99999999999999999999") == -1);

    CHECK (s_parse (&sample, "flag", "yes") == 0 && sample.flag);
    CHECK (strcmp (s_format (&sample, "flag"), "true") == 0);
    CHECK (s_parse (&sample, "flag", "OFF") == 0 && !sample.flag);
    CHECK (s_parse (&sample, "flag", "maybe") == -1);

    CHECK (s_parse (&sample, "choice", "C") == 0 && sample.choice == 2);
    CHECK (strcmp (s_format (&sample, "choice"), "c") == 0);
    CHECK (s_parse (&sample, "choice", "d") == -1 && sample.choice == 2);
    CHECK (s_parse (&sample, "choice", "") == -1);

    CHECK (s_parse (&sample, "ms", "250ms") == 0 && sample.ms == 250);
    CHECK (strcmp (s_format (&sample, "ms"), "250ms") == 0);
    CHECK (s_parse (&sample, "ms", "7") == 0 && sample.ms == 7000);
    CHECK (strcmp (s_format (&sample, "ms"), "7s") == 0);
    CHECK (s_parse (&sample, "ms", "1h") == -1);
    CHECK (s_parse (&sample, "ms", "-1s") == -1);
    //  a duration with bounds says them, in the form it takes
    char reason [256];
    const zch_option_t *bounded = zch_option_find (s_table, "bounded");
    CHECK (zch_option_parse (bounded, &sample, "0", reason, sizeof reason) == -1 && sample.bounded_ms == 2000);
    CHECK (streq (reason, "wants a duration from 1ms to 60s, not '0'"));
    CHECK (zch_option_parse (bounded, &sample, "61s", reason, sizeof reason) == -1);
    CHECK (zch_option_parse (bounded, &sample, "1ms", reason, sizeof reason) == 0 && sample.bounded_ms == 1);
    CHECK (zch_option_parse (bounded, &sample, "60s", reason, sizeof reason) == 0 && sample.bounded_ms == 60000);
    CHECK (s_parse (&sample, "ms", "0") == 0 && sample.ms == 0);      //  no bounds: 0 is a duration
    CHECK (s_parse (&sample, "ms", "7") == 0);

    //  what a config file cannot write back is refused, string and list alike
    CHECK (s_parse (&sample, "text", "it's \"x\"") == -1 && strcmp (sample.text, "a b") == 0);
    CHECK (s_parse (&sample, "text", "two\nlines") == -1);
    CHECK (s_parse (&sample, "text", "it's") == 0 && s_parse (&sample, "text", "say \"x\"") == 0);
    CHECK (s_parse (&sample, "list", "'\"") == -1 && sample.list.count == 0);

    //  differs / copy
    memset (&other, 0, sizeof other);
    zch_option_defaults (s_table, &other);
    const zch_option_t *ms = zch_option_find (s_table, "ms");
    CHECK (zch_option_differs (ms, &sample, &other));
    zch_option_copy (ms, &other, &sample);
    CHECK (!zch_option_differs (ms, &sample, &other) && other.ms == 7000);
    CHECK (zch_option_find (s_table, "nothing") == NULL);

    //  lists: each value adds one, in order, at most max; "" empties
    const zch_option_t *list = zch_option_find (s_table, "list");
    CHECK (sample.list.count == 0 && strcmp (s_format (&sample, "list"), "") == 0);
    CHECK (s_parse (&sample, "list", "a") == 0 && s_parse (&sample, "list", "b c") == 0);
    CHECK (sample.list.count == 2 && strcmp (sample.list.items [1], "b c") == 0);
    CHECK (s_parse (&sample, "list", "-x") == -1 && sample.list.count == 2);
    CHECK (s_parse (&sample, "list", "d") == 0 && s_parse (&sample, "list", "e") == -1);
    CHECK (strcmp (s_format (&sample, "list"), "a b c d") == 0);
    CHECK (zch_option_differs (list, &sample, &other));
    zch_option_copy (list, &other, &sample);
    CHECK (!zch_option_differs (list, &sample, &other) && other.list.count == 3);
    other.list.items [2] = "z";
    CHECK (zch_option_differs (list, &sample, &other));
    CHECK (s_parse (&sample, "list", "") == 0 && sample.list.count == 0);
    CHECK (s_parse (&sample, "list", "f") == 0 && sample.list.count == 1);
    zch_option_clear (list, &sample);
    CHECK (sample.list.count == 0);

    //  the shipped tables
    broker_config_t broker;
    zch_frontend_config_t frontend;
    zch_process_config_t process;
    s_check_table (broker_options, &broker);
    s_check_table (source_options, &frontend);
    s_check_table (subscriber_options, &frontend);
    s_check_table (zch_frontend_options, &frontend);
    s_check_table (zch_process_options, &process);
    zch_plugin_args_t plugins;
    s_check_table (zch_plugin_options, &plugins);
    const zch_option_t *plugin = zch_option_find (zch_plugin_options, "plugin");
    CHECK (zch_option_parse (plugin, &plugins, ":x", reason, sizeof reason) == -1);
    for (int i = 0; i < ZCH_PLUGINS_MAX; i++)
        CHECK (zch_option_parse (plugin, &plugins, "uppercase", reason, sizeof reason) == 0);
    CHECK (zch_option_parse (plugin, &plugins, "uppercase", reason, sizeof reason) == -1);

    //  several brokers pair with their control endpoints, in order
    zch_option_list_t brokers = { .items = { "tcp://a:2207", "tcp://b:2207" }, .count = 2 };
    zch_option_list_t controls = { .items = { "tcp://a:2208", "tcp://b:2208" }, .count = 2 };
    CHECK (zch_failover_check (&brokers, &controls, reason, sizeof reason) == 0);
    controls.count = 1;
    CHECK (zch_failover_check (&brokers, &controls, reason, sizeof reason) == -1
           && strstr (reason, "2 brokers but 1 control"));
    controls.count = 0;
    CHECK (zch_failover_check (&brokers, &controls, reason, sizeof reason) == -1);
    brokers.count = 1;
    CHECK (zch_failover_check (&brokers, &controls, reason, sizeof reason) == 0);     //  no control: off
    controls.count = 2;
    CHECK (zch_failover_check (&brokers, &controls, reason, sizeof reason) == -1);
    brokers.count = 0;
    CHECK (zch_failover_check (&brokers, &controls, reason, sizeof reason) == -1
           && strstr (reason, "needs a broker"));
    //  one broker: nothing to watch, nothing ever reported
    brokers.count = 1;
    controls.count = 1;
    zch_secure_config_t secure;
    zch_secure_defaults (&secure);
    zch_failover_t *failover = zch_failover_new (&brokers, &controls, &secure, 1000, "test", 0,
                                                 reason, sizeof reason);
    CHECK (failover && zch_failover_fd (failover) == -1 && zch_failover_work (failover) == 0);
    CHECK (failover && strcmp (zch_failover_broker (failover), "tcp://a:2207") == 0
           && strcmp (zch_failover_control (failover), "tcp://a:2208") == 0);
    zch_failover_destroy (&failover);
    CHECK (failover == NULL);
    //  two brokers, neither answering: offline and moved after the timeout, round robin
    brokers.count = controls.count = 2;
    failover = zch_failover_new (&brokers, &controls, &secure, 100, "test", 0, reason, sizeof reason);
    CHECK (failover && zch_failover_fd (failover) >= 0);
    int events = 0;
    for (int i = 0; failover && i < 100 && !(events & ZCH_FAILOVER_MOVED); i++) {
        events = zch_failover_work (failover);
        zclock_sleep (10);
    }
    CHECK (events == (ZCH_FAILOVER_MOVED | ZCH_FAILOVER_OFFLINE));
    CHECK (failover && zch_failover_current (failover) == 1 && zch_failover_offline (failover));
    CHECK (failover && strcmp (zch_failover_previous_broker (failover), "tcp://a:2207") == 0
           && strcmp (zch_failover_broker (failover), "tcp://b:2207") == 0
           && strstr (zch_failover_reason (failover), "has not answered for 100 ms"));
    for (int i = 0; failover && i < 100 && zch_failover_current (failover) == 1; i++) {
        events = zch_failover_work (failover);
        zclock_sleep (10);
    }
    CHECK (events == ZCH_FAILOVER_MOVED && zch_failover_moves (failover) == 2);
    zch_failover_destroy (&failover);
    s_check_argv ();
    CHECK_DONE ("test_option");
}
