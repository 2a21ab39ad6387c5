/*  fuzz_text: the text protocol from raw connection bytes.

    Input: byte 0 picks the line limit, byte 1 the size of the pieces the
    rest arrives in. The rest is fed to zch_line_next piece by piece and
    also at once (both must find the same lines); every line goes through
    zch_command_parse, topics and patterns through zch_topic, payloads
    through zch_text_escape, and subscriptions into a zch_trie that must be
    empty again once they are removed.                                      */
#include "zch_text.h"
#include "zch_topic.h"
#include "zch_trie.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_LINES_MAX 256
#define S_SUBS_MAX  64

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

//  Lines found in one pass: offsets into the input, and lengths.
typedef struct {
    size_t count;
    size_t offset [S_LINES_MAX];
    size_t len [S_LINES_MAX];
    int too_long;
} s_pass_t;

//  Match callback: counts the values reported.
static void
s_count (void *value, void *arg)
{
    (void) value;
    (*(size_t *) arg)++;
}

//  Length of the token at s[0..len): up to the first '.' or the end.
static size_t
s_token_len (const char *s, size_t len)
{
    const char *dot = memchr (s, '.', len);
    return dot? (size_t) (dot - s): len;
}

//  True when a valid pattern matches a valid topic, by the rules read
//  token by token: the reference the trie is checked against.
static int
s_naive_match (const char *pattern, size_t plen, const char *topic, size_t tlen)
{
    for (int first = 1; ; first = 0) {
        size_t pt = s_token_len (pattern, plen);
        size_t tt = s_token_len (topic, tlen);
        int star = pt == 1 && *pattern == '*';
        int gt = pt == 1 && *pattern == '>';
        if ((star || gt) && first && *topic == '$')
            return 0;
        if (gt)
            return 1;               //  a valid topic has one token or more left
        if (!star && !(pt == tt && memcmp (pattern, topic, pt) == 0))
            return 0;
        if (pt == plen || tt == tlen)
            return pt == plen && tt == tlen;
        pattern += pt + 1;
        plen -= pt + 1;
        topic += tt + 1;
        tlen -= tt + 1;
    }
}

//  Escapes a payload and checks the result keeps to one line.
static void
s_escape (const char *payload, size_t len)
{
    size_t size = zch_text_escaped_size (payload, len);
    S_ASSERT (size >= len && size <= 2 * len);
    char *out = malloc (size? size: 1);
    if (!out)
        return;
    S_ASSERT (zch_text_escape (payload, len, out) == size);
    S_ASSERT (size == 0 || (!memchr (out, '\n', size) && !memchr (out, '\r', size)));
    free (out);
}

//  Runs one command through the parser, the validators and the trie.
static void
s_command (const char *line, size_t len, zch_trie_t *trie,
           char subs [][ZCH_TOPIC_MAX], size_t *sub_lens, size_t *sub_count)
{
    zch_command_t cmd;
    const char *reason = NULL;
    int rc = zch_command_parse (line, len, &cmd, &reason);
    S_ASSERT (rc == 0 || rc == -1);
    if (rc) {
        S_ASSERT (reason != NULL && cmd.arg == NULL && cmd.rest == NULL);
        return;
    }
    if (cmd.arg)
        S_ASSERT (cmd.arg >= line && cmd.arg + cmd.arg_len <= line + len && cmd.arg_len > 0);
    if (cmd.rest)
        S_ASSERT (cmd.rest >= line && cmd.rest + cmd.rest_len <= line + len);
    const char *why = NULL;
    switch (cmd.verb) {
        case ZCH_VERB_PUB:
            s_escape (cmd.rest, cmd.rest_len);
            if (zch_topic_validate (cmd.arg, cmd.arg_len, &why) == 0) {
                size_t hits = 0, expected = 0;
                zch_trie_match (trie, cmd.arg, cmd.arg_len, s_count, &hits);
                for (size_t i = 0; i < *sub_count; i++)
                    expected += s_naive_match (subs [i], sub_lens [i], cmd.arg, cmd.arg_len);
                S_ASSERT (hits == expected);
                //  without '*' or '>' bytes, a valid topic is a valid pattern
                if (!memchr (cmd.arg, '*', cmd.arg_len) && !memchr (cmd.arg, '>', cmd.arg_len))
                    S_ASSERT (zch_pattern_validate (cmd.arg, cmd.arg_len, NULL) == 0);
            }
            else
                S_ASSERT (why != NULL);
            break;
        case ZCH_VERB_PUBLISH:
            s_escape (cmd.rest, cmd.rest_len);
            break;
        case ZCH_VERB_SUB:
            if (zch_pattern_validate (cmd.arg, cmd.arg_len, &why) == 0) {
                S_ASSERT (zch_pattern_prefix_len (cmd.arg, cmd.arg_len) <= cmd.arg_len);
                if (*sub_count < S_SUBS_MAX
                &&  zch_trie_insert (trie, cmd.arg, cmd.arg_len, subs) == 0) {
                    memcpy (subs [*sub_count], cmd.arg, cmd.arg_len);
                    sub_lens [(*sub_count)++] = cmd.arg_len;
                }
            }
            break;
        case ZCH_VERB_UNSUB:
            for (size_t i = 0; i < *sub_count; i++)
                if (sub_lens [i] == cmd.arg_len && memcmp (subs [i], cmd.arg, cmd.arg_len) == 0) {
                    S_ASSERT (zch_trie_remove (trie, cmd.arg, cmd.arg_len, subs) == 0);
                    (*sub_count)--;
                    memcpy (subs [i], subs [*sub_count], sub_lens [*sub_count]);
                    sub_lens [i] = sub_lens [*sub_count];
                    break;
                }
            break;
        default:
            break;
    }
}

