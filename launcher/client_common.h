/*  client_common: what zchannel pub and zchannel sub share. Private to
    the launcher's client tools; see zchannel_client.h for the tools.

    A client_link_t is one connection to a front-end's text port: the
    socket and a buffer of the bytes read from it that do not yet form a
    whole line. Errors are reported on stderr here, prefixed with the
    tool's name, so callers only choose the exit code.                     */
#ifndef CLIENT_COMMON_H_INCLUDED
#define CLIENT_COMMON_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zch_option.h"

//  Exit codes shared by the tools
#define CLIENT_EXIT_OK      0
#define CLIENT_EXIT_FAIL    1
#define CLIENT_EXIT_USAGE   2

//  How long the handshake (greeting, first reply) may take
#define CLIENT_HANDSHAKE_MS 10000

//  A server reply line longer than this is an error, not a reason to grow
#define CLIENT_LINE_MAX     (16 * 1024 * 1024)

//  Results of client_link_line
#define CLIENT_LINE_FOUND     1
#define CLIENT_LINE_NONE      0     //  no whole line buffered
#define CLIENT_LINE_TOO_LONG -1

//  Results of client_link_fill
#define CLIENT_FILL_OK        1     //  read some bytes
#define CLIENT_FILL_AGAIN     0     //  nothing to read now (non-blocking)
#define CLIENT_FILL_CLOSED   -1     //  the server closed the connection
#define CLIENT_FILL_ERROR    -2     //  errno says why
#define CLIENT_FILL_TIMEOUT  -3     //  only from client_link_read_line and client_link_await

//  TLS towards a front-end that serves it (--tls-cert): the server's
//  certificate is checked against ca (a PEM file), or against the
//  system's trusted CAs when ca is NULL, and must name host.
typedef struct {
    bool on;                    //  --tls (or --tls-ca)
    const char *ca;             //  --tls-ca FILE, or NULL
} client_tls_t;

struct ssl_st;
struct ssl_ctx_st;

typedef struct {
    const char *prog;           //  "zchannel pub", for messages
    const char *host;
    int port;
    int fd;
    struct ssl_ctx_st *tls_ctx; //  with TLS: its context and connection, else NULL
    struct ssl_st *tls;
    char *buf;                  //  bytes read but not yet returned as lines
    size_t start;               //  first unconsumed byte in buf
    size_t len;                 //  end of valid bytes in buf
    size_t cap;
    size_t scanned;             //  bytes after start known to hold no LF
} client_link_t;

//  The options both pub and sub take (rows of their option tables, from
//  CLIENT_SHARED_OPTIONS), and where they go.
typedef struct {
    const char *token;          //  --token ("": none)
    int profile;                //  --profile: 0 none, 1 workerman
    bool tls_on;                //  --tls
    const char *tls_ca;         //  --tls-ca ("": none; implies --tls)
    //  What they mean, once read (client_options_read)
    bool workerman;
    client_tls_t tls;
    bool help;                  //  --help
} client_shared_t;

#define CLIENT_SHARED_OPTIONS(type, member)                                             \
    { "token", ZCH_OPT_STRING, offsetof (type, member.token), "", "TOKEN",              \
      "authenticate with AUTH TOKEN first (front-ends with --auth-file)", .flags = 0 },        \
    { "tls", ZCH_OPT_BOOL, offsetof (type, member.tls_on), "false", NULL,               \
      "speak TLS (a front-end with --tls-cert); its certificate must name HOST and "   \
      "come from a CA the system trusts", .flags = 0 },                                        \
    { "tls-ca", ZCH_OPT_STRING, offsetof (type, member.tls_ca), "", "FILE",             \
      "the same, trusting the CA certificates in FILE (PEM) instead", .flags = 0 },            \
    { "help", ZCH_OPT_BOOL, offsetof (type, member.help), "false", NULL,                \
      "show this help and exit", .letter = 'h' }

//  Reads a tool's command line against its option table (zch_option.h)
//  into args, its defaults first; shared (inside args) gets what the
//  shared options mean. Returns how many positional words (in
//  positional, which holds max) there are; -1 after a usage error said
//  on stderr.
int client_options_read (const char *prog, const zch_option_t *table, void *args,
                         client_shared_t *shared, int argc, char **argv,
                         const char **positional, int max);

