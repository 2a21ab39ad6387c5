/*  filter: keeps or drops messages whose payload or topic matches a POSIX
    extended regex. Config: regex=RE (required), on=payload|topic (default
    payload), action=keep|drop (default keep: only matching messages pass). */
#include <zchannel/plugin.h>

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    regex_t regex;
    bool on_topic;
    bool keep;                  //  keep matches (drop the rest), else drop matches
} filter_t;

static void *
s_create (const zch_plugin_config_t *config, char *error, size_t error_size)
{
    const char *pattern = zch_plugin_config_get (config, "regex");
    const char *on = zch_plugin_config_get (config, "on");
    const char *action = zch_plugin_config_get (config, "action");
    if (!pattern) {
        snprintf (error, error_size, "regex=... is required");
        return NULL;
    }
    if (on && strcmp (on, "payload") && strcmp (on, "topic")) {
        snprintf (error, error_size, "on must be payload or topic, not '%s'", on);
        return NULL;
    }
    if (action && strcmp (action, "keep") && strcmp (action, "drop")) {
        snprintf (error, error_size, "action must be keep or drop, not '%s'", action);
        return NULL;
    }
    filter_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    int rc = regcomp (&self->regex, pattern, REG_EXTENDED);
    if (rc) {
        char reason [128];
        regerror (rc, &self->regex, reason, sizeof reason);
        snprintf (error, error_size, "regex '%s': %s", pattern, reason);
        free (self);
        return NULL;
    }
    self->on_topic = on && strcmp (on, "topic") == 0;
    self->keep = !action || strcmp (action, "keep") == 0;
    return self;
}

//  Matches the whole payload or topic, NUL bytes included (REG_STARTEND).
static int
s_transform (void *state, zch_plugin_msg_t *msg)
{
    filter_t *self = state;
    const char *subject = self->on_topic? msg->topic: (const char *) msg->payload;
    regmatch_t range = { 0, (regoff_t) (self->on_topic? msg->topic_len: msg->payload_len) };
    if (!subject)
        subject = "";
    bool matches = regexec (&self->regex, subject, 1, &range, REG_STARTEND) == 0;
    return matches == self->keep? ZCH_PLUGIN_KEEP: ZCH_PLUGIN_DROP;
}

static void
s_destroy (void *state)
{
    filter_t *self = state;
    regfree (&self->regex);
    free (self);
}

ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = {
    .abi = ZCH_PLUGIN_ABI,
    .size = sizeof (zch_plugin_t),
    .name = "filter",
    .version = "1.0",
    .create = s_create,
    .transform = s_transform,
    .destroy = s_destroy
};
