/*  zch_phpser: a bounded reader and writer of PHP's serialize() format.    */
#include "zch_phpser.h"

#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NUMBER_MAX 64         //  longest number text taken (PHP writes at most ~25)

//  Records why reading stopped and returns the code.
static int
s_fail (zch_phpser_t *self, int code, const char *reason)
{
    self->reason = reason;
    return code;
}

//  Takes one expected byte.
static int
s_expect (zch_phpser_t *self, char c)
{
    if (self->pos >= self->size)
        return s_fail (self, ZCH_PHPSER_NEED_MORE, "value cut short");
    if (self->data [self->pos] != (uint8_t) c)
        return s_fail (self, ZCH_PHPSER_MALFORMED, "unexpected byte");
    self->pos++;
    return ZCH_PHPSER_OK;
}

//  Reads a decimal integer ending at term; a sign only when signed_ok.
static int
s_integer (zch_phpser_t *self, char term, bool signed_ok, int64_t *value)
{
    bool negative = false;
    if (signed_ok && self->pos < self->size
    && (self->data [self->pos] == '-' || self->data [self->pos] == '+')) {
        negative = self->data [self->pos] == '-';
        self->pos++;
    }
    uint64_t magnitude = 0;
    size_t digits = 0;
    uint64_t limit = negative? (uint64_t) INT64_MAX + 1: (uint64_t) INT64_MAX;
    while (true) {
        if (self->pos >= self->size)
            return s_fail (self, ZCH_PHPSER_NEED_MORE, "value cut short");
        uint8_t c = self->data [self->pos];
        if (c == (uint8_t) term)
            break;
        if (c < '0' || c > '9')
            return s_fail (self, ZCH_PHPSER_MALFORMED, "bad digit in a number");
        unsigned digit = c - '0';
        if (magnitude > (limit - digit) / 10)
            return s_fail (self, ZCH_PHPSER_MALFORMED, "integer out of range");
        magnitude = magnitude * 10 + digit;
        digits++;
        self->pos++;
    }
    if (digits == 0)
        return s_fail (self, ZCH_PHPSER_MALFORMED, "number without digits");
    self->pos++;                //  the terminator
    if (negative)
        *value = magnitude == (uint64_t) INT64_MAX + 1? INT64_MIN: -(int64_t) magnitude;
    else
        *value = (int64_t) magnitude;
    return ZCH_PHPSER_OK;
}

//  True when text is a float as PHP's unserialize takes it:
//  [+-]? (digits | digits.digits* | digits*.digits) ([eE][+-]?digits)?
static bool
s_float_syntax (const char *text)
{
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    size_t before = strspn (p, "0123456789");
    p += before;
    size_t after = 0;
    if (*p == '.') {
        p++;
        after = strspn (p, "0123456789");
        p += after;
    }
    if (before + after == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t exponent = strspn (p, "0123456789");
        if (exponent == 0)
            return false;
        p += exponent;
    }
    return *p == 0;
}

//  Reads d:<float>; after the "d:".
static int
s_float (zch_phpser_t *self, double *value)
{
    char text [S_NUMBER_MAX + 1];
    size_t len = 0;
    while (true) {
        if (self->pos >= self->size)
            return s_fail (self, ZCH_PHPSER_NEED_MORE, "value cut short");
        uint8_t c = self->data [self->pos];
        if (c == ';')
            break;
        if (!strchr ("0123456789.eE+-INFA", c) || c == 0)
            return s_fail (self, ZCH_PHPSER_MALFORMED, "bad character in a float");
        if (len == S_NUMBER_MAX)
            return s_fail (self, ZCH_PHPSER_MALFORMED, "float too long");
        text [len++] = (char) c;
        self->pos++;
    }
    text [len] = 0;
    self->pos++;
    if (strcmp (text, "INF") == 0)
        *value = INFINITY;
    else
    if (strcmp (text, "-INF") == 0)
        *value = -INFINITY;
    else
    if (strcmp (text, "NAN") == 0)
        *value = NAN;
    else
    if (s_float_syntax (text))
        *value = strtod (text, NULL);
    else
        return s_fail (self, ZCH_PHPSER_MALFORMED, "bad float");
    return ZCH_PHPSER_OK;
}

//  Reads s:<len>:"<bytes>"; after the "s:".
static int
s_string (zch_phpser_t *self, zch_php_value_t *value)
{
    int64_t len;
    int rc = s_integer (self, ':', false, &len);
    if (rc)
        return rc;
    if ((uint64_t) len > self->limits.max_string)
        return s_fail (self, ZCH_PHPSER_TOO_BIG, "string over the length limit");
    if ((rc = s_expect (self, '"')))
        return rc;
    if ((uint64_t) len > self->size - self->pos)
        return s_fail (self, ZCH_PHPSER_NEED_MORE, "value cut short");
    value->str = (const char *) self->data + self->pos;
    value->len = (size_t) len;
    self->pos += (size_t) len;
    if ((rc = s_expect (self, '"')) || (rc = s_expect (self, ';')))
        return rc;
    return ZCH_PHPSER_OK;
}

