/*  zch_auth: tokens for TCP clients, each with its topic ACLs.

    A token table is ZPL (czmq zconfig), in a token file or under the
    "tokens" section of a config file:

        tokens
            sensors                         #   a name, for the logs
                secret = "s3cret"           #   the token itself, or
                sha256 = "9f86d081..."      #   the hex SHA-256 of it
                publish = "sensors.>"       #   patterns it may publish to
                subscribe = "sensors.*.temp, alerts.>"

    A client presents its token with AUTH; it is hashed and compared with
    every entry in constant time (no early exit, no length leak). A topic
    may be published when a publish pattern matches it; a pattern may be
    subscribed when a subscribe pattern covers it. An empty or missing
    list allows nothing. The table is read-only once loaded, so every
    worker thread may share it; it is reference-counted, so a reload can
    hand workers a new one and the last to let go of the old frees it.     */
#ifndef ZCH_AUTH_H_INCLUDED
#define ZCH_AUTH_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#define ZCH_AUTH_TOKENS_MAX     4096    //  entries in one table
#define ZCH_AUTH_PATTERNS_MAX   256     //  patterns in one list

typedef struct zch_auth_t zch_auth_t;
typedef struct zch_token_t zch_token_t;

//  Loads the token table from a ZPL file: its "tokens" section, or its
//  root when it has none. Returns NULL with a one-line reason in error.
zch_auth_t *zch_auth_load (const char *path, char *error, size_t error_size);

//  The same from ZPL text (the fuzz target's way in).
zch_auth_t *zch_auth_parse (const char *text, char *error, size_t error_size);

//  The same from a parsed "tokens" section.
zch_auth_t *zch_auth_from_config (zconfig_t *tokens, char *error, size_t error_size);

//  Drops one reference (the table is freed with the last) and NULLs the
//  pointer.
void zch_auth_destroy (zch_auth_t **self_p);

//  Takes another reference to the table (NULL gives NULL). Returns self.
zch_auth_t *zch_auth_ref (zch_auth_t *self);

//  The entry of self with the same secret as entry (from another table:
//  after a reload), or NULL when that token is gone.
const zch_token_t *zch_auth_same (const zch_auth_t *self, const zch_token_t *entry);

//  Entries in the table.
size_t zch_auth_size (const zch_auth_t *self);

//  The entry whose token is token[0..len), or NULL. Constant time in the
//  token's bytes and over the entries.
const zch_token_t *zch_auth_check (const zch_auth_t *self, const char *token, size_t len);

//  The entry's name, for the logs.
const char *zch_token_name (const zch_token_t *token);

//  True when the entry may publish to the valid topic.
bool zch_token_may_publish (const zch_token_t *token, const char *topic, size_t len);

//  True when the entry may subscribe to the valid pattern.
bool zch_token_may_subscribe (const zch_token_t *token, const char *pattern, size_t len);

//  Writes the hex SHA-256 of token (65 bytes with its NUL) for a sha256
//  key. Returns 0 or -1.
int zch_auth_hash_hex (const char *token, size_t len, char hex [65]);

#endif
