/*  zch_args: values of command-line flags.                                  */
#include "zch_args.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int
zch_args_size (const char *program, const char *flag, const char *text, size_t *value)
{
    char *end;
    errno = 0;
    unsigned long long number = strtoull (text, &end, 10);
    unsigned long long scale = 1;
    if (*end == 'K' || *end == 'k')
        scale = 1024;
    else
    if (*end == 'M' || *end == 'm')
        scale = 1024 * 1024;
    else
    if (*end == 'G' || *end == 'g')
        scale = 1024 * 1024 * 1024;
    if (scale > 1)
        end++;
    if (errno || end == text || *end || text [0] == '-' || number == 0
    ||  number > (unsigned long long) (SIZE_MAX / 2) / scale) {
        fprintf (stderr, "%s: %s wants a size like 65536, 64K or 8M, not '%s'\n", program, flag, text);
        return -1;
    }
    *value = (size_t) (number * scale);
    return 0;
}

int
zch_args_int (const char *program, const char *flag, const char *text, int min, int max, int *value)
{
    char *end;
    errno = 0;
    long number = strtol (text, &end, 10);
    if (errno || end == text || *end || number < min || number > max) {
        fprintf (stderr, "%s: %s wants a number from %d to %d, not '%s'\n", program, flag, min, max, text);
        return -1;
    }
    *value = (int) number;
    return 0;
}

void
zch_args_bad_option (const char *program, const char *arg)
{
    fprintf (stderr, "%s: unknown or incomplete option '%s' (see --help)\n", program, arg);
}

int
zch_args_plugin (const char *program, const char *flag, const char *text, zch_plugin_args_t *args)
{
    if (args->count == ZCH_PLUGINS_MAX) {
        fprintf (stderr, "%s: %s: at most %d plugins per stage\n", program, flag, ZCH_PLUGINS_MAX);
        return -1;
    }
    if (*text == 0 || *text == ':' || *text == '@') {
        fprintf (stderr, "%s: %s '%s': expected NAME[@PATTERN][:key=value,...]\n", program, flag, text);
        return -1;
    }
    args->specs [args->count++] = text;
    return 0;
}

int
zch_args_plugin_path (const char *program, const char *text, zch_plugin_args_t *args)
{
    if (args->path_count == ZCH_PLUGIN_PATHS_MAX) {
        fprintf (stderr, "%s: --plugin-path: at most %d directories\n", program, ZCH_PLUGIN_PATHS_MAX);
        return -1;
    }
    args->paths [args->path_count++] = text;
    return 0;
}
