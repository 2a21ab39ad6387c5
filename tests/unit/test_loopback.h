/*  test_loopback: a real client connection on a loopback edge, for unit
    tests of code that writes to a zch_conn_t.                             */
#ifndef TEST_LOOPBACK_H_INCLUDED
#define TEST_LOOPBACK_H_INCLUDED

#include "zch_edge.h"
#include "zch_loop.h"

typedef struct {
    zch_loop_t *loop;
    zch_edge_t *edge;
    int client;                 //  the client's socket
    zch_conn_t *conn;           //  the server's side of it
} test_loopback_t;

//  Opens an edge on 127.0.0.1, connects a client and waits for its
//  first line. Returns 0, or -1 (what is open is closed).
int test_loopback_open (test_loopback_t *self);

//  Closes everything open opened.
void test_loopback_close (test_loopback_t *self);

#endif