//  Reads a:<count>:{ after the "a:", entering the array.
static int
s_array (zch_phpser_t *self, zch_php_value_t *value)
{
    int64_t count;
    int rc = s_integer (self, ':', false, &count);
    if (rc)
        return rc;
    if ((uint64_t) count > self->limits.max_elements - self->elements || count > UINT32_MAX)
        return s_fail (self, ZCH_PHPSER_TOO_BIG, "too many array elements");
    if (self->depth >= self->limits.max_depth)
        return s_fail (self, ZCH_PHPSER_TOO_DEEP, "arrays nested too deep");
    if ((rc = s_expect (self, '{')))
        return rc;
    self->elements += (size_t) count;
    self->depth++;
    value->count = (uint32_t) count;
    return ZCH_PHPSER_OK;
}

void
zch_phpser_init (zch_phpser_t *self, const void *data, size_t size,
                 const zch_phpser_limits_t *limits)
{
    memset (self, 0, sizeof *self);
    self->data = data;
    self->size = size;
    if (limits)
        self->limits = *limits;
    else {
        self->limits.max_depth = ZCH_PHPSER_DEPTH_DEFAULT;
        self->limits.max_elements = ZCH_PHPSER_ELEMENTS_DEFAULT;
        self->limits.max_string = size;
    }
    if (self->limits.max_depth < 1 || self->limits.max_depth > ZCH_PHPSER_DEPTH_MAX)
        self->limits.max_depth = ZCH_PHPSER_DEPTH_MAX;
}

int
zch_phpser_read (zch_phpser_t *self, zch_php_value_t *value)
{
    memset (value, 0, sizeof *value);
    if (self->pos >= self->size)
        return s_fail (self, ZCH_PHPSER_NEED_MORE, "value cut short");
    uint8_t tag = self->data [self->pos++];
    int rc;
    int64_t number;
    switch (tag) {
        case 'N':
            value->type = ZCH_PHP_NULL;
            return s_expect (self, ';');
        case 'b':
            value->type = ZCH_PHP_BOOL;
            if ((rc = s_expect (self, ':')) || (rc = s_integer (self, ';', false, &number)))
                return rc;
            if (number > 1)
                return s_fail (self, ZCH_PHPSER_MALFORMED, "bool neither 0 nor 1");
            value->boolean = number == 1;
            return ZCH_PHPSER_OK;
        case 'i':
            value->type = ZCH_PHP_INT;
            if ((rc = s_expect (self, ':')))
                return rc;
            return s_integer (self, ';', true, &value->integer);
        case 'd':
            value->type = ZCH_PHP_FLOAT;
            if ((rc = s_expect (self, ':')))
                return rc;
            return s_float (self, &value->real);
        case 's':
            value->type = ZCH_PHP_STRING;
            if ((rc = s_expect (self, ':')))
                return rc;
            return s_string (self, value);
        case 'a':
            value->type = ZCH_PHP_ARRAY;
            if ((rc = s_expect (self, ':')))
                return rc;
            return s_array (self, value);
        case 'O':
        case 'o':
        case 'C':
            return s_fail (self, ZCH_PHPSER_REFUSED, "objects are refused");
        case 'r':
        case 'R':
            return s_fail (self, ZCH_PHPSER_REFUSED, "references are refused");
        case 'E':
            return s_fail (self, ZCH_PHPSER_REFUSED, "enums are refused");
        case 'S':
            return s_fail (self, ZCH_PHPSER_REFUSED, "escaped strings (S:) are refused");
        default:
            return s_fail (self, ZCH_PHPSER_MALFORMED, "not a serialized value");
    }
}

int
zch_phpser_read_key (zch_phpser_t *self, zch_php_value_t *value)
{
    if (self->pos >= self->size)
        return s_fail (self, ZCH_PHPSER_NEED_MORE, "value cut short");
    uint8_t tag = self->data [self->pos];
    if (tag != 'i' && tag != 's')
        return s_fail (self, ZCH_PHPSER_MALFORMED, "array key neither int nor string");
    return zch_phpser_read (self, value);
}

int
zch_phpser_end (zch_phpser_t *self)
{
    if (self->depth == 0)
        return s_fail (self, ZCH_PHPSER_MALFORMED, "no array to close");
    int rc = s_expect (self, '}');
    if (rc == ZCH_PHPSER_OK)
        self->depth--;
    return rc;
}

