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
