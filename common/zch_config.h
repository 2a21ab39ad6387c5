/*  zch_config: a program's settings from its option tables: defaults, then
    a ZPL file (--config FILE, czmq zconfig, one section per role), then the
    command-line flags, which override the file. Also --help, --version and
    --print-config (the effective settings as ZPL that --config reads back),
    and SIGHUP reloads that keep the old settings when the new ones are bad.

    A program binds each table to its section, a flag prefix and the struct
    the values go into. `zchannel run` binds all three roles (flags prefixed
    "source-" and "subscriber-" for the front-ends, plus unprefixed flags for
    ZCH_OPT_SHARED options that set every role having them). One file
    serves every program: a program skips the sections it does not bind,
    and `zchannel run` checks but skips a role section's keys that only its
    daemon takes (process settings, ZCH_OPT_NO_RUN options).               */
#ifndef ZCH_CONFIG_H_INCLUDED
#define ZCH_CONFIG_H_INCLUDED

#include <stdio.h>

#include "zch_option.h"

typedef struct {
    const char *section;        //  ZPL section: "broker", "source", "subscriber", "run"
    const char *prefix;         //  flag prefix in this program: "" or "source-"
    const zch_option_t *table;
    void *base;                 //  the struct the program runs with (defaults filled by load)
    size_t size;                //  sizeof *base, for reload's scratch copies
} zch_config_part_t;

typedef struct zch_config_t zch_config_t;

//  A program's settings over count parts (copied; the tables and bases must
//  outlive it). usage is the --help text's first lines. run selects the
//  launcher's rules (ZCH_OPT_SHARED flags, ZCH_OPT_NO_RUN options left out).
//  Returns NULL when out of memory.
zch_config_t *zch_config_new (const char *program, const char *usage,
                              const zch_config_part_t *parts, size_t count, bool run);

//  Frees the config and every text its values pointed to; NULLs the pointer.
void zch_config_destroy (zch_config_t **self_p);

//  Reads argv (argv [0] is the program or subcommand name) and the file
//  it names into the parts' structs. Prints --help, --version and
//  --print-config itself. Returns -1 when the program should go on, else
//  the exit code: 0 after those three, 2 after an error (printed as one
//  line "<program>: <file>:<line>: <reason>" or "<program>: --flag ...").
int zch_config_load (zch_config_t *self, int argc, char *argv []);

//  Reads the file and the flags again. If all is valid, copies every
//  changed ZCH_OPT_RELOAD value into the parts' structs (logging each) and
//  warns about changed values that need a restart; returns how many values
//  it changed. Otherwise logs the error, changes nothing and returns -1.
int zch_config_reload (zch_config_t *self);

//  Prints the settings now in effect as ZPL.
void zch_config_print (zch_config_t *self, FILE *out);

#endif
