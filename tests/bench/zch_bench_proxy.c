/*  zch_bench_proxy: the reference the broker is measured against: a bare
    libzmq XSUB/XPUB proxy (zmq_proxy), nothing added, default options.

    Usage: zch_bench_proxy INGRESS EGRESS, e.g. tcp://127.0.0.1:2206
    tcp://127.0.0.1:2207. Runs until killed; exits 1 when it cannot bind. */
#include <stdio.h>
#include <zmq.h>

//  Binds the two sockets and hands them to zmq_proxy.
int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "Usage: zch_bench_proxy INGRESS-ENDPOINT EGRESS-ENDPOINT\n");
        return 2;
    }
    void *ctx = zmq_ctx_new ();
    void *ingress = zmq_socket (ctx, ZMQ_XSUB);
    void *egress = zmq_socket (ctx, ZMQ_XPUB);
    if (zmq_bind (ingress, argv [1]) || zmq_bind (egress, argv [2])) {
        fprintf (stderr, "zch_bench_proxy: cannot bind: %s\n", zmq_strerror (zmq_errno ()));
        return 1;
    }
    zmq_proxy (ingress, egress, NULL);
    zmq_close (ingress);
    zmq_close (egress);
    zmq_ctx_term (ctx);
    return 0;
}
