/*  Unit tests of subscriber_sync_parse: the options of a SUB line.        */
#include "subscriber_sync.h"
#include "zch_check.h"

#include <string.h>

//  Parses a C string; returns the rc.
static uint64_t s_epoch;

static int
s_parse (const char *text, subscriber_sync_kind_t *kind, uint64_t *from)
{
    const char *reason = NULL;
    subscriber_sync_options_t options;
    int rc = subscriber_sync_parse (text, strlen (text), &options, &reason);
    if (rc)
        CHECK (reason != NULL);
    *kind = options.kind;
    *from = options.from;
    s_epoch = options.epoch;
    return rc;
}

//  Parses a frame's options map given as bytes; returns the rc.
static int
s_parse_map (const uint8_t *map, size_t size, subscriber_sync_options_t *options)
{
    const char *reason = NULL;
    int rc = subscriber_sync_parse_map (map, size, options, &reason);
    if (rc)
        CHECK (reason != NULL);
    return rc;
}

int
main (void)
{
    subscriber_sync_kind_t kind;
    uint64_t from;
    CHECK (s_parse ("", &kind, &from) == 0 && kind == SUBSCRIBER_SYNC_NONE);
    CHECK (s_parse ("  ", &kind, &from) == 0 && kind == SUBSCRIBER_SYNC_NONE);
    CHECK (s_parse ("SNAPSHOT", &kind, &from) == 0 && kind == SUBSCRIBER_SYNC_SNAPSHOT);
    CHECK (s_parse ("snapshot ", &kind, &from) == 0 && kind == SUBSCRIBER_SYNC_SNAPSHOT);
    CHECK (s_parse ("FROM 12", &kind, &from) == 0 && kind == SUBSCRIBER_SYNC_FROM && from == 12);
    CHECK (s_parse ("from   0", &kind, &from) == 0 && kind == SUBSCRIBER_SYNC_FROM && from == 0);
    CHECK (s_parse ("FROM 18446744073709551614", &kind, &from) == 0 && from == 18446744073709551614ULL);
    CHECK (s_parse ("FROM 18446744073709551615", &kind, &from) == -1);
    CHECK (s_parse ("FROM 99999999999999999999", &kind, &from) == -1);
    CHECK (s_parse ("FROM", &kind, &from) == -1);
    CHECK (s_parse ("FROM ", &kind, &from) == -1);
    CHECK (s_parse ("FROM x", &kind, &from) == -1);
    CHECK (s_parse ("FROM 12x", &kind, &from) == -1);
    CHECK (s_parse ("FROM -1", &kind, &from) == -1);
    CHECK (s_parse ("FROM 1 2", &kind, &from) == -1);
    CHECK (s_parse ("SNAPSHOTS", &kind, &from) == -1);
    CHECK (s_parse ("SNAPSHOT FROM 1", &kind, &from) == -1);
    CHECK (s_parse ("LATEST", &kind, &from) == -1);
    //  a position may name its epoch (base 36)
    CHECK (s_parse ("FROM 12@a1", &kind, &from) == 0 && kind == SUBSCRIBER_SYNC_FROM && from == 12
           && s_epoch == 10 * 36 + 1);
    CHECK (s_parse ("FROM 12", &kind, &from) == 0 && s_epoch == 0);
    CHECK (s_parse ("FROM 12@", &kind, &from) == -1);
    CHECK (s_parse ("FROM 12@0", &kind, &from) == -1);
    CHECK (s_parse ("FROM 12@a-1", &kind, &from) == -1);
    CHECK (s_parse ("FROM 12 @a1", &kind, &from) == -1);

    //  frames: {"from": 7, "epoch": "a1", "verbose": true}, and what is refused
    subscriber_sync_options_t options;
    static const uint8_t full [] = { 0x83, 0xa4, 'f', 'r', 'o', 'm', 7, 0xa5, 'e', 'p', 'o', 'c', 'h',
                                     0xa2, 'a', '1', 0xa7, 'v', 'e', 'r', 'b', 'o', 's', 'e', 0xc3 };
    CHECK (s_parse_map (full, sizeof full, &options) == 0 && options.kind == SUBSCRIBER_SYNC_FROM
           && options.from == 7 && options.epoch == 361 && options.verbose);
    static const uint8_t verbose [] = { 0x81, 0xa7, 'v', 'e', 'r', 'b', 'o', 's', 'e', 0xc3 };
    CHECK (s_parse_map (verbose, sizeof verbose, &options) == 0 && options.kind == SUBSCRIBER_SYNC_NONE
           && options.verbose);
    static const uint8_t snap [] = { 0x81, 0xa8, 's', 'n', 'a', 'p', 's', 'h', 'o', 't', 0xc3 };
    CHECK (s_parse_map (snap, sizeof snap, &options) == 0 && options.kind == SUBSCRIBER_SYNC_SNAPSHOT
           && !options.verbose);
    static const uint8_t epoch_alone [] = { 0x81, 0xa5, 'e', 'p', 'o', 'c', 'h', 0xa2, 'a', '1' };
    CHECK (s_parse_map (epoch_alone, sizeof epoch_alone, &options) == -1);
    static const uint8_t bad_epoch [] = { 0x82, 0xa4, 'f', 'r', 'o', 'm', 7, 0xa5, 'e', 'p', 'o', 'c', 'h', 0x01 };
    CHECK (s_parse_map (bad_epoch, sizeof bad_epoch, &options) == -1);
    static const uint8_t twice [] = { 0x82, 0xa4, 'f', 'r', 'o', 'm', 7, 0xa4, 'f', 'r', 'o', 'm', 8 };
    CHECK (s_parse_map (twice, sizeof twice, &options) == -1);
    static const uint8_t both [] = { 0x82, 0xa4, 'f', 'r', 'o', 'm', 7, 0xa8, 's', 'n', 'a', 'p', 's', 'h', 'o', 't', 0xc3 };
    CHECK (s_parse_map (both, sizeof both, &options) == -1);
    CHECK_DONE ("test_sync");
}
