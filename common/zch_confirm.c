/*  zch_confirm: replies owed to VERBOSE publishers, in order.             */
#include "zch_confirm.h"
#include "zch_control_dealer.h"
#include "zch_envelope.h"
#include "zch_epoch.h"
#include "zch_frame.h"
#include "zch_log.h"
#include "zch_topic.h"
#include "zch_zmq.h"

#include <czmq.h>
#include <msgpack.h>
#include <unistd.h>

#define CONFIRM_REPLY   (ZCH_TOPIC_MAX + 96)

//  One reply owed, in the order of the requests.
typedef struct {
    zch_conn_t *conn;           //  NULL once the client is gone
    bool framed;                //  answered in frames
    uint64_t number;            //  the confirm awaited; 0 for a plain reply
    int64_t deadline;
    bool ready;                 //  the reply is known
    char topic [ZCH_TOPIC_MAX + 1];
    uint64_t seq;               //  confirmed: the seq and epoch
    char epoch [ZCH_EPOCH_TEXT_MAX + 1];
    char code [24];             //  refused: the err code ("" for +OK)
    char text [CONFIRM_REPLY];  //  refused: why
} owed_t;

struct zch_confirm_t {
    const char *role;
    void *dealer;
    char route [ZCH_CONFIRM_ROUTE_MAX + 1];
    size_t route_len;
    uint64_t next;              //  the next confirm number
    zlistx_t *owed;             //  owed_t, oldest first
    size_t waiting;             //  of those, confirms not in yet
    zhashx_t *clients;          //  a conn (the pointer is the key) -> replies it is owed
    uint64_t given;
    uint64_t failed;
    int64_t lost_logged_at;
};

static void
s_owed_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  The clients table's key: a conn's address.
static size_t
s_conn_hash (const void *key)
{
    uintptr_t at = (uintptr_t) key;
    return (size_t) (at >> 4 ^ at >> 20);
}

static int
s_conn_compare (const void *a, const void *b)
{
    return a < b? -1: a > b? 1: 0;
}

zch_confirm_t *
zch_confirm_new (const char *role, const char *control, const zch_secure_config_t *secure, int index,
                 char *error, size_t error_size)
{
    zch_confirm_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    //  Unique across roles, workers and restarts: role, pid, worker, start time
    self->role = role;
    int len = snprintf (self->route, sizeof self->route, "cf%.2s.%x.%d.%llx", role, (unsigned) getpid (),
                        index, (unsigned long long) zclock_usecs () & 0xffffffffffULL);
    self->route_len = len > 0 && (size_t) len < sizeof self->route? (size_t) len: sizeof self->route - 1;
    self->next = 1;
    self->owed = zlistx_new ();
    self->clients = zhashx_new ();
    if (!self->owed || !self->clients) {
        snprintf (error, error_size, "out of memory");
        zch_confirm_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->owed, s_owed_free);
    //  Keyed by the conn itself: asked on every publish of a VERBOSE
    //  client, where formatting a string key cost more than the rest
    zhashx_set_key_hasher (self->clients, s_conn_hash);
    zhashx_set_key_comparator (self->clients, s_conn_compare);
    zhashx_set_key_duplicator (self->clients, NULL);
    zhashx_set_key_destructor (self->clients, NULL);
    //  The broker finds this worker by the route its messages carry
    self->dealer = zch_control_dealer_new (secure, control, self->route, error, error_size);
    if (!self->dealer) {
        zch_confirm_destroy (&self);
        return NULL;
    }
    return self;
}

void
zch_confirm_destroy (zch_confirm_t **self_p)
{
    zch_confirm_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->owed);
    zhashx_destroy (&self->clients);
    zch_control_dealer_close (&self->dealer);
    free (self);
    *self_p = NULL;
}

int
zch_confirm_fd (zch_confirm_t *self)
{
    return zch_zmq_fd (self->dealer);
}

const char *
zch_confirm_route (zch_confirm_t *self, size_t *len)
{
    *len = self->route_len;
    return self->route;
}

uint64_t
zch_confirm_next (zch_confirm_t *self)
{
    return self->waiting < ZCH_CONFIRM_MAX? self->next: 0;
}

