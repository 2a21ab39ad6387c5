/*  Unit tests of zch_topic: topic and pattern syntax.                      */
#include "zch_topic.h"
#include "zch_check.h"

#include <string.h>

//  Validates a C string as a topic and returns the reason, or NULL if valid.
static const char *
s_topic (const char *topic)
{
    const char *reason = NULL;
    int rc = zch_topic_validate (topic, strlen (topic), &reason);
    CHECK ((rc == 0) == (reason == NULL));
    return rc? reason: NULL;
}

//  Validates a C string as a pattern and returns the reason, or NULL.
static const char *
s_pattern (const char *pattern)
{
    const char *reason = NULL;
    int rc = zch_pattern_validate (pattern, strlen (pattern), &reason);
    CHECK ((rc == 0) == (reason == NULL));
    return rc? reason: NULL;
}

//  True when the reason is the expected text.
static int
s_is (const char *reason, const char *expected)
{
    return reason && strcmp (reason, expected) == 0;
}

//  Valid topics, and the length bounds.
static void
s_test_topic_valid (void)
{
    CHECK (s_topic ("a") == NULL);
    CHECK (s_topic ("topic1") == NULL);
    CHECK (s_topic ("sensors.kitchen.temp") == NULL);
    CHECK (s_topic ("a.b.c.d.e.f.g.h") == NULL);
    CHECK (s_topic ("A-Z_0-9~!@#%^&()[]{}:;'\",<=?/|+") == NULL);
    CHECK (s_topic ("a*") == NULL);        //  only a whole-token wildcard is refused
    CHECK (s_topic ("a>b.c*") == NULL);
    CHECK (s_topic ("x.$y") == NULL);      //  '$' is reserved only as first byte
    CHECK (s_topic ("caf\xc3\xa9.\xe2\x82\xac.\xf0\x9f\x98\x80") == NULL);
    CHECK (s_topic ("\xef\xbf\xbf.\xf4\x8f\xbf\xbf.\xc2\x80") == NULL);  //  U+FFFF, U+10FFFF, U+0080

    char buf [ZCH_TOPIC_MAX + 2];
    memset (buf, 'a', sizeof buf);
    const char *reason = NULL;
    CHECK (zch_topic_validate (buf, ZCH_TOPIC_MAX, &reason) == 0);
    CHECK (zch_topic_validate (buf, ZCH_TOPIC_MAX + 1, &reason) == -1);
    CHECK (s_is (reason, "too long"));
    CHECK (zch_topic_validate (buf, 1, NULL) == 0);
    CHECK (zch_topic_validate (buf, 0, &reason) == -1);
    CHECK (s_is (reason, "empty"));
    CHECK (zch_topic_validate (NULL, 0, &reason) == -1);
    CHECK (zch_topic_validate (buf, ZCH_TOPIC_MAX + 1, NULL) == -1);    //  reason optional
    //  254 ASCII bytes then a 2-byte character: 256 bytes, too long
    buf [254] = (char) 0xc3;
    buf [255] = (char) 0xa9;
    CHECK (zch_topic_validate (buf, 256, &reason) == -1 && s_is (reason, "too long"));
    //  the same cut at 255 bytes leaves a truncated sequence
    CHECK (zch_topic_validate (buf, 255, &reason) == -1 && s_is (reason, "invalid utf-8"));
    //  exactly 255 bytes ending in a 3-byte character
    memset (buf, 'a', sizeof buf);
    memcpy (buf + 252, "\xe2\x82\xac", 3);
    CHECK (zch_topic_validate (buf, 255, &reason) == 0);
}

