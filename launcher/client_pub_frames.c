/*  client_pub_frames: `zchannel pub` over the frame protocol: a file as
    one binary payload, a message, or one message per line of stdin, each
    with the headers given. Publishing is silent on success, so after the
    last message a ["ping"] is sent: the ["pong"] proves every message
    before it was handled, and each ["err", ...] before it is a failure.   */
#include "client_pub_frames.h"
#include "client_frames.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUB_FRAMES_PROG "zchannel pub"

//  Reads a whole file (or stdin for "-") into memory. Returns 0 or -1.
static int
s_read_file (const char *path, uint8_t **data, size_t *size)
{
    FILE *file = strcmp (path, "-") == 0? stdin: fopen (path, "rb");
    if (!file) {
        fprintf (stderr, PUB_FRAMES_PROG ": cannot open %s: %s\n", path, strerror (errno));
        return -1;
    }
    size_t cap = 64 * 1024, len = 0;
    uint8_t *buf = malloc (cap);
    while (buf) {
        len += fread (buf + len, 1, cap - len, file);
        if (len < cap)
            break;
        uint8_t *grown = realloc (buf, cap * 2);
        if (!grown) {
            free (buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int failed = !buf || ferror (file);
    if (file != stdin)
        fclose (file);
    if (failed) {
        fprintf (stderr, PUB_FRAMES_PROG ": cannot read %s: %s\n", path,
                 buf? strerror (errno): "out of memory");
        free (buf);
        return -1;
    }
    *data = buf;
    *size = len;
    return 0;
}

//  Sends one ["pub", topic, payload, headers?] frame. Returns 0 or -1.
static int
s_send_pub (client_link_t *link, const char *topic, const uint8_t *payload, size_t len,
            const uint8_t *headers, size_t headers_size)
{
    size_t topic_len = strlen (topic);
    uint8_t *frame = malloc (zch_frame_pub_size (topic_len, len, headers_size));
    if (!frame) {
        fprintf (stderr, PUB_FRAMES_PROG ": out of memory\n");
        return -1;
    }
    size_t size = zch_frame_encode_pub (frame, topic, topic_len, payload, len,
                                        headers, headers_size);
    int rc = client_link_write (link, (const char *) frame, size);
    free (frame);
    if (rc) {
        int error = errno;
        uint64_t errors = 0;
        //  The server may have said why it hung up: show that first
        zch_frame_cmd_t cmd;
        if (client_frame_take (link, &cmd) != CLIENT_LINE_FOUND || cmd.verb != ZCH_FRAME_ERR)
            client_link_complain (link, "write failed", strerror (error));
        else
            client_frame_sync (link, &errors);
    }
    return rc;
}

//  Sends each line of stdin as a message. Returns the messages sent, or -1.
static int64_t
s_send_lines (client_link_t *link, const char *topic, const uint8_t *headers, size_t headers_size)
{
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int64_t sent = 0;
    while ((len = getline (&line, &line_cap, stdin)) >= 0) {
        if (len > 0 && line [len - 1] == '\n')
            len--;
        if (len > 0 && line [len - 1] == '\r')
            len--;
        if (s_send_pub (link, topic, (const uint8_t *) line, (size_t) len, headers, headers_size)) {
            free (line);
            return -1;
        }
        sent++;
    }
    free (line);
    return sent;
}

int
client_pub_frames (const char *host, int port, const client_tls_t *tls, const char *topic,
                   const char *message,
                   const char *file, const uint8_t *headers, size_t headers_size)
{
    client_link_t link;
    if (client_link_open (&link, PUB_FRAMES_PROG, host, port, tls))
        return CLIENT_EXIT_FAIL;
    int rc = CLIENT_EXIT_FAIL;
    uint8_t *data = NULL;
    size_t size = 0;
    int64_t sent = 1;
    if (file) {
        if (s_read_file (file, &data, &size)
        ||  s_send_pub (&link, topic, data, size, headers, headers_size))
            goto cleanup;
    }
    else
    if (message) {
        if (s_send_pub (&link, topic, (const uint8_t *) message, strlen (message),
                        headers, headers_size))
            goto cleanup;
    }
    else
    if ((sent = s_send_lines (&link, topic, headers, headers_size)) < 0)
        goto cleanup;
    uint64_t errors = 0;
    if (client_frame_sync (&link, &errors) == 0 && errors == 0)
        rc = CLIENT_EXIT_OK;
    else
    if (errors)
        fprintf (stderr, PUB_FRAMES_PROG ": %llu of %lld messages refused\n",
                 (unsigned long long) errors, (long long) sent);

cleanup:
    free (data);
    client_link_close (&link);
    return rc;
}
