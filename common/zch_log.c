/*  zch_log: level threshold and czmq log set-up.                           */
#include "zch_log.h"

#include <string.h>

atomic_int zch_log_threshold = ZCH_LOG_INFO;

static const char *s_level_names [] = { "error", "warning", "notice", "info", "debug" };

int
zch_log_set_level (const char *name)
{
    for (size_t i = 0; i < sizeof s_level_names / sizeof s_level_names [0]; i++)
        if (strcasecmp (name, s_level_names [i]) == 0) {
            atomic_store_explicit (&zch_log_threshold, (int) i, memory_order_relaxed);
            return 0;
        }
    return -1;
}

void
zch_log_init (const char *ident)
{
    zsys_set_logident (ident);
    zsys_set_logstream (stderr);
}

void
zch_log_use_syslog (bool syslog)
{
    zsys_set_logsystem (syslog);
    zsys_set_logstream (syslog? NULL: stderr);
}
