/*  zch_args: values of command-line flags, checked, with messages that
    name the flag.                                                           */
#ifndef ZCH_ARGS_H_INCLUDED
#define ZCH_ARGS_H_INCLUDED

#include <stddef.h>

//  Parses a byte size: digits with an optional K, M or G suffix (powers of
//  1024). Returns 0, or -1 after printing "<program>: <flag> ..." to stderr.
int zch_args_size (const char *program, const char *flag, const char *text, size_t *value);

//  Parses an integer in [min, max]. Same contract as zch_args_size.
int zch_args_int (const char *program, const char *flag, const char *text, int min, int max, int *value);

#define ZCH_PLUGINS_MAX         32  //  --plugin flags per stage
#define ZCH_PLUGIN_PATHS_MAX    16  //  --plugin-path flags

//  One stage's plugin flags, as strings (the plugin host parses them when
//  it builds a pipeline, at start and at each reload). A config file can
//  feed the same strings. The strings must outlive the program's roles.
typedef struct zch_plugin_args_s {
    const char *specs [ZCH_PLUGINS_MAX];        //  NAME[@PATTERN][:key=value,...], chain order
    int count;
    const char *paths [ZCH_PLUGIN_PATHS_MAX];   //  directories searched first
    int path_count;
} zch_plugin_args_t;

//  Appends a --plugin spec. Returns 0, or -1 after printing why.
int zch_args_plugin (const char *program, const char *flag, const char *text, zch_plugin_args_t *args);

//  Appends a --plugin-path directory. Same contract.
int zch_args_plugin_path (const char *program, const char *text, zch_plugin_args_t *args);

//  Prints "<program>: unknown or incomplete option '<arg>' (see --help)".
void zch_args_bad_option (const char *program, const char *arg);

#endif
