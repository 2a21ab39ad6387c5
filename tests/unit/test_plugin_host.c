/*  Unit tests of the plugin host: spec parsing, loading with ABI checks,
    chains with patterns, the error policy and per-instance counters.
    Loads the plugins built into ZCH_TEST_PLUGINS and ZCH_TEST_FIXTURES.                         */
#include "zch_check.h"
#include "zch_pipeline.h"
#include "zch_plugin_so.h"
#include "zch_plugin_spec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const s_paths [] = { ZCH_TEST_PLUGINS, ZCH_TEST_FIXTURES };

//  A pipeline from up to four specs at the broker stage; NULL on failure
//  with the reason in error.
static zch_pipeline_t *
s_chain (const char *const *specs, size_t count, char *error)
{
    return zch_pipeline_new (specs, count, s_paths, 2, ZCH_PLUGIN_STAGE_BROKER, error, 256);
}

//  Runs one message; returns the result and leaves the output in msg.
static int
s_run (zch_pipeline_t *pipeline, zch_pipeline_msg_t *msg, const char *topic, const char *payload)
{
    *msg = (zch_pipeline_msg_t) {
        .topic = topic, .topic_len = strlen (topic),
        .payload = (const uint8_t *) payload, .payload_len = strlen (payload), .seq = 7, .ts = 1
    };
    return zch_pipeline_run (pipeline, msg);
}

static void
s_test_spec (void)
{
    char error [256] = "";
    zch_plugin_spec_t *spec = zch_plugin_spec_new ("redact@a.*:regex=x\\,y,replacement=z,on_error=drop",
                                                  error, sizeof error);
    CHECK (spec);
    if (!spec)
        return;
    CHECK (strcmp (spec->name, "redact") == 0 && strcmp (spec->pattern, "a.*") == 0);
    CHECK (spec->drop_on_error && spec->count == 2);
    CHECK (strcmp (spec->items [0].key, "regex") == 0 && strcmp (spec->items [0].value, "x,y") == 0);
    zch_plugin_spec_destroy (&spec);
    CHECK (spec == NULL);

    //  conf file: keys added, the command line wins, a conf key in it ignored
    char path [] = "/tmp/zch-test-conf-XXXXXX";
    int fd = mkstemp (path);
    const char conf [] = "# comment\n\nregex=from file\nreplacement=r\non_error=drop\nconf=/nonexistent\n";
    CHECK (fd >= 0 && write (fd, conf, sizeof conf - 1) == (ssize_t) (sizeof conf - 1));
    close (fd);
    char text [128];
    snprintf (text, sizeof text, "redact:regex=cli,conf=%s", path);
    spec = zch_plugin_spec_new (text, error, sizeof error);
    CHECK (spec && spec->count == 2 && spec->drop_on_error);
    if (spec)
        CHECK (strcmp (spec->items [0].value, "cli") == 0 && strcmp (spec->items [1].value, "r") == 0);
    zch_plugin_spec_destroy (&spec);
    unlink (path);

    const char *bad [] = { "", "@a", "x@bad..pattern", "x:novalue", "x:on_error=maybe", "x:=v",
                           "x:conf=/nonexistent/file" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        error [0] = 0;
        spec = zch_plugin_spec_new (bad [i], error, sizeof error);
        CHECK (spec == NULL && error [0]);
        zch_plugin_spec_destroy (&spec);
    }
}

static void
s_test_loading (void)
{
    char error [256] = "";
    zch_plugin_so_t *so = zch_plugin_so_new ("uppercase", s_paths, 2, error, sizeof error);
    CHECK (so && strcmp (zch_plugin_so_descriptor (so)->name, "uppercase") == 0);
    zch_plugin_so_destroy (&so);
    so = zch_plugin_so_new ("bad_abi", s_paths, 2, error, sizeof error);
    CHECK (so == NULL && strstr (error, "refused: built for plugin ABI 2"));
    so = zch_plugin_so_new ("nothing_here", s_paths, 2, error, sizeof error);
    CHECK (so == NULL && strstr (error, "not found"));
    so = zch_plugin_so_new ("/nonexistent/zch_x.so", s_paths, 2, error, sizeof error);
    CHECK (so == NULL && strstr (error, "no such file"));
    const char *create_fail [] = { "uppercase", "create_fail" };
    CHECK (s_chain (create_fail, 2, error) == NULL && strstr (error, "this fixture never starts"));
}