//  Bytes that are never allowed: spaces, controls, DEL, bad UTF-8.
static void
s_test_topic_bytes (void)
{
    const char *ctl = "space or control character";
    CHECK (s_is (s_topic ("a b"), ctl));
    CHECK (s_is (s_topic (" a"), ctl));
    CHECK (s_is (s_topic ("a "), ctl));
    CHECK (s_is (s_topic ("a\tb"), ctl));
    CHECK (s_is (s_topic ("a\rb"), ctl));
    CHECK (s_is (s_topic ("a\nb"), ctl));
    CHECK (s_is (s_topic ("a\x1f"), ctl));
    CHECK (s_is (s_topic ("a\x7f"), ctl));
    CHECK (s_is (s_topic ("\x01"), ctl));
    const char *reason = NULL;
    CHECK (zch_topic_validate ("a\0b", 3, &reason) == -1 && s_is (reason, ctl));

    const char *utf = "invalid utf-8";
    CHECK (s_is (s_topic ("\x80"), utf));                  //  stray continuation
    CHECK (s_is (s_topic ("a\xbf"), utf));
    CHECK (s_is (s_topic ("\xc0\x80"), utf));              //  overlong NUL
    CHECK (s_is (s_topic ("\xc1\xbf"), utf));              //  overlong
    CHECK (s_is (s_topic ("\xe0\x80\x80"), utf));          //  overlong
    CHECK (s_is (s_topic ("\xe0\x9f\xbf"), utf));          //  overlong
    CHECK (s_is (s_topic ("\xf0\x80\x80\x80"), utf));      //  overlong
    CHECK (s_is (s_topic ("\xf0\x8f\xbf\xbf"), utf));      //  overlong
    CHECK (s_is (s_topic ("\xed\xa0\x80"), utf));          //  surrogate D800
    CHECK (s_is (s_topic ("\xed\xbf\xbf"), utf));          //  surrogate DFFF
    CHECK (s_topic ("\xed\x9f\xbf") == NULL);               //  U+D7FF is fine
    CHECK (s_is (s_topic ("\xf4\x90\x80\x80"), utf));      //  above U+10FFFF
    CHECK (s_is (s_topic ("\xf5\x80\x80\x80"), utf));
    CHECK (s_is (s_topic ("\xf8\x88\x80\x80\x80"), utf));
    CHECK (s_is (s_topic ("\xfe"), utf));
    CHECK (s_is (s_topic ("\xff"), utf));
    CHECK (s_is (s_topic ("a\xc3"), utf));                 //  truncated
    CHECK (s_is (s_topic ("a\xe2\x82"), utf));
    CHECK (s_is (s_topic ("a\xf0\x9f\x98"), utf));
    CHECK (s_is (s_topic ("\xc3.a"), utf));                //  truncated by a dot
    CHECK (s_is (s_topic ("\xe2\x28\xa1"), utf));          //  bad continuation
    CHECK (s_is (s_topic ("\xf0\x9f\x28\x80"), utf));
}

//  Token rules for topics, and the reserved '$' prefix.
static void
s_test_topic_tokens (void)
{
    CHECK (s_is (s_topic (".a"), "empty token"));
    CHECK (s_is (s_topic ("a."), "empty token"));
    CHECK (s_is (s_topic ("a..b"), "empty token"));
    CHECK (s_is (s_topic ("."), "empty token"));
    CHECK (s_is (s_topic ("*"), "wildcard in topic"));
    CHECK (s_is (s_topic (">"), "wildcard in topic"));
    CHECK (s_is (s_topic ("a.*"), "wildcard in topic"));
    CHECK (s_is (s_topic ("a.*.b"), "wildcard in topic"));
    CHECK (s_is (s_topic ("a.>"), "wildcard in topic"));
    CHECK (s_is (s_topic ("$ack.1"), "reserved topic"));
    CHECK (s_is (s_topic ("$"), "reserved topic"));
    CHECK (s_is (s_topic ("$SYS"), "reserved topic"));
}

//  Pattern rules: wildcards as whole tokens, '>' last, '$' reserved.
static void
s_test_pattern (void)
{
    CHECK (s_pattern ("a") == NULL);
    CHECK (s_pattern ("*") == NULL);
    CHECK (s_pattern (">") == NULL);
    CHECK (s_pattern ("a.>") == NULL);
    CHECK (s_pattern ("*.>") == NULL);
    CHECK (s_pattern ("a.*.c") == NULL);
    CHECK (s_pattern ("*.*.*") == NULL);
    CHECK (s_pattern ("sensors.*.temp") == NULL);
    CHECK (s_pattern ("x.$y") == NULL);

    const char *mis = "misplaced wildcard";
    CHECK (s_is (s_pattern ("a*"), mis));
    CHECK (s_is (s_pattern ("*a"), mis));
    CHECK (s_is (s_pattern ("a.b*.c"), mis));
    CHECK (s_is (s_pattern ("a>b"), mis));
    CHECK (s_is (s_pattern ("a>"), mis));
    CHECK (s_is (s_pattern ("**"), mis));
    CHECK (s_is (s_pattern (">>"), mis));
    CHECK (s_is (s_pattern ("*>"), mis));
    CHECK (s_is (s_pattern (">.a"), mis));
    CHECK (s_is (s_pattern ("a.>.b"), mis));
    CHECK (s_is (s_pattern ("a.>.>"), mis));

    CHECK (s_is (s_pattern ("a..*"), "empty token"));
    CHECK (s_is (s_pattern ("*."), "empty token"));
    CHECK (s_is (s_pattern (".>"), "empty token"));
    CHECK (s_is (s_pattern ("a *"), "space or control character"));
    CHECK (s_is (s_pattern ("\xc0\xaa"), "invalid utf-8"));
    CHECK (s_is (s_pattern ("$ack.*"), "reserved topic"));
    CHECK (s_is (s_pattern ("$ack.1"), "reserved topic"));
    CHECK (s_is (s_pattern ("$*"), "misplaced wildcard"));
    const char *reason = NULL;
    CHECK (zch_pattern_validate ("", 0, &reason) == -1 && s_is (reason, "empty"));
    char buf [ZCH_TOPIC_MAX + 1];
    memset (buf, 'a', sizeof buf);
    buf [ZCH_TOPIC_MAX - 1] = '>';
    buf [ZCH_TOPIC_MAX - 2] = '.';
    CHECK (zch_pattern_validate (buf, ZCH_TOPIC_MAX, &reason) == 0);
    CHECK (zch_pattern_validate (buf, ZCH_TOPIC_MAX + 1, &reason) == -1 && s_is (reason, "too long"));
}

