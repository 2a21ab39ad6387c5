/*  redact: replaces every match of a POSIX extended regex in the payload,
    e.g. card numbers. Config: regex=RE (required), replacement=TEXT
    (default "[REDACTED]").                                                 */
#include <zchannel/plugin.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    regex_t regex;
    char *replacement;
    size_t replacement_len;
} redact_t;

static void *
s_create (const zch_plugin_config_t *config, char *error, size_t error_size)
{
    const char *pattern = zch_plugin_config_get (config, "regex");
    const char *replacement = zch_plugin_config_get (config, "replacement");
    if (!pattern) {
        snprintf (error, error_size, "regex=... is required");
        return NULL;
    }
    redact_t *self = calloc (1, sizeof *self);
    if (self)
        self->replacement = strdup (replacement? replacement: "[REDACTED]");
    if (!self || !self->replacement) {
        free (self);
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->replacement_len = strlen (self->replacement);
    int rc = regcomp (&self->regex, pattern, REG_EXTENDED);
    if (rc) {
        char reason [128];
        regerror (rc, &self->regex, reason, sizeof reason);
        snprintf (error, error_size, "regex '%s': %s", pattern, reason);
        free (self->replacement);
        free (self);
        return NULL;
    }
    return self;
}

//  Finds the matches (an empty match replaces nothing), then writes the
//  payload once with each replaced. Untouched payloads are not copied.
static int
s_transform (void *state, zch_plugin_msg_t *msg)
{
    redact_t *self = state;
    size_t len = msg->payload_len;
    if (!msg->payload || len == 0)
        return ZCH_PLUGIN_KEEP;
    //  A terminated copy to match in: the payload ends where its frame
    //  ends, and some regexec implementations (and sanitizers' interceptors)
    //  look for a NUL even with REG_STARTEND
    char *text = msg->host->alloc (msg, len + 1);
    if (!text)
        return ZCH_PLUGIN_ERROR;
    memcpy (text, msg->payload, len);
    text [len] = 0;
    size_t cap = 16, count = 0;
    regmatch_t *matches = msg->host->alloc (msg, cap * sizeof *matches);
    size_t offset = 0;
    while (matches && offset < len) {
        regmatch_t range = { (regoff_t) offset, (regoff_t) len };
        if (regexec (&self->regex, text, 1, &range, REG_STARTEND | (offset? REG_NOTBOL: 0)) != 0)
            break;
        if (range.rm_eo == range.rm_so) {
            offset = (size_t) range.rm_eo + 1;
            continue;
        }
        if (count == cap) {
            regmatch_t *bigger = msg->host->alloc (msg, 2 * cap * sizeof *matches);
            if (bigger)
                memcpy (bigger, matches, cap * sizeof *matches);
            matches = bigger;
            cap *= 2;
            if (!matches)
                break;
        }
        matches [count++] = range;
        offset = (size_t) range.rm_eo;
    }
    if (!matches)
        return ZCH_PLUGIN_ERROR;
    if (count == 0)
        return ZCH_PLUGIN_KEEP;
    size_t size = len;
    for (size_t i = 0; i < count; i++)
        size = size - (size_t) (matches [i].rm_eo - matches [i].rm_so) + self->replacement_len;
    uint8_t *out = msg->host->payload_set (msg, size);
    if (!out)
        return ZCH_PLUGIN_ERROR;
    size_t from = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy (out, text + from, (size_t) matches [i].rm_so - from);
        out += (size_t) matches [i].rm_so - from;
        memcpy (out, self->replacement, self->replacement_len);
        out += self->replacement_len;
        from = (size_t) matches [i].rm_eo;
    }
    memcpy (out, text + from, len - from);
    return ZCH_PLUGIN_KEEP;
}

static void
s_destroy (void *state)
{
    redact_t *self = state;
    regfree (&self->regex);
    free (self->replacement);
    free (self);
}

ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = {
    .abi = ZCH_PLUGIN_ABI,
    .size = sizeof (zch_plugin_t),
    .name = "redact",
    .version = "1.0",
    .create = s_create,
    .transform = s_transform,
    .destroy = s_destroy
};
