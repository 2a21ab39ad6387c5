/*  zchannel/plugin.h: the plugin SDK, the one public header.

    A plugin is a shared object that exports one descriptor,

        ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = { ... };

    whose abi and size the host checks before it calls anything. The host
    calls create once per instance (an instance is one entry of a chain, in
    one worker thread), transform once per message on that instance's
    thread, and destroy once. Different instances may run at once in
    different threads: keep state in the instance, not in globals.

    Ownership, in one rule: everything the host hands in is borrowed and
    read-only; what a plugin puts into a message comes from the host's
    helpers (zch_plugin_host_t), which the host owns and frees once the
    message has left the pipeline. A plugin never frees message memory and
    never keeps a pointer to it after transform returns.

    Compatibility: ZCH_PLUGIN_ABI changes only when an existing field or
    function changes; new fields and host functions are added at the end of
    their structs, whose size field tells the other side what it has.       */
#ifndef ZCHANNEL_PLUGIN_H_INCLUDED
#define ZCHANNEL_PLUGIN_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZCH_PLUGIN_ABI      1           //  the ABI this header describes
#define ZCH_PLUGIN_SYMBOL   "zch_plugin"    //  the descriptor's exported name

#define ZCH_PLUGIN_EXPORT   __attribute__ ((visibility ("default")))

//  What transform returns.
typedef enum {
    ZCH_PLUGIN_KEEP  = 0,               //  pass the message on (changed or not)
    ZCH_PLUGIN_DROP  = 1,               //  drop it, on purpose: counted, not an error
    ZCH_PLUGIN_ERROR = 2                //  failed: the instance's on_error policy decides
} zch_plugin_result_t;

//  Where a chain runs.
typedef enum {
    ZCH_PLUGIN_STAGE_SOURCE     = 1,    //  source ingress, before publishing (no seq yet)
    ZCH_PLUGIN_STAGE_BROKER     = 2,    //  broker, before the seq is stamped (seq is the one it will get)
    ZCH_PLUGIN_STAGE_SUBSCRIBER = 3     //  subscriber egress, once per message before fan-out
} zch_plugin_stage_t;

//  Log levels for zch_plugin_host_t.log.
typedef enum {
    ZCH_PLUGIN_LOG_ERROR = 0,
    ZCH_PLUGIN_LOG_WARNING,
    ZCH_PLUGIN_LOG_NOTICE,
    ZCH_PLUGIN_LOG_INFO,
    ZCH_PLUGIN_LOG_DEBUG
} zch_plugin_log_level_t;

//  One header: NUL-terminated strings owned by the host.
typedef struct {
    const char *key;
    const char *value;
} zch_plugin_header_t;

//  One key=value pair of an instance's configuration.
typedef struct {
    const char *key;
    const char *value;
} zch_plugin_kv_t;

typedef struct zch_plugin_host_s zch_plugin_host_t;

//  The message view. Every pointer is borrowed and read-only; replace a
//  part with the host's helpers, never by writing here.
typedef struct {
    uint32_t size;                      //  sizeof this struct as the host knows it
    uint32_t stage;                     //  zch_plugin_stage_t
    const zch_plugin_host_t *host;
    const char *topic;                  //  NUL-terminated, valid topic
    size_t topic_len;
    const uint8_t *payload;             //  raw bytes, not NUL-terminated
    size_t payload_len;
    const zch_plugin_header_t *headers; //  header_count entries
    size_t header_count;
    uint64_t seq;                       //  0 at the source stage
    uint64_t ts;                        //  ns since the epoch
    void *host_private;                 //  the host's, do not touch
    void *reserved [6];                 //  zero; room to grow without an ABI change
} zch_plugin_msg_t;

//  What create receives: the instance's own key=value pairs (the host's own
//  keys, on_error and conf, already taken out).
typedef struct {
    uint32_t size;                      //  sizeof this struct as the host knows it
    uint32_t stage;                     //  zch_plugin_stage_t
    const zch_plugin_host_t *host;
    const char *name;                   //  the instance's plugin name
    const char *pattern;                //  the topic pattern it applies to, or NULL (all)
    const zch_plugin_kv_t *items;
    size_t count;
    void *reserved [4];
} zch_plugin_config_t;

//  Functions the host lends to plugins. It only grows at its end: check
//  size (offsetof the function + its size) before calling one added after
//  ABI 1 was published.
struct zch_plugin_host_s {
    uint32_t size;                      //  sizeof this table as the host knows it
    uint32_t abi;                       //  ZCH_PLUGIN_ABI of the host
    //  Logs one line, prefixed by the host with "plugin <name>: ".
    void (*log) (const zch_plugin_msg_t *msg_or_null, int level, const char *format, ...)
        __attribute__ ((format (printf, 3, 4)));
    //  Returns size bytes of scratch memory that live until the message has
    //  left the pipeline, or NULL when out of memory. Never free it.
    void *(*alloc) (zch_plugin_msg_t *msg, size_t size);
    //  Makes a new payload of size bytes the message's payload and returns
    //  it for the plugin to fill (the old payload stays readable until
    //  transform returns), or NULL when out of memory (nothing changed).
    uint8_t *(*payload_set) (zch_plugin_msg_t *msg, size_t size);
    //  Replaces the topic with a copy of topic[0..len). The host checks it
    //  when transform returns: an invalid topic makes the call an error.
    //  Returns 0, or -1 when out of memory (nothing changed).
    int (*topic_set) (zch_plugin_msg_t *msg, const char *topic, size_t len);
    //  Sets header key to a copy of value, or removes it when value is
    //  NULL. Returns 0, or -1 when out of memory or when key or value is
    //  longer than 255 bytes or there are more than 32 headers.
    int (*header_set) (zch_plugin_msg_t *msg, const char *key, const char *value);
};

//  The descriptor. Designated initialisers, please: fields may be added at
//  the end (size tells the host which).
typedef struct {
    uint32_t abi;                       //  ZCH_PLUGIN_ABI
    uint32_t size;                      //  sizeof (zch_plugin_t)
    const char *name;                   //  short name, e.g. "uppercase"
    const char *version;                //  the plugin's own version string
    //  Makes an instance's state from its configuration, or returns NULL
    //  with a one-line reason in error (the instance is then refused).
    //  May be NULL: the state is then NULL.
    void *(*create) (const zch_plugin_config_t *config, char *error, size_t error_size);
    //  Looks at and maybe rewrites one message. Returns zch_plugin_result_t.
    int (*transform) (void *state, zch_plugin_msg_t *msg);
    //  Frees the state. May be NULL.
    void (*destroy) (void *state);
    void *reserved [4];                 //  zero
} zch_plugin_t;

//  The value of key in config, or NULL.
static inline const char *
zch_plugin_config_get (const zch_plugin_config_t *config, const char *key)
{
    for (size_t i = 0; i < config->count; i++)
        if (strcmp (config->items [i].key, key) == 0)
            return config->items [i].value;
    return NULL;
}

//  The value of header key in msg, or NULL.
static inline const char *
zch_plugin_header_get (const zch_plugin_msg_t *msg, const char *key)
{
    for (size_t i = 0; i < msg->header_count; i++)
        if (strcmp (msg->headers [i].key, key) == 0)
            return msg->headers [i].value;
    return NULL;
}

#ifdef __cplusplus
}
#endif

#endif
