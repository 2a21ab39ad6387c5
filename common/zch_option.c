/*  zch_option: values of table-described settings.                        */
#include "zch_option.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_AT(base, option, type) ((type *) ((char *) (base) + (option)->offset))
#define S_AT_CONST(base, option, type) ((const type *) ((const char *) (base) + (option)->offset))

//  Finds text among choices ("a|b|c"); returns its index or -1.
static int
s_choice_index (const char *choices, const char *text)
{
    size_t text_len = strlen (text);
    int index = 0;
    const char *start = choices;
    while (true) {
        const char *bar = strchr (start, '|');
        size_t len = bar? (size_t) (bar - start): strlen (start);
        if (len == text_len && strncasecmp (start, text, len) == 0)
            return index;
        if (!bar)
            return -1;
        start = bar + 1;
        index++;
    }
}

//  Copies the index-th choice into out.
static void
s_choice_name (const char *choices, int index, char *out, size_t out_size)
{
    const char *start = choices;
    for (int i = 0; i < index && start; i++) {
        start = strchr (start, '|');
        if (start)
            start++;
    }
    if (!start) {
        snprintf (out, out_size, "%d", index);
        return;
    }
    const char *bar = strchr (start, '|');
    int len = bar? (int) (bar - start): (int) strlen (start);
    snprintf (out, out_size, "%.*s", len, start);
}

//  Parses "N", "NK", "NM", "NG" (powers of 1024). Returns 0 or -1.
static int
s_parse_size (const char *text, size_t *value)
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
    ||  number > (unsigned long long) (SIZE_MAX / 2) / scale)
        return -1;
    *value = (size_t) (number * scale);
    return 0;
}

//  Parses "N" (seconds), "Ns" or "Nms" into milliseconds. Returns 0 or -1.
static int
s_parse_duration (const char *text, int *value)
{
    char *end;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    long long scale = 1000;
    if (strcmp (end, "ms") == 0)
        scale = 1;
    else
    if (strcmp (end, "s") == 0 || *end == 0)
        scale = 1000;
    else
        return -1;
    if (errno || end == text || text [0] == '-' || number < 0 || number > 86400000LL / scale)
        return -1;
    *value = (int) (number * scale);
    return 0;
}

//  Writes ms as a duration that s_parse_duration reads back: "2s", "250ms".
static void
s_duration_text (long ms, char *out, size_t out_size)
{
    if (ms % 1000 == 0)
        snprintf (out, out_size, "%lds", ms / 1000);
    else
        snprintf (out, out_size, "%ldms", ms);
}

//  True when a ZPL file can hold text as a value: --print-config writes
//  it between quotes of the one kind it lacks, and ZPL has no escapes nor
//  values over several lines. What it cannot write back is refused here,
//  from a file and from a flag alike.
static bool
s_writable (const char *text, char *reason, size_t reason_size)
{
    if (strchr (text, '\'') && strchr (text, '"')) {
        snprintf (reason, reason_size, "cannot hold both ' and \" (a config file could not write it back)");
        return false;
    }
    if (strpbrk (text, "\r\n")) {
        snprintf (reason, reason_size, "cannot hold a line break");
        return false;
    }
    return true;
}

int
zch_option_parse (const zch_option_t *option, void *base, const char *text,
                  char *reason, size_t reason_size)
{
    switch (option->type) {
        case ZCH_OPT_STRING:
            if (!s_writable (text, reason, reason_size))
                return -1;
            if (option->check && option->check (text, reason, reason_size))
                return -1;
            *S_AT (base, option, const char *) = text;
            return 0;
        case ZCH_OPT_INT: {
            char *end;
            errno = 0;
            long number = strtol (text, &end, 10);
            if (errno || end == text || *end || number < option->min || number > option->max) {
                snprintf (reason, reason_size, "wants a number from %ld to %ld, not '%s'",
                          option->min, option->max, text);
                return -1;
            }
            *S_AT (base, option, int) = (int) number;
            return 0;
        }
        case ZCH_OPT_SIZE:
            if (s_parse_size (text, S_AT (base, option, size_t))) {
                snprintf (reason, reason_size, "wants a size like 65536, 64K or 8M, not '%s'", text);
                return -1;
            }
            return 0;
        case ZCH_OPT_BOOL:
            if (s_choice_index ("true|yes|on|1", text) >= 0)
                *S_AT (base, option, bool) = true;
            else
            if (s_choice_index ("false|no|off|0", text) >= 0)
                *S_AT (base, option, bool) = false;
            else {
                snprintf (reason, reason_size, "wants true or false, not '%s'", text);
                return -1;
            }
            return 0;
        case ZCH_OPT_CHOICE: {
            int index = s_choice_index (option->choices, text);
            if (index < 0) {
                snprintf (reason, reason_size, "wants one of %s, not '%s'", option->choices, text);
                return -1;
            }
            *S_AT (base, option, int) = index;
            return 0;
        }
        case ZCH_OPT_DURATION: {
            int ms;
            if (s_parse_duration (text, &ms)) {
                snprintf (reason, reason_size, "wants a duration like 5s or 250ms, not '%s'", text);
                return -1;
            }
            if (option->max > 0 && (ms < option->min || ms > option->max)) {
                char least [32], most [32];
                s_duration_text (option->min, least, sizeof least);
                s_duration_text (option->max, most, sizeof most);
                snprintf (reason, reason_size, "wants a duration from %s to %s, not '%s'", least, most, text);
                return -1;
            }
            *S_AT (base, option, int) = ms;
            return 0;
        }
        case ZCH_OPT_LIST: {
            zch_option_list_t *list = S_AT (base, option, zch_option_list_t);
            if (*text == 0) {
                list->count = 0;
                return 0;
            }
            long most = option->max > 0 && option->max < ZCH_OPT_LIST_MAX? option->max: ZCH_OPT_LIST_MAX;
            if (list->count >= most) {
                snprintf (reason, reason_size, "takes at most %ld values", most);
                return -1;
            }
            if (!s_writable (text, reason, reason_size)
            ||  (option->check && option->check (text, reason, reason_size)))
                return -1;
            list->items [list->count++] = text;
            return 0;
        }
    }
    snprintf (reason, reason_size, "has an unknown type");
    return -1;
}

