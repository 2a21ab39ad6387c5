/*  zch_text: the text protocol, incremental and bounded (see zch_text.h).  */
#include "zch_text.h"

#include <stdbool.h>
#include <string.h>

//  The verbs a client may send, matched case-insensitively.
static const struct {
    const char *name;
    size_t len;
    zch_verb_t verb;
} s_verbs [] = {
    { "PUB",     3, ZCH_VERB_PUB },
    { "PUBLISH", 7, ZCH_VERB_PUBLISH },
    { "SUB",     3, ZCH_VERB_SUB },
    { "UNSUB",   5, ZCH_VERB_UNSUB },
    { "PING",    4, ZCH_VERB_PING },
    { "QUIT",    4, ZCH_VERB_QUIT },
    { "VERBOSE", 7, ZCH_VERB_VERBOSE },
    { "AUTH",    4, ZCH_VERB_AUTH },
    { "ENQUEUE", 7, ZCH_VERB_ENQUEUE },
    { "WATCH",   5, ZCH_VERB_WATCH },
    { "UNWATCH", 7, ZCH_VERB_UNWATCH },
};

//  Finds a complete line, scanning only bytes not seen before and never more
//  than max_line + 2 bytes (a line, its CR and its LF).
int
zch_line_next (zch_line_scanner_t *scanner, const char *buf, size_t len,
               size_t max_line, const char **line, size_t *line_len,
               size_t *consumed)
{
    //  The window that can still hold an acceptable line's LF
    size_t window = max_line < (size_t) -2? max_line + 2: (size_t) -1;
    if (window > len)
        window = len;
    size_t from = scanner->scanned <= len? scanner->scanned: 0;
    const char *lf = from < window? memchr (buf + from, '\n', window - from): NULL;
    if (lf) {
        size_t end = (size_t) (lf - buf);
        size_t content = end;
        if (content > 0 && buf [content - 1] == '\r')
            content--;
        scanner->scanned = 0;
        if (content > max_line)
            return ZCH_LINE_TOO_LONG;
        *line = buf;
        *line_len = content;
        *consumed = end + 1;
        return ZCH_LINE_FOUND;
    }
    //  No LF yet: the line holds at least len bytes, less a final CR that
    //  may turn out to be part of its terminator
    size_t least = len;
    if (least > 0 && buf [least - 1] == '\r')
        least--;
    if (least > max_line) {
        scanner->scanned = 0;
        return ZCH_LINE_TOO_LONG;
    }
    scanner->scanned = window;
    return ZCH_LINE_NEED_MORE;
}

//  True when the bytes are all spaces or tabs (or there are none).
static bool
s_blank (const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s [i] != ' ' && s [i] != '\t')
            return false;
    return true;
}

//  Compares a token with an upper-case ASCII word, ignoring case.
static bool
s_word_is (const char *token, size_t len, const char *word, size_t word_len)
{
    if (len != word_len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = token [i];
        if (c >= 'a' && c <= 'z')
            c = (char) (c - 'a' + 'A');
        if (c != word [i])
            return false;
    }
    return true;
}

//  Skips spaces from *pos, then takes the token up to the next space or
//  the end. Returns its start, or NULL (and *token_len 0) if there is none.
static const char *
s_token_next (const char *line, size_t len, size_t *pos, size_t *token_len)
{
    size_t i = *pos;
    while (i < len && line [i] == ' ')
        i++;
    size_t start = i;
    while (i < len && line [i] != ' ')
        i++;
    *pos = i;
    *token_len = i - start;
    return i > start? line + start: NULL;
}