//  The literal prefix a front-end subscribes to upstream.
static void
s_test_prefix (void)
{
    CHECK (zch_pattern_prefix_len ("orders.*.eu", 11) == 7);
    CHECK (zch_pattern_prefix_len ("orders.eu", 9) == 9);
    CHECK (zch_pattern_prefix_len (">", 1) == 0);
    CHECK (zch_pattern_prefix_len ("*", 1) == 0);
    CHECK (zch_pattern_prefix_len ("*.a", 3) == 0);
    CHECK (zch_pattern_prefix_len ("a.>", 3) == 2);
    CHECK (zch_pattern_prefix_len ("a.b.c.>", 7) == 6);
    CHECK (zch_pattern_prefix_len ("a.b.*.>", 7) == 4);
    CHECK (zch_pattern_prefix_len ("ab*.c", 5) == 5);      //  not a wildcard token
}

//  Configured length and depth limits.
static void
s_test_limits (void)
{
    const char *reason = NULL;
    CHECK (zch_topic_depth ("a", 1) == 1);
    CHECK (zch_topic_depth ("a.b.c", 5) == 3);
    CHECK (zch_topic_depth ("", 0) == 0);
    CHECK (zch_topic_check_limits ("a.b.c", 5, 5, 3, &reason) == 0);
    CHECK (zch_topic_check_limits ("a.b.c", 5, 4, 3, &reason) == -1 && s_is (reason, "too long"));
    CHECK (zch_topic_check_limits ("a.b.c", 5, 0, 2, &reason) == -1 && s_is (reason, "too deep"));
    CHECK (zch_topic_check_limits ("a.b.c", 5, 0, 0, &reason) == 0);
}

//  A pattern covers another when it matches everything the other does.
#define COVERS(outer, inner) zch_pattern_covers (outer, strlen (outer), inner, strlen (inner))
static void
s_test_covers (void)
{
    CHECK (COVERS ("orders.>", "orders.eu"));
    CHECK (COVERS ("orders.>", "orders.*.eu"));
    CHECK (COVERS ("orders.>", "orders.>"));
    CHECK (!COVERS ("orders.>", "orders"));
    CHECK (COVERS (">", "a"));
    CHECK (COVERS (">", "*.>"));
    CHECK (COVERS ("orders.*", "orders.eu"));
    CHECK (COVERS ("orders.*", "orders.*"));
    CHECK (!COVERS ("orders.*", "orders.>"));
    CHECK (!COVERS ("orders.*", "orders.eu.x"));
    CHECK (!COVERS ("orders.eu", "orders.*"));
    CHECK (COVERS ("orders.eu", "orders.eu"));
    CHECK (!COVERS ("orders.eu", "orders.eu.x"));
    CHECK (!COVERS ("orders.eu.x", "orders.eu"));
    CHECK (!COVERS ("orders.eu", "orders.us"));
    CHECK (COVERS ("*.temp", "a.temp"));
    CHECK (!COVERS ("*.temp", "a.hum"));
    CHECK (!COVERS ("a.b", "a.bc"));
}

int
main (void)
{
    s_test_limits ();
    s_test_covers ();
    s_test_topic_valid ();
    s_test_topic_bytes ();
    s_test_topic_tokens ();
    s_test_pattern ();
    s_test_prefix ();
    CHECK_DONE ("test_topic");
}
