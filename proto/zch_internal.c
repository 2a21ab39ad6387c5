/*  zch_internal: the internal envelope (see the header).                  */
#include "zch_internal.h"
#include "zch_envelope.h"
#include "zch_topic.h"

#include <endian.h>
#include <string.h>

//  A big-endian u32 at p.
static uint32_t
s_get32 (const uint8_t *p)
{
    uint32_t value;
    memcpy (&value, p, sizeof value);
    return be32toh (value);
}

static uint8_t *
s_put32 (uint8_t *p, uint32_t value)
{
    value = htobe32 (value);
    memcpy (p, &value, sizeof value);
    return p + 4;
}

int
zch_internal_topic (const uint8_t *data, size_t size, unsigned *version,
                    const char **topic, size_t *topic_len)
{
    *version = 0;
    *topic = NULL;
    *topic_len = 0;
    if (size < ZCH_INTERNAL_HEAD + 1 || data [0] != ZCH_INTERNAL_MARK || data [1] == 0
    ||  size - ZCH_INTERNAL_HEAD > ZCH_TOPIC_MAX)
        return ZCH_INTERNAL_E_FORM;
    *version = data [1];
    if (data [1] != ZCH_INTERNAL_VERSION)
        return ZCH_INTERNAL_E_VERSION;
    *topic = (const char *) data + ZCH_INTERNAL_HEAD;
    *topic_len = size - ZCH_INTERNAL_HEAD;
    return ZCH_INTERNAL_OK;
}

size_t
zch_internal_topic_write (const char *topic, size_t topic_len, uint8_t *out, size_t out_cap)
{
    if (topic_len + ZCH_INTERNAL_HEAD > out_cap)
        return 0;
    out [0] = ZCH_INTERNAL_MARK;
    out [1] = ZCH_INTERNAL_VERSION;
    memcpy (out + ZCH_INTERNAL_HEAD, topic, topic_len);
    return topic_len + ZCH_INTERNAL_HEAD;
}

void
zch_internal_count_write (uint8_t *out, uint32_t count)
{
    s_put32 (out, count);
}

uint8_t *
zch_internal_entry_write (uint8_t *out, const uint8_t *meta, size_t meta_size,
                          const uint8_t *payload, size_t payload_size)
{
    out = s_put32 (out, (uint32_t) meta_size);
    if (meta_size)
        memcpy (out, meta, meta_size);
    out = s_put32 (out + meta_size, (uint32_t) payload_size);
    if (payload_size)
        memcpy (out, payload, payload_size);
    return out + payload_size;
}

int
zch_internal_open (zch_internal_reader_t *reader, const uint8_t *data, size_t size)
{
    *reader = (zch_internal_reader_t) { 0 };
    if (!data || size < ZCH_INTERNAL_COUNT_HEAD)
        return -1;
    uint32_t count = s_get32 (data);
    size_t rest = size - ZCH_INTERNAL_COUNT_HEAD;
    //  Every entry takes its head at least: a count beyond that is a lie
    if (count == 0 || count > rest / ZCH_INTERNAL_ENTRY_HEAD || count > INT32_MAX)
        return -1;
    const uint8_t *at = data + ZCH_INTERNAL_COUNT_HEAD;
    const uint8_t *end = data + size;
    for (uint32_t i = 0; i < count; i++) {
        if ((size_t) (end - at) < 4)
            return -1;
        size_t meta_size = s_get32 (at);
        at += 4;
        if (meta_size > ZCH_META_MAX || meta_size > (size_t) (end - at))
            return -1;
        at += meta_size;
        if ((size_t) (end - at) < 4)
            return -1;
        size_t payload_size = s_get32 (at);
        at += 4;
        if (payload_size > (size_t) (end - at))
            return -1;
        at += payload_size;
    }
    if (at != end)
        return -1;
    *reader = (zch_internal_reader_t) { data + ZCH_INTERNAL_COUNT_HEAD, end, count };
    return (int) count;
}

bool
zch_internal_next (zch_internal_reader_t *reader, const uint8_t **meta, size_t *meta_size,
                   const uint8_t **payload, size_t *payload_size)
{
    if (reader->left == 0)
        return false;
    //  zch_internal_open checked every length against the frame
    *meta_size = s_get32 (reader->at);
    *meta = reader->at + 4;
    reader->at += 4 + *meta_size;
    *payload_size = s_get32 (reader->at);
    *payload = reader->at + 4;
    reader->at += 4 + *payload_size;
    reader->left--;
    return true;
}
