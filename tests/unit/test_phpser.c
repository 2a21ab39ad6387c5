/*  Unit tests of zch_phpser and zch_chanmsg: every type PHP writes, cut
    short at every byte, refused types, limits, the writer read back, and
    the channel protocol's frames as PHP's Channel\Client writes them.     */
#include "zch_phpser.h"
#include "zch_chanmsg.h"
#include "zch_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

//  serialize([1.5, 0.1, 1e25, -0.0, INF, NAN, true, null, -7, ["a"=>[1,2]]]) in PHP 8.2
static const char s_mixed [] =
    "a:10:{i:0;d:1.5;i:1;d:0.1;i:2;d:1.0E+25;i:3;d:-0;i:4;d:INF;i:5;d:NAN;i:6;b:1;"
    "i:7;N;i:8;i:-7;i:9;a:1:{s:1:\"a\";a:2:{i:0;i:1;i:1;i:2;}}}";
//  what Channel\Client::publish('topic1', 'm1') sends
static const char s_publish [] =
    "a:3:{s:4:\"type\";s:7:\"publish\";s:8:\"channels\";a:1:{i:0;s:6:\"topic1\";}s:4:\"data\";s:2:\"m1\";}";

static int
s_check (const char *text)
{
    return zch_phpser_check (text, strlen (text), NULL, NULL);
}

static void
test_scalars (void)
{
    zch_phpser_t reader;
    zch_php_value_t value;
    const char *text = "s:5:\"a\"b;c\";";
    zch_phpser_init (&reader, text, strlen (text), NULL);
    CHECK (zch_phpser_read (&reader, &value) == 0 && value.type == ZCH_PHP_STRING);
    CHECK_VIEW (value.str, value.len, "a\"b;c");
    CHECK (reader.pos == strlen (text));

    zch_phpser_init (&reader, "i:-9223372036854775808;", 23, NULL);
    CHECK (zch_phpser_read (&reader, &value) == 0 && value.integer == INT64_MIN);
    CHECK (s_check ("i:9223372036854775807;") == 0);
    CHECK (s_check ("i:9223372036854775808;") == ZCH_PHPSER_MALFORMED);
    CHECK (s_check ("i:+5;") == 0);
    zch_phpser_init (&reader, "d:1.0E+25;", 10, NULL);
    CHECK (zch_phpser_read (&reader, &value) == 0 && value.type == ZCH_PHP_FLOAT && value.real == 1e25);
    CHECK (s_check ("d:.5;") == 0 && s_check ("d:5.;") == 0 && s_check ("d:-INF;") == 0);
    CHECK (s_check ("b:0;") == 0 && s_check ("N;") == 0 && s_check ("s:0:\"\";") == 0);
    CHECK (s_check (s_mixed) == 0);
}

static void
test_cut_short (void)
{
    //  every proper prefix needs more bytes; nothing is malformed
    size_t len = strlen (s_mixed);
    for (size_t cut = 0; cut < len; cut++)
        CHECK (zch_phpser_check (s_mixed, cut, NULL, NULL) == ZCH_PHPSER_NEED_MORE);
    len = strlen (s_publish);
    for (size_t cut = 0; cut < len; cut++)
        CHECK (zch_phpser_check (s_publish, cut, NULL, NULL) == ZCH_PHPSER_NEED_MORE);
}

static void
test_refused (void)
{
    const char *reason = NULL;
    const char *object = "O:8:\"stdClass\":1:{s:1:\"a\";i:1;}";
    CHECK (zch_phpser_check (object, strlen (object), NULL, &reason) == ZCH_PHPSER_REFUSED);
    CHECK (reason && strstr (reason, "object"));
    CHECK (s_check ("C:3:\"Foo\":0:{}") == ZCH_PHPSER_REFUSED);
    CHECK (s_check ("a:2:{i:0;s:1:\"x\";i:1;r:2;}") == ZCH_PHPSER_REFUSED);
    CHECK (s_check ("a:2:{i:0;s:1:\"x\";i:1;R:2;}") == ZCH_PHPSER_REFUSED);
    CHECK (s_check ("E:7:\"Foo:Bar\";") == ZCH_PHPSER_REFUSED);
    CHECK (s_check ("S:1:\"\\61\";") == ZCH_PHPSER_REFUSED);
    //  an object hidden as the data of a request
    const char *request = "a:3:{s:4:\"type\";s:7:\"publish\";s:8:\"channels\";a:1:{i:0;s:1:\"t\";}"
                          "s:4:\"data\";O:8:\"stdClass\":0:{}}";
    zch_chan_request_t decoded;
    CHECK (zch_chanmsg_decode ((const uint8_t *) request, strlen (request), NULL, &decoded, &reason)
           == ZCH_PHPSER_REFUSED);
}

