/*  test_auth: token tables, their parsing and their ACLs.                  */
#include "zch_auth.h"
#include "zch_check.h"

#include <string.h>

static const char s_table [] =
    "tokens\n"
    "    sensors\n"
    "        secret = \"s3cret\"\n"
    "        publish = \"sensors.>\"\n"
    "        subscribe = \"sensors.*.temp, alerts.>\"\n"
    "    reader\n"
    "        sha256 = \"%s\"\n"
    "        subscribe = \">\"\n"
    "    nothing\n"
    "        secret = \"none\"\n";

#define MAY_PUB(t, topic) zch_token_may_publish (t, topic, strlen (topic))
#define MAY_SUB(t, pattern) zch_token_may_subscribe (t, pattern, strlen (pattern))

//  A table with a plain and a hashed token, checked both ways.
static void
s_test_table (void)
{
    char hex [65], text [1024], error [256];
    CHECK (zch_auth_hash_hex ("letmein", 7, hex) == 0);
    snprintf (text, sizeof text, s_table, hex);
    zch_auth_t *auth = zch_auth_parse (text, error, sizeof error);
    CHECK (auth);
    if (!auth) {
        fprintf (stderr, "%s\n", error);
        return;
    }
    CHECK (zch_auth_size (auth) == 3);
    const zch_token_t *sensors = zch_auth_check (auth, "s3cret", 6);
    const zch_token_t *reader = zch_auth_check (auth, "letmein", 7);
    const zch_token_t *nothing = zch_auth_check (auth, "none", 4);
    CHECK (sensors && strcmp (zch_token_name (sensors), "sensors") == 0);
    CHECK (reader && strcmp (zch_token_name (reader), "reader") == 0);
    CHECK (nothing);
    CHECK (zch_auth_check (auth, "s3cre", 5) == NULL);
    CHECK (zch_auth_check (auth, "s3cret ", 7) == NULL);
    CHECK (zch_auth_check (auth, "", 0) == NULL);
    CHECK (MAY_PUB (sensors, "sensors.a.temp"));
    CHECK (MAY_PUB (sensors, "sensors.x"));
    CHECK (!MAY_PUB (sensors, "sensors"));
    CHECK (!MAY_PUB (sensors, "orders.eu"));
    CHECK (MAY_SUB (sensors, "sensors.a.temp"));
    CHECK (MAY_SUB (sensors, "sensors.*.temp"));
    CHECK (!MAY_SUB (sensors, "sensors.>"));
    CHECK (MAY_SUB (sensors, "alerts.fire.>"));
    CHECK (!MAY_PUB (reader, "anything"));
    CHECK (MAY_SUB (reader, "any.>"));
    CHECK (!MAY_PUB (nothing, "a") && !MAY_SUB (nothing, "a"));
    zch_auth_destroy (&auth);
    CHECK (auth == NULL);
}

//  Tables that must be refused, each with a reason.
static void
s_test_refused (void)
{
    const char *bad [] = {
        "tokens\n",
        "tokens\n    a\n        publish = \"x\"\n",
        "tokens\n    a\n        secret = \"x\"\n        sha256 = \"00\"\n",
        "tokens\n    a\n        sha256 = \"zz\"\n",
        "tokens\n    a\n        secret = \"\"\n",
        "tokens\n    a\n        secret = \"x\"\n        publish = \"a..b\"\n",
        "tokens\n    a\n        secret = \"x\"\n        subscribe = \"a.>.b\"\n",
        "tokens\n    a\n        secret = \"x\"\n        colour = \"red\"\n",
        "tokens\n    a\n        secret = \"x\"\n    b\n        secret = \"x\"\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char error [256] = "";
        zch_auth_t *auth = zch_auth_parse (bad [i], error, sizeof error);
        CHECK (auth == NULL && error [0]);
        zch_auth_destroy (&auth);
    }
    //  repeated patterns are one
    char error [256];
    zch_auth_t *auth = zch_auth_parse ("tokens\n    a\n        secret = \"x\"\n"
                                       "        publish = \"a.b a.b,a.*\"\n", error, sizeof error);
    CHECK (auth && MAY_PUB (zch_auth_check (auth, "x", 1), "a.b"));
    zch_auth_destroy (&auth);
}

int
main (void)
{
    s_test_table ();
    s_test_refused ();
    CHECK_DONE ("test_auth");
}
