/*  zch_plugin_spec: one chain entry as text, parsed.

    The text is what --plugin takes, and what a config file will feed:
        NAME[@PATTERN][:key=value,key=value,...]
    NAME is a plugin name (zch_NAME.so on the search path) or a path to a
    .so; PATTERN a topic pattern (default: every topic); "\," is a comma
    inside a value. Two keys belong to the host: on_error=pass|drop (what
    an error does to the message, default pass) and conf=FILE (more
    key=value lines, read at each (re)load; a key given in the spec wins). */
#ifndef ZCH_PLUGIN_SPEC_H_INCLUDED
#define ZCH_PLUGIN_SPEC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "zchannel/plugin.h"

#define ZCH_PLUGIN_SPEC_ITEMS 64        //  key=value pairs per instance

typedef struct {
    char *name;                         //  as given: a name or a path
    char *pattern;                      //  NULL: every topic
    bool drop_on_error;                 //  on_error=drop
    size_t count;
    zch_plugin_kv_t items [ZCH_PLUGIN_SPEC_ITEMS];  //  the plugin's own keys
} zch_plugin_spec_t;

//  Parses text (and reads its conf file, if any). Returns a new spec, or
//  NULL with a one-line reason in error.
zch_plugin_spec_t *zch_plugin_spec_new (const char *text, char *error, size_t error_size);

//  Frees the spec and NULLs the caller's pointer.
void zch_plugin_spec_destroy (zch_plugin_spec_t **self_p);

#endif
