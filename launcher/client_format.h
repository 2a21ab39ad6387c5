/*  client_format: how `zchannel sub` prints a message (--format). Private
    to the launcher's client tools.

    line   the payload on one line, '\', CR and LF escaped as on the text
           protocol (with -v: "<topic> <seq> <payload>"); the default
    raw    the payload's bytes exactly, nothing between messages
    json   one object per line: {"topic", "seq", "payload", "headers"};
           a payload that is not valid UTF-8 is base64, and the object then
           also has "payload_encoding": "base64"                           */
#ifndef CLIENT_FORMAT_H_INCLUDED
#define CLIENT_FORMAT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CLIENT_FORMAT_LINE = 0,
    CLIENT_FORMAT_RAW,
    CLIENT_FORMAT_JSON
} client_format_t;

//  A growable output buffer.
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} client_buf_t;

//  Sets *format from its name. Returns 0, or -1 if unknown.
int client_format_parse (const char *name, client_format_t *format);

//  Reverses the text protocol's escapes (\\, \r, \n) in place; returns the
//  new length.
size_t client_text_unescape (char *text, size_t len);

//  Appends one message to out as format says (verbose: line with topic
//  and seq). headers is a msgpack map of strings or NULL; epoch (json: an
//  "epoch" field) may be NULL or "". Returns 0, or -1 when out of memory.
int client_format_render (client_buf_t *out, client_format_t format, bool verbose,
                          const char *topic, size_t topic_len, uint64_t seq, const char *epoch,
                          const uint8_t *payload, size_t payload_len,
                          const uint8_t *headers, size_t headers_size);

#endif