//  Checks a port number option (zch_option_t.check).
int client_port_check (const char *text, char *reason, size_t reason_size);

//  Parses a TCP port number (1..65535). Returns 0, or -1 if text is not one.
int client_port_parse (const char *text, int *port);

//  True when text can stand as one token on a text-protocol line: not
//  empty, no spaces, no control bytes. Topics and patterns are checked
//  fully by the server; this only keeps the line well-formed.
bool client_token_valid (const char *text);

//  Prints a usage error as one line, "<prog>: <message> (see --help)".
void client_usage_error (const char *prog, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));


//  Connects link to host:port (blocking), then, when tls is on (tls may
//  be NULL: plain TCP), makes the TLS handshake and checks the server's
//  certificate. Returns 0, or -1 after printing "<prog>: host:port: cannot
//  connect: reason" (or "TLS handshake failed: reason") on stderr. On
//  success call client_link_close when done.
int client_link_open (client_link_t *link, const char *prog,
                      const char *host, int port, const client_tls_t *tls);

//  Writes what the socket takes now (non-blocking). Returns the bytes
//  written, or -1 with errno set (EAGAIN: nothing now).
ssize_t client_link_send (client_link_t *link, const char *buf, size_t len);

//  True when the link holds bytes already read from the socket but not
//  yet handed out (TLS records): poll says nothing of them.
bool client_link_buffered (client_link_t *link);

//  Closes the socket and frees the buffer. Safe to call twice.
void client_link_close (client_link_t *link);

//  Makes the socket non-blocking. Returns 0 or -1.
int client_link_set_nonblocking (client_link_t *link);

//  Reads once from the socket into the buffer (growing it, up to the line
//  limit). Returns a CLIENT_FILL_* code.
int client_link_fill (client_link_t *link);

//  Takes the next whole line from the buffer, without I/O. On
//  CLIENT_LINE_FOUND *line points into the buffer (valid until the next
//  fill), without its LF or a CR before it, and is NUL-terminated.
int client_link_line (client_link_t *link, char **line, size_t *line_len);

//  Waits up to timeout_ms for one whole line. Returns CLIENT_LINE_FOUND,
//  or a CLIENT_FILL_* code (CLOSED, ERROR, TIMEOUT), or CLIENT_LINE_TOO_LONG.
int client_link_read_line (client_link_t *link, int timeout_ms,
                           char **line, size_t *line_len);

//  Milliseconds on the monotonic clock, for deadlines.
int64_t client_now_ms (void);

//  Waits until deadline (client_now_ms) for bytes and reads what came.
//  Returns CLIENT_FILL_OK (look again), CLIENT_FILL_TIMEOUT, or another
//  negative client_link_fill result.
int client_link_await (client_link_t *link, int64_t deadline);

//  Writes all of buf, waiting for the socket when it is non-blocking and
//  full. Never raises SIGPIPE. Returns 0, or -1 with errno set.
int client_link_write (client_link_t *link, const char *buf, size_t len);

//  Reads the greeting line and checks it is the expected one. Returns 0,
//  or -1 after saying on stderr what went wrong.
int client_link_greet (client_link_t *link, const char *greeting);

//  Sends command (one line, with its LF) and waits for "+OK". A "-ERR"
//  answer, a timeout or a close is reported on stderr. Returns 0 or -1.
int client_link_command (client_link_t *link, const char *command);

//  Presents token with AUTH (when token is neither NULL nor ""). Returns 0,
//  or -1 after saying on stderr why the server refused it.
int client_link_auth (client_link_t *link, const char *token);

//  client_link_command, and what follows "+OK " (the epoch a verbose SUB
//  names) copied into detail (cap bytes, NUL-terminated; "" when none).
int client_link_command_detail (client_link_t *link, const char *command, char *detail, size_t cap);

//  Prints "<prog>: <host:port>: <what>" on stderr, with reason appended
//  when it is not NULL, for the failures of a link.
void client_link_complain (client_link_t *link, const char *what,
                           const char *reason);

//  Prints why a client_link_fill or client_link_read_line result that
//  is not success ended the conversation.
void client_link_complain_fill (client_link_t *link, int rc);

#endif
