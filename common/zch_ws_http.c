/*  zch_ws_http: the upgrade request and the answers of a WebSocket port.   */
#include "zch_ws_http.h"

#include <http_parser.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define ZCH_WS_GUID     "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define ZCH_WS_FILE_MAX (4 * 1024 * 1024)     //  largest static file served

//  The parse in progress: which header a value belongs to
typedef struct {
    zch_ws_request_t *request;
    char field [64];
    char *value;                    //  where the current header's value goes, NULL: ignored
    size_t value_cap;
    bool joins;                     //  repeats are joined with ","
    bool complete;
} parse_t;

//  Appends data to a fixed, NUL-terminated field (cut when full).
static void
s_append (char *field, size_t cap, const char *data, size_t len)
{
    size_t have = strlen (field);
    size_t room = cap - 1 - have;
    if (len > room)
        len = room;
    memcpy (field + have, data, len);
    field [have + len] = 0;
}

static int
s_on_url (http_parser *parser, const char *at, size_t len)
{
    parse_t *parse = parser->data;
    struct http_parser_url url;
    http_parser_url_init (&url);
    if (http_parser_parse_url (at, len, 0, &url) || !(url.field_set & (1 << UF_PATH)))
        return -1;
    s_append (parse->request->path, sizeof parse->request->path,
              at + url.field_data [UF_PATH].off, url.field_data [UF_PATH].len);
    return 0;
}

static int
s_on_header_field (http_parser *parser, const char *at, size_t len)
{
    parse_t *parse = parser->data;
    zch_ws_request_t *request = parse->request;
    snprintf (parse->field, sizeof parse->field, "%.*s", (int) len, at);
    parse->value = NULL;
    parse->joins = false;
    struct { const char *name; char *value; size_t cap; bool joins; } known [] = {
        { "sec-websocket-key", request->key, sizeof request->key, false },
        { "sec-websocket-version", request->version, sizeof request->version, false },
        { "sec-websocket-protocol", request->protocols, sizeof request->protocols, true },
        { "origin", request->origin, sizeof request->origin, false },
        { "upgrade", request->upgrade_header, sizeof request->upgrade_header, true },
        { "connection", request->connection, sizeof request->connection, true },
    };
    for (size_t i = 0; i < sizeof known / sizeof known [0]; i++)
        if (strcasecmp (parse->field, known [i].name) == 0) {
            parse->value = known [i].value;
            parse->value_cap = known [i].cap;
            parse->joins = known [i].joins;
        }
    return 0;
}

static int
s_on_header_value (http_parser *parser, const char *at, size_t len)
{
    parse_t *parse = parser->data;
    if (parse->value) {
        if (parse->joins && *parse->value)
            s_append (parse->value, parse->value_cap, ",", 1);
        else
            *parse->value = 0;          //  the last of repeated single headers wins
        s_append (parse->value, parse->value_cap, at, len);
    }
    return 0;
}

static int
s_on_headers_complete (http_parser *parser)
{
    parse_t *parse = parser->data;
    parse->complete = true;
    parse->request->get = parser->method == HTTP_GET;
    parse->request->http11 = parser->http_major > 1 || (parser->http_major == 1 && parser->http_minor >= 1);
    return 1;                           //  no body is read on this port
}

int
zch_ws_request_parse (const char *buf, size_t len, zch_ws_request_t *request,
                      const char **reason)
{
    //  The whole head is parsed again as bytes come: it is short, and the
    //  callbacks then see each field in one piece
    memset (request, 0, sizeof *request);
    parse_t parse = { .request = request };
    http_parser parser;
    http_parser_init (&parser, HTTP_REQUEST);
    parser.data = &parse;
    http_parser_settings settings;
    http_parser_settings_init (&settings);
    settings.on_url = s_on_url;
    settings.on_header_field = s_on_header_field;
    settings.on_header_value = s_on_header_value;
    settings.on_headers_complete = s_on_headers_complete;
    size_t parsed = http_parser_execute (&parser, &settings, buf, len);
    if (parse.complete) {
        request->head_len = parsed;
        request->upgrade = parser.upgrade;
        return 1;
    }
    if (HTTP_PARSER_ERRNO (&parser) != HPE_OK) {
        *reason = http_errno_description (HTTP_PARSER_ERRNO (&parser));
        return -1;
    }
    if (len >= ZCH_WS_REQUEST_MAX) {
        *reason = "request head too large";
        return -1;
    }
    return 0;
}

//  True when list (comma-separated, spaces ignored) holds item, in any case.
static bool
s_list_has (const char *list, const char *item)
{
    size_t item_len = strlen (item);
    const char *cursor = list;
    while (*cursor) {
        while (*cursor == ' ' || *cursor == ',' || *cursor == '\t')
            cursor++;
        size_t len = strcspn (cursor, ", \t");
        if (len == item_len && strncasecmp (cursor, item, len) == 0)
            return true;
        cursor += len;
    }
    return false;
}

