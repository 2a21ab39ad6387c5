/*  uppercase: the smallest plugin; upper-cases ASCII letters of a payload. */
#include <zchannel/plugin.h>

//  Writes the upper-cased payload into a new payload from the host.
static int
s_transform (void *state, zch_plugin_msg_t *msg)
{
    (void) state;
    const uint8_t *in = msg->payload;
    uint8_t *out = msg->host->payload_set (msg, msg->payload_len);
    if (!out)
        return ZCH_PLUGIN_ERROR;
    for (size_t i = 0; i < msg->payload_len; i++)
        out [i] = in [i] >= 'a' && in [i] <= 'z'? (uint8_t) (in [i] - 'a' + 'A'): in [i];
    return ZCH_PLUGIN_KEEP;
}

ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = {
    .abi = ZCH_PLUGIN_ABI,
    .size = sizeof (zch_plugin_t),
    .name = "uppercase",
    .version = "1.0",
    .transform = s_transform
};
