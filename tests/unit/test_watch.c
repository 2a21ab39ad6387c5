/*  Unit tests of broker_watch (subscriptions held, peers connected) and of
    zch_zmq_endpoint_local, which decides what listens beyond loopback.     */
#include "broker_watch.h"
#include "zch_zmq.h"
#include "zch_check.h"

#include <czmq.h>

//  Feeds one subscription message: on (1) or off (0), then the prefix.
static void
s_sub (broker_watch_t *watch, int on, const char *prefix, size_t len)
{
    uint8_t message [64];
    message [0] = (uint8_t) on;
    memcpy (message + 1, prefix, len);
    broker_watch_subscription (watch, message, len + 1);
}

//  Reads monitor events until peers reaches want or a few seconds pass.
static bool
s_peers_reach (broker_watch_t *watch, uint64_t want)
{
    for (int i = 0; i < 300; i++) {
        zmq_pollitem_t items [4];
        size_t count = broker_watch_pollitems (watch, items, 4);
        zmq_poll (items, (int) count, 10);
        broker_watch_events (watch);
        if (broker_watch_peers (watch) == want)
            return true;
    }
    return false;
}

int
main (void)
{
    CHECK (zch_zmq_endpoint_local ("tcp://127.0.0.1:2206"));
    CHECK (zch_zmq_endpoint_local ("tcp://127.0.0.2:*"));
    CHECK (zch_zmq_endpoint_local ("tcp://localhost:2206"));
    CHECK (zch_zmq_endpoint_local ("tcp://[::1]:2206"));
    CHECK (zch_zmq_endpoint_local ("tcp://lo:2206"));
    CHECK (zch_zmq_endpoint_local ("ipc:///run/zchannel/ingress"));
    CHECK (zch_zmq_endpoint_local ("inproc://zchannel-ingress"));
    CHECK (!zch_zmq_endpoint_local ("tcp://*:2206"));
    CHECK (!zch_zmq_endpoint_local ("tcp://0.0.0.0:2206"));
    CHECK (!zch_zmq_endpoint_local ("tcp://10.0.0.5:2206"));
    CHECK (!zch_zmq_endpoint_local ("tcp://eth0:2206"));
    CHECK (!zch_zmq_endpoint_local ("tcp://[::]:2206"));
    CHECK (!zch_zmq_endpoint_local ("tcp://[::1:2206"));
    CHECK (!zch_zmq_endpoint_local ("tcp://127.0.0.1;10.0.0.5:2206"));
    CHECK (!zch_zmq_endpoint_local ("tcp://127.0.0.1.example.com:2206"));
    CHECK (!zch_zmq_endpoint_local ("ws://127.0.0.1:2206"));
    CHECK (!zch_zmq_endpoint_local ("pgm://eth0;239.192.1.1:5555"));

    //  Subscriptions: a set of prefixes, whatever the requests repeat
    void *context = zsys_init ();
    broker_watch_t *watch = broker_watch_new (context, NULL, 0);
    CHECK (watch && broker_watch_subscriptions (watch) == 0);
    s_sub (watch, 1, "a.", 2);
    s_sub (watch, 1, "a.", 2);          //  a second peer, or the same one again
    s_sub (watch, 1, "b", 1);
    s_sub (watch, 1, "b\0c", 3);        //  prefixes are bytes
    s_sub (watch, 1, "", 0);            //  everything
    CHECK (broker_watch_subscriptions (watch) == 4);
    s_sub (watch, 0, "a.", 2);          //  libzmq says so only when no peer follows it
    s_sub (watch, 0, "zz", 2);          //  never held
    CHECK (broker_watch_subscriptions (watch) == 3);
    s_sub (watch, 0, "b", 1);
    s_sub (watch, 0, "b\0c", 3);
    s_sub (watch, 0, "", 0);
    CHECK (broker_watch_subscriptions (watch) == 0);
    uint8_t odd [] = { 7, 'x' };
    broker_watch_subscription (watch, odd, sizeof odd);
    broker_watch_subscription (watch, odd, 0);
    CHECK (broker_watch_subscriptions (watch) == 0);
    broker_watch_destroy (&watch);
    CHECK (watch == NULL);

    //  Peers: connections accepted and not yet gone, from the monitor
    void *xpub = zmq_socket (context, ZMQ_XPUB);
    watch = broker_watch_new (context, &xpub, 1);
    CHECK (watch && zmq_bind (xpub, "tcp://127.0.0.1:*") == 0);
    char endpoint [64];
    size_t size = sizeof endpoint;
    zmq_getsockopt (xpub, ZMQ_LAST_ENDPOINT, endpoint, &size);
    void *first = zmq_socket (context, ZMQ_SUB);
    void *second = zmq_socket (context, ZMQ_SUB);
    zmq_connect (first, endpoint);
    zmq_connect (second, endpoint);
    CHECK (s_peers_reach (watch, 2));
    int linger = 0;
    zmq_setsockopt (first, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (first);
    CHECK (s_peers_reach (watch, 1));
    zmq_setsockopt (second, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (second);
    CHECK (s_peers_reach (watch, 0));
    broker_watch_destroy (&watch);
    zmq_setsockopt (xpub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (xpub);
    CHECK_DONE ("test_watch");
}