//  Reads one whole value; recursion is bounded by max_depth.
static int
s_skip (zch_phpser_t *self)
{
    zch_php_value_t value;
    int rc = zch_phpser_read (self, &value);
    if (rc || value.type != ZCH_PHP_ARRAY)
        return rc;
    for (uint32_t i = 0; i < value.count; i++) {
        zch_php_value_t key;
        if ((rc = zch_phpser_read_key (self, &key)) || (rc = s_skip (self)))
            return rc;
    }
    return zch_phpser_end (self);
}

int
zch_phpser_skip (zch_phpser_t *self, const uint8_t **start, size_t *len)
{
    size_t begin = self->pos;
    int rc = s_skip (self);
    if (rc == ZCH_PHPSER_OK) {
        if (start)
            *start = self->data + begin;
        if (len)
            *len = self->pos - begin;
    }
    return rc;
}

int
zch_phpser_check (const void *data, size_t size, const zch_phpser_limits_t *limits,
                  const char **reason)
{
    zch_phpser_t reader;
    zch_phpser_init (&reader, data, size, limits);
    int rc = zch_phpser_skip (&reader, NULL, NULL);
    if (rc == ZCH_PHPSER_OK && reader.pos != size)
        rc = s_fail (&reader, ZCH_PHPSER_MALFORMED, "bytes after the value");
    if (rc && reason)
        *reason = reader.reason;
    return rc;
}

const char *
zch_phpser_strerror (int code)
{
    switch (code) {
        case ZCH_PHPSER_OK:         return "ok";
        case ZCH_PHPSER_NEED_MORE:  return "value cut short";
        case ZCH_PHPSER_MALFORMED:  return "malformed serialized value";
        case ZCH_PHPSER_REFUSED:    return "type refused (objects, references)";
        case ZCH_PHPSER_TOO_DEEP:   return "nested too deep";
        case ZCH_PHPSER_TOO_BIG:    return "too many elements or too long";
        default:                    return "unknown error";
    }
}

//  --- the writer --------------------------------------------------------

void
zch_phpser_out_init (zch_phpser_out_t *self, void *buf, size_t cap)
{
    self->buf = buf;
    self->cap = cap;
    self->len = 0;
    self->overflow = false;
}

//  Appends bytes when they fit; counts them either way.
static void
s_put (zch_phpser_out_t *self, const void *bytes, size_t len)
{
    if (!self->overflow && len <= self->cap - self->len)
        memcpy (self->buf + self->len, bytes, len);
    else
        self->overflow = true;
    self->len += len;
}

//  Appends formatted text (short: numbers and headers).
static void
s_putf (zch_phpser_out_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_putf (zch_phpser_out_t *self, const char *format, ...)
{
    char text [96];
    va_list args;
    va_start (args, format);
    int len = vsnprintf (text, sizeof text, format, args);
    va_end (args);
    if (len > 0)
        s_put (self, text, (size_t) len < sizeof text? (size_t) len: sizeof text - 1);
}

void
zch_phpser_put_null (zch_phpser_out_t *self)
{
    s_put (self, "N;", 2);
}

void
zch_phpser_put_bool (zch_phpser_out_t *self, bool value)
{
    s_put (self, value? "b:1;": "b:0;", 4);
}

void
zch_phpser_put_int (zch_phpser_out_t *self, int64_t value)
{
    s_putf (self, "i:%" PRId64 ";", value);
}

void
zch_phpser_put_float (zch_phpser_out_t *self, double value)
{
    if (isnan (value)) {
        s_put (self, "d:NAN;", 6);
        return;
    }
    if (isinf (value)) {
        s_putf (self, "d:%sINF;", value < 0? "-": "");
        return;
    }
    //  the shortest form that reads back exactly, as PHP writes it
    char text [40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf (text, sizeof text, "%.*G", precision, value);
        if (strtod (text, NULL) == value)
            break;
    }
    s_putf (self, "d:%s;", text);
}

void
zch_phpser_put_string (zch_phpser_out_t *self, const void *bytes, size_t len)
{
    s_putf (self, "s:%zu:\"", len);
    s_put (self, bytes, len);
    s_put (self, "\";", 2);
}

void
zch_phpser_put_array (zch_phpser_out_t *self, uint32_t count)
{
    s_putf (self, "a:%" PRIu32 ":{", count);
}

void
zch_phpser_put_end (zch_phpser_out_t *self)
{
    s_put (self, "}", 1);
}

void
zch_phpser_put_raw (zch_phpser_out_t *self, const void *bytes, size_t len)
{
    s_put (self, bytes, len);
}
