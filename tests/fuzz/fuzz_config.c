/*  fuzz_config: the config file reader (zch_config over czmq zconfig).

    Input: the text of a config file, read as `zchannel run --config FILE`
    reads it, over every role's option table. Loading must end in "go on"
    or a clean error, never a crash; when it goes on, the settings printed
    as ZPL must load again and print the same (the --print-config round
    trip).                                                                  */
#include "broker.h"
#include "source.h"
#include "subscriber.h"
#include "zch_config.h"
#include "zch_service.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

typedef struct {
    zch_process_config_t process;
    broker_config_t broker;
    source_config_t source;
    subscriber_config_t subscriber;
} s_run_t;

//  Loads the file at path into a fresh config; prints the settings into
//  *text (malloc'd) when it loads. Returns zch_config_load's result.
static int
s_load (const char *path, char **text)
{
    s_run_t run;
    memset (&run, 0, sizeof run);
    zch_config_part_t parts [] = {
        { "run", "", zch_process_options, &run.process, sizeof run.process },
        { "broker", "", broker_options, &run.broker, sizeof run.broker },
        { "broker", "broker-", zch_plugin_options, &run.broker.plugins, sizeof run.broker.plugins },
        { "source", "source-", source_options, &run.source, sizeof run.source },
        { "source", "source-", zch_frontend_options, &run.source, sizeof run.source },
        { "source", "source-", zch_secure_options, &run.source.secure, sizeof run.source.secure },
        { "subscriber", "subscriber-", subscriber_options, &run.subscriber, sizeof run.subscriber },
        { "subscriber", "subscriber-", zch_frontend_options, &run.subscriber, sizeof run.subscriber },
        { "subscriber", "subscriber-", zch_secure_options, &run.subscriber.secure,
          sizeof run.subscriber.secure },
    };
    broker_config_defaults (&run.broker);
    source_config_defaults (&run.source);
    subscriber_config_defaults (&run.subscriber);
    zch_config_t *config = zch_config_new ("fuzz", "", parts, sizeof parts / sizeof parts [0], true);
    if (!config)
        return 1;
    char *argv [] = { "run", "--config", (char *) path, NULL };
    int rc = zch_config_load (config, 3, argv);
    S_ASSERT (rc == -1 || rc == 2);
    *text = NULL;
    if (rc == -1) {
        size_t size = 0;
        FILE *out = open_memstream (text, &size);
        if (out) {
            zch_config_print (config, out);
            fclose (out);
        }
    }
    zch_config_destroy (&config);
    return rc;
}

//  Writes data to a fresh temporary file; returns its path (static).
static const char *
s_write (const void *data, size_t size)
{
    static char path [64];
    snprintf (path, sizeof path, "/tmp/zch-fuzz-config-%d.zpl", (int) getpid ());
    FILE *file = fopen (path, "wb");
    if (!file)
        return NULL;
    fwrite (data, 1, size, file);
    fclose (file);
    return path;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *path = s_write (data, size);
    if (!path)
        return 0;
    char *printed = NULL;
    if (s_load (path, &printed) == -1 && printed) {
        //  what --print-config says loads back to itself
        char *again = NULL;
        path = s_write (printed, strlen (printed));
        S_ASSERT (path && s_load (path, &again) == -1);
        S_ASSERT (again && strcmp (printed, again) == 0);
        free (again);
    }
    free (printed);
    if (path)
        unlink (path);
    return 0;
}
