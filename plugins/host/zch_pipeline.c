/*  zch_pipeline: running one stage's chain of plugin instances.            */
#include "zch_pipeline.h"
#include "zch_plugin_args.h"
#include "zch_log.h"
#include "zch_plugin_so.h"
#include "zch_plugin_spec.h"
#include "zch_topic.h"
#include "zch_trie.h"

#include <stdarg.h>
#include <time.h>

#define ARENA_BASE      (64 * 1024)     //  bytes kept between messages, at least
#define HEADER_TEXT_MAX 255
#define LOG_INTERVAL_MS 1000            //  at most one drop/error report a second

//  One chain entry.
typedef struct {
    zch_plugin_spec_t *spec;
    zch_plugin_so_t *so;
    const zch_plugin_t *plugin;
    void *state;
    bool created;
    zch_pipeline_counters_t counters;
} instance_t;

//  Extra arena memory a message needed beyond the base block.
typedef struct extra_s {
    struct extra_s *next;
    size_t size;
    max_align_t data [];
} extra_t;

struct zch_pipeline_t {
    int stage;
    const char *stage_name;
    size_t count;
    instance_t instances [ZCH_PIPELINE_MAX];
    zch_trie_t *patterns;               //  pattern -> instance_t
    bool matched [ZCH_PIPELINE_MAX];
    //  The arena
    uint8_t *base;
    size_t base_size;
    size_t base_used;
    extra_t *extras;
    size_t extras_size;
    //  The message being run
    zch_plugin_msg_t view;
    zch_header_t out_headers [ZCH_PIPELINE_HEADERS];
    uint64_t dropped;
    uint64_t errors;
    int64_t logged_at;
    uint64_t logged_dropped;
    uint64_t logged_errors;
};

//  The instance whose code runs now, for the host's log prefix.
static __thread const instance_t *s_current;

static const char *
s_stage_name (int stage)
{
    return stage == ZCH_PLUGIN_STAGE_SOURCE? "source":
           stage == ZCH_PLUGIN_STAGE_BROKER? "broker": "subscriber";
}

//  Arena allocation: from the base block, else from an extra block that
//  zch_pipeline_done folds into a bigger base.
static void *
s_arena_alloc (zch_pipeline_t *self, size_t size)
{
    size_t aligned = (size + 15) & ~(size_t) 15;
    if (aligned < size)
        return NULL;
    if (aligned <= self->base_size - self->base_used) {
        void *memory = self->base + self->base_used;
        self->base_used += aligned;
        return memory;
    }
    extra_t *extra = malloc (sizeof *extra + aligned);
    if (!extra)
        return NULL;
    extra->size = aligned;
    extra->next = self->extras;
    self->extras = extra;
    self->extras_size += aligned;
    return extra->data;
}

//  Copies len bytes into the arena as a NUL-terminated string.
static char *
s_arena_strndup (zch_pipeline_t *self, const char *text, size_t len)
{
    char *copy = s_arena_alloc (self, len + 1);
    if (copy) {
        memcpy (copy, text, len);
        copy [len] = 0;
    }
    return copy;
}

static zch_pipeline_t *
s_of (const zch_plugin_msg_t *msg)
{
    return msg->host_private;
}

// --------------------------------------------------------------------------
//  The host-function table lent to plugins

static void
s_host_log (const zch_plugin_msg_t *msg, int level, const char *format, ...)
{
    (void) msg;
    if (level > (int) zch_log_threshold)
        return;
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    const char *name = s_current? s_current->plugin->name: "?";
    switch (level) {
        case ZCH_PLUGIN_LOG_ERROR:   zsys_error ("plugin %s: %s", name, text); break;
        case ZCH_PLUGIN_LOG_WARNING: zsys_warning ("plugin %s: %s", name, text); break;
        case ZCH_PLUGIN_LOG_NOTICE:  zsys_notice ("plugin %s: %s", name, text); break;
        case ZCH_PLUGIN_LOG_INFO:    zsys_info ("plugin %s: %s", name, text); break;
        default:                     zsys_debug ("plugin %s: %s", name, text); break;
    }
}

static void *
s_host_alloc (zch_plugin_msg_t *msg, size_t size)
{
    return msg && s_of (msg)? s_arena_alloc (s_of (msg), size? size: 1): NULL;
}

static uint8_t *
s_host_payload_set (zch_plugin_msg_t *msg, size_t size)
{
    uint8_t *payload = s_host_alloc (msg, size);
    if (payload) {
        msg->payload = payload;
        msg->payload_len = size;
    }
    return payload;
}

static int
s_host_topic_set (zch_plugin_msg_t *msg, const char *topic, size_t len)
{
    if (!msg || !s_of (msg) || !topic || len > ZCH_TOPIC_MAX)
        return -1;
    char *copy = s_arena_strndup (s_of (msg), topic, len);
    if (!copy)
        return -1;
    msg->topic = copy;
    msg->topic_len = len;
    return 0;
}

