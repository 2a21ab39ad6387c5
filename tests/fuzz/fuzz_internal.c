/*  fuzz_internal: the internal envelope's frames from raw bytes.

    Input: byte 0 says how long the topic frame is (the rest is the batch
    frame). The topic frame goes through zch_internal_topic, the batch
    through zch_internal_open and zch_internal_next; what they accept must
    lie inside the frame, and a batch rewritten from what was read must be
    the same bytes.                                                        */
#include "zch_envelope.h"
#include "zch_internal.h"
#include "zch_topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  Stops the run on a broken invariant, so the fuzzer reports the input.
#define S_ASSERT(expr) do { if (!(expr)) __builtin_trap (); } while (0)

//  True when [p, p + n) lies inside [data, data + size).
static int
s_inside (const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    return p >= data && n <= size && (size_t) (p - data) <= size - n;
}

static void
s_topic (const uint8_t *data, size_t size)
{
    unsigned version;
    const char *topic;
    size_t topic_len;
    int rc = zch_internal_topic (data, size, &version, &topic, &topic_len);
    if (rc == ZCH_INTERNAL_OK) {
        S_ASSERT (version == ZCH_INTERNAL_VERSION && topic_len >= 1 && topic_len <= ZCH_TOPIC_MAX);
        S_ASSERT ((const uint8_t *) topic == data + ZCH_INTERNAL_HEAD && topic_len == size - ZCH_INTERNAL_HEAD);
        uint8_t again [ZCH_TOPIC_MAX + ZCH_INTERNAL_HEAD];
        S_ASSERT (zch_internal_topic_write (topic, topic_len, again, sizeof again) == size);
        S_ASSERT (memcmp (again, data, size) == 0);
    }
    else
    if (rc == ZCH_INTERNAL_E_VERSION)
        S_ASSERT (version != ZCH_INTERNAL_VERSION && version != 0 && topic == NULL);
    else
        S_ASSERT (rc == ZCH_INTERNAL_E_FORM && topic == NULL);
}

static void
s_batch (const uint8_t *data, size_t size)
{
    zch_internal_reader_t reader;
    int count = zch_internal_open (&reader, data, size);
    if (count < 0) {
        S_ASSERT (reader.left == 0);
        const uint8_t *meta, *payload;
        size_t meta_size, payload_size;
        S_ASSERT (!zch_internal_next (&reader, &meta, &meta_size, &payload, &payload_size));
        return;
    }
    S_ASSERT (count >= 1);
    uint8_t *copy = malloc (size);
    S_ASSERT (copy != NULL);
    zch_internal_count_write (copy, (uint32_t) count);
    uint8_t *at = copy + ZCH_INTERNAL_COUNT_HEAD;
    const uint8_t *meta, *payload;
    size_t meta_size, payload_size;
    int read = 0;
    while (zch_internal_next (&reader, &meta, &meta_size, &payload, &payload_size)) {
        S_ASSERT (s_inside (meta, meta_size, data, size) && meta_size <= ZCH_META_MAX);
        S_ASSERT (s_inside (payload, payload_size, data, size));
        S_ASSERT ((size_t) (at - copy) + zch_internal_entry_size (meta_size, payload_size) <= size);
        at = zch_internal_entry_write (at, meta, meta_size, payload, payload_size);
        read++;
    }
    S_ASSERT (read == count && (size_t) (at - copy) == size);
    S_ASSERT (memcmp (copy, data, size) == 0);
    free (copy);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t topic_size = data [0];
    if (topic_size > size - 1)
        topic_size = size - 1;
    s_topic (data + 1, topic_size);
    s_batch (data + 1 + topic_size, size - 1 - topic_size);
    return 0;
}
