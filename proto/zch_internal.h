/*  zch_internal: the internal envelope, on the broker's links to
    zchannel's own subscriber front-ends (proto/PROTOCOL.md, section 3.6).

    One ZeroMQ message of two frames carries one or more messages of one
    topic:
        [0x00 VERSION topic] [count: u32be, then count times:
                              meta size: u32be, meta, payload size: u32be, payload]
    The first byte (0x00) never starts a topic, so outside consumers never
    match it and ZeroMQ's prefix filter still works on the topic behind the
    version byte; a front-end of another version follows other prefixes and
    receives nothing it cannot read. A frame is checked whole, every length
    and the count against its size, before any message in it is used.
    Bytes only: no sockets, so the broker, the front-ends and the fuzzer
    share it.                                                              */
#ifndef ZCH_INTERNAL_H_INCLUDED
#define ZCH_INTERNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZCH_INTERNAL_MARK       0x00    //  first byte of an internal topic frame
#define ZCH_INTERNAL_VERSION    1       //  what this build speaks
#define ZCH_INTERNAL_HEAD       2       //  bytes before the topic: mark, version
#define ZCH_INTERNAL_ENTRY_HEAD 8       //  bytes an entry adds to its meta and payload
#define ZCH_INTERNAL_COUNT_HEAD 4

//  A barrier answer's payload names the broker's internal version so a
//  front-end can tell it speaks its own before it uses anything: "zi/1".
#define ZCH_INTERNAL_HELLO      "zi/"

//  What a topic frame says.
#define ZCH_INTERNAL_OK         0       //  internal, this build's version
#define ZCH_INTERNAL_E_VERSION  -2      //  internal, another version (*version says which)
#define ZCH_INTERNAL_E_FORM     -1      //  not an internal topic frame

//  Reads a topic frame: the version and the topic behind it (a view into
//  data). Returns ZCH_INTERNAL_OK, ZCH_INTERNAL_E_VERSION or
//  ZCH_INTERNAL_E_FORM (no mark, no version byte, version 0, or no topic).
int zch_internal_topic (const uint8_t *data, size_t size, unsigned *version,
                        const char **topic, size_t *topic_len);

//  Writes the topic frame for topic (this build's version) into out.
//  Returns its size, or 0 when out_cap is too small.
size_t zch_internal_topic_write (const char *topic, size_t topic_len, uint8_t *out, size_t out_cap);

//  The bytes one message adds to a batch frame.
static inline size_t
zch_internal_entry_size (size_t meta_size, size_t payload_size)
{
    return ZCH_INTERNAL_ENTRY_HEAD + meta_size + payload_size;
}

//  Writes a batch frame's count at out (4 bytes).
void zch_internal_count_write (uint8_t *out, uint32_t count);

//  Writes one message at out, which must have zch_internal_entry_size
//  bytes; meta_size at most ZCH_META_MAX. Returns the end of what it wrote.
uint8_t *zch_internal_entry_write (uint8_t *out, const uint8_t *meta, size_t meta_size,
                                   const uint8_t *payload, size_t payload_size);

//  A batch frame being read; views into its bytes.
typedef struct {
    const uint8_t *at;
    const uint8_t *end;
    uint32_t left;              //  messages not read yet
} zch_internal_reader_t;

//  Checks a batch frame whole (the count, at least one, matches the
//  entries, every length fits, each meta at most ZCH_META_MAX, nothing
//  after the last) and readies reader. Returns the count, or -1 when the
//  frame is malformed (reader is then empty).
int zch_internal_open (zch_internal_reader_t *reader, const uint8_t *data, size_t size);

//  The next message of a frame zch_internal_open accepted. Returns true
//  with the views set, false when none is left.
bool zch_internal_next (zch_internal_reader_t *reader, const uint8_t **meta, size_t *meta_size,
                        const uint8_t **payload, size_t *payload_size);

#endif
