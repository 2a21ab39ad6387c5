/*  subscriber_link: tells a worker when its link to the broker's egress
    (re)connects.

    A broker that restarted comes back on the same endpoint; ZeroMQ
    reconnects by itself and says nothing. What the new broker sent before
    the worker's subscriptions reached it, and every topic that has had
    nothing since, would go unseen: so each connection counts, and the
    worker checks the seqs and epochs of every topic it follows
    (subscriber_catchup_link_up).                                           */
#ifndef SUBSCRIBER_LINK_H_INCLUDED
#define SUBSCRIBER_LINK_H_INCLUDED

typedef struct subscriber_link_t subscriber_link_t;

//  Watches the connections of socket (borrowed; it must outlive the
//  link). Returns NULL when the monitor cannot be set up.
subscriber_link_t *subscriber_link_new (void *socket);

//  Stops watching; NULLs the pointer.
void subscriber_link_destroy (subscriber_link_t **self_p);

//  The descriptor that signals events may be waiting.
int subscriber_link_fd (subscriber_link_t *self);

//  Reads the events waiting. Returns how many connections were made.
int subscriber_link_connects (subscriber_link_t *self);

#endif