void
zch_option_format (const zch_option_t *option, const void *base, char *out, size_t out_size)
{
    switch (option->type) {
        case ZCH_OPT_STRING: {
            const char *text = *S_AT_CONST (base, option, char *);
            snprintf (out, out_size, "%s", text? text: "");
            return;
        }
        case ZCH_OPT_INT:
            snprintf (out, out_size, "%d", *S_AT_CONST (base, option, int));
            return;
        case ZCH_OPT_SIZE: {
            size_t size = *S_AT_CONST (base, option, size_t);
            if (size % (1024 * 1024 * 1024) == 0)
                snprintf (out, out_size, "%zuG", size / (1024 * 1024 * 1024));
            else
            if (size % (1024 * 1024) == 0)
                snprintf (out, out_size, "%zuM", size / (1024 * 1024));
            else
            if (size % 1024 == 0)
                snprintf (out, out_size, "%zuK", size / 1024);
            else
                snprintf (out, out_size, "%zu", size);
            return;
        }
        case ZCH_OPT_BOOL:
            snprintf (out, out_size, "%s", *S_AT_CONST (base, option, bool)? "true": "false");
            return;
        case ZCH_OPT_CHOICE:
            s_choice_name (option->choices, *S_AT_CONST (base, option, int), out, out_size);
            return;
        case ZCH_OPT_DURATION:
            s_duration_text (*S_AT_CONST (base, option, int), out, out_size);
            return;
        case ZCH_OPT_LIST: {
            //  For logs and --help; --print-config writes one key per item
            const zch_option_list_t *list = S_AT_CONST (base, option, zch_option_list_t);
            size_t used = 0;
            *out = 0;
            for (int i = 0; i < list->count && used < out_size; i++) {
                int wrote = snprintf (out + used, out_size - used, "%s%s", i? " ": "", list->items [i]);
                if (wrote < 0)
                    break;
                used += (size_t) wrote;
            }
            return;
        }
    }
    snprintf (out, out_size, "?");
}

bool
zch_option_differs (const zch_option_t *option, const void *a, const void *b)
{
    if (option->type == ZCH_OPT_LIST) {
        const zch_option_list_t *list_a = S_AT_CONST (a, option, zch_option_list_t);
        const zch_option_list_t *list_b = S_AT_CONST (b, option, zch_option_list_t);
        if (list_a->count != list_b->count)
            return true;
        for (int i = 0; i < list_a->count; i++)
            if (strcmp (list_a->items [i], list_b->items [i]))
                return true;
        return false;
    }
    char text_a [512], text_b [512];
    zch_option_format (option, a, text_a, sizeof text_a);
    zch_option_format (option, b, text_b, sizeof text_b);
    return strcmp (text_a, text_b) != 0;
}

void
zch_option_copy (const zch_option_t *option, void *to, const void *from)
{
    size_t size = 0;
    switch (option->type) {
        case ZCH_OPT_STRING:   size = sizeof (const char *); break;
        case ZCH_OPT_INT:
        case ZCH_OPT_CHOICE:
        case ZCH_OPT_DURATION: size = sizeof (int); break;
        case ZCH_OPT_SIZE:     size = sizeof (size_t); break;
        case ZCH_OPT_BOOL:     size = sizeof (bool); break;
        case ZCH_OPT_LIST:     size = sizeof (zch_option_list_t); break;
    }
    memcpy ((char *) to + option->offset, (const char *) from + option->offset, size);
}

