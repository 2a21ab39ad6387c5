/*  zch_text: the text protocol, incremental and bounded.

    Input arrives in arbitrary pieces; zch_line_next finds complete lines in
    a caller-owned buffer without copying and without rescanning bytes it has
    already seen, and refuses lines longer than the limit. zch_command_parse
    splits one line into a verb and its arguments, in place.
    zch_text_escape writes a payload for a delivery line.                    */
#ifndef ZCH_TEXT_H_INCLUDED
#define ZCH_TEXT_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define ZCH_LINE_MAX_DEFAULT (64 * 1024)

//  Scanning state for one connection's input. Zero it to start.
typedef struct {
    size_t scanned;             //  bytes of the current line already scanned
} zch_line_scanner_t;

//  Result codes of zch_line_next
#define ZCH_LINE_FOUND      1   //  a complete line is in *line / *line_len
#define ZCH_LINE_NEED_MORE  0   //  no newline yet, and within the limit
#define ZCH_LINE_TOO_LONG  -1   //  the line exceeds max_line bytes

//  Looks for the next complete line in buf[0..len). On ZCH_LINE_FOUND sets
//  *line and *line_len (without the LF and any CR before it) and *consumed
//  (bytes to drop from the buffer's front, LF included). max_line bounds the
//  line without its terminator. The scanner remembers how far it looked, so
//  calling again after more bytes arrive costs only the new bytes; the
//  caller must not change buf[0..len) between calls except by dropping
//  *consumed bytes from the front after a found line.
int zch_line_next (zch_line_scanner_t *scanner, const char *buf, size_t len,
                   size_t max_line, const char **line, size_t *line_len,
                   size_t *consumed);

typedef enum {
    ZCH_VERB_UNKNOWN = 0,
    ZCH_VERB_EMPTY,             //  a blank line
    ZCH_VERB_PUB,               //  PUB <topic> <payload>
    ZCH_VERB_PUBLISH,           //  PUBLISH <payload>
    ZCH_VERB_SUB,               //  SUB <pattern> [options]
    ZCH_VERB_UNSUB,             //  UNSUB <pattern>
    ZCH_VERB_PING,
    ZCH_VERB_QUIT,
    ZCH_VERB_VERBOSE,           //  VERBOSE on|off
    ZCH_VERB_AUTH,              //  AUTH <token>
    ZCH_VERB_ENQUEUE,           //  ENQUEUE <queue> <payload>
    ZCH_VERB_WATCH,             //  WATCH <queue> [options]
    ZCH_VERB_UNWATCH            //  UNWATCH <queue>
} zch_verb_t;

//  One parsed command; every pointer points into the parsed line.
typedef struct {
    zch_verb_t verb;
    const char *arg;            //  topic, pattern, queue, on|off or token; NULL if none
    size_t arg_len;
    const char *rest;           //  payload (PUB, PUBLISH, ENQUEUE) or options (SUB, WATCH); may be empty
    size_t rest_len;
} zch_command_t;

//  Splits line into a command. Verbs are case-insensitive. For PUB the
//  payload is everything after the single space that follows the topic,
//  kept byte for byte (it may be empty). Checks arity only: topics and
//  patterns are checked by zch_topic. Returns 0, or -1 with *reason set to
//  a static text ("unknown command", "missing topic", ...), in which case
//  cmd->verb still tells which verb was meant when it was recognised.
int zch_command_parse (const char *line, size_t len, zch_command_t *cmd,
                       const char **reason);

//  Bytes zch_text_escape will write for payload (at most 2 * len).
size_t zch_text_escaped_size (const char *payload, size_t len);

//  Writes payload to out with '\\' as "\\\\", CR as "\\r" and LF as "\\n";
//  out must hold zch_text_escaped_size (payload, len) bytes. Returns the
//  number of bytes written.
size_t zch_text_escape (const char *payload, size_t len, char *out);

//  Writes value in decimal to out (at least 20 bytes), unterminated.
//  Returns the number of digits.
size_t zch_text_uint (uint64_t value, char *out);

#endif
