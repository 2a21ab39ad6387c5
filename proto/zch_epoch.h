/*  zch_epoch: the epoch a topic's seqs belong to, as clients see it.

    Every seq belongs to an epoch: a nonzero 64-bit number the broker picks
    when its memory of a topic starts afresh (on the memory engine, at each
    start). In meta it is the integer "ep"; everywhere a client reads or
    writes one (text, frames, JSON, control answers) it is that number in
    lowercase base 36, at most 13 characters ("k3x9w0c1ab"). A position in
    a topic is "<seq>@<epoch>".                                             */
#ifndef ZCH_EPOCH_H_INCLUDED
#define ZCH_EPOCH_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define ZCH_EPOCH_TEXT_MAX  13      //  base-36 digits of UINT64_MAX

//  Writes epoch in base 36 and a NUL into out (ZCH_EPOCH_TEXT_MAX + 1
//  bytes). Returns the length written.
size_t zch_epoch_format (uint64_t epoch, char *out);

//  Reads an epoch written by zch_epoch_format (digits and lowercase or
//  uppercase letters). Returns 0 with *epoch, or -1 when empty, too long,
//  not base 36, zero, or over 64 bits.
int zch_epoch_parse (const char *text, size_t len, uint64_t *epoch);

//  Reads a position "<seq>" or "<seq>@<epoch>" (seq decimal, below
//  UINT64_MAX). Returns 0 with *seq and *epoch (0 when not given), or -1.
int zch_position_parse (const char *text, size_t len, uint64_t *seq, uint64_t *epoch);

#endif