void
zch_option_clear (const zch_option_t *option, void *base)
{
    if (option->type == ZCH_OPT_LIST)
        S_AT (base, option, zch_option_list_t)->count = 0;
}

void
zch_option_defaults (const zch_option_t *table, void *base)
{
    for (const zch_option_t *option = table; option->name; option++) {
        zch_option_clear (option, base);
        char reason [256];
        int rc = zch_option_parse (option, base, option->fallback, reason, sizeof reason);
        assert (rc == 0);       //  a bad default is a bug in the table
        (void) rc;
    }
}

const zch_option_t *
zch_option_find (const zch_option_t *table, const char *name)
{
    for (const zch_option_t *option = table; option->name; option++)
        if (strcmp (option->name, name) == 0)
            return option;
    return NULL;
}

//  The option argv [*at] names, and its value (the next word, or what
//  follows "="); *at moves past what was used. NULL with a reason when
//  there is none such, or its value is missing.
static const zch_option_t *
s_argv_option (const zch_option_t *table, int argc, char *argv [], int *at, const char **value,
               char *reason, size_t reason_size)
{
    const char *word = argv [*at];
    const zch_option_t *option = NULL;
    const char *equals = NULL;
    if (word [1] == '-') {
        equals = strchr (word + 2, '=');
        size_t len = equals? (size_t) (equals - word - 2): strlen (word + 2);
        for (const zch_option_t *each = table; each->name && !option; each++)
            if (strlen (each->name) == len && strncmp (each->name, word + 2, len) == 0)
                option = each;
    }
    else
    if (word [2] == 0)
        for (const zch_option_t *each = table; each->name && !option; each++)
            if (each->letter && each->letter == word [1])
                option = each;
    if (!option) {
        snprintf (reason, reason_size, "unknown option '%.*s'",
                  equals? (int) (equals - word): (int) strlen (word), word);
        return NULL;
    }
    (*at)++;
    if (equals)
        *value = equals + 1;
    else
    if (option->type == ZCH_OPT_BOOL)
        *value = "true";        //  a bare flag
    else
    if (*at < argc)
        *value = argv [(*at)++];
    else {
        snprintf (reason, reason_size, "%s wants a value (%s)", word, option->arg? option->arg: "");
        return NULL;
    }
    return option;
}

int
zch_option_argv (const zch_option_t *table, void *base, int argc, char *argv [],
                 const char **positional, int max, char *reason, size_t reason_size)
{
    int count = 0;
    bool flags = true;
    for (int at = 1; at < argc; ) {
        const char *word = argv [at];
        if (flags && strcmp (word, "--") == 0) {
            flags = false;
            at++;
            continue;
        }
        if (!flags || word [0] != '-' || word [1] == 0) {
            //  "-" alone is a word too (standard input)
            if (count == max) {
                snprintf (reason, reason_size, "too many arguments");
                return -1;
            }
            positional [count++] = word;
            at++;
            continue;
        }
        const char *value;
        const zch_option_t *option = s_argv_option (table, argc, argv, &at, &value,
                                                    reason, reason_size);
        if (!option)
            return -1;
        char why [256];
        if (zch_option_parse (option, base, value, why, sizeof why)) {
            snprintf (reason, reason_size, "--%s %s", option->name, why);
            return -1;
        }
    }
    return count;
}

void
zch_option_help (const zch_option_t *table, const void *base, FILE *out)
{
    for (const zch_option_t *option = table; option->name; option++) {
        char left [96], fallback [128];
        snprintf (left, sizeof left, "%c%c%s--%s%s%s", option->letter? '-': ' ',
                  option->letter? option->letter: ' ', option->letter? ", ": "  ", option->name,
                  option->arg? " ": "", option->arg? option->arg: "");
        zch_option_format (option, base, fallback, sizeof fallback);
        bool shown = *fallback && option->type != ZCH_OPT_BOOL;
        char text [512];
        snprintf (text, sizeof text, "%s%s%s%s", option->help, shown? " (default ": "",
                  shown? fallback: "", shown? ")": "");
        //  Wrapped at 79 columns, under the help's first column
        fprintf (out, "  %-26s", left);
        const char *word = text;
        int column = 28;
        while (*word) {
            size_t len = strcspn (word, " ");
            if (column > 29 && column + 1 + (int) len > 79) {
                fprintf (out, "\n%29s", "");
                column = 29;
            }
            else
                column += fprintf (out, " ");
            column += fprintf (out, "%.*s", (int) len, word);
            word += len;
            word += strspn (word, " ");
        }
        fprintf (out, "\n");
    }
}
