/*  broker_topics: what the broker keeps per topic (for now its seq).      */
#ifndef BROKER_TOPICS_H_INCLUDED
#define BROKER_TOPICS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct broker_topics_t broker_topics_t;

//  Returns a new, empty table, or NULL when out of memory.
broker_topics_t *broker_topics_new (void);

//  Frees the table; NULLs the pointer.
void broker_topics_destroy (broker_topics_t **self_p);

//  Returns the next seq of topic (1 for a new topic), or 0 when out of
//  memory. topic is a validated topic, not NUL-terminated.
uint64_t broker_topics_next_seq (broker_topics_t *self, const char *topic, size_t len);

//  The seq the next message on topic will get, without taking it.
uint64_t broker_topics_peek_seq (broker_topics_t *self, const char *topic, size_t len);

//  Number of distinct topics seen.
size_t broker_topics_count (broker_topics_t *self);

#endif
