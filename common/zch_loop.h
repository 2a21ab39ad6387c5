/*  zch_loop: a small epoll loop. Each watched descriptor is a zch_watch_t
    embedded in its owner's struct; the loop calls its handler with the
    ready events. Level-triggered, so a handler may leave work for the next
    turn without losing the wake-up.                                         */
#ifndef ZCH_LOOP_H_INCLUDED
#define ZCH_LOOP_H_INCLUDED

#include <stdint.h>
#include <sys/epoll.h>

typedef struct zch_loop_t zch_loop_t;
typedef struct zch_watch_t zch_watch_t;

typedef void (zch_watch_fn) (zch_watch_t *watch, uint32_t events);

struct zch_watch_t {
    int fd;
    uint32_t events;            //  the interest set now registered
    zch_watch_fn *handler;
};

//  Returns a new loop, or NULL if epoll_create1 failed.
zch_loop_t *zch_loop_new (void);

//  Closes the epoll descriptor (not the watched ones); NULLs the pointer.
void zch_loop_destroy (zch_loop_t **self_p);

//  Starts watching watch->fd for events. Returns 0 or -1 (errno set).
int zch_loop_add (zch_loop_t *self, zch_watch_t *watch, uint32_t events);

//  Changes the interest set; a no-op when it is unchanged.
int zch_loop_modify (zch_loop_t *self, zch_watch_t *watch, uint32_t events);

//  Stops watching (call before closing the descriptor).
void zch_loop_remove (zch_loop_t *self, zch_watch_t *watch);

//  Waits up to timeout_ms (-1: forever) and runs the handlers of ready
//  descriptors. Returns the number handled, or -1 on a real error (EINTR
//  counts as zero).
int zch_loop_run_once (zch_loop_t *self, int timeout_ms);

//  The time (nanoseconds since the epoch) at which the last wait ended:
//  what the handlers it ran read arrived then. One clock read per wake-up
//  instead of one per message, as libuv's uv_now.
uint64_t zch_loop_now_ns (zch_loop_t *self);

#endif
