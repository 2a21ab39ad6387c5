/*  Unit tests of zch_loop: handlers run for ready descriptors, and the
    loop's time is read once per wake-up, not per call.                    */
#include "zch_loop.h"
#include "zch_main.h"
#include "zch_check.h"

#include <time.h>
#include <unistd.h>

typedef struct {
    zch_watch_t watch;
    zch_loop_t *loop;
    int calls;
    uint64_t seen [2];          //  zch_loop_now_ns twice inside the handler
} s_reader_t;

static void
s_on_ready (zch_watch_t *watch, uint32_t events)
{
    s_reader_t *reader = (s_reader_t *) watch;
    char byte;
    if ((events & EPOLLIN) && read (watch->fd, &byte, 1) == 1)
        reader->calls++;
    reader->seen [0] = zch_loop_now_ns (reader->loop);
    nanosleep (&(struct timespec) { 0, 2000000 }, NULL);
    reader->seen [1] = zch_loop_now_ns (reader->loop);
}

int
main (void)
{
    int fds [2];
    CHECK (pipe (fds) == 0);
    zch_loop_t *loop = zch_loop_new ();
    CHECK (loop);
    s_reader_t reader = { .watch = { .fd = fds [0], .handler = s_on_ready }, .loop = loop };
    CHECK (zch_loop_add (loop, &reader.watch, EPOLLIN) == 0);
    //  Before any wait: the clock itself
    uint64_t before = zch_now_ns ();
    CHECK (zch_loop_now_ns (loop) >= before);
    //  Nothing ready: no handler, the time still moves to the wait's end
    CHECK (zch_loop_run_once (loop, 5) == 0);
    CHECK (reader.calls == 0);
    uint64_t idle = zch_loop_now_ns (loop);
    CHECK (idle >= before + 4000000);
    //  Ready: the handler sees one time for its whole run, the wait's end
    CHECK (write (fds [1], "x", 1) == 1);
    CHECK (zch_loop_run_once (loop, 1000) == 1);
    CHECK (reader.calls == 1);
    CHECK (reader.seen [0] == reader.seen [1] && reader.seen [0] >= idle);
    CHECK (zch_now_ns () >= reader.seen [0] + 2000000);
    zch_loop_remove (loop, &reader.watch);
    zch_loop_destroy (&loop);
    CHECK (loop == NULL);
    close (fds [0]);
    close (fds [1]);
    CHECK_DONE ("test_loop");
}
