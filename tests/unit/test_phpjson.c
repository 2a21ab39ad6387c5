/*  Unit tests of zch_phpjson: PHP values as JSON, as json_encode() would
    write them, and the values JSON cannot hold.                           */
#include "zch_phpjson.h"
#include "zch_check.h"

#include <stdlib.h>
#include <string.h>

//  Converts text and compares with expected (NULL: no JSON form).
static void
s_expect (const char *text, const char *expected)
{
    size_t len = 0;
    char *json = zch_phpjson_convert ((const uint8_t *) text, strlen (text), &len);
    if (!expected) {
        CHECK (json == NULL);
        if (json)
            fprintf (stderr, "%s gave %s, expected none\n", text, json);
    }
    else {
        CHECK (json && strcmp (json, expected) == 0 && len == strlen (expected));
        if (!json || strcmp (json, expected))
            fprintf (stderr, "%s gave %s, expected %s\n", text, json? json: "(null)", expected);
    }
    free (json);
}

int
main (void)
{
    s_expect ("N;", "null");
    s_expect ("b:1;", "true");
    s_expect ("i:-42;", "-42");
    s_expect ("d:0.5;", "0.5");
    s_expect ("s:5:\"a\"b\\c\";", "\"a\\\"b\\\\c\"");
    //  a list: keys 0..n-1 in order
    s_expect ("a:2:{i:0;s:1:\"a\";i:1;a:0:{}}", "[\"a\",[]]");
    //  a map, keys in their order, int keys in decimal
    s_expect ("a:2:{s:1:\"k\";i:1;i:7;b:0;}", "{\"k\":1,\"7\":false}");
    //  a list that stops being one: what came first keeps its keys
    s_expect ("a:3:{i:0;s:1:\"x\";i:1;s:1:\"y\";i:5;s:1:\"z\";}", "{\"0\":\"x\",\"1\":\"y\",\"5\":\"z\"}");
    s_expect ("a:1:{i:1;N;}", "{\"1\":null}");
    //  no JSON form: not UTF-8, INF, NAN; and what zch_phpser refuses
    s_expect ("s:1:\"\xff\";", NULL);
    s_expect ("a:1:{i:0;d:INF;}", NULL);
    s_expect ("d:NAN;", NULL);
    s_expect ("O:8:\"stdClass\":0:{}", NULL);
    s_expect ("a:1:{i:0;s:1:\"x\";", NULL);
    s_expect ("N;N;", NULL);
    CHECK_DONE ("test_phpjson");
}