//  Counts a reply owed to conn (by + 1 or - 1). Returns what is owed now.
static size_t
s_count (zch_confirm_t *self, zch_conn_t *conn, int by)
{
    size_t owed = (size_t) (uintptr_t) zhashx_lookup (self->clients, conn);
    owed = by > 0? owed + 1: owed > 0? owed - 1: 0;
    if (owed)
        zhashx_update (self->clients, conn, (void *) (uintptr_t) owed);
    else
        zhashx_delete (self->clients, conn);
    return owed;
}

//  Queues a reply owed to conn. Returns it, or NULL when out of memory.
static owed_t *
s_owe (zch_confirm_t *self, zch_conn_t *conn)
{
    owed_t *owed = calloc (1, sizeof *owed);
    if (!owed || !zlistx_add_end (self->owed, owed)) {
        free (owed);
        return NULL;
    }
    owed->conn = conn;
    s_count (self, conn, 1);
    return owed;
}

int
zch_confirm_expect (zch_confirm_t *self, zch_conn_t *conn, bool framed, const char *topic,
                    size_t len)
{
    owed_t *owed = s_owe (self, conn);
    if (!owed)
        return -1;
    owed->framed = framed;
    owed->number = self->next++;
    owed->deadline = zclock_mono () + ZCH_CONFIRM_WAIT;
    snprintf (owed->topic, sizeof owed->topic, "%.*s", (int) len, topic);
    self->waiting++;
    return 0;
}

int
zch_confirm_reply (zch_confirm_t *self, zch_conn_t *conn, bool framed, const char *code,
                   const char *text)
{
    owed_t *owed = s_owe (self, conn);
    if (!owed)
        return -1;
    owed->framed = framed;
    owed->ready = true;
    snprintf (owed->code, sizeof owed->code, "%s", code? code: "");
    snprintf (owed->text, sizeof owed->text, "%s", text? text: "");
    return 0;
}

//  Writes a reply as its client speaks: "+OK [<topic> <seq> <epoch>]" or
//  "-ERR <text>"; ["ok"], ["ok", topic, seq, epoch] or ["err", code, text].
static void
s_write (owed_t *owed)
{
    if (owed->framed && !*owed->code) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
        msgpack_sbuffer_write (&buffer, "\0\0\0\0", 4);
        msgpack_pack_array (&packer, owed->seq? 4: 1);
        msgpack_pack_str_with_body (&packer, "ok", 2);
        if (owed->seq) {
            msgpack_pack_str_with_body (&packer, owed->topic, strlen (owed->topic));
            msgpack_pack_uint64 (&packer, owed->seq);
            msgpack_pack_str_with_body (&packer, owed->epoch, strlen (owed->epoch));
        }
        if (buffer.data) {
            size_t body = buffer.size - 4;
            for (int i = 0; i < 4; i++)
                buffer.data [i] = (char) (body >> (24 - 8 * i));
            zch_conn_write (owed->conn, buffer.data, buffer.size);
        }
        msgpack_sbuffer_destroy (&buffer);
        return;
    }
    if (owed->framed) {
        uint8_t frame [CONFIRM_REPLY + 64];
        size_t size = zch_frame_encode_err (frame, sizeof frame, owed->code, owed->text);
        if (size)
            zch_conn_write (owed->conn, frame, size);
        return;
    }
    char line [CONFIRM_REPLY + 64];
    int len = *owed->code? snprintf (line, sizeof line, "-ERR %s\n", owed->text):
              owed->seq? snprintf (line, sizeof line, "+OK %s %llu %s\n", owed->topic,
                                   (unsigned long long) owed->seq, owed->epoch):
                         snprintf (line, sizeof line, "+OK\n");
    zch_conn_write (owed->conn, line, (size_t) len < sizeof line? (size_t) len: sizeof line - 1);
}

bool
zch_confirm_owed (zch_confirm_t *self, zch_conn_t *conn)
{
    return zhashx_lookup (self->clients, conn) != NULL;
}

void
zch_confirm_forget (zch_confirm_t *self, zch_conn_t *conn)
{
    for (owed_t *owed = zlistx_first (self->owed); owed; owed = zlistx_next (self->owed))
        if (owed->conn == conn)
            owed->conn = NULL;
    zhashx_delete (self->clients, conn);
}

