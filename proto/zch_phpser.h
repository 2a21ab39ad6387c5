/*  zch_phpser: a bounded reader and writer of PHP's serialize() format.

    Only plain data is accepted: N; b:0|1; i:<int>; d:<float>;
    s:<len>:"<bytes>"; and a:<count>:{<key><value>...} with int or string
    keys. Objects (O:, C:), references (r:, R:), enums (E:), the old
    escaped string (S:) and anything else are refused: nothing is ever
    instantiated and no PHP runs. Every read checks the bytes left first;
    depth, element count and string length are capped.

    A value cut short reports ZCH_PHPSER_NEED_MORE, distinct from one
    that can never become valid (ZCH_PHPSER_MALFORMED). The reader returns
    views into the caller's buffer and never allocates; the writer fills a
    caller-owned buffer and remembers when it ran out of room.             */
#ifndef ZCH_PHPSER_H_INCLUDED
#define ZCH_PHPSER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Result codes (0 or negative)
#define ZCH_PHPSER_OK           0
#define ZCH_PHPSER_NEED_MORE   -1   //  valid so far, but cut short
#define ZCH_PHPSER_MALFORMED   -2   //  not PHP serialize() output
#define ZCH_PHPSER_REFUSED     -3   //  an object, a reference or another type not taken
#define ZCH_PHPSER_TOO_DEEP    -4   //  arrays nested over max_depth
#define ZCH_PHPSER_TOO_BIG     -5   //  over max_elements or max_string

#define ZCH_PHPSER_DEPTH_DEFAULT     32
#define ZCH_PHPSER_ELEMENTS_DEFAULT  65536
#define ZCH_PHPSER_DEPTH_MAX         64     //  the reader recurses at most this deep

typedef struct {
    int max_depth;              //  arrays inside arrays; 1..ZCH_PHPSER_DEPTH_MAX
    size_t max_elements;        //  array entries in one value, all levels counted
    size_t max_string;          //  bytes in one string
} zch_phpser_limits_t;

typedef enum {
    ZCH_PHP_NULL = 0,
    ZCH_PHP_BOOL,
    ZCH_PHP_INT,
    ZCH_PHP_FLOAT,
    ZCH_PHP_STRING,
    ZCH_PHP_ARRAY
} zch_php_type_t;

//  One value as read. For an array only its header is read: count
//  entries (key, value pairs) follow, then zch_phpser_end.
typedef struct {
    zch_php_type_t type;
    bool boolean;
    int64_t integer;
    double real;
    const char *str;            //  ZCH_PHP_STRING: not NUL-terminated
    size_t len;
    uint32_t count;             //  ZCH_PHP_ARRAY: entries
} zch_php_value_t;

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
    int depth;                  //  arrays open
    size_t elements;            //  array entries seen so far
    zch_phpser_limits_t limits;
    const char *reason;         //  after a failure: a static text saying why
} zch_phpser_t;

//  Starts reading data[0..size); limits NULL takes the defaults (max_string
//  then is size: a string cannot be longer than its input anyway).
void zch_phpser_init (zch_phpser_t *self, const void *data, size_t size,
                      const zch_phpser_limits_t *limits);

//  Reads one value at the cursor (an array: its header, entering it).
//  Returns ZCH_PHPSER_OK or a negative code with self->reason set; the
//  cursor is then not meaningful.
int zch_phpser_read (zch_phpser_t *self, zch_php_value_t *value);

//  Reads an array key: an int or a string, nothing else.
int zch_phpser_read_key (zch_phpser_t *self, zch_php_value_t *value);

//  Reads the '}' that closes the array being read.
int zch_phpser_end (zch_phpser_t *self);

//  Steps over one whole value, arrays included, and gives its encoded
//  bytes (*start, *len: a view into the input). Same codes.
int zch_phpser_skip (zch_phpser_t *self, const uint8_t **start, size_t *len);

//  Checks that data[0..size) is exactly one acceptable value. Returns a
//  code; *reason (if not NULL) gets a static text on failure.
int zch_phpser_check (const void *data, size_t size, const zch_phpser_limits_t *limits,
                      const char **reason);

//  A static text for a result code.
const char *zch_phpser_strerror (int code);

//  --- the writer --------------------------------------------------------

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;                 //  bytes written, or that would have been
    bool overflow;              //  something did not fit: buf holds a prefix only
} zch_phpser_out_t;

void zch_phpser_out_init (zch_phpser_out_t *self, void *buf, size_t cap);

void zch_phpser_put_null (zch_phpser_out_t *self);
void zch_phpser_put_bool (zch_phpser_out_t *self, bool value);
void zch_phpser_put_int (zch_phpser_out_t *self, int64_t value);
//  As PHP writes them: shortest exact form, INF, -INF, NAN.
void zch_phpser_put_float (zch_phpser_out_t *self, double value);
void zch_phpser_put_string (zch_phpser_out_t *self, const void *bytes, size_t len);
//  a:<count>:{ ; then count key/value pairs, then zch_phpser_put_end.
void zch_phpser_put_array (zch_phpser_out_t *self, uint32_t count);
void zch_phpser_put_end (zch_phpser_out_t *self);
//  An already serialized value, copied as it is.
void zch_phpser_put_raw (zch_phpser_out_t *self, const void *bytes, size_t len);

#endif
