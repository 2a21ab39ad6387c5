/*  Unit tests of zch_text: line scanning, command parsing, escaping.       */
#include "zch_text.h"
#include "zch_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  A connection's input buffer, fed in pieces.
typedef struct {
    char data [4096];
    size_t len;
    zch_line_scanner_t scanner;
    size_t max_line;
    char lines [32][256];           //  lines found, NUL-terminated
    size_t line_lens [32];
    int line_count;
    int too_long;                   //  set once ZCH_LINE_TOO_LONG was seen
    size_t too_long_at;             //  total bytes fed when it was
    size_t fed;
} s_conn_t;

//  Appends bytes to the connection and takes out every complete line.
static void
s_feed (s_conn_t *conn, const char *bytes, size_t len)
{
    memcpy (conn->data + conn->len, bytes, len);
    conn->len += len;
    conn->fed += len;
    while (!conn->too_long) {
        const char *line;
        size_t line_len, consumed;
        int rc = zch_line_next (&conn->scanner, conn->data, conn->len,
                                conn->max_line, &line, &line_len, &consumed);
        if (rc == ZCH_LINE_NEED_MORE) {
            CHECK (conn->scanner.scanned <= conn->len);
            break;
        }
        if (rc == ZCH_LINE_TOO_LONG) {
            conn->too_long = 1;
            conn->too_long_at = conn->fed;
            break;
        }
        CHECK (rc == ZCH_LINE_FOUND);
        CHECK (line == conn->data);
        CHECK (consumed > line_len && consumed <= conn->len);
        CHECK (conn->data [consumed - 1] == '\n');
        if (conn->line_count < 32 && line_len < 256) {
            memcpy (conn->lines [conn->line_count], line, line_len);
            conn->lines [conn->line_count][line_len] = '\0';
            conn->line_lens [conn->line_count] = line_len;
        }
        conn->line_count++;
        memmove (conn->data, conn->data + consumed, conn->len - consumed);
        conn->len -= consumed;
    }
}

//  Feeds input to a fresh connection in pieces of piece bytes (0: at once).
static void
s_run (s_conn_t *conn, size_t max_line, const char *input, size_t len, size_t piece)
{
    memset (conn, 0, sizeof *conn);
    conn->max_line = max_line;
    if (piece == 0)
        piece = len? len: 1;
    for (size_t i = 0; i < len; i += piece)
        s_feed (conn, input + i, len - i < piece? len - i: piece);
}

