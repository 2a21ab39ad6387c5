/*  client_frames: the frame protocol for the client tools.                 */
#include "client_frames.h"
#include "zch_epoch.h"

#include <errno.h>
#include <msgpack.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
client_frame_take (client_link_t *link, zch_frame_cmd_t *cmd)
{
    const uint8_t *body;
    size_t body_len, consumed;
    int rc = zch_frame_next ((const uint8_t *) link->buf + link->start, link->len - link->start,
                             CLIENT_FRAME_MAX, &body, &body_len, &consumed, NULL);
    if (rc == ZCH_FRAME_NEED_MORE)
        return CLIENT_LINE_NONE;
    if (rc == ZCH_FRAME_TOO_LONG)
        return CLIENT_LINE_TOO_LONG;
    const char *code, *reason;
    if (zch_frame_decode (body, body_len, cmd, &code, &reason))
        return CLIENT_LINE_TOO_LONG;
    link->start += consumed;
    return CLIENT_LINE_FOUND;
}

int
client_frame_read (client_link_t *link, int timeout_ms, zch_frame_cmd_t *cmd)
{
    int64_t deadline = client_now_ms () + timeout_ms;
    while (true) {
        int rc = client_frame_take (link, cmd);
        if (rc != CLIENT_LINE_NONE)
            return rc;
        rc = client_link_await (link, deadline);
        if (rc < 0)
            return rc;
    }
}

//  Says what an err frame said, on stderr.
static void
s_complain_err (client_link_t *link, const zch_frame_cmd_t *cmd)
{
    char text [512];
    snprintf (text, sizeof text, "%.*s: %.*s", (int) cmd->code_len, cmd->code,
              (int) cmd->text_len, cmd->text);
    client_link_complain (link, "server error", text);
}

int
client_frame_sync (client_link_t *link, uint64_t *errors)
{
    uint8_t ping [16];
    size_t size = zch_frame_encode_simple (ping, sizeof ping, ZCH_FRAME_PING);
    if (client_link_write (link, (const char *) ping, size)) {
        client_link_complain (link, "write failed", strerror (errno));
        return -1;
    }
    while (true) {
        zch_frame_cmd_t cmd;
        int rc = client_frame_read (link, CLIENT_HANDSHAKE_MS * 3, &cmd);
        if (rc != CLIENT_LINE_FOUND) {
            client_link_complain_fill (link, rc);
            return -1;
        }
        if (cmd.verb == ZCH_FRAME_PONG)
            return 0;
        if (cmd.verb == ZCH_FRAME_ERR) {
            s_complain_err (link, &cmd);
            (*errors)++;
        }
    }
}

//  Writes the 4-byte big-endian length of the frame body behind it.
static void
s_put_length (char *frame, size_t size)
{
    uint32_t body = (uint32_t) (size - 4);
    frame [0] = (char) (body >> 24);
    frame [1] = (char) (body >> 16);
    frame [2] = (char) (body >> 8);
    frame [3] = (char) body;
}

int
client_frame_subscribe (client_link_t *link, const char *pattern,
                        const client_sub_options_t *options, char *epoch, size_t cap)
{
    //  ["sub", pattern, opts?]
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_sbuffer_write (&buffer, "\0\0\0\0", 4);
    uint32_t opts = (options->snapshot? 1: 0) + (options->from_set? 1: 0)
                  + (options->from_set && options->from_epoch? 1: 0) + (options->verbose? 1: 0);
    msgpack_pack_array (&packer, opts? 3: 2);
    msgpack_pack_str_with_body (&packer, "sub", 3);
    msgpack_pack_str_with_body (&packer, pattern, strlen (pattern));
    if (opts)
        msgpack_pack_map (&packer, opts);
    if (options->snapshot) {
        msgpack_pack_str_with_body (&packer, "snapshot", 8);
        msgpack_pack_true (&packer);
    }
    if (options->from_set) {
        msgpack_pack_str_with_body (&packer, "from", 4);
        msgpack_pack_uint64 (&packer, options->from);
    }
    if (options->from_set && options->from_epoch) {
        char text [ZCH_EPOCH_TEXT_MAX + 1];
        size_t len = zch_epoch_format (options->from_epoch, text);
        msgpack_pack_str_with_body (&packer, "epoch", 5);
        msgpack_pack_str_with_body (&packer, text, len);
    }
    if (options->verbose) {
        msgpack_pack_str_with_body (&packer, "verbose", 7);
        msgpack_pack_true (&packer);
    }
    int rc = buffer.data? 0: -1;
    if (rc == 0) {
        s_put_length (buffer.data, buffer.size);
        rc = client_link_write (link, buffer.data, buffer.size);
    }
    msgpack_sbuffer_destroy (&buffer);
    if (rc) {
        client_link_complain (link, "write failed", strerror (errno));
        return -1;
    }
    zch_frame_cmd_t cmd;
    rc = client_frame_read (link, CLIENT_HANDSHAKE_MS, &cmd);
    if (rc != CLIENT_LINE_FOUND) {
        client_link_complain_fill (link, rc);
        return -1;
    }
    if (cmd.verb == ZCH_FRAME_OK) {
        if (cap)
            snprintf (epoch, cap, "%.*s", (int) cmd.text_len, cmd.text? cmd.text: "");
        return 0;
    }
    if (cmd.verb == ZCH_FRAME_ERR)
        s_complain_err (link, &cmd);
    else
        client_link_complain (link, "unexpected reply to sub", NULL);
    return -1;
}

//  Appends a msgpack str to a growing buffer. Returns 0 or -1.
static int
s_append_str (uint8_t **buf, size_t *size, const char *text, size_t len)
{
    uint8_t *grown = realloc (*buf, *size + len + 5);
    if (!grown)
        return -1;
    *buf = grown;
    uint8_t *at = grown + *size;
    size_t header;
    if (len <= 31) {
        at [0] = (uint8_t) (0xA0 | len);
        header = 1;
    }
    else
    if (len <= 0xFF) {
        at [0] = 0xD9;
        at [1] = (uint8_t) len;
        header = 2;
    }
    else
    if (len <= 0xFFFF) {
        at [0] = 0xDA;
        at [1] = (uint8_t) (len >> 8);
        at [2] = (uint8_t) len;
        header = 3;
    }
    else
        return -1;                      //  headers are small
    memcpy (at + header, text, len);
    *size += header + len;
    return 0;
}

int
client_header_add (const char *text, uint8_t **map, size_t *map_size, uint32_t *count)
{
    const char *equals = strchr (text, '=');
    if (!equals || equals == text)
        return -1;
    if (s_append_str (map, map_size, text, (size_t) (equals - text))
    ||  s_append_str (map, map_size, equals + 1, strlen (equals + 1)))
        return -1;
    (*count)++;
    return 0;
}

size_t
client_headers_finish (const uint8_t *entries, size_t entries_size, uint32_t count,
                       uint8_t **out)
{
    *out = malloc (entries_size + 5);
    if (!*out)
        return 0;
    size_t header;
    if (count <= 15) {
        (*out) [0] = (uint8_t) (0x80 | count);
        header = 1;
    }
    else {
        (*out) [0] = 0xDE;
        (*out) [1] = (uint8_t) (count >> 8);
        (*out) [2] = (uint8_t) count;
        header = 3;
    }
    if (entries_size)
        memcpy (*out + header, entries, entries_size);
    return header + entries_size;
}
