/*  zch_auth: tokens and their topic ACLs.                                  */
#include "zch_auth.h"
#include "zch_topic.h"
#include "zch_trie.h"

#include <stdatomic.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define S_DIGEST    32              //  SHA-256

//  One list of allowed patterns: a trie for topics (publish), the plain
//  list for covering (subscribe).
typedef struct {
    zch_trie_t *trie;
    char **patterns;
    size_t count;
} s_acl_t;

struct zch_token_t {
    char *name;
    uint8_t digest [S_DIGEST];
    s_acl_t publish;
    s_acl_t subscribe;
};

struct zch_auth_t {
    zch_token_t *tokens;
    size_t count;
    atomic_int refs;            //  the loader's, plus one per zch_auth_ref
};

//  SHA-256 of data into digest. Returns 0 or -1.
static int
s_digest (const void *data, size_t len, uint8_t digest [S_DIGEST])
{
    unsigned int size = 0;
    return EVP_Digest (data, len, digest, &size, EVP_sha256 (), NULL) == 1 && size == S_DIGEST? 0: -1;
}

int
zch_auth_hash_hex (const char *token, size_t len, char hex [65])
{
    uint8_t digest [S_DIGEST];
    if (s_digest (token, len, digest))
        return -1;
    for (size_t i = 0; i < S_DIGEST; i++)
        snprintf (hex + 2 * i, 3, "%02x", digest [i]);
    return 0;
}

//  Reads 64 hex digits into digest. Returns 0 or -1.
static int
s_unhex (const char *hex, uint8_t digest [S_DIGEST])
{
    if (strlen (hex) != 2 * S_DIGEST)
        return -1;
    for (size_t i = 0; i < S_DIGEST; i++) {
        unsigned int byte = 0;
        for (int half = 0; half < 2; half++) {
            char c = hex [2 * i + (size_t) half];
            int value = c >= '0' && c <= '9'? c - '0':
                        c >= 'a' && c <= 'f'? c - 'a' + 10:
                        c >= 'A' && c <= 'F'? c - 'A' + 10: -1;
            if (value < 0)
                return -1;
            byte = byte << 4 | (unsigned int) value;
        }
        digest [i] = (uint8_t) byte;
    }
    return 0;
}

//  Frees one list.
static void
s_acl_clear (s_acl_t *acl)
{
    zch_trie_destroy (&acl->trie);
    for (size_t i = 0; i < acl->count; i++)
        free (acl->patterns [i]);
    free (acl->patterns);
    *acl = (s_acl_t) { 0 };
}

//  Parses "p1, p2 p3" (commas and/or spaces) into acl. Returns 0, or -1
//  with a reason naming the token and the pattern.
static int
s_acl_parse (s_acl_t *acl, const char *text, const char *name, const char *what,
             char *error, size_t error_size)
{
    acl->trie = zch_trie_new ();
    if (!acl->trie) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    const char *cursor = text? text: "";
    while (*cursor) {
        size_t skip = strspn (cursor, ", \t");
        cursor += skip;
        size_t len = strcspn (cursor, ", \t");
        if (len == 0)
            break;
        const char *reason;
        if (zch_pattern_validate (cursor, len, &reason)) {
            snprintf (error, error_size, "token '%s': %s pattern '%.*s' is not valid: %s",
                      name, what, (int) (len > 64? 64: len), cursor, reason);
            return -1;
        }
        if (acl->count == ZCH_AUTH_PATTERNS_MAX) {
            snprintf (error, error_size, "token '%s': over %d %s patterns",
                      name, ZCH_AUTH_PATTERNS_MAX, what);
            return -1;
        }
        bool repeated = false;
        for (size_t i = 0; i < acl->count; i++)
            repeated |= strlen (acl->patterns [i]) == len && memcmp (acl->patterns [i], cursor, len) == 0;
        if (repeated) {
            cursor += len;
            continue;
        }
        char **grown = realloc (acl->patterns, (acl->count + 1) * sizeof *grown);
        char *pattern = grown? strndup (cursor, len): NULL;
        if (grown)
            acl->patterns = grown;
        if (!pattern || zch_trie_insert (acl->trie, cursor, len, acl) < 0) {
            free (pattern);
            snprintf (error, error_size, "out of memory");
            return -1;
        }
        acl->patterns [acl->count++] = pattern;
        cursor += len;
    }
    return 0;
}

//  Fills one entry from its ZPL section. Returns 0 or -1 with a reason.
static int
s_token_parse (zch_token_t *token, zconfig_t *section, char *error, size_t error_size)
{
    const char *name = zconfig_name (section);
    token->name = strdup (name? name: "?");
    if (!token->name) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    const char *secret = zconfig_get (section, "secret", NULL);
    const char *sha256 = zconfig_get (section, "sha256", NULL);
    if ((secret != NULL) == (sha256 != NULL)) {
        snprintf (error, error_size, "token '%s': give exactly one of secret and sha256", token->name);
        return -1;
    }
    if (secret && *secret == 0) {
        snprintf (error, error_size, "token '%s': empty secret", token->name);
        return -1;
    }
    if (secret? s_digest (secret, strlen (secret), token->digest): s_unhex (sha256, token->digest)) {
        snprintf (error, error_size, "token '%s': sha256 must be 64 hex digits", token->name);
        return -1;
    }
    for (zconfig_t *key = zconfig_child (section); key; key = zconfig_next (key)) {
        const char *key_name = zconfig_name (key);
        if (!streq (key_name, "secret") && !streq (key_name, "sha256")
        &&  !streq (key_name, "publish") && !streq (key_name, "subscribe")) {
            snprintf (error, error_size, "token '%s': unknown key '%s' (known: secret, sha256, "
                      "publish, subscribe)", token->name, key_name);
            return -1;
        }
    }
    if (s_acl_parse (&token->publish, zconfig_get (section, "publish", ""), token->name,
                     "publish", error, error_size)
    ||  s_acl_parse (&token->subscribe, zconfig_get (section, "subscribe", ""), token->name,
                     "subscribe", error, error_size))
        return -1;
    return 0;
}

