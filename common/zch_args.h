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

//  Prints "<program>: unknown or incomplete option '<arg>' (see --help)".
void zch_args_bad_option (const char *program, const char *arg);

#endif
