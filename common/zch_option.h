/*  zch_option: one setting of a role, described once in a table; the
    table gives the flag, the config-file key, the --help line, the default,
    the check of a value and whether SIGHUP may change it live.

    Adding a setting is one row:
        { "max-line", ZCH_OPT_SIZE, offsetof (cfg_t, max_line), "64K", "BYTES",
          "longest accepted line", ZCH_OPT_RELOAD }
    The value lives at offset in the role's config struct, typed by the
    option's type (see zch_option_type_t).                                  */
#ifndef ZCH_OPTION_H_INCLUDED
#define ZCH_OPTION_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    ZCH_OPT_STRING,             //  const char * (the config keeps the text alive)
    ZCH_OPT_INT,                //  int in [min, max]
    ZCH_OPT_SIZE,               //  size_t, digits with an optional K, M or G suffix
    ZCH_OPT_BOOL,               //  bool: true/false, yes/no, on/off, 1/0; a bare flag is true
    ZCH_OPT_CHOICE,             //  int: index of the value in choices ("a|b|c")
    ZCH_OPT_DURATION,           //  int milliseconds: "5s", "250ms", or plain seconds
    ZCH_OPT_LIST                //  zch_option_list_t: each flag or key adds one string, in
                                //  order, at most max; "" empties the list
} zch_option_type_t;

#define ZCH_OPT_LIST_MAX 32

//  The value of a ZCH_OPT_LIST option. A repeated flag or config key adds
//  one item each; flags replace what the file gave rather than add to it.
typedef struct {
    const char *items [ZCH_OPT_LIST_MAX];
    int count;
} zch_option_list_t;

//  Option flags
#define ZCH_OPT_RELOAD  1       //  SIGHUP applies a new value live
#define ZCH_OPT_SHARED  2       //  in `zchannel run`, also an unprefixed flag for every role having it
#define ZCH_OPT_NO_RUN  4       //  not offered by `zchannel run` (set by the launcher itself)

typedef struct {
    const char *name;           //  flag (--name) and config key; NULL ends a table
    zch_option_type_t type;
    size_t offset;              //  of the value in the role's config struct
    const char *fallback;       //  the default, as text in the option's syntax
    const char *arg;            //  placeholder in --help ("HOST:PORT"); NULL for booleans
    const char *help;           //  one line, lower case, no full stop
    int flags;                  //  ZCH_OPT_*
    long min, max;              //  ZCH_OPT_INT bounds; ZCH_OPT_DURATION's in ms when max > 0;
                                //  max: ZCH_OPT_LIST's most items
    const char *choices;        //  ZCH_OPT_CHOICE values, '|'-separated
    //  Optional check of a ZCH_OPT_STRING or ZCH_OPT_LIST value: returns 0,
    //  or -1 with a reason ("wants NAME[@PATTERN]...").
    int (*check) (const char *text, char *reason, size_t reason_size);
    char letter;                //  a tool's short flag (-x) in zch_option_argv; 0: none
} zch_option_t;

//  Parses text as option's value into base. Strings are stored as given
//  (the caller keeps text alive). Returns 0, or -1 with a reason such as
//  "wants a size like 65536, 64K or 8M, not 'x'" in reason.
int zch_option_parse (const zch_option_t *option, void *base, const char *text,
                      char *reason, size_t reason_size);

//  Writes option's value in base as text that zch_option_parse accepts.
void zch_option_format (const zch_option_t *option, const void *base, char *out, size_t out_size);

//  True when the option's value differs between two config structs.
bool zch_option_differs (const zch_option_t *option, const void *a, const void *b);

//  Copies the option's value from one config struct to another.
void zch_option_copy (const zch_option_t *option, void *to, const void *from);

//  Empties a ZCH_OPT_LIST option's value (flags replacing the file's).
void zch_option_clear (const zch_option_t *option, void *base);

//  Sets every option of the table to its default.
void zch_option_defaults (const zch_option_t *table, void *base);

//  Reads a tool's command line (argv [0] is its name) against table into
//  base, whose defaults the caller set: "--name VALUE", "--name=VALUE" and
//  "-x VALUE" (the option's letter) for every type, a bare flag for a
//  ZCH_OPT_BOOL, a ZCH_OPT_LIST flag once per item. Other words, in any
//  place, and every word after "--", are positional: kept in order in
//  positional (which holds max). Returns how many there were, or -1 with
//  a reason ("unknown option '--x'", "--port wants a number from 1 to
//  65535, not 'x'", "too many arguments").
int zch_option_argv (const zch_option_t *table, void *base, int argc, char *argv [],
                     const char **positional, int max, char *reason, size_t reason_size);

//  Writes one line per option of table to out for a tool's --help:
//  "  -x, --name ARG  help (default D)", the default as base holds it
//  (none when empty), aligned.
void zch_option_help (const zch_option_t *table, const void *base, FILE *out);

//  Finds an option by name in a table, or NULL.
const zch_option_t *zch_option_find (const zch_option_t *table, const char *name);

#endif
