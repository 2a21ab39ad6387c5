/*  broker_interest: who follows what on the broker's TCP egress, where
    zchannel's own front-ends (internal envelope) and outside ZeroMQ
    consumers (the outsiders' form) share one XPUB.

    The XPUB runs in manual mode: each subscription is applied here, for
    the peer that sent it, so that an outside consumer never matches an
    internal message (subscribing to everything, it is subscribed to every
    first byte but the internal mark) and a front-end of another internal
    version gets nothing (refused, with one log line). The subscriptions are
    counted, so that the rest of the broker sees them as an automatic XPUB
    reports them: every subscribe, and an unsubscribe once nobody follows
    the prefix any more.                                                  */
#ifndef BROKER_INTEREST_H_INCLUDED
#define BROKER_INTEREST_H_INCLUDED

#include <czmq.h>

typedef struct broker_interest_t broker_interest_t;

//  For the XPUB socket, which must have ZMQ_XPUB_MANUAL set.
broker_interest_t *broker_interest_new (void *socket);

void broker_interest_destroy (broker_interest_t **self_p);

//  Applies a subscription message read from the socket (the next one:
//  manual mode applies it to the peer that sent the last one read).
//  Returns true when the rest of the broker should see it.
bool broker_interest_apply (broker_interest_t *self, const uint8_t *data, size_t size);

//  Where a subscription came from, for broker_interest_report.
#define BROKER_INTEREST_LOCAL       1   //  the egress to front-ends in this process
#define BROKER_INTEREST_TCP         2   //  a front-end on the TCP egress
#define BROKER_INTEREST_OUTSIDE     4   //  an outside consumer on the TCP egress

//  Merges what the egresses report, by topic prefix (the internal head
//  taken off): every subscribe is reported, an unsubscribe only once no
//  source follows the prefix any more, so that a front-end leaving does
//  not end what an outside consumer still follows. Each source must
//  report as an automatic XPUB does (broker_interest_apply's answer for
//  the TCP egress). Returns true when the broker should act on it.
bool broker_interest_report (broker_interest_t *self, int source, bool subscribe,
                             const uint8_t *prefix, size_t len);

//  True when some outside consumer follows a prefix of topic.
bool broker_interest_outside (broker_interest_t *self, const char *topic, size_t topic_len);

//  True when some front-end follows anything in the internal envelope.
bool broker_interest_internal (broker_interest_t *self);

//  Subscriptions refused for another internal version, so far.
uint64_t broker_interest_refused (broker_interest_t *self);

#endif