zch_auth_t *
zch_auth_from_config (zconfig_t *tokens, char *error, size_t error_size)
{
    zch_auth_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    size_t count = 0;
    for (zconfig_t *section = zconfig_child (tokens); section; section = zconfig_next (section))
        count++;
    if (count == 0 || count > ZCH_AUTH_TOKENS_MAX) {
        snprintf (error, error_size, count? "over %d tokens": "no tokens", ZCH_AUTH_TOKENS_MAX);
        zch_auth_destroy (&self);
        return NULL;
    }
    self->tokens = calloc (count, sizeof *self->tokens);
    if (!self->tokens) {
        snprintf (error, error_size, "out of memory");
        zch_auth_destroy (&self);
        return NULL;
    }
    for (zconfig_t *section = zconfig_child (tokens); section; section = zconfig_next (section)) {
        zch_token_t *token = &self->tokens [self->count++];
        if (s_token_parse (token, section, error, error_size)) {
            zch_auth_destroy (&self);
            return NULL;
        }
        for (size_t i = 0; i + 1 < self->count; i++)
            if (CRYPTO_memcmp (self->tokens [i].digest, token->digest, S_DIGEST) == 0) {
                snprintf (error, error_size, "tokens '%s' and '%s' have the same secret",
                          self->tokens [i].name, token->name);
                zch_auth_destroy (&self);
                return NULL;
            }
    }
    return self;
}

//  The tokens section of a loaded file: "tokens", or the root itself.
static zch_auth_t *
s_from_root (zconfig_t *root, char *error, size_t error_size)
{
    zconfig_t *tokens = zconfig_locate (root, "tokens");
    return zch_auth_from_config (tokens? tokens: root, error, error_size);
}

zch_auth_t *
zch_auth_load (const char *path, char *error, size_t error_size)
{
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        snprintf (error, error_size, "%s: cannot read it as ZPL", path);
        return NULL;
    }
    char reason [256];
    zch_auth_t *self = s_from_root (root, reason, sizeof reason);
    if (!self)
        snprintf (error, error_size, "%s: %s", path, reason);
    zconfig_destroy (&root);
    return self;
}

zch_auth_t *
zch_auth_parse (const char *text, char *error, size_t error_size)
{
    zconfig_t *root = zconfig_str_load (text);
    if (!root) {
        snprintf (error, error_size, "not valid ZPL");
        return NULL;
    }
    zch_auth_t *self = s_from_root (root, error, error_size);
    zconfig_destroy (&root);
    return self;
}

void
zch_auth_destroy (zch_auth_t **self_p)
{
    zch_auth_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    //  Fresh tables start at 0: the one reference their loader holds
    if (atomic_fetch_sub_explicit (&self->refs, 1, memory_order_acq_rel) > 0)
        return;
    for (size_t i = 0; i < self->count; i++) {
        free (self->tokens [i].name);
        s_acl_clear (&self->tokens [i].publish);
        s_acl_clear (&self->tokens [i].subscribe);
    }
    free (self->tokens);
    free (self);
    *self_p = NULL;
}

zch_auth_t *
zch_auth_ref (zch_auth_t *self)
{
    if (self)
        atomic_fetch_add_explicit (&self->refs, 1, memory_order_relaxed);
    return self;
}

const zch_token_t *
zch_auth_same (const zch_auth_t *self, const zch_token_t *entry)
{
    for (size_t i = 0; i < self->count; i++)
        if (CRYPTO_memcmp (self->tokens [i].digest, entry->digest, S_DIGEST) == 0)
            return &self->tokens [i];
    return NULL;
}

size_t
zch_auth_size (const zch_auth_t *self)
{
    return self->count;
}

//  Hashes the offered token, then compares with every entry, keeping the
//  first match without stopping, so the time says nothing about which.
const zch_token_t *
zch_auth_check (const zch_auth_t *self, const char *token, size_t len)
{
    uint8_t digest [S_DIGEST];
    if (!self || s_digest (token, len, digest))
        return NULL;
    const zch_token_t *found = NULL;
    for (size_t i = 0; i < self->count; i++) {
        bool same = CRYPTO_memcmp (self->tokens [i].digest, digest, S_DIGEST) == 0;
        if (same && !found)
            found = &self->tokens [i];
    }
    return found;
}

const char *
zch_token_name (const zch_token_t *token)
{
    return token->name;
}

//  Match callback: one hit is enough.
static void
s_hit (void *value, void *arg)
{
    (void) value;
    *(bool *) arg = true;
}

bool
zch_token_may_publish (const zch_token_t *token, const char *topic, size_t len)
{
    bool allowed = false;
    if (token->publish.trie)
        zch_trie_match (token->publish.trie, topic, len, s_hit, &allowed);
    return allowed;
}

bool
zch_token_may_subscribe (const zch_token_t *token, const char *pattern, size_t len)
{
    for (size_t i = 0; i < token->subscribe.count; i++) {
        const char *allowed = token->subscribe.patterns [i];
        if (zch_pattern_covers (allowed, strlen (allowed), pattern, len))
            return true;
    }
    return false;
}