//  Copy-on-write: a new array each time, so an error can restore the old.
static int
s_host_header_set (zch_plugin_msg_t *msg, const char *key, const char *value)
{
    if (!msg || !s_of (msg) || !key || strlen (key) > HEADER_TEXT_MAX || *key == 0
    ||  (value && strlen (value) > HEADER_TEXT_MAX))
        return -1;
    zch_pipeline_t *self = s_of (msg);
    size_t count = msg->header_count;
    zch_plugin_header_t *headers = s_arena_alloc (self, (count + 1) * sizeof *headers);
    if (!headers)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp (msg->headers [i].key, key) != 0)
            headers [kept++] = msg->headers [i];
    if (value) {
        if (kept == ZCH_PIPELINE_HEADERS)
            return -1;
        char *key_copy = s_arena_strndup (self, key, strlen (key));
        char *value_copy = s_arena_strndup (self, value, strlen (value));
        if (!key_copy || !value_copy)
            return -1;
        headers [kept++] = (zch_plugin_header_t) { key_copy, value_copy };
    }
    msg->headers = headers;
    msg->header_count = kept;
    return 0;
}

static const zch_plugin_host_t s_host = {
    .size = sizeof (zch_plugin_host_t),
    .abi = ZCH_PLUGIN_ABI,
    .log = s_host_log,
    .alloc = s_host_alloc,
    .payload_set = s_host_payload_set,
    .topic_set = s_host_topic_set,
    .header_set = s_host_header_set
};

// --------------------------------------------------------------------------
//  Building and freeing

//  Creates one instance from its spec. Returns 0, or -1 with a reason.
static int
s_instance_create (zch_pipeline_t *self, instance_t *instance, const char *text,
                   const char *const *paths, size_t path_count, char *error, size_t error_size)
{
    instance->spec = zch_plugin_spec_new (text, error, error_size);
    if (!instance->spec)
        return -1;
    instance->so = zch_plugin_so_new (instance->spec->name, paths, path_count, error, error_size);
    if (!instance->so)
        return -1;
    instance->plugin = zch_plugin_so_descriptor (instance->so);
    instance->counters.name = instance->plugin->name;
    instance->counters.pattern = instance->spec->pattern;
    zch_plugin_config_t config = {
        .size = sizeof config, .stage = (uint32_t) self->stage, .host = &s_host,
        .name = instance->plugin->name, .pattern = instance->spec->pattern,
        .items = instance->spec->items, .count = instance->spec->count
    };
    if (instance->plugin->create) {
        char reason [256] = "";
        s_current = instance;
        instance->state = instance->plugin->create (&config, reason, sizeof reason);
        s_current = NULL;
        if (!instance->state) {
            snprintf (error, error_size, "plugin %s (%s): cannot create: %s", instance->plugin->name,
                      zch_plugin_so_path (instance->so), *reason? reason: "no reason given");
            return -1;
        }
    }
    instance->created = true;
    if (instance->spec->pattern
    &&  zch_trie_insert (self->patterns, instance->spec->pattern, strlen (instance->spec->pattern),
                         instance)) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    return 0;
}

zch_pipeline_t *
zch_pipeline_new (const char *const *specs, size_t count, const char *const *paths,
                  size_t path_count, int stage, char *error, size_t error_size)
{
    if (count > ZCH_PIPELINE_MAX) {
        snprintf (error, error_size, "more than %d plugins in one chain", ZCH_PIPELINE_MAX);
        return NULL;
    }
    zch_pipeline_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->stage = stage;
    self->stage_name = s_stage_name (stage);
    self->patterns = zch_trie_new ();
    self->base = malloc (ARENA_BASE);
    self->base_size = ARENA_BASE;
    if (!self->patterns || !self->base) {
        snprintf (error, error_size, "out of memory");
        zch_pipeline_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        self->count = i + 1;
        if (s_instance_create (self, &self->instances [i], specs [i], paths, path_count,
                               error, error_size)) {
            zch_pipeline_destroy (&self);
            return NULL;
        }
    }
    return self;
}

//  Frees the arena's extra blocks.
static void
s_extras_free (zch_pipeline_t *self)
{
    while (self->extras) {
        extra_t *next = self->extras->next;
        free (self->extras);
        self->extras = next;
    }
    self->extras_size = 0;
}

void
zch_pipeline_destroy (zch_pipeline_t **self_p)
{
    zch_pipeline_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        instance_t *instance = &self->instances [i];
        if (instance->created && instance->plugin->destroy) {
            s_current = instance;
            instance->plugin->destroy (instance->state);
            s_current = NULL;
        }
        zch_plugin_so_destroy (&instance->so);
        zch_plugin_spec_destroy (&instance->spec);
    }
    zch_trie_destroy (&self->patterns);
    s_extras_free (self);
    free (self->base);
    free (self);
    *self_p = NULL;
}

