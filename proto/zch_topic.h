/*  zch_topic: topic and pattern syntax.

    A topic is 1..ZCH_TOPIC_MAX bytes of printable UTF-8 without spaces,
    made of non-empty tokens separated by '.'. Topics starting with '$' are
    reserved for the system (the subscription barrier uses "$ack.").
    A pattern is a topic whose tokens may also be '*' (exactly one token) or,
    as its last token, '>' (one or more tokens).                             */
#ifndef ZCH_TOPIC_H_INCLUDED
#define ZCH_TOPIC_H_INCLUDED

#include <stddef.h>

#define ZCH_TOPIC_MAX 255

//  Checks a concrete topic a client may publish to. Returns 0 when valid;
//  otherwise -1 and, if reason is not NULL, a static text saying why.
int zch_topic_validate (const char *topic, size_t len, const char **reason);

//  Checks a subscription pattern. Same contract as zch_topic_validate.
int zch_pattern_validate (const char *pattern, size_t len, const char **reason);

//  Length of the literal prefix of a valid pattern: the bytes before its
//  first wildcard token, which is what a front-end subscribes to upstream
//  (ZeroMQ filters by prefix only). "orders.*.eu" gives 7 ("orders."),
//  "orders.eu" gives 9, ">" gives 0.
size_t zch_pattern_prefix_len (const char *pattern, size_t len);

#endif
