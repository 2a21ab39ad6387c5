/*  zch_plugin_args: a role's plugin settings (--plugin, --plugin-path, and
    the config keys plugin and plugin-path) as strings; the plugin host
    parses them when it builds a pipeline, at start and at each reload.    */
#ifndef ZCH_PLUGIN_ARGS_H_INCLUDED
#define ZCH_PLUGIN_ARGS_H_INCLUDED

#include "zch_option.h"

#define ZCH_PLUGINS_MAX         32  //  plugins per stage
#define ZCH_PLUGIN_PATHS_MAX    16  //  plugin directories

//  One stage's plugin settings. The strings must outlive the role (they
//  point into argv or the config file's kept tree).
typedef struct zch_plugin_args_s {
    zch_option_list_t specs;    //  NAME[@PATTERN][:key=value,...], chain order
    zch_option_list_t paths;    //  directories searched first
} zch_plugin_args_t;

//  The option table of zch_plugin_args_t: plugin (repeatable, in order)
//  and plugin-path (repeatable; ZCH_OPT_SHARED, so `zchannel run` has one
//  --plugin-path for every stage). Both reload on SIGHUP.
extern const zch_option_t zch_plugin_options [];

#endif