int
zch_ws_request_check (const zch_ws_request_t *request, const char *origins,
                      char accept [32], bool *subprotocol, const char **reason)
{
    *subprotocol = false;
    if (!request->get || !request->http11) {
        *reason = "a WebSocket upgrade is a GET over HTTP/1.1";
        return 400;
    }
    if (!request->upgrade || !s_list_has (request->upgrade_header, "websocket")
    ||  !s_list_has (request->connection, "upgrade")) {
        *reason = "not a WebSocket upgrade";
        return 400;
    }
    if (strcmp (request->version, "13") != 0) {
        *reason = "WebSocket version 13 only";
        return 426;
    }
    unsigned char key [32];
    if (strlen (request->key) != 24
    ||  EVP_DecodeBlock (key, (const unsigned char *) request->key, 24) != 18) {
        *reason = "Sec-WebSocket-Key is not 16 bytes of base64";
        return 400;
    }
    if (origins && *origins && *request->origin && !s_list_has (origins, request->origin)) {
        *reason = "origin not allowed";
        return 403;
    }
    if (*request->protocols) {
        if (!s_list_has (request->protocols, ZCH_WS_SUBPROTOCOL)) {
            *reason = "subprotocol " ZCH_WS_SUBPROTOCOL " only";
            return 400;
        }
        *subprotocol = true;
    }
    char joined [64 + sizeof ZCH_WS_GUID];
    int joined_len = snprintf (joined, sizeof joined, "%s%s", request->key, ZCH_WS_GUID);
    unsigned char digest [SHA_DIGEST_LENGTH];
    SHA1 ((const unsigned char *) joined, (size_t) joined_len, digest);
    EVP_EncodeBlock ((unsigned char *) accept, digest, SHA_DIGEST_LENGTH);
    return 0;
}

size_t
zch_ws_http_switch (char *out, size_t out_cap, const char *accept, bool subprotocol)
{
    int len = snprintf (out, out_cap,
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n"
        "%s\r\n", accept, subprotocol? "Sec-WebSocket-Protocol: " ZCH_WS_SUBPROTOCOL "\r\n": "");
    return len < 0 || (size_t) len >= out_cap? 0: (size_t) len;
}

char *
zch_ws_http_body (int status, const char *type, const char *body, size_t body_len, size_t *len)
{
    const char *name = status == 200? "OK": status == 400? "Bad Request": status == 403? "Forbidden":
                       status == 404? "Not Found": status == 426? "Upgrade Required":
                       status == 431? "Request Header Fields Too Large": "Error";
    char head [512];
    int head_len = snprintf (head, sizeof head,
        "HTTP/1.1 %d %s\r\n"
        "Content-Type: %s\r\n"
        "Content-Length: %zu\r\n"
        "%s"
        "Cache-Control: no-cache\r\n"
        "Connection: close\r\n\r\n", status, name, type, body_len,
        status == 426? "Sec-WebSocket-Version: 13\r\n": "");
    char *answer = malloc ((size_t) head_len + body_len);
    if (!answer)
        return NULL;
    memcpy (answer, head, (size_t) head_len);
    memcpy (answer + head_len, body, body_len);
    *len = (size_t) head_len + body_len;
    return answer;
}

char *
zch_ws_http_error (int status, const char *text, size_t *len)
{
    char body [256];
    int body_len = snprintf (body, sizeof body, "%s\n", text);
    return zch_ws_http_body (status, "text/plain; charset=utf-8", body, (size_t) body_len, len);
}

//  The content type of a file, by its extension.
static const char *
s_content_type (const char *path)
{
    const char *dot = strrchr (path, '.');
    static const char *types [][2] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
        { ".ico", "image/x-icon" }
    };
    for (size_t i = 0; dot && i < sizeof types / sizeof types [0]; i++)
        if (strcmp (dot, types [i][0]) == 0)
            return types [i][1];
    return "application/octet-stream";
}

char *
zch_ws_http_file (const char *root, const char *path, size_t *len)
{
    //  Only plain names below root: no "..", no hidden files
    if (!root || !*root || path [0] != '/' || strstr (path, "/.")
    ||  strspn (path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") != strlen (path))
        return zch_ws_http_error (404, "not found", len);
    char file [1024];
    snprintf (file, sizeof file, "%s%s%s", root, path, path [strlen (path) - 1] == '/'? "index.html": "");
    FILE *handle = fopen (file, "rb");
    struct stat info;
    if (!handle || fstat (fileno (handle), &info) || !S_ISREG (info.st_mode) || info.st_size > ZCH_WS_FILE_MAX) {
        if (handle)
            fclose (handle);
        return zch_ws_http_error (404, "not found", len);
    }
    char *body = malloc ((size_t) info.st_size + 1);
    size_t got = body? fread (body, 1, (size_t) info.st_size, handle): 0;
    fclose (handle);
    char *answer = body? zch_ws_http_body (200, s_content_type (file), body, got, len): NULL;
    free (body);
    return answer;
}