static void
test_malformed (void)
{
    const char *bad [] = {
        "x", "i:;", "i:1a;", "i:1:", "b:2;", "s:3:\"ab\";", "s:-1:\"\";", "s:2:\"ab\"x",
        "a:1:{a:0:{}i:1;}", "a:1:{d:1.5;i:1;}", "a:0:{i", "d:1e;", "d:e5;", "d:1.2.3;",
        "d:INFX;", "N:", "}", "a:-1:{}", "N;N;", ""
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int rc = s_check (bad [i]);
        int expected = strcmp (bad [i], "") == 0? ZCH_PHPSER_NEED_MORE: ZCH_PHPSER_MALFORMED;
        if (rc != expected)
            fprintf (stderr, "input '%s' gave %d\n", bad [i], rc);
        CHECK (rc == expected);
    }
}

static void
test_limits (void)
{
    //  33 arrays, one inside the other: over the default depth
    char deep [400] = "";
    for (int i = 0; i < 33; i++)
        strcat (deep, "a:1:{i:0;");
    strcat (deep, "N;");
    for (int i = 0; i < 33; i++)
        strcat (deep, "}");
    CHECK (s_check (deep) == ZCH_PHPSER_TOO_DEEP);
    zch_phpser_limits_t limits = { .max_depth = 40, .max_elements = 100, .max_string = 10 };
    CHECK (zch_phpser_check (deep, strlen (deep), &limits, NULL) == 0);
    limits.max_depth = 64;
    //  deeper than any limit may be: still refused, never a deep recursion
    char *deeper = malloc (200 * 12);
    deeper [0] = 0;
    for (int i = 0; i < 200; i++)
        strcat (deeper, "a:1:{i:0;");
    CHECK (zch_phpser_check (deeper, strlen (deeper), &limits, NULL) == ZCH_PHPSER_TOO_DEEP);
    free (deeper);
    CHECK (s_check ("a:70000:{") == ZCH_PHPSER_TOO_BIG);
    CHECK (zch_phpser_check ("a:101:{", 7, &limits, NULL) == ZCH_PHPSER_TOO_BIG);
    //  elements count over the whole value, not per array
    CHECK (zch_phpser_check ("a:2:{i:0;a:99:{", 15, &limits, NULL) == ZCH_PHPSER_TOO_BIG);
    CHECK (zch_phpser_check ("s:11:\"", 6, &limits, NULL) == ZCH_PHPSER_TOO_BIG);
    CHECK (zch_phpser_check ("s:10:\"0123456789\";", 18, &limits, NULL) == 0);
    CHECK (s_check ("s:99999999999:\"") == ZCH_PHPSER_TOO_BIG);
}

static void
test_writer (void)
{
    uint8_t buf [256];
    zch_phpser_out_t out;
    zch_phpser_out_init (&out, buf, sizeof buf);
    zch_phpser_put_array (&out, 7);
    double floats [] = { 0.1, 1e25, -0.0, INFINITY, NAN };
    for (int i = 0; i < 5; i++) {
        zch_phpser_put_int (&out, i);
        zch_phpser_put_float (&out, floats [i]);
    }
    zch_phpser_put_string (&out, "k", 1);
    zch_phpser_put_string (&out, "v\0;\"", 4);
    zch_phpser_put_int (&out, INT64_MIN);
    zch_phpser_put_bool (&out, true);
    zch_phpser_put_end (&out);
    CHECK (!out.overflow);
    CHECK (zch_phpser_check (buf, out.len, NULL, NULL) == 0);
    zch_phpser_t reader;
    zch_php_value_t value, key;
    zch_phpser_init (&reader, buf, out.len, NULL);
    CHECK (zch_phpser_read (&reader, &value) == 0 && value.count == 7);
    for (int i = 0; i < 5; i++) {
        CHECK (zch_phpser_read_key (&reader, &key) == 0 && key.integer == i);
        CHECK (zch_phpser_read (&reader, &value) == 0 && value.type == ZCH_PHP_FLOAT);
        CHECK (isnan (floats [i])? isnan (value.real): value.real == floats [i]);
    }
    CHECK (zch_phpser_read_key (&reader, &key) == 0 && key.type == ZCH_PHP_STRING);
    CHECK (zch_phpser_read (&reader, &value) == 0 && value.len == 4 && memcmp (value.str, "v\0;\"", 4) == 0);
    CHECK (zch_phpser_read_key (&reader, &key) == 0 && key.integer == INT64_MIN);
    CHECK (zch_phpser_read (&reader, &value) == 0 && value.boolean);
    CHECK (zch_phpser_end (&reader) == 0 && reader.pos == out.len);
    //  too small: flagged, and len says what it needed
    size_t needed = out.len;
    zch_phpser_out_init (&out, buf, 10);
    zch_phpser_put_string (&out, "0123456789", 10);
    CHECK (out.overflow && out.len == 18);
    CHECK (needed > 18);
}

