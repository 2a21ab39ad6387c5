/*  zch_epoch: epochs as text.                                              */
#include "zch_epoch.h"

static const char s_digits [] = "0123456789abcdefghijklmnopqrstuvwxyz";

size_t
zch_epoch_format (uint64_t epoch, char *out)
{
    char reversed [ZCH_EPOCH_TEXT_MAX];
    size_t len = 0;
    do {
        reversed [len++] = s_digits [epoch % 36];
        epoch /= 36;
    } while (epoch && len < sizeof reversed);
    for (size_t i = 0; i < len; i++)
        out [i] = reversed [len - 1 - i];
    out [len] = 0;
    return len;
}

//  The value of a base-36 digit, or -1.
static int
s_digit (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return -1;
}

int
zch_epoch_parse (const char *text, size_t len, uint64_t *epoch)
{
    if (!text || len == 0 || len > ZCH_EPOCH_TEXT_MAX)
        return -1;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        int digit = s_digit (text [i]);
        if (digit < 0 || value > (UINT64_MAX - (uint64_t) digit) / 36)
            return -1;
        value = value * 36 + (uint64_t) digit;
    }
    if (value == 0)
        return -1;
    *epoch = value;
    return 0;
}

int
zch_position_parse (const char *text, size_t len, uint64_t *seq, uint64_t *epoch)
{
    uint64_t value = 0;
    size_t at = 0;
    for (; at < len && text [at] >= '0' && text [at] <= '9'; at++) {
        uint64_t digit = (uint64_t) (text [at] - '0');
        if (value > (UINT64_MAX - 1 - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    if (at == 0)
        return -1;
    uint64_t given = 0;
    if (at < len && (text [at] != '@' || zch_epoch_parse (text + at + 1, len - at - 1, &given)))
        return -1;
    *seq = value;
    *epoch = given;
    return 0;
}
