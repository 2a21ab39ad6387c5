/*  zch_plugin_spec: parsing "NAME[@PATTERN][:key=value,...]".              */
#include "zch_plugin_spec.h"
#include "zch_topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_LINE_MAX 4096

void
zch_plugin_spec_destroy (zch_plugin_spec_t **self_p)
{
    zch_plugin_spec_t *self = *self_p;
    if (!self)
        return;
    free (self->name);
    free (self->pattern);
    for (size_t i = 0; i < self->count; i++) {
        free ((char *) self->items [i].key);
        free ((char *) self->items [i].value);
    }
    free (self);
    *self_p = NULL;
}

//  Copies [start, start + len).
static char *
s_dup (const char *start, size_t len)
{
    char *copy = malloc (len + 1);
    if (copy) {
        memcpy (copy, start, len);
        copy [len] = 0;
    }
    return copy;
}

//  True when the spec already has key.
static bool
s_has (const zch_plugin_spec_t *self, const char *key)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->items [i].key, key) == 0)
            return true;
    return false;
}

//  Adds key=value unless key is there already (the first one wins).
//  Returns 0 or -1.
static int
s_add (zch_plugin_spec_t *self, const char *key, size_t key_len, const char *value,
       char *error, size_t error_size)
{
    char *key_copy = s_dup (key, key_len);
    if (!key_copy) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    if (key_len == 0 || s_has (self, key_copy)) {
        if (key_len == 0)
            snprintf (error, error_size, "plugin %s: empty key", self->name);
        free (key_copy);
        return key_len == 0? -1: 0;
    }
    if (self->count == ZCH_PLUGIN_SPEC_ITEMS) {
        snprintf (error, error_size, "plugin %s: more than %d keys", self->name, ZCH_PLUGIN_SPEC_ITEMS);
        free (key_copy);
        return -1;
    }
    char *value_copy = s_dup (value, strlen (value));
    if (!value_copy) {
        free (key_copy);
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    self->items [self->count++] = (zch_plugin_kv_t) { key_copy, value_copy };
    return 0;
}

//  Parses the comma-separated key=value list. Returns 0 or -1.
static int
s_parse_items (zch_plugin_spec_t *self, const char *text, char *error, size_t error_size)
{
    char *buffer = malloc (strlen (text) + 1);
    if (!buffer) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    int rc = 0;
    const char *cursor = text;
    while (rc == 0 && *cursor) {
        //  One item, unescaping "\," as we go
        size_t len = 0;
        for (; *cursor && *cursor != ','; cursor++) {
            if (cursor [0] == '\\' && cursor [1] == ',')
                cursor++;
            buffer [len++] = *cursor;
        }
        buffer [len] = 0;
        if (*cursor == ',')
            cursor++;
        if (len == 0)
            continue;
        char *equals = strchr (buffer, '=');
        if (!equals) {
            snprintf (error, error_size, "plugin %s: '%s' is not key=value", self->name, buffer);
            rc = -1;
        }
        else
            rc = s_add (self, buffer, (size_t) (equals - buffer), equals + 1, error, error_size);
    }
    free (buffer);
    return rc;
}

//  Reads key=value lines from path ('#' starts a comment line). Keys
//  already set by the spec text win. Returns 0 or -1.
static int
s_read_conf (zch_plugin_spec_t *self, const char *path, char *error, size_t error_size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, error_size, "plugin %s: cannot read conf file %s", self->name, path);
        return -1;
    }
    char line [SPEC_LINE_MAX];
    int rc = 0;
    int number = 0;
    while (rc == 0 && fgets (line, sizeof line, file)) {
        number++;
        size_t len = strlen (line);
        while (len > 0 && (line [len - 1] == '\n' || line [len - 1] == '\r'))
            line [--len] = 0;
        const char *start = line + strspn (line, " \t");
        if (*start == 0 || *start == '#')
            continue;
        const char *equals = strchr (start, '=');
        if (!equals) {
            snprintf (error, error_size, "plugin %s: %s:%d is not key=value", self->name, path, number);
            rc = -1;
        }
        else
            rc = s_add (self, start, (size_t) (equals - start), equals + 1, error, error_size);
    }
    fclose (file);
    return rc;
}

//  Takes the host's own keys (on_error, conf) out of the list; reads the
//  first conf file when read_conf (a conf file cannot name another).
static int
s_take_host_keys (zch_plugin_spec_t *self, bool read_conf, char *error, size_t error_size)
{
    size_t kept = 0;
    int rc = 0;
    char *conf = NULL;
    for (size_t i = 0; i < self->count; i++) {
        zch_plugin_kv_t *item = &self->items [i];
        if (strcmp (item->key, "on_error") == 0) {
            if (strcmp (item->value, "drop") == 0)
                self->drop_on_error = true;
            else
            if (strcmp (item->value, "pass") != 0) {
                snprintf (error, error_size, "plugin %s: on_error must be pass or drop, not '%s'",
                          self->name, item->value);
                rc = -1;
            }
        }
        else
        if (strcmp (item->key, "conf") == 0) {
            if (read_conf && !conf) {
                conf = (char *) item->value;
                free ((char *) item->key);
                continue;
            }
        }
        else {
            self->items [kept++] = *item;
            continue;
        }
        free ((char *) item->key);
        free ((char *) item->value);
    }
    self->count = kept;
    if (conf && rc == 0) {
        rc = s_read_conf (self, conf, error, error_size);
        //  A conf file may set on_error too
        if (rc == 0) {
            free (conf);
            conf = NULL;
            return s_take_host_keys (self, false, error, error_size);
        }
    }
    free (conf);
    return rc;
}

zch_plugin_spec_t *
zch_plugin_spec_new (const char *text, char *error, size_t error_size)
{
    zch_plugin_spec_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    const char *colon = strchr (text, ':');
    size_t head_len = colon? (size_t) (colon - text): strlen (text);
    const char *at = memchr (text, '@', head_len);
    size_t name_len = at? (size_t) (at - text): head_len;
    self->name = s_dup (text, name_len);
    if (at)
        self->pattern = s_dup (at + 1, head_len - name_len - 1);
    if (!self->name || (at && !self->pattern)) {
        snprintf (error, error_size, "out of memory");
        goto failed;
    }
    if (name_len == 0) {
        snprintf (error, error_size, "plugin '%s': no name", text);
        goto failed;
    }
    const char *reason;
    if (self->pattern && zch_pattern_validate (self->pattern, strlen (self->pattern), &reason)) {
        snprintf (error, error_size, "plugin %s: pattern '%s': %s", self->name, self->pattern, reason);
        goto failed;
    }
    if (colon && s_parse_items (self, colon + 1, error, error_size))
        goto failed;
    if (s_take_host_keys (self, true, error, error_size))
        goto failed;
    return self;

failed:
    zch_plugin_spec_destroy (&self);
    return NULL;
}