static void
test_chanmsg (void)
{
    zch_chan_request_t request;
    const char *reason = NULL;
    CHECK (zch_chanmsg_decode ((const uint8_t *) s_publish, strlen (s_publish), NULL, &request, &reason) == 0);
    CHECK (request.type == ZCH_CHAN_PUBLISH && request.channel_count == 1);
    CHECK_VIEW (request.channels [0].name, request.channels [0].len, "topic1");
    CHECK (request.data_is_string);
    CHECK_VIEW (request.str, request.str_len, "m1");
    CHECK_VIEW (request.data, request.data_len, "s:2:\"m1\";");

    const char *reserve = "a:1:{s:4:\"type\";s:7:\"reserve\";}";
    CHECK (zch_chanmsg_decode ((const uint8_t *) reserve, strlen (reserve), NULL, &request, &reason) == 0);
    CHECK (request.type == ZCH_CHAN_RESERVE);
    //  an array as data, int channel names, several channels
    const char *loop = "a:3:{s:4:\"type\";s:11:\"publishLoop\";s:8:\"channels\";a:2:{i:0;i:42;i:1;s:1:\"b\";}"
                       "s:4:\"data\";a:1:{s:1:\"k\";i:1;}}";
    CHECK (zch_chanmsg_decode ((const uint8_t *) loop, strlen (loop), NULL, &request, &reason) == 0);
    CHECK (request.type == ZCH_CHAN_PUBLISH_LOOP && request.channel_count == 2);
    CHECK_VIEW (request.channels [0].name, request.channels [0].len, "42");
    CHECK (!request.data_is_string);
    CHECK_VIEW (request.data, request.data_len, "a:1:{s:1:\"k\";i:1;}");
    CHECK (zch_chanmsg_decode (NULL, 0, NULL, &request, &reason) == 0 && request.type == ZCH_CHAN_PING);

    const char *unknown = "a:2:{s:4:\"type\";s:4:\"kill\";s:8:\"channels\";a:0:{}}";
    CHECK (zch_chanmsg_decode ((const uint8_t *) unknown, strlen (unknown), NULL, &request, &reason)
           == ZCH_PHPSER_MALFORMED);
    CHECK (strstr (reason, "unknown"));
    CHECK (zch_chanmsg_decode ((const uint8_t *) "s:1:\"x\";", 8, NULL, &request, &reason)
           == ZCH_PHPSER_MALFORMED);
    const char *untyped = "a:1:{s:8:\"channels\";a:0:{}}";
    CHECK (zch_chanmsg_decode ((const uint8_t *) untyped, strlen (untyped), NULL, &request, &reason)
           == ZCH_PHPSER_MALFORMED);
    //  cut short inside a frame
    CHECK (zch_chanmsg_decode ((const uint8_t *) s_publish, 20, NULL, &request, &reason)
           == ZCH_PHPSER_NEED_MORE);

    //  what Channel\Server writes for that publish, byte for byte
    uint8_t frame [256];
    size_t size = zch_chanmsg_encode_event (frame, sizeof frame, "event", "topic1", 6,
                                            (const uint8_t *) "m1", 2, false);
    const char *expected = "a:3:{s:4:\"type\";s:5:\"event\";s:7:\"channel\";s:6:\"topic1\";s:4:\"data\";s:2:\"m1\";}";
    CHECK (size == 4 + strlen (expected) && frame [3] == size && frame [0] == 0);
    CHECK (memcmp (frame + 4, expected, strlen (expected)) == 0);
    CHECK (size <= zch_chanmsg_event_size (6, 2));
    CHECK (zch_chanmsg_encode_event (frame, 20, "event", "topic1", 6, (const uint8_t *) "m1", 2, false) == 0);
    size = zch_chanmsg_encode_request (frame, sizeof frame, ZCH_CHAN_PUBLISH, "topic1", 6,
                                       (const uint8_t *) "m1", 2, false);
    CHECK (size == 4 + strlen (s_publish) && memcmp (frame + 4, s_publish, strlen (s_publish)) == 0);

    //  framing: the length counts itself
    const uint8_t *body;
    size_t body_len, consumed;
    uint8_t ping [4] = { 0, 0, 0, 4 };
    CHECK (zch_chanmsg_next (ping, 4, 100, &body, &body_len, &consumed) == ZCH_CHANMSG_FOUND);
    CHECK (body_len == 0 && consumed == 4);
    CHECK (zch_chanmsg_next (ping, 3, 100, &body, &body_len, &consumed) == ZCH_CHANMSG_NEED_MORE);
    uint8_t short_len [4] = { 0, 0, 0, 3 };
    CHECK (zch_chanmsg_next (short_len, 4, 100, &body, &body_len, &consumed) == ZCH_CHANMSG_BAD_LENGTH);
    uint8_t huge [4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    CHECK (zch_chanmsg_next (huge, 4, 1 << 20, &body, &body_len, &consumed) == ZCH_CHANMSG_BAD_LENGTH);
    CHECK (zch_chanmsg_next (frame, size - 1, 1000, &body, &body_len, &consumed) == ZCH_CHANMSG_NEED_MORE);
    CHECK (zch_chanmsg_next (frame, size, 1000, &body, &body_len, &consumed) == ZCH_CHANMSG_FOUND);
    CHECK (consumed == size && body_len == size - 4);
}

int
main (void)
{
    test_scalars ();
    test_cut_short ();
    test_refused ();
    test_malformed ();
    test_limits ();
    test_writer ();
    test_chanmsg ();
    CHECK_DONE ("test_phpser");
}
