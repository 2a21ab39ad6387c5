/*  zch_log: one logging macro over czmq's zsys_*, level-checked before its
    arguments are evaluated, each line prefixed with the component. czmq
    adds the level, the program (ident) and the time.                       */
#ifndef ZCH_LOG_H_INCLUDED
#define ZCH_LOG_H_INCLUDED

#include <czmq.h>
#include <stdatomic.h>

typedef enum {
    ZCH_LOG_ERROR = 0,
    ZCH_LOG_WARNING,
    ZCH_LOG_NOTICE,
    ZCH_LOG_INFO,
    ZCH_LOG_DEBUG
} zch_log_level_t;

//  The names of the levels, in order, '|'-separated (for option tables).
#define ZCH_LOG_LEVELS "error|warning|notice|info|debug"

//  Read by every thread, changed by main at start-up and on SIGHUP.
extern atomic_int zch_log_threshold;

//  Sets the threshold from a name (error, warning, notice, info, debug).
//  Returns 0, or -1 if the name is unknown.
int zch_log_set_level (const char *name);

//  Sends czmq's log to stderr under ident (e.g. "zchannel-broker").
void zch_log_init (const char *ident);

//  Sends the log to syslog (true) or back to stderr (false).
void zch_log_use_syslog (bool syslog);

#define zch_log(level, fn, ...) \
    do { if ((int) (level) <= atomic_load_explicit (&zch_log_threshold, memory_order_relaxed)) \
             fn (__VA_ARGS__); } while (0)
#define zch_error(...)   zch_log (ZCH_LOG_ERROR, zsys_error, __VA_ARGS__)
#define zch_warning(...) zch_log (ZCH_LOG_WARNING, zsys_warning, __VA_ARGS__)
#define zch_notice(...)  zch_log (ZCH_LOG_NOTICE, zsys_notice, __VA_ARGS__)
#define zch_info(...)    zch_log (ZCH_LOG_INFO, zsys_info, __VA_ARGS__)
#define zch_debug(...)   zch_log (ZCH_LOG_DEBUG, zsys_debug, __VA_ARGS__)

#endif