//  Feeds input in pieces of piece bytes through a growing buffer.
static void
s_scan (const uint8_t *input, size_t size, size_t max_line, size_t piece, s_pass_t *pass)
{
    memset (pass, 0, sizeof *pass);
    char *buf = malloc (size? size: 1);
    if (!buf)
        return;
    zch_line_scanner_t scanner = { 0 };
    size_t len = 0;             //  bytes in buf
    size_t base = 0;            //  input offset of buf [0]
    for (size_t fed = 0; fed < size && !pass->too_long; ) {
        size_t n = size - fed < piece? size - fed: piece;
        memcpy (buf + len, input + fed, n);
        len += n;
        fed += n;
        while (true) {
            const char *line;
            size_t line_len, consumed;
            int rc = zch_line_next (&scanner, buf, len, max_line, &line, &line_len, &consumed);
            if (rc == ZCH_LINE_NEED_MORE) {
                S_ASSERT (scanner.scanned <= len);
                break;
            }
            if (rc == ZCH_LINE_TOO_LONG) {
                pass->too_long = 1;
                break;
            }
            S_ASSERT (rc == ZCH_LINE_FOUND);
            S_ASSERT (line == buf && line_len <= max_line && consumed > line_len && consumed <= len);
            S_ASSERT (buf [consumed - 1] == '\n');
            S_ASSERT (memchr (line, '\n', line_len) == NULL);
            if (pass->count < S_LINES_MAX) {
                pass->offset [pass->count] = base;
                pass->len [pass->count] = line_len;
            }
            pass->count++;
            memmove (buf, buf + consumed, len - consumed);
            len -= consumed;
            base += consumed;
        }
    }
    free (buf);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_line = data [0] == 255? ZCH_LINE_MAX_DEFAULT: data [0];
    size_t piece = (size_t) (data [1] % 17) + 1;
    const uint8_t *input = data + 2;
    size_t input_size = size - 2;

    //  the same lines whatever the pieces
    static s_pass_t whole, pieces;
    s_scan (input, input_size, max_line, input_size? input_size: 1, &whole);
    s_scan (input, input_size, max_line, piece, &pieces);
    S_ASSERT (whole.count == pieces.count && whole.too_long == pieces.too_long);
    for (size_t i = 0; i < whole.count && i < S_LINES_MAX; i++)
        S_ASSERT (whole.offset [i] == pieces.offset [i] && whole.len [i] == pieces.len [i]);

    //  every line as a command
    zch_trie_t *trie = zch_trie_new ();
    if (!trie)
        return 0;
    static char subs [S_SUBS_MAX][ZCH_TOPIC_MAX];
    static size_t sub_lens [S_SUBS_MAX];
    size_t sub_count = 0;
    for (size_t i = 0; i < whole.count && i < S_LINES_MAX; i++)
        s_command ((const char *) input + whole.offset [i], whole.len [i], trie,
                   subs, sub_lens, &sub_count);
    S_ASSERT (zch_trie_size (trie) == sub_count);
    while (sub_count > 0) {
        sub_count--;
        S_ASSERT (zch_trie_remove (trie, subs [sub_count], sub_lens [sub_count], subs) == 0);
    }
    S_ASSERT (zch_trie_size (trie) == 0 && zch_trie_nodes (trie) == 0);
    zch_trie_destroy (&trie);

    //  the whole input as a topic and as a pattern
    const char *why = NULL;
    if (zch_topic_validate ((const char *) input, input_size, &why) == 0)
        S_ASSERT (input_size >= 1 && input_size <= ZCH_TOPIC_MAX && input [0] != '$');
    else
        S_ASSERT (why != NULL);
    if (zch_pattern_validate ((const char *) input, input_size, &why) == 0)
        S_ASSERT (zch_pattern_prefix_len ((const char *) input, input_size) <= input_size);
    return 0;
}
