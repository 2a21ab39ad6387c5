/*  zch_plugin_args: the plugin settings' rows.                              */
#include "zch_plugin_args.h"

#include <stdio.h>

//  Checks the shape of a plugin spec (the host checks the rest at build).
static int
s_check_spec (const char *text, char *reason, size_t reason_size)
{
    if (*text == ':' || *text == '@') {
        snprintf (reason, reason_size, "'%s': expected NAME[@PATTERN][:key=value,...]", text);
        return -1;
    }
    return 0;
}

const zch_option_t zch_plugin_options [] = {
    { "plugin", ZCH_OPT_LIST, offsetof (zch_plugin_args_t, specs), "", "SPEC",
      "add a plugin to the chain, in order (repeatable): NAME[@PATTERN][:key=value,...]",
      .flags = ZCH_OPT_RELOAD, .max = ZCH_PLUGINS_MAX, .check = s_check_spec },
    { "plugin-path", ZCH_OPT_LIST, offsetof (zch_plugin_args_t, paths), "", "DIR",
      "look for zch_NAME.so in DIR first (repeatable)",
      .flags = ZCH_OPT_SHARED | ZCH_OPT_RELOAD, .max = ZCH_PLUGIN_PATHS_MAX },
    { .name = NULL }
};