//  Direct calls: terminators, CR handling, need-more, several lines.
static void
s_test_line_basic (void)
{
    zch_line_scanner_t sc = { 0 };
    const char *line = NULL;
    size_t line_len = 0, consumed = 0;
    CHECK (zch_line_next (&sc, "", 0, 10, &line, &line_len, &consumed) == ZCH_LINE_NEED_MORE);
    CHECK (zch_line_next (&sc, NULL, 0, 10, &line, &line_len, &consumed) == ZCH_LINE_NEED_MORE);
    CHECK (zch_line_next (&sc, "PING\n", 5, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 4 && consumed == 5 && memcmp (line, "PING", 4) == 0);
    CHECK (sc.scanned == 0);
    CHECK (zch_line_next (&sc, "PING\r\n", 6, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 4 && consumed == 6);
    CHECK (zch_line_next (&sc, "a\r\r\n", 4, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 2 && consumed == 4 && line [1] == '\r');     //  one CR only
    CHECK (zch_line_next (&sc, "\n", 1, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 0 && consumed == 1);
    CHECK (zch_line_next (&sc, "\r\n", 2, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 0 && consumed == 2);
    CHECK (zch_line_next (&sc, "a\rb\n", 4, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 3);
    CHECK (zch_line_next (&sc, "\r", 1, 10, &line, &line_len, &consumed) == ZCH_LINE_NEED_MORE);
    CHECK (zch_line_next (&sc, "\r\n", 2, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 0 && consumed == 2);
    //  the first of two lines; then the second, from the shifted buffer
    CHECK (zch_line_next (&sc, "ab\ncd\n", 6, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 2 && consumed == 3);
    CHECK (zch_line_next (&sc, "cd\n", 3, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 2 && consumed == 3);
    //  need more remembers how far it looked
    CHECK (zch_line_next (&sc, "abc", 3, 10, &line, &line_len, &consumed) == ZCH_LINE_NEED_MORE);
    CHECK (sc.scanned == 3);
    CHECK (zch_line_next (&sc, "abcde", 5, 10, &line, &line_len, &consumed) == ZCH_LINE_NEED_MORE);
    CHECK (sc.scanned == 5);
    CHECK (zch_line_next (&sc, "abcde\n", 6, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == 5 && consumed == 6 && sc.scanned == 0);
}

//  The same input fed whole, byte by byte and in odd pieces gives the
//  same lines.
static void
s_test_line_pieces (void)
{
    static const char input [] =
        "PING\r\nPUB a.b hello world\n\nSUB x.>  SNAPSHOT\r\n\r\n"
        "PUBLISH a\\b\r\rc\r\nQUIT\n";
    static const char *const expected [] = {
        "PING", "PUB a.b hello world", "", "SUB x.>  SNAPSHOT", "",
        "PUBLISH a\\b\r\rc", "QUIT"
    };
    s_conn_t conn;
    for (size_t piece = 0; piece <= 9; piece++) {
        s_run (&conn, 64, input, sizeof input - 1, piece);
        CHECK (conn.line_count == 7);
        CHECK (!conn.too_long);
        CHECK (conn.len == 0);
        for (int i = 0; i < 7 && i < conn.line_count; i++)
            CHECK (strcmp (conn.lines [i], expected [i]) == 0);
    }
    //  an unfinished last line stays in the buffer
    s_run (&conn, 64, "a\nbc", 4, 1);
    CHECK (conn.line_count == 1 && conn.len == 2 && conn.scanner.scanned == 2);
}

//  Exactly at the limit, over it, and over it before any newline.
static void
s_test_line_limit (void)
{
    s_conn_t conn;
    for (size_t piece = 0; piece <= 3; piece++) {
        s_run (&conn, 10, "0123456789\n", 11, piece);
        CHECK (conn.line_count == 1 && conn.line_lens [0] == 10 && !conn.too_long);
        s_run (&conn, 10, "0123456789\r\n", 12, piece);
        CHECK (conn.line_count == 1 && conn.line_lens [0] == 10 && !conn.too_long);
        s_run (&conn, 10, "0123456789A\n", 12, piece);
        CHECK (conn.line_count == 0 && conn.too_long);
        s_run (&conn, 10, "0123456789\r\r\n", 13, piece);        //  content "...\r"
        CHECK (conn.line_count == 0 && conn.too_long);
        s_run (&conn, 10, "ok\n0123456789AB", 15, piece);
        CHECK (conn.line_count == 1 && conn.too_long);
    }
    //  too long is reported as soon as the 11th content byte arrives
    s_run (&conn, 10, "0123456789ABCDEF", 16, 1);
    CHECK (conn.too_long && conn.too_long_at == 11);
    //  a CR at the limit may be the terminator's: wait for the next byte
    s_run (&conn, 10, "0123456789\r", 11, 1);
    CHECK (!conn.too_long && conn.line_count == 0);
    s_feed (&conn, "\n", 1);
    CHECK (!conn.too_long && conn.line_count == 1 && conn.line_lens [0] == 10);
    s_run (&conn, 10, "0123456789\rx", 12, 1);
    CHECK (conn.too_long && conn.too_long_at == 12);

    //  max_line 0 allows empty lines only
    s_run (&conn, 0, "\n\r\n", 3, 1);
    CHECK (conn.line_count == 2 && !conn.too_long);
    s_run (&conn, 0, "a", 1, 1);
    CHECK (conn.too_long);
    //  no practical limit
    s_run (&conn, SIZE_MAX, "abc\n", 4, 1);
    CHECK (conn.line_count == 1 && conn.line_lens [0] == 3);

    //  a newline far beyond the limit in one big piece is still too long
    static char big [100000];
    memset (big, 'x', sizeof big);
    big [sizeof big - 1] = '\n';
    zch_line_scanner_t sc = { 0 };
    const char *line;
    size_t line_len, consumed;
    CHECK (zch_line_next (&sc, big, sizeof big, 1000, &line, &line_len, &consumed) == ZCH_LINE_TOO_LONG);
    CHECK (zch_line_next (&sc, big, sizeof big, ZCH_LINE_MAX_DEFAULT, &line, &line_len, &consumed) == ZCH_LINE_TOO_LONG);
    CHECK (zch_line_next (&sc, big, sizeof big, sizeof big - 1, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
    CHECK (line_len == sizeof big - 1);
    //  a scanner position beyond the buffer (a caller bug) causes a rescan
    sc.scanned = 50;
    CHECK (zch_line_next (&sc, "ab\n", 3, 10, &line, &line_len, &consumed) == ZCH_LINE_FOUND);
}

//  Parses a C string; returns the return code and fills cmd and reason.
static int
s_parse (const char *text, zch_command_t *cmd, const char **reason)
{
    *reason = NULL;
    int rc = zch_command_parse (text, strlen (text), cmd, reason);
    CHECK ((rc == 0) == (*reason == NULL));
    return rc;
}

//  True when reason is the expected text.
static int
s_is (const char *reason, const char *expected)
{
    return reason && strcmp (reason, expected) == 0;
}

//  Every verb, case-insensitively, with its arguments.
static void
s_test_parse_verbs (void)
{
    zch_command_t cmd;
    const char *why;
    static const struct { const char *text; zch_verb_t verb; } ok [] = {
        { "PING", ZCH_VERB_PING }, { "ping", ZCH_VERB_PING }, { "PiNg", ZCH_VERB_PING },
        { "QUIT", ZCH_VERB_QUIT }, { "quit", ZCH_VERB_QUIT },
        { "PING with args", ZCH_VERB_PING }, { "QUIT now please", ZCH_VERB_QUIT },
        { "  PING", ZCH_VERB_PING }, { "PING  ", ZCH_VERB_PING },
        { "PUB t x", ZCH_VERB_PUB }, { "pub t x", ZCH_VERB_PUB }, { "Pub t", ZCH_VERB_PUB },
        { "PUBLISH x", ZCH_VERB_PUBLISH }, { "publish", ZCH_VERB_PUBLISH },
        { "SUB a", ZCH_VERB_SUB }, { "sub a", ZCH_VERB_SUB },
        { "UNSUB a", ZCH_VERB_UNSUB }, { "unsub a", ZCH_VERB_UNSUB },
        { "VERBOSE on", ZCH_VERB_VERBOSE }, { "verbose OFF", ZCH_VERB_VERBOSE },
        { "Verbose oN", ZCH_VERB_VERBOSE }, { "VERBOSE off trailing", ZCH_VERB_VERBOSE },
        { "AUTH secret", ZCH_VERB_AUTH }, { "auth s3cr3t", ZCH_VERB_AUTH },
        { "ENQUEUE q x", ZCH_VERB_ENQUEUE }, { "enqueue q", ZCH_VERB_ENQUEUE },
        { "WATCH q", ZCH_VERB_WATCH }, { "watch q PREFETCH 4", ZCH_VERB_WATCH },
        { "UNWATCH q", ZCH_VERB_UNWATCH }, { "unwatch q more", ZCH_VERB_UNWATCH },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok [0]; i++) {
        int rc = s_parse (ok [i].text, &cmd, &why);
        CHECK (rc == 0);
        CHECK (cmd.verb == ok [i].verb);
        if (rc || cmd.verb != ok [i].verb)
            fprintf (stderr, "    for \"%s\"\n", ok [i].text);
    }
    CHECK (s_parse ("VERBOSE on", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "on");
    CHECK (s_parse ("AUTH tok  ", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "tok");
    //  ENQUEUE keeps its payload as PUB does; WATCH passes its options on
    CHECK (s_parse ("ENQUEUE jobs  two words ", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "jobs");
    CHECK_VIEW (cmd.rest, cmd.rest_len, " two words ");
    CHECK (s_parse ("WATCH jobs   PREFETCH 3", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "jobs");
    CHECK_VIEW (cmd.rest, cmd.rest_len, "PREFETCH 3");
    CHECK (s_parse ("PING x", &cmd, &why) == 0 && cmd.arg == NULL && cmd.rest == NULL);

    //  empty lines
    CHECK (s_parse ("", &cmd, &why) == 0 && cmd.verb == ZCH_VERB_EMPTY);
    CHECK (s_parse ("    ", &cmd, &why) == 0 && cmd.verb == ZCH_VERB_EMPTY);
    CHECK (s_parse (" \t \t", &cmd, &why) == 0 && cmd.verb == ZCH_VERB_EMPTY);
    CHECK (zch_command_parse (NULL, 0, &cmd, &why) == 0 && cmd.verb == ZCH_VERB_EMPTY);

    //  unknown verbs
    static const char *const unknown [] = {
        "FOO", "PINGX", "PUBX t x", "P", "SUBSCRIBE a", "\tPING", "PING\t",
        "PING\r", "\xc3\xa9", "PU B t", "*", "\x01",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown [0]; i++) {
        CHECK (s_parse (unknown [i], &cmd, &why) == -1);
        CHECK (cmd.verb == ZCH_VERB_UNKNOWN && s_is (why, "unknown command"));
    }
    CHECK (zch_command_parse ("PI\0NG", 5, &cmd, &why) == -1);
    CHECK (zch_command_parse ("FOO", 3, &cmd, NULL) == -1);        //  reason optional
}

//  Missing arguments: each verb's own reason, the verb still reported.
static void
s_test_parse_missing (void)
{
    zch_command_t cmd;
    const char *why;
    static const struct { const char *text; zch_verb_t verb; const char *reason; } bad [] = {
        { "PUB", ZCH_VERB_PUB, "missing topic" },
        { "PUB   ", ZCH_VERB_PUB, "missing topic" },
        { "pub", ZCH_VERB_PUB, "missing topic" },
        { "SUB", ZCH_VERB_SUB, "missing pattern" },
        { "SUB  ", ZCH_VERB_SUB, "missing pattern" },
        { "UNSUB", ZCH_VERB_UNSUB, "missing pattern" },
        { "unsub ", ZCH_VERB_UNSUB, "missing pattern" },
        { "ENQUEUE", ZCH_VERB_ENQUEUE, "missing queue" },
        { "WATCH ", ZCH_VERB_WATCH, "missing queue" },
        { "unwatch", ZCH_VERB_UNWATCH, "missing queue" },
        { "VERBOSE", ZCH_VERB_VERBOSE, "usage: VERBOSE on|off" },
        { "VERBOSE ", ZCH_VERB_VERBOSE, "usage: VERBOSE on|off" },
        { "VERBOSE yes", ZCH_VERB_VERBOSE, "usage: VERBOSE on|off" },
        { "VERBOSE onn", ZCH_VERB_VERBOSE, "usage: VERBOSE on|off" },
        { "VERBOSE o", ZCH_VERB_VERBOSE, "usage: VERBOSE on|off" },
        { "AUTH", ZCH_VERB_AUTH, "missing token" },
        { "auth   ", ZCH_VERB_AUTH, "missing token" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int rc = s_parse (bad [i].text, &cmd, &why);
        CHECK (rc == -1);
        CHECK (cmd.verb == bad [i].verb);
        CHECK (s_is (why, bad [i].reason));
        CHECK (cmd.arg == NULL && cmd.rest == NULL);
        if (rc != -1 || !s_is (why, bad [i].reason))
            fprintf (stderr, "    for \"%s\"\n", bad [i].text);
    }
}

//  PUB and PUBLISH payloads are kept byte for byte; SUB options raw.
static void
s_test_parse_payloads (void)
{
    zch_command_t cmd;
    const char *why;
    CHECK (s_parse ("PUB a.b hello world", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "a.b");
    CHECK_VIEW (cmd.rest, cmd.rest_len, "hello world");
    CHECK (s_parse ("PUB a.b  two  spaces  ", &cmd, &why) == 0);
    CHECK_VIEW (cmd.rest, cmd.rest_len, " two  spaces  ");
    CHECK (s_parse ("PUB    a.b x", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "a.b");
    CHECK_VIEW (cmd.rest, cmd.rest_len, "x");
    CHECK (s_parse ("   PUB a x", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "a");
    CHECK_VIEW (cmd.rest, cmd.rest_len, "x");
    CHECK (s_parse ("PUB t", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "t");
    CHECK (cmd.rest != NULL && cmd.rest_len == 0);
    CHECK (s_parse ("PUB t ", &cmd, &why) == 0);
    CHECK (cmd.rest != NULL && cmd.rest_len == 0);
    CHECK (s_parse ("PUB t  ", &cmd, &why) == 0);
    CHECK_VIEW (cmd.rest, cmd.rest_len, " ");
    CHECK (s_parse ("PUB t \ttab\r", &cmd, &why) == 0);
    CHECK_VIEW (cmd.rest, cmd.rest_len, "\ttab\r");
    CHECK (s_parse ("PUB t\tx y", &cmd, &why) == 0);          //  a tab is not a separator
    CHECK_VIEW (cmd.arg, cmd.arg_len, "t\tx");
    CHECK_VIEW (cmd.rest, cmd.rest_len, "y");
    CHECK (s_parse ("PUB bad..topic x", &cmd, &why) == 0);    //  arity only
    CHECK_VIEW (cmd.arg, cmd.arg_len, "bad..topic");
    const char with_nul [] = "PUB t a\0b";
    CHECK (zch_command_parse (with_nul, sizeof with_nul - 1, &cmd, &why) == 0);
    CHECK (cmd.rest_len == 3 && memcmp (cmd.rest, "a\0b", 3) == 0);
    //  the views point into the line
    const char *line = "PUB topic payload";
    CHECK (zch_command_parse (line, strlen (line), &cmd, &why) == 0);
    CHECK (cmd.arg == line + 4 && cmd.rest == line + 10);

    CHECK (s_parse ("PUBLISH hello world", &cmd, &why) == 0);
    CHECK (cmd.arg == NULL);
    CHECK_VIEW (cmd.rest, cmd.rest_len, "hello world");
    CHECK (s_parse ("PUBLISH  x ", &cmd, &why) == 0);
    CHECK_VIEW (cmd.rest, cmd.rest_len, " x ");
    CHECK (s_parse ("PUBLISH", &cmd, &why) == 0);
    CHECK (cmd.rest != NULL && cmd.rest_len == 0);
    CHECK (s_parse ("PUBLISH ", &cmd, &why) == 0);
    CHECK (cmd.rest != NULL && cmd.rest_len == 0);
    CHECK (s_parse ("  publish a b", &cmd, &why) == 0);
    CHECK_VIEW (cmd.rest, cmd.rest_len, "a b");

    CHECK (s_parse ("SUB a.* SNAPSHOT", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "a.*");
    CHECK_VIEW (cmd.rest, cmd.rest_len, "SNAPSHOT");
    CHECK (s_parse ("SUB   orders.>    FROM 12", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "orders.>");
    CHECK_VIEW (cmd.rest, cmd.rest_len, "FROM 12");
    CHECK (s_parse ("SUB a", &cmd, &why) == 0);
    CHECK (cmd.rest != NULL && cmd.rest_len == 0);
    CHECK (s_parse ("SUB a   ", &cmd, &why) == 0);
    CHECK (cmd.rest_len == 0);
    CHECK (s_parse ("UNSUB a.b extra", &cmd, &why) == 0);
    CHECK_VIEW (cmd.arg, cmd.arg_len, "a.b");
}

//  Reverses zch_text_escape; returns the decoded size or -1 if invalid.
static long
s_unescape (const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in [i] != '\\') {
            out [o++] = in [i];
            continue;
        }
        if (++i == len)
            return -1;
        if (in [i] == '\\')
            out [o++] = '\\';
        else
        if (in [i] == 'r')
            out [o++] = '\r';
        else
        if (in [i] == 'n')
            out [o++] = '\n';
        else
            return -1;
    }
    return (long) o;
}

//  Escaping: the three special bytes, sizes, and a round trip.
static void
s_test_escape (void)
{
    char out [64];
    CHECK (zch_text_escaped_size ("", 0) == 0);
    CHECK (zch_text_escape ("", 0, out) == 0);
    CHECK (zch_text_escaped_size ("abc", 3) == 3);
    const char *in = "a\\b\rc\nd";
    CHECK (zch_text_escaped_size (in, 7) == 10);
    size_t n = zch_text_escape (in, 7, out);
    CHECK (n == 10 && memcmp (out, "a\\\\b\\rc\\nd", 10) == 0);
    CHECK (zch_text_escape ("\r\n", 2, out) == 4 && memcmp (out, "\\r\\n", 4) == 0);
    CHECK (zch_text_escape ("\\\\", 2, out) == 4 && memcmp (out, "\\\\\\\\", 4) == 0);
    CHECK (zch_text_escape ("\0\t\x7f", 3, out) == 3 && memcmp (out, "\0\t\x7f", 3) == 0);

    //  round trip over random bytes biased towards the special ones
    uint32_t state = 7;
    char payload [200], escaped [400], back [200];
    int ok = 1;
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t) (round % 200);
        for (size_t i = 0; i < len; i++) {
            state = state * 1103515245u + 12345u;
            uint32_t r = (state >> 16) & 0xff;
            payload [i] = r < 32? '\\': r < 64? '\r': r < 96? '\n': (char) r;
        }
        size_t size = zch_text_escaped_size (payload, len);
        ok &= size <= 2 * len;
        ok &= zch_text_escape (payload, len, escaped) == size;
        ok &= memchr (escaped, '\n', size) == NULL && memchr (escaped, '\r', size) == NULL;
        long back_len = s_unescape (escaped, size, back);
        ok &= back_len == (long) len && memcmp (back, payload, len) == 0;
    }
    CHECK (ok);
}

//  Decimal numbers for delivery lines, at the edges of uint64.
static void
s_test_uint (void)
{
    char out [24];
    CHECK (zch_text_uint (0, out) == 1 && memcmp (out, "0", 1) == 0);
    CHECK (zch_text_uint (9, out) == 1 && memcmp (out, "9", 1) == 0);
    CHECK (zch_text_uint (10, out) == 2 && memcmp (out, "10", 2) == 0);
    CHECK (zch_text_uint (1234567890, out) == 10 && memcmp (out, "1234567890", 10) == 0);
    CHECK (zch_text_uint (UINT64_MAX, out) == 20 && memcmp (out, "18446744073709551615", 20) == 0);
}

int
main (void)
{
    s_test_line_basic ();
    s_test_line_pieces ();
    s_test_line_limit ();
    s_test_parse_verbs ();
    s_test_parse_missing ();
    s_test_parse_payloads ();
    s_test_escape ();
    s_test_uint ();
    CHECK_DONE ("test_text");
}