//  Splits line into a verb and its arguments, pointing into line.
int
zch_command_parse (const char *line, size_t len, zch_command_t *cmd,
                   const char **reason)
{
    memset (cmd, 0, sizeof *cmd);
    cmd->verb = ZCH_VERB_UNKNOWN;
    if (line == NULL || s_blank (line, len)) {
        cmd->verb = ZCH_VERB_EMPTY;
        return 0;
    }
    size_t pos = 0, verb_len;
    const char *verb = s_token_next (line, len, &pos, &verb_len);
    for (size_t i = 0; i < sizeof s_verbs / sizeof s_verbs [0]; i++)
        if (s_word_is (verb, verb_len, s_verbs [i].name, s_verbs [i].len)) {
            cmd->verb = s_verbs [i].verb;
            break;
        }
    const char *why = NULL;
    switch (cmd->verb) {
        case ZCH_VERB_PUBLISH:
            //  the payload starts after the one space that ends the verb
            if (pos < len)
                pos++;
            cmd->rest = line + pos;
            cmd->rest_len = len - pos;
            break;
        case ZCH_VERB_PUB:
        case ZCH_VERB_ENQUEUE:
            cmd->arg = s_token_next (line, len, &pos, &cmd->arg_len);
            if (!cmd->arg) {
                why = cmd->verb == ZCH_VERB_PUB? "missing topic": "missing queue";
                break;
            }
            if (pos < len)
                pos++;          //  one space; the payload keeps any others
            cmd->rest = line + pos;
            cmd->rest_len = len - pos;
            break;
        case ZCH_VERB_SUB:
        case ZCH_VERB_WATCH:
            cmd->arg = s_token_next (line, len, &pos, &cmd->arg_len);
            if (!cmd->arg) {
                why = cmd->verb == ZCH_VERB_SUB? "missing pattern": "missing queue";
                break;
            }
            while (pos < len && line [pos] == ' ')
                pos++;
            cmd->rest = line + pos;
            cmd->rest_len = len - pos;
            break;
        case ZCH_VERB_UNSUB:
        case ZCH_VERB_UNWATCH:
            cmd->arg = s_token_next (line, len, &pos, &cmd->arg_len);
            if (!cmd->arg)
                why = cmd->verb == ZCH_VERB_UNSUB? "missing pattern": "missing queue";
            break;
        case ZCH_VERB_VERBOSE:
            cmd->arg = s_token_next (line, len, &pos, &cmd->arg_len);
            if (!cmd->arg
            || !(s_word_is (cmd->arg, cmd->arg_len, "ON", 2)
              || s_word_is (cmd->arg, cmd->arg_len, "OFF", 3)))
                why = "usage: VERBOSE on|off";
            break;
        case ZCH_VERB_AUTH:
            cmd->arg = s_token_next (line, len, &pos, &cmd->arg_len);
            if (!cmd->arg)
                why = "missing token";
            break;
        case ZCH_VERB_PING:
        case ZCH_VERB_QUIT:
            break;              //  trailing arguments are ignored
        default:
            why = "unknown command";
            break;
    }
    if (why) {
        cmd->arg = NULL;
        cmd->arg_len = 0;
        cmd->rest = NULL;
        cmd->rest_len = 0;
        if (reason)
            *reason = why;
        return -1;
    }
    return 0;
}

//  Bytes zch_text_escape will write for payload.
size_t
zch_text_escaped_size (const char *payload, size_t len)
{
    size_t size = len;
    for (size_t i = 0; i < len; i++)
        if (payload [i] == '\\' || payload [i] == '\r' || payload [i] == '\n')
            size++;
    return size;
}

//  The bytes a delivery line must escape, and what follows their backslash
static const char s_escaped [] = { '\\', '\r', '\n' };
static const char s_escape_as [] = { '\\', 'r', 'n' };

//  Writes payload with backslash, CR and LF escaped, so it fits one line.
//  libc's vectorised memchr finds the next of each of the three, and the
//  runs between them go out with one memcpy each: payloads seldom hold any,
//  and a byte-by-byte scan cost more than the rest of a delivery.
size_t
zch_text_escape (const char *payload, size_t len, char *out)
{
    if (len == 0)
        return 0;
    const char *end = payload + len;
    const char *next [3];
    for (int k = 0; k < 3; k++) {
        next [k] = memchr (payload, s_escaped [k], len);
        if (!next [k])
            next [k] = end;
    }
    size_t o = 0;
    const char *at = payload;
    while (true) {
        int k = next [0] < next [1]? 0: 1;
        k = next [2] < next [k]? 2: k;
        const char *stop = next [k];
        memcpy (out + o, at, (size_t) (stop - at));
        o += (size_t) (stop - at);
        if (stop == end)
            return o;
        out [o++] = '\\';
        out [o++] = s_escape_as [k];
        at = stop + 1;
        //  The other two lie beyond stop still; only this one moves on
        next [k] = at < end? memchr (at, s_escaped [k], (size_t) (end - at)): NULL;
        if (!next [k])
            next [k] = end;
    }
}

//  Writes value in decimal without a terminator; returns its length.
size_t
zch_text_uint (uint64_t value, char *out)
{
    char digits [20];
    size_t count = 0;
    do {
        digits [count++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t i = 0; i < count; i++)
        out [i] = digits [count - 1 - i];
    return count;
}
