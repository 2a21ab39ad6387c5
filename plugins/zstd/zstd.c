/*  zstd: compresses or decompresses payloads with libzstd, marking them
    with the content-encoding header "ce: zstd". Config: mode=compress|
    decompress (required), level=N (compress, default 3), max=BYTES
    (decompress: largest payload it will inflate, default 16777216).
    compress leaves a payload already marked alone; decompress leaves an
    unmarked payload alone, and a marked one that is not valid zstd (or
    would exceed max) is an error.                                          */
#include <zchannel/plugin.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

typedef struct {
    bool compress;
    int level;
    unsigned long long max;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
} zstd_plugin_t;

static void
s_destroy (void *state)
{
    zstd_plugin_t *self = state;
    ZSTD_freeCCtx (self->cctx);
    ZSTD_freeDCtx (self->dctx);
    free (self);
}

static void *
s_create (const zch_plugin_config_t *config, char *error, size_t error_size)
{
    const char *mode = zch_plugin_config_get (config, "mode");
    const char *level = zch_plugin_config_get (config, "level");
    const char *max = zch_plugin_config_get (config, "max");
    if (!mode || (strcmp (mode, "compress") && strcmp (mode, "decompress"))) {
        snprintf (error, error_size, "mode=compress or mode=decompress is required");
        return NULL;
    }
    zstd_plugin_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->compress = strcmp (mode, "compress") == 0;
    self->level = level? atoi (level): 3;
    self->max = max? strtoull (max, NULL, 10): 16u * 1024 * 1024;
    if (self->level < ZSTD_minCLevel () || self->level > ZSTD_maxCLevel ()) {
        snprintf (error, error_size, "level must be %d..%d", ZSTD_minCLevel (), ZSTD_maxCLevel ());
        s_destroy (self);
        return NULL;
    }
    if (self->compress)
        self->cctx = ZSTD_createCCtx ();
    else
        self->dctx = ZSTD_createDCtx ();
    if (!self->cctx && !self->dctx) {
        snprintf (error, error_size, "out of memory");
        s_destroy (self);
        return NULL;
    }
    return self;
}

static int
s_transform (void *state, zch_plugin_msg_t *msg)
{
    zstd_plugin_t *self = state;
    const char *encoding = zch_plugin_header_get (msg, "ce");
    bool marked = encoding && strcmp (encoding, "zstd") == 0;
    const zch_plugin_msg_t in = *msg;
    if (self->compress) {
        if (marked)
            return ZCH_PLUGIN_KEEP;
        size_t bound = ZSTD_compressBound (in.payload_len);
        void *scratch = msg->host->alloc (msg, bound);
        if (!scratch)
            return ZCH_PLUGIN_ERROR;
        size_t size = ZSTD_compressCCtx (self->cctx, scratch, bound, in.payload, in.payload_len,
                                         self->level);
        if (ZSTD_isError (size))
            return ZCH_PLUGIN_ERROR;
        uint8_t *out = msg->host->payload_set (msg, size);
        if (!out || msg->host->header_set (msg, "ce", "zstd"))
            return ZCH_PLUGIN_ERROR;
        memcpy (out, scratch, size);
        return ZCH_PLUGIN_KEEP;
    }
    if (!marked)
        return ZCH_PLUGIN_KEEP;
    unsigned long long size = ZSTD_getFrameContentSize (in.payload, in.payload_len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > self->max)
        return ZCH_PLUGIN_ERROR;
    uint8_t *out = msg->host->payload_set (msg, (size_t) size);
    if (!out)
        return ZCH_PLUGIN_ERROR;
    size_t written = ZSTD_decompressDCtx (self->dctx, out, (size_t) size, in.payload, in.payload_len);
    if (ZSTD_isError (written) || written != size || msg->host->header_set (msg, "ce", NULL))
        return ZCH_PLUGIN_ERROR;
    return ZCH_PLUGIN_KEEP;
}

ZCH_PLUGIN_EXPORT const zch_plugin_t zch_plugin = {
    .abi = ZCH_PLUGIN_ABI,
    .size = sizeof (zch_plugin_t),
    .name = "zstd",
    .version = "1.0",
    .create = s_create,
    .transform = s_transform,
    .destroy = s_destroy
};
