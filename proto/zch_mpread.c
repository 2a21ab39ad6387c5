/*  zch_mpread: a bounded msgpack reader. See zch_mpread.h.                 */
#include "zch_mpread.h"

//  Reads an n-byte big-endian unsigned integer.
static uint64_t
s_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

void
zch_mpread_init (zch_mpread_t *self, const uint8_t *data, size_t size)
{
    self->data = data;
    self->size = size;
    self->pos = 0;
}

bool
zch_mpread_done (const zch_mpread_t *self)
{
    return self->pos == self->size;
}

//  Reads a length of n bytes after the type byte at pos. Returns 0 with
//  *value and *header (bytes taken by type and length), or -1.
static int
s_length (const zch_mpread_t *self, size_t n, uint64_t *value, size_t *header)
{
    if (n > self->size - self->pos - 1)
        return -1;
    *value = s_be (self->data + self->pos + 1, n);
    *header = 1 + n;
    return 0;
}

//  Reads a container header of the family fix_lo..fix_hi, 16- or 32-bit.
static int
s_container (zch_mpread_t *self, uint8_t fix_lo, uint8_t fix_hi, uint8_t c16, uint8_t c32,
             uint32_t *count)
{
    if (self->pos >= self->size)
        return -1;
    uint8_t c = self->data [self->pos];
    uint64_t n;
    size_t header = 1;
    if (c >= fix_lo && c <= fix_hi)
        n = c & 0x0F;
    else
    if (c == c16 || c == c32) {
        if (s_length (self, c == c16? 2: 4, &n, &header))
            return -1;
    }
    else
        return -1;
    //  every entry takes a byte at least: refuse counts that cannot fit
    uint64_t entries = fix_lo == 0x80? 2 * n: n;
    if (entries > self->size - self->pos - header)
        return -1;
    self->pos += header;
    *count = (uint32_t) n;
    return 0;
}

int
zch_mpread_array (zch_mpread_t *self, uint32_t *count)
{
    return s_container (self, 0x90, 0x9F, 0xDC, 0xDD, count);
}

int
zch_mpread_map (zch_mpread_t *self, uint32_t *count)
{
    return s_container (self, 0x80, 0x8F, 0xDE, 0xDF, count);
}

//  Reads a str (with_bin false) or a str or bin (with_bin true).
static int
s_bytes (zch_mpread_t *self, bool with_bin, const uint8_t **bytes, size_t *len)
{
    if (self->pos >= self->size)
        return -1;
    uint8_t c = self->data [self->pos];
    uint64_t n;
    size_t header = 1;
    if (c >= 0xA0 && c <= 0xBF)
        n = c & 0x1F;
    else
    if (c == 0xD9 || c == 0xDA || c == 0xDB) {
        if (s_length (self, (size_t) 1 << (c - 0xD9), &n, &header))
            return -1;
    }
    else
    if (with_bin && (c == 0xC4 || c == 0xC5 || c == 0xC6)) {
        if (s_length (self, (size_t) 1 << (c - 0xC4), &n, &header))
            return -1;
    }
    else
        return -1;
    if (n > self->size - self->pos - header)
        return -1;
    *bytes = self->data + self->pos + header;
    *len = (size_t) n;
    self->pos += header + (size_t) n;
    return 0;
}

int
zch_mpread_str (zch_mpread_t *self, const char **text, size_t *len)
{
    return s_bytes (self, false, (const uint8_t **) text, len);
}

int
zch_mpread_bytes (zch_mpread_t *self, const uint8_t **bytes, size_t *len)
{
    return s_bytes (self, true, bytes, len);
}

int
zch_mpread_uint (zch_mpread_t *self, uint64_t *value)
{
    if (self->pos >= self->size)
        return -1;
    uint8_t c = self->data [self->pos];
    if (c <= 0x7F) {
        *value = c;
        self->pos++;
        return 0;
    }
    size_t n;
    bool is_signed = c >= 0xD0 && c <= 0xD3;
    if (c >= 0xCC && c <= 0xCF)
        n = (size_t) 1 << (c - 0xCC);
    else
    if (is_signed)
        n = (size_t) 1 << (c - 0xD0);
    else
        return -1;
    uint64_t v;
    size_t header;
    if (s_length (self, n, &v, &header))
        return -1;
    if (is_signed && (v >> (8 * n - 1)) & 1)
        return -1;                      //  negative
    *value = v;
    self->pos += header;
    return 0;
}

bool
zch_mpread_nil (zch_mpread_t *self)
{
    if (self->pos < self->size && self->data [self->pos] == 0xC0) {
        self->pos++;
        return true;
    }
    return false;
}

int
zch_mpread_skip (zch_mpread_t *self)
{
    size_t pos = self->pos;
    uint64_t pending = 1;               //  values still to step over
    while (pending > 0) {
        if (pos >= self->size)
            return -1;
        uint8_t c = self->data [pos++];
        pending--;
        uint64_t skip = 0, items = 0, extra = 0;
        size_t len_bytes = 0;
        int kind = 0;                   //  0 bytes, 1 array, 2 map
        if (c <= 0x7F || c >= 0xE0 || c == 0xC0 || c == 0xC2 || c == 0xC3)
            ;
        else
        if (c <= 0x8F)
            items = 2 * (uint64_t) (c & 0x0F);
        else
        if (c <= 0x9F)
            items = c & 0x0F;
        else
        if (c <= 0xBF)
            skip = c & 0x1F;
        else
        switch (c) {
            case 0xC4: case 0xD9: len_bytes = 1; break;
            case 0xC5: case 0xDA: len_bytes = 2; break;
            case 0xC6: case 0xDB: len_bytes = 4; break;
            case 0xC7: len_bytes = 1; extra = 1; break;
            case 0xC8: len_bytes = 2; extra = 1; break;
            case 0xC9: len_bytes = 4; extra = 1; break;
            case 0xCA: skip = 4; break;
            case 0xCB: skip = 8; break;
            case 0xCC: case 0xD0: skip = 1; break;
            case 0xCD: case 0xD1: skip = 2; break;
            case 0xCE: case 0xD2: skip = 4; break;
            case 0xCF: case 0xD3: skip = 8; break;
            case 0xD4: skip = 2; break;
            case 0xD5: skip = 3; break;
            case 0xD6: skip = 5; break;
            case 0xD7: skip = 9; break;
            case 0xD8: skip = 17; break;
            case 0xDC: len_bytes = 2; kind = 1; break;
            case 0xDD: len_bytes = 4; kind = 1; break;
            case 0xDE: len_bytes = 2; kind = 2; break;
            case 0xDF: len_bytes = 4; kind = 2; break;
            default:   return -1;       //  0xC1 is never used
        }
        if (len_bytes) {
            if (len_bytes > self->size - pos)
                return -1;
            uint64_t n = s_be (self->data + pos, len_bytes);
            pos += len_bytes;
            if (kind == 0)
                skip = n + extra;
            else
                items = kind == 2? 2 * n: n;
        }
        if (skip > self->size - pos)
            return -1;
        pos += (size_t) skip;
        if (items > self->size - pos || pending + items > self->size - pos)
            return -1;
        pending += items;
    }
    self->pos = pos;
    return 0;
}
