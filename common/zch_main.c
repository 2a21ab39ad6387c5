/*  zch_main: signals, actor start-up, program set-up.                       */
#include "zch_main.h"
#include "zch_log.h"
#include "zch_metrics.h"

#include <signal.h>
#include <sys/resource.h>
#include <time.h>

//  Raises the soft limit on open descriptors to the hard limit, so that
//  thousands of clients (or ZeroMQ peers) fit.
static void
s_raise_fd_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
}

static sigset_t
s_control_signals (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGHUP);
    return set;
}

void
zch_process_init (const char *ident)
{
    zsys_handler_set (NULL);
    sigset_t set = s_control_signals ();
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    signal (SIGPIPE, SIG_IGN);
    s_raise_fd_limit ();
    zch_metrics_init ();
    zsys_init ();
    zch_log_init (ident);
}

int
zch_signals_wait (void)
{
    sigset_t set = s_control_signals ();
    int signal_number = 0;
    while (sigwait (&set, &signal_number) != 0)
        ;
    return signal_number;
}

zactor_t *
zch_actor_start (zactor_fn *actor, void *args, char *error, size_t error_size)
{
    zactor_t *self = zactor_new (actor, args);
    if (!self) {
        snprintf (error, error_size, "cannot start thread");
        return NULL;
    }
    char *status = zstr_recv (self);
    if (status && streq (status, "OK")) {
        zstr_free (&status);
        return self;
    }
    snprintf (error, error_size, "%s", status? status: "start-up interrupted");
    zstr_free (&status);
    zactor_destroy (&self);
    return NULL;
}

void
zch_actor_ready (zsock_t *pipe, const char *error)
{
    zsock_signal (pipe, 0);
    zstr_send (pipe, error? error: "OK");
    //  A failed actor lingers until told to end, so that zactor_destroy's
    //  $TERM still finds it
    if (error) {
        char *command = zstr_recv (pipe);
        zstr_free (&command);
    }
}

uint64_t
zch_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (uint64_t) now.tv_sec * 1000000000u + (uint64_t) now.tv_nsec;
}