static void
s_test_chain (void)
{
    char error [256] = "";
    const char *specs [] = { "uppercase@up.>", "redact:regex=L+,replacement=_", "fail@f.*",
                             "drop@gone" };
    zch_pipeline_t *pipeline = s_chain (specs, 4, error);
    CHECK (pipeline && zch_pipeline_size (pipeline) == 4);
    if (!pipeline)
        return;
    zch_pipeline_msg_t msg;
    CHECK (s_run (pipeline, &msg, "up.a", "hello") == ZCH_PLUGIN_KEEP);
    CHECK (msg.payload_changed && !msg.topic_changed && !msg.headers_changed);
    CHECK_VIEW ((const char *) msg.payload, msg.payload_len, "HE_O");
    zch_pipeline_done (pipeline);
    CHECK (s_run (pipeline, &msg, "down", "hello") == ZCH_PLUGIN_KEEP);
    CHECK (!msg.payload_changed);
    zch_pipeline_done (pipeline);
    //  fail: an error restores the message and passes it on (on_error=pass)
    CHECK (s_run (pipeline, &msg, "f.x", "a bad one") == ZCH_PLUGIN_KEEP);
    CHECK_VIEW ((const char *) msg.payload, msg.payload_len, "a bad one");
    zch_pipeline_done (pipeline);
    CHECK (s_run (pipeline, &msg, "gone", "x") == ZCH_PLUGIN_DROP);
    CHECK (msg.dropped_by && strcmp (msg.dropped_by, "drop") == 0);
    zch_pipeline_done (pipeline);
    zch_pipeline_counters_t counters = zch_pipeline_counters (pipeline, 0);
    CHECK (counters.kept == 1 && counters.dropped == 0 && strcmp (counters.pattern, "up.>") == 0);
    counters = zch_pipeline_counters (pipeline, 1);
    CHECK (counters.kept == 4);
    counters = zch_pipeline_counters (pipeline, 2);
    CHECK (counters.kept == 0 && counters.errored == 1);
    counters = zch_pipeline_counters (pipeline, 3);
    CHECK (counters.dropped == 1);
    CHECK (zch_pipeline_dropped (pipeline) == 1 && zch_pipeline_errors (pipeline) == 1);
    zch_pipeline_destroy (&pipeline);
    CHECK (pipeline == NULL);

    //  on_error=drop, and big payloads through the arena
    const char *dropping [] = { "fail:on_error=drop", "uppercase" };
    pipeline = s_chain (dropping, 2, error);
    CHECK (pipeline);
    if (!pipeline)
        return;
    CHECK (s_run (pipeline, &msg, "t", "bad") == ZCH_PLUGIN_DROP);
    zch_pipeline_done (pipeline);
    char *big = malloc (300000);
    memset (big, 'a', 299999);
    big [299999] = 0;
    for (int round = 0; round < 3; round++) {
        CHECK (s_run (pipeline, &msg, "t", big) == ZCH_PLUGIN_KEEP);
        CHECK (msg.payload_len == 299999 && msg.payload [0] == 'A' && msg.payload [299998] == 'A');
        zch_pipeline_done (pipeline);
    }
    free (big);
    zch_pipeline_destroy (&pipeline);
}

//  zstd round trip through headers, and json_wrap's escaping.
static void
s_test_headers_and_json (void)
{
    char error [256] = "";
    const char *specs [] = { "zstd:mode=compress", "zstd:mode=decompress" };
    zch_pipeline_t *pipeline = s_chain (specs, 1, error);
    CHECK (pipeline);
    if (!pipeline)
        return;
    zch_pipeline_msg_t msg;
    CHECK (s_run (pipeline, &msg, "t", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == ZCH_PLUGIN_KEEP);
    CHECK (msg.payload_changed && msg.headers_changed && msg.header_count == 1);
    CHECK_VIEW (msg.headers [0].key, msg.headers [0].key_len, "ce");
    CHECK_VIEW (msg.headers [0].value, msg.headers [0].value_len, "zstd");
    zch_pipeline_done (pipeline);
    zch_pipeline_destroy (&pipeline);

    pipeline = s_chain (specs, 2, error);
    CHECK (s_run (pipeline, &msg, "t", "round trip") == ZCH_PLUGIN_KEEP);
    CHECK_VIEW ((const char *) msg.payload, msg.payload_len, "round trip");
    CHECK (msg.headers_changed && msg.header_count == 0);
    zch_pipeline_done (pipeline);
    zch_pipeline_destroy (&pipeline);

    const char *json [] = { "json_wrap" };
    pipeline = s_chain (json, 1, error);
    CHECK (pipeline);
    if (!pipeline)
        return;
    CHECK (s_run (pipeline, &msg, "a.b", "q\"\\\x01\xc3\xa9\xff\xe2\x82") == ZCH_PLUGIN_KEEP);
    CHECK_VIEW ((const char *) msg.payload, msg.payload_len,
                "{\"topic\":\"a.b\",\"seq\":7,\"ts\":1,\"payload\":\"q\\\"\\\\\\u0001\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}");
    zch_pipeline_done (pipeline);
    zch_pipeline_destroy (&pipeline);
}

int
main (void)
{
    s_test_spec ();
    s_test_loading ();
    s_test_chain ();
    s_test_headers_and_json ();
    CHECK_DONE ("test_plugin_host");
}
