/*  zch_topic: topic and pattern syntax.

    A topic is 1..ZCH_TOPIC_MAX bytes of printable UTF-8 without spaces,
    made of non-empty tokens separated by '.'. Topics starting with '$' are
    reserved for the system (the subscription barrier uses "$ack.").
    A pattern is a topic whose tokens may also be '*' (exactly one token) or,
    as its last token, '>' (one or more tokens).                             */
#ifndef ZCH_TOPIC_H_INCLUDED
#define ZCH_TOPIC_H_INCLUDED

#include <stdbool.h>
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

//  Number of tokens in a topic or pattern ("a.b.c" has 3); 0 when empty.
size_t zch_topic_depth (const char *topic, size_t len);

//  Checks an already valid topic or pattern against configured limits:
//  at most max_len bytes and max_depth tokens (0: that limit is off).
//  Returns 0, or -1 with *reason "too long" or "too deep".
int zch_topic_check_limits (const char *topic, size_t len, size_t max_len, size_t max_depth,
                            const char **reason);

//  True when every topic the valid pattern inner matches is also matched
//  by the valid pattern outer ("orders.>" covers "orders.*.eu"; "orders.*"
//  does not cover "orders.>"). Used to check a SUB against an ACL.
bool zch_pattern_covers (const char *outer, size_t outer_len, const char *inner, size_t inner_len);

#endif
