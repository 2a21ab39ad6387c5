/*  broker_interest: subscriptions on the TCP egress (see the header).     */
#include "broker_interest.h"
#include "zch_internal.h"
#include "zch_log.h"

#define INTEREST_REFUSAL_LOG_MS 10000   //  one line per refused front-end, about

typedef struct {
    uint8_t data [256];
    size_t len;
} s_prefix_t;

struct broker_interest_t {
    void *socket;
    zhashx_t *refs;             //  hex of a raw subscription -> how many subscribes hold it
    zhashx_t *sources;          //  hex of a topic prefix -> the sources that follow it (bits)
    s_prefix_t *outside;        //  the outside prefixes held, to match topics against
    size_t outside_count;
    size_t outside_cap;
    size_t internal;            //  internal prefixes held
    uint64_t refused;
    uint64_t refused_logged;
    int64_t refused_logged_at;
};

broker_interest_t *
broker_interest_new (void *socket)
{
    broker_interest_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->socket = socket;
    self->refs = zhashx_new ();
    self->sources = zhashx_new ();
    if (!self->refs || !self->sources) {
        broker_interest_destroy (&self);
        return NULL;
    }
    return self;
}

void
broker_interest_destroy (broker_interest_t **self_p)
{
    broker_interest_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->refs);
    zhashx_destroy (&self->sources);
    free (self->outside);
    free (self);
    *self_p = NULL;
}

//  The hex of a prefix of at most 256 bytes, as a hash key.
static void
s_key (const uint8_t *prefix, size_t len, char *key)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        key [2 * i] = digits [prefix [i] >> 4];
        key [2 * i + 1] = digits [prefix [i] & 15];
    }
    key [2 * len] = 0;
}

//  True for a system prefix ($ack., $queue, $q.: barriers and queue
//  groups), which no message topic matches: no reason to look at it per
//  message.
static bool
s_system (const uint8_t *prefix, size_t len)
{
    return len > 0 && prefix [0] == '$';
}

//  Keeps the outside prefix set in step with the counts.
static void
s_outside_set (broker_interest_t *self, const uint8_t *prefix, size_t len, bool held)
{
    for (size_t i = 0; i < self->outside_count; i++) {
        if (self->outside [i].len == len && memcmp (self->outside [i].data, prefix, len) == 0) {
            if (!held)
                self->outside [i] = self->outside [--self->outside_count];
            return;
        }
    }
    if (!held)
        return;
    if (self->outside_count == self->outside_cap) {
        size_t cap = self->outside_cap? 2 * self->outside_cap: 16;
        s_prefix_t *outside = realloc (self->outside, cap * sizeof *outside);
        if (!outside) {
            zch_error ("broker: out of memory following an outside subscription");
            return;
        }
        self->outside = outside;
        self->outside_cap = cap;
    }
    memcpy (self->outside [self->outside_count].data, prefix, len);
    self->outside [self->outside_count++].len = len;
}

//  Subscribes or unsubscribes the last peer read to prefix; an empty one
//  (everything) as every first byte but the internal mark.
static void
s_socket_apply (broker_interest_t *self, bool subscribe, const uint8_t *prefix, size_t len)
{
    int option = subscribe? ZMQ_SUBSCRIBE: ZMQ_UNSUBSCRIBE;
    if (len > 0) {
        zmq_setsockopt (self->socket, option, prefix, len);
        return;
    }
    for (int byte = 1; byte < 256; byte++) {
        uint8_t first = (uint8_t) byte;
        zmq_setsockopt (self->socket, option, &first, 1);
    }
}

//  Counts a refused subscription; logs at most one line per while.
static void
s_refuse (broker_interest_t *self, unsigned version)
{
    self->refused++;
    int64_t now = zclock_mono ();
    if (self->refused_logged_at && now - self->refused_logged_at < INTEREST_REFUSAL_LOG_MS)
        return;
    zch_warning ("broker: refused a subscriber front-end that speaks internal envelope version %u "
                 "(this broker speaks %u): it gets nothing; run front-ends and broker of one "
                 "release (%llu subscriptions refused so far)", version, ZCH_INTERNAL_VERSION,
                 (unsigned long long) self->refused);
    self->refused_logged_at = now;
    self->refused_logged = self->refused;
}

bool
broker_interest_apply (broker_interest_t *self, const uint8_t *data, size_t size)
{
    if (size < 1 || data [0] > 1)
        return true;            //  not a subscription: for whoever reads it
    bool subscribe = data [0] == 1;
    const uint8_t *prefix = data + 1;
    size_t len = size - 1 < 256? size - 1: 256;
    bool internal = len >= 1 && prefix [0] == ZCH_INTERNAL_MARK;
    if (internal && subscribe && (len < ZCH_INTERNAL_HEAD || prefix [1] != ZCH_INTERNAL_VERSION)) {
        s_refuse (self, len >= ZCH_INTERNAL_HEAD? prefix [1]: 0);
        return false;
    }
    s_socket_apply (self, subscribe, prefix, len);
    char key [2 * 256 + 1];
    s_key (prefix, len, key);
    uintptr_t refs = (uintptr_t) zhashx_lookup (self->refs, key);
    if (subscribe) {
        zhashx_update (self->refs, key, (void *) (refs + 1));
        if (refs == 0 && internal)
            self->internal++;
        else
        if (refs == 0 && !s_system (prefix, len))
            s_outside_set (self, prefix, len, true);
        return true;
    }
    //  A refused version's unsubscribe: never counted
    if (refs == 0)
        return false;
    if (refs > 1) {
        zhashx_update (self->refs, key, (void *) (refs - 1));
        return false;
    }
    zhashx_delete (self->refs, key);
    if (internal)
        self->internal--;
    else
    if (!s_system (prefix, len))
        s_outside_set (self, prefix, len, false);
    return true;
}

bool
broker_interest_report (broker_interest_t *self, int source, bool subscribe,
                        const uint8_t *prefix, size_t len)
{
    char key [2 * 256 + 1];
    s_key (prefix, len < 256? len: 256, key);
    uintptr_t sources = (uintptr_t) zhashx_lookup (self->sources, key);
    if (subscribe) {
        zhashx_update (self->sources, key, (void *) (sources | (uintptr_t) source));
        return true;
    }
    sources &= ~(uintptr_t) source;
    if (sources) {
        zhashx_update (self->sources, key, (void *) sources);
        return false;
    }
    zhashx_delete (self->sources, key);
    return true;
}

bool
broker_interest_outside (broker_interest_t *self, const char *topic, size_t topic_len)
{
    //  Outside consumers are few and follow few prefixes: a scan
    for (size_t i = 0; i < self->outside_count; i++) {
        const s_prefix_t *prefix = &self->outside [i];
        if (prefix->len <= topic_len && memcmp (prefix->data, topic, prefix->len) == 0)
            return true;
    }
    return false;
}

bool
broker_interest_internal (broker_interest_t *self)
{
    return self->internal > 0;
}

uint64_t
broker_interest_refused (broker_interest_t *self)
{
    return self->refused;
}