// --------------------------------------------------------------------------
//  Running

static void
s_mark (void *value, void *arg)
{
    zch_pipeline_t *self = arg;
    self->matched [(instance_t *) value - self->instances] = true;
}

//  Marks the instances from first on whose pattern matches topic.
static void
s_match (zch_pipeline_t *self, size_t first, const char *topic, size_t topic_len)
{
    for (size_t i = first; i < self->count; i++)
        self->matched [i] = self->instances [i].spec->pattern == NULL;
    bool earlier [ZCH_PIPELINE_MAX];
    memcpy (earlier, self->matched, first * sizeof (bool));
    zch_trie_match (self->patterns, topic, topic_len, s_mark, self);
    memcpy (self->matched, earlier, first * sizeof (bool));
}

//  Fills the plugin's view of msg: NUL-terminated topic, headers from meta.
//  Returns 0 or -1 (out of memory, unreadable headers).
static int
s_view_init (zch_pipeline_t *self, const zch_pipeline_msg_t *msg)
{
    zch_plugin_msg_t *view = &self->view;
    memset (view, 0, sizeof *view);
    view->size = sizeof *view;
    view->stage = (uint32_t) self->stage;
    view->host = &s_host;
    view->host_private = self;
    view->topic = s_arena_strndup (self, msg->topic, msg->topic_len);
    view->topic_len = msg->topic_len;
    view->payload = msg->payload;
    view->payload_len = msg->payload_len;
    view->seq = msg->seq;
    view->ts = msg->ts;
    if (!view->topic)
        return -1;
    if (msg->meta) {
        zch_header_t headers [ZCH_PIPELINE_HEADERS];
        int count = zch_meta_headers (msg->meta, msg->meta_size, headers, ZCH_PIPELINE_HEADERS);
        if (count < 0)
            return -1;
        zch_plugin_header_t *copies = s_arena_alloc (self, ((size_t) count + 1) * sizeof *copies);
        if (!copies)
            return -1;
        for (int i = 0; i < count; i++) {
            copies [i].key = s_arena_strndup (self, headers [i].key, headers [i].key_len);
            copies [i].value = s_arena_strndup (self, headers [i].value, headers [i].value_len);
            if (!copies [i].key || !copies [i].value)
                return -1;
        }
        view->headers = copies;
        view->header_count = (size_t) count;
    }
    return 0;
}

static uint64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (uint64_t) now.tv_sec * 1000000000u + (uint64_t) now.tv_nsec;
}

//  Logs drops and errors at most once a second.
static void
s_report_rate_limited (zch_pipeline_t *self, const instance_t *instance, const char *what)
{
    int64_t now = zclock_mono ();
    if (now - self->logged_at < LOG_INTERVAL_MS)
        return;
    zch_notice ("%s: plugin %s %s on %s (%llu dropped, %llu errors since the last report)",
                self->stage_name, instance->plugin->name, what, self->view.topic,
                (unsigned long long) (self->dropped - self->logged_dropped),
                (unsigned long long) (self->errors - self->logged_errors));
    self->logged_at = now;
    self->logged_dropped = self->dropped;
    self->logged_errors = self->errors;
}

//  Runs one instance on the view. Returns ZCH_PLUGIN_KEEP or ZCH_PLUGIN_DROP.
static int
s_run_instance (zch_pipeline_t *self, instance_t *instance)
{
    zch_plugin_msg_t *view = &self->view;
    zch_plugin_msg_t before = *view;
    uint64_t started = s_now_ns ();
    s_current = instance;
    int rc = instance->plugin->transform (instance->state, view);
    s_current = NULL;
    instance->counters.ns += s_now_ns () - started;
    //  What the plugin may not change, it cannot: the host's fields win
    view->size = before.size;
    view->stage = before.stage;
    view->host = before.host;
    view->host_private = before.host_private;
    if (rc == ZCH_PLUGIN_KEEP && view->topic != before.topic
    &&  zch_topic_validate (view->topic, view->topic_len, NULL))
        rc = ZCH_PLUGIN_ERROR;
    if (rc == ZCH_PLUGIN_KEEP) {
        instance->counters.kept++;
        return ZCH_PLUGIN_KEEP;
    }
    if (rc == ZCH_PLUGIN_DROP) {
        instance->counters.dropped++;
        self->dropped++;
        s_report_rate_limited (self, instance, "dropped a message");
        return ZCH_PLUGIN_DROP;
    }
    //  An error (or a value no one defined): the message as it was
    *view = before;
    instance->counters.errored++;
    self->errors++;
    if (instance->spec->drop_on_error)
        self->dropped++;
    s_report_rate_limited (self, instance, instance->spec->drop_on_error?
                           "failed, message dropped (on_error=drop),": "failed, message passed on unchanged,");
    return instance->spec->drop_on_error? ZCH_PLUGIN_DROP: ZCH_PLUGIN_KEEP;
}

