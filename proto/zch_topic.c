/*  zch_topic: topic and pattern syntax (see zch_topic.h, PROTOCOL.md).      */
#include "zch_topic.h"

#include <stdbool.h>
#include <string.h>

//  Length of the well-formed UTF-8 sequence at s[0..n) that starts with a
//  byte >= 0x80, or 0 when it is overlong, a surrogate, above U+10FFFF,
//  a stray continuation byte or truncated (RFC 3629, table 3-7).
static size_t
s_utf8_len (const unsigned char *s, size_t n)
{
    unsigned char c = s [0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else
    if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;          //  overlong
        else
        if (c == 0xED)
            hi = 0x9F;          //  surrogates
    }
    else
    if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;          //  overlong
        else
        if (c == 0xF4)
            hi = 0x8F;          //  above U+10FFFF
    }
    else
        return 0;
    if (n < need || s [1] < lo || s [1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s [i] & 0xC0) != 0x80)
            return 0;
    return need;
}

//  Checks the byte-level rules shared by topics and patterns: printable,
//  no space, well-formed UTF-8. Returns NULL or the reason.
static const char *
s_check_bytes (const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s [i];
        if (c <= 0x20 || c == 0x7F)
            return "space or control character";
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n = s_utf8_len (s + i, len - i);
        if (n == 0)
            return "invalid utf-8";
        i += n;
    }
    return NULL;
}

//  Checks the token rules; wildcard tokens are allowed only in patterns,
//  '>' only last, and a wildcard never shares a token with other bytes.
static const char *
s_check_tokens (const char *s, size_t len, bool pattern)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s [i] != '.')
            continue;
        const char *token = s + start;
        size_t token_len = i - start;
        if (token_len == 0)
            return "empty token";
        bool wildcard = token_len == 1 && (*token == '*' || *token == '>');
        if (wildcard) {
            if (!pattern)
                return "wildcard in topic";
            if (*token == '>' && i != len)
                return "misplaced wildcard";
        }
        else
        if (pattern && (memchr (token, '*', token_len) || memchr (token, '>', token_len)))
            return "misplaced wildcard";
        start = i + 1;
    }
    return NULL;
}

//  The common validation path of topics and patterns.
static int
s_validate (const char *text, size_t len, bool pattern, const char **reason)
{
    const char *why = NULL;
    if (text == NULL || len == 0)
        why = "empty";
    else
    if (len > ZCH_TOPIC_MAX)
        why = "too long";
    else {
        why = s_check_bytes ((const unsigned char *) text, len);
        if (!why)
            why = s_check_tokens (text, len, pattern);
        if (!why && text [0] == '$')
            why = "reserved topic";
    }
    if (why && reason)
        *reason = why;
    return why ? -1 : 0;
}

//  Checks a topic a client may publish to.
int
zch_topic_validate (const char *topic, size_t len, const char **reason)
{
    return s_validate (topic, len, false, reason);
}

//  Checks a subscription pattern.
int
zch_pattern_validate (const char *pattern, size_t len, const char **reason)
{
    return s_validate (pattern, len, true, reason);
}

//  Offset of the first wildcard token, i.e. the literal prefix a front-end
//  subscribes to upstream; len when the pattern has no wildcard.
size_t
zch_pattern_prefix_len (const char *pattern, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && pattern [i] != '.')
            continue;
        if (i - start == 1 && (pattern [start] == '*' || pattern [start] == '>'))
            return start;
        start = i + 1;
    }
    return len;
}

size_t
zch_topic_depth (const char *topic, size_t len)
{
    if (len == 0)
        return 0;
    size_t depth = 1;
    for (size_t i = 0; i < len; i++)
        depth += topic [i] == '.';
    return depth;
}

int
zch_topic_check_limits (const char *topic, size_t len, size_t max_len, size_t max_depth,
                        const char **reason)
{
    const char *why = NULL;
    if (max_len && len > max_len)
        why = "too long";
    else
    if (max_depth && zch_topic_depth (topic, len) > max_depth)
        why = "too deep";
    if (why && reason)
        *reason = why;
    return why? -1: 0;
}

//  Length of the token at s [0..len): up to the first '.' or the end.
static size_t
s_token_len (const char *s, size_t len)
{
    const char *dot = memchr (s, '.', len);
    return dot? (size_t) (dot - s): len;
}

//  Walks both patterns token by token: '>' in outer takes whatever is
//  left of inner (one token or more), '*' takes one token that is not
//  '>', a literal only the same literal.
bool
zch_pattern_covers (const char *outer, size_t outer_len, const char *inner, size_t inner_len)
{
    while (outer_len > 0 && inner_len > 0) {
        size_t ot = s_token_len (outer, outer_len);
        size_t it = s_token_len (inner, inner_len);
        bool inner_gt = it == 1 && *inner == '>';
        if (ot == 1 && *outer == '>')
            return true;
        if (inner_gt)
            return false;
        if (!(ot == 1 && *outer == '*')) {
            if (it == 1 && *inner == '*')
                return false;
            if (ot != it || memcmp (outer, inner, ot) != 0)
                return false;
        }
        bool outer_last = ot == outer_len, inner_last = it == inner_len;
        if (outer_last || inner_last)
            return outer_last && inner_last;
        outer += ot + 1;
        outer_len -= ot + 1;
        inner += it + 1;
        inner_len -= it + 1;
    }
    return false;
}
