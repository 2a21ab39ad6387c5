/*  Unit tests of subscriber_sync_parse: the options of a SUB line.        */
#include "subscriber_sync.h"
#include "zch_check.h"

#include <string.h>

//  Parses a C string; returns the rc.
static int
s_parse (const char *text, subscriber_sync_kind_t *kind, uint64_t *from)
{
    const char *reason = NULL;
    int rc = subscriber_sync_parse (text, strlen (text), kind, from, &reason);
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
    CHECK_DONE ("test_sync");
}