//  A confirm that will not come: the publisher should send it again.
static void
s_unconfirmed (zch_confirm_t *self, owed_t *owed, const char *why)
{
    snprintf (owed->code, sizeof owed->code, "unconfirmed");
    snprintf (owed->text, sizeof owed->text, "unconfirmed %s: %s", owed->topic, why);
    owed->ready = true;
    self->waiting--;
    self->failed++;
    int64_t now = zclock_mono ();
    if (now - self->lost_logged_at >= 1000) {
        zch_warning ("%s: a message to %s was not confirmed by the broker (%s); "
                     "%llu unconfirmed so far", self->role, owed->topic, why,
                     (unsigned long long) self->failed);
        self->lost_logged_at = now;
    }
}

//  [CONFIRM, number, topic, seq, epoch | reason]: the reply for number,
//  and every earlier one still waiting is lost (confirms keep the order).
static void
s_answer (zch_confirm_t *self, zmq_msg_t *frames, size_t count)
{
    if (count != 5 || zmq_msg_size (&frames [0]) != 7 || memcmp (zmq_msg_data (&frames [0]), "CONFIRM", 7))
        return;
    char number_text [24], seq_text [24];
    size_t size = zmq_msg_size (&frames [1]);
    if (size == 0 || size >= sizeof number_text || zmq_msg_size (&frames [3]) >= sizeof seq_text)
        return;
    memcpy (number_text, zmq_msg_data (&frames [1]), size);
    number_text [size] = 0;
    memcpy (seq_text, zmq_msg_data (&frames [3]), zmq_msg_size (&frames [3]));
    seq_text [zmq_msg_size (&frames [3])] = 0;
    uint64_t number = strtoull (number_text, NULL, 10);
    uint64_t seq = strtoull (seq_text, NULL, 10);
    for (owed_t *owed = zlistx_first (self->owed); owed; owed = zlistx_next (self->owed)) {
        if (owed->ready || owed->number == 0)
            continue;
        if (owed->number > number)
            break;
        if (owed->number < number) {
            s_unconfirmed (self, owed, "the broker lost it");
            continue;
        }
        int last = (int) zmq_msg_size (&frames [4]);
        const char *text = zmq_msg_data (&frames [4]);
        if (seq) {
            //  The topic the broker stamped it on (a plugin may rename it)
            snprintf (owed->topic, sizeof owed->topic, "%.*s",
                      (int) zmq_msg_size (&frames [2]), (const char *) zmq_msg_data (&frames [2]));
            owed->seq = seq;
            snprintf (owed->epoch, sizeof owed->epoch, "%.*s", last, text);
            self->given++;
        }
        else
        if (last == 1 && *text == '0')
            //  Published on a topic without history: no seq to tell
            self->given++;
        else {
            snprintf (owed->code, sizeof owed->code, "dropped");
            snprintf (owed->text, sizeof owed->text, "dropped by the broker: %.*s", last, text);
            self->failed++;
        }
        owed->ready = true;
        self->waiting--;
        break;
    }
}

bool
zch_confirm_work (zch_confirm_t *self)
{
    while (true) {
        zch_control_answer_t answer;
        size_t count = zch_control_answer_recv (&answer, self->dealer);
        if (count == 0)
            break;
        s_answer (self, answer.frames, count);
        zch_control_answer_clear (&answer);
    }
    int64_t now = zclock_mono ();
    for (owed_t *owed = zlistx_first (self->owed); owed && self->waiting; owed = zlistx_next (self->owed))
        if (!owed->ready && now > owed->deadline)
            s_unconfirmed (self, owed, "no answer from the broker in time");
    //  What is due goes out in order
    bool emptied = false;
    owed_t *owed;
    while ((owed = zlistx_first (self->owed)) && owed->ready) {
        if (owed->conn) {
            s_write (owed);
            emptied |= s_count (self, owed->conn, -1) == 0;
        }
        zlistx_delete (self->owed, zlistx_cursor (self->owed));
    }
    return emptied;
}

uint64_t
zch_confirm_given (zch_confirm_t *self)
{
    return self->given;
}

uint64_t
zch_confirm_failed (zch_confirm_t *self)
{
    return self->failed;
}

int
zch_confirm_move (zch_confirm_t *self, const char *from, const char *to, const char *why,
                  char *error, size_t error_size)
{
    //  The old broker's confirms will not come: the publishers are told at
    //  once, in order, so that they may send again
    for (owed_t *owed = zlistx_first (self->owed); owed && self->waiting; owed = zlistx_next (self->owed))
        if (!owed->ready && owed->number)
            s_unconfirmed (self, owed, why);
    return zch_zmq_move (self->dealer, "to broker control", from, to, error, error_size);
}