int
zch_pipeline_run (zch_pipeline_t *self, zch_pipeline_msg_t *msg)
{
    msg->topic_changed = msg->payload_changed = msg->headers_changed = false;
    msg->dropped_by = NULL;
    if (s_view_init (self, msg)) {
        //  Cannot even show it to the plugins: count against the first
        self->errors++;
        zch_warning ("%s: plugins skipped a message on %.*s (out of memory or bad headers)",
                     self->stage_name, (int) msg->topic_len, msg->topic);
        return ZCH_PLUGIN_KEEP;
    }
    zch_plugin_msg_t *view = &self->view;
    const zch_plugin_header_t *headers_in = view->headers;
    s_match (self, 0, msg->topic, msg->topic_len);
    for (size_t i = 0; i < self->count; i++) {
        if (!self->matched [i])
            continue;
        const char *topic = view->topic;
        if (s_run_instance (self, &self->instances [i]) == ZCH_PLUGIN_DROP) {
            msg->dropped_by = self->instances [i].plugin->name;
            return ZCH_PLUGIN_DROP;
        }
        if (view->topic != topic)
            s_match (self, i + 1, view->topic, view->topic_len);
    }
    if (view->topic_len != msg->topic_len || memcmp (view->topic, msg->topic, msg->topic_len)) {
        msg->topic = view->topic;
        msg->topic_len = view->topic_len;
        msg->topic_changed = true;
    }
    if (view->payload != msg->payload || view->payload_len != msg->payload_len) {
        msg->payload = view->payload;
        msg->payload_len = view->payload_len;
        msg->payload_changed = true;
    }
    if (view->headers != headers_in) {
        size_t count = view->header_count < ZCH_PIPELINE_HEADERS? view->header_count: ZCH_PIPELINE_HEADERS;
        for (size_t i = 0; i < count; i++)
            self->out_headers [i] = (zch_header_t) {
                view->headers [i].key, strlen (view->headers [i].key),
                view->headers [i].value, strlen (view->headers [i].value)
            };
        msg->headers = self->out_headers;
        msg->header_count = count;
        msg->headers_changed = true;
    }
    return ZCH_PLUGIN_KEEP;
}

void
zch_pipeline_done (zch_pipeline_t *self)
{
    if (self->extras) {
        //  The base grows to what this message needed, so the next one fits
        size_t wanted = self->base_size + self->extras_size;
        s_extras_free (self);
        uint8_t *bigger = malloc (wanted);
        if (bigger) {
            free (self->base);
            self->base = bigger;
            self->base_size = wanted;
        }
    }
    self->base_used = 0;
}

size_t
zch_pipeline_size (zch_pipeline_t *self)
{
    return self->count;
}

zch_pipeline_counters_t
zch_pipeline_counters (zch_pipeline_t *self, size_t index)
{
    return self->instances [index].counters;
}

uint64_t
zch_pipeline_dropped (zch_pipeline_t *self)
{
    return self->dropped;
}

uint64_t
zch_pipeline_errors (zch_pipeline_t *self)
{
    return self->errors;
}

uint64_t
zch_pipeline_ns (zch_pipeline_t *self)
{
    uint64_t ns = 0;
    for (size_t i = 0; i < self->count; i++)
        ns += self->instances [i].counters.ns;
    return ns;
}

void
zch_pipeline_report (zch_pipeline_t *self, const char *who)
{
    for (size_t i = 0; i < self->count; i++) {
        const zch_pipeline_counters_t *counters = &self->instances [i].counters;
        zch_notice ("%s: plugin %s@%s: kept %llu, dropped %llu, errored %llu, %.3f ms in transform",
                    who, counters->name, counters->pattern? counters->pattern: ">",
                    (unsigned long long) counters->kept, (unsigned long long) counters->dropped,
                    (unsigned long long) counters->errored, (double) counters->ns / 1e6);
    }
}

int
zch_pipeline_build (const zch_plugin_args_t *args, int stage, zch_pipeline_t **pipeline,
                    char *error, size_t error_size)
{
    *pipeline = NULL;
    if (args->specs.count == 0)
        return 0;
    *pipeline = zch_pipeline_new (args->specs.items, (size_t) args->specs.count, args->paths.items,
                                  (size_t) args->paths.count, stage, error, error_size);
    return *pipeline? 0: -1;
}

void
zch_pipeline_free (void **pipeline_p)
{
    zch_pipeline_t *pipeline = *pipeline_p;
    zch_pipeline_destroy (&pipeline);
    *pipeline_p = NULL;
}
