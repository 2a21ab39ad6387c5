/*  zch_loop: epoll wrapper.                                                 */
#include "zch_loop.h"
#include "zch_main.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ZCH_LOOP_BATCH 256

struct zch_loop_t {
    int epoll_fd;
    uint64_t now_ns;            //  when the last wait ended
    struct epoll_event ready [ZCH_LOOP_BATCH];
};

zch_loop_t *
zch_loop_new (void)
{
    zch_loop_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epoll_fd < 0) {
        free (self);
        return NULL;
    }
    return self;
}

void
zch_loop_destroy (zch_loop_t **self_p)
{
    if (*self_p) {
        close ((*self_p)->epoll_fd);
        free (*self_p);
        *self_p = NULL;
    }
}

int
zch_loop_add (zch_loop_t *self, zch_watch_t *watch, uint32_t events)
{
    struct epoll_event event = { .events = events, .data.ptr = watch };
    if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, watch->fd, &event) < 0)
        return -1;
    watch->events = events;
    return 0;
}

int
zch_loop_modify (zch_loop_t *self, zch_watch_t *watch, uint32_t events)
{
    if (watch->events == events)
        return 0;
    struct epoll_event event = { .events = events, .data.ptr = watch };
    if (epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, watch->fd, &event) < 0)
        return -1;
    watch->events = events;
    return 0;
}

void
zch_loop_remove (zch_loop_t *self, zch_watch_t *watch)
{
    epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
    watch->events = 0;
}

uint64_t
zch_loop_now_ns (zch_loop_t *self)
{
    return self->now_ns? self->now_ns: zch_now_ns ();
}

int
zch_loop_run_once (zch_loop_t *self, int timeout_ms)
{
    int count = epoll_wait (self->epoll_fd, self->ready, ZCH_LOOP_BATCH, timeout_ms);
    self->now_ns = zch_now_ns ();
    if (count < 0)
        return errno == EINTR? 0: -1;
    for (int i = 0; i < count; i++) {
        zch_watch_t *watch = self->ready [i].data.ptr;
        watch->handler (watch, self->ready [i].events);
    }
    return count;
}
