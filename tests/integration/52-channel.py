#!/usr/bin/python3
"""walkor/channel's protocol on the subscriber front-end (--channel-listen),
publishing through a source's relay (--relay-listen), three processes:
Workerman's real Channel\\Client (`channel-client.php sub` and `pub`)
receives exactly what it sent, in order, and the same run against the
original channel-server.php prints the same; PHP and text clients hear one
another, strings as they are and other PHP values unchanged to PHP and as
JSON to text and frame clients; one connection subscribes and publishes; a publish to several
channels; bad input (objects, references, deep nesting, huge and short
lengths, truncated frames, unknown types, bad names) is told and closed
while every other client goes on."""

import struct
import time

import channel as ch
import frames
import harness as h

N = 50


def php_roundtrip(port, server=None):
    """Runs a PHP subscriber and then a PHP publisher; returns what the
    subscriber printed."""
    sub = ch.php_client(port, "sub", "topic1", N, name="php-sub")
    ch.wait_started(sub)
    time.sleep(1.0)             # its subscribe goes out as soon as it connects
    pub = ch.php_client(port, "pub", "topic1", N, name="php-pub")
    got = ch.finish(sub)
    ch.finish(pub)
    return got


def bad_input(S, port, watcher, text_sub):
    """Each bad request is answered with an error and a close; the watcher
    (a channel subscriber) and the text subscriber see nothing of it."""
    cases = [
        ("object", ch.frame(b'a:3:{s:4:"type";s:7:"publish";s:8:"channels";a:1:{i:0;s:6:"topic1";}'
                            b's:4:"data";O:8:"stdClass":1:{s:1:"a";i:1;}}'), "objects are refused"),
        ("reference", ch.frame(b'a:3:{s:4:"type";s:7:"publish";s:8:"channels";a:1:{i:0;s:6:"topic1";}'
                               b's:4:"data";a:2:{i:0;s:1:"x";i:1;R:3;}}'), "references are refused"),
        ("deep nesting", ch.frame(b'a:3:{s:4:"type";s:7:"publish";s:8:"channels";a:1:{i:0;s:6:"topic1";}'
                                  b's:4:"data";' + b"a:1:{i:0;" * 40 + b"N;" + b"}" * 41), "too deep"),
        ("unknown type", ch.frame(b'a:2:{s:4:"type";s:4:"kill";s:8:"channels";a:0:{}}'), "unknown request type"),
        ("not an array", ch.frame(b's:5:"hello";'), "array"),
        ("cut short inside", ch.frame(b'a:3:{s:4:"type";s:7:"publish";'), "cut short"),
        ("huge length", b"\xff\xff\xff\xff" + b"a:0:{}", "frame over"),
    ]
    for what, data, text in cases:
        c = ch.ChannelClient(port, name="bad-" + what.replace(" ", "-"), proc=S.subscriber)
        c.send_raw(data)
        got = c.expect_error("too_large" if what == "huge length" else "bad_request", text, what)
        c.wait_eof(what="close after %s" % what)
        c.close()
    # a length under the 4 bytes it counts: closed
    c = ch.ChannelClient(port, name="bad-short-length", proc=S.subscriber)
    c.send_raw(b"\x00\x00\x00\x02")
    c.expect_error("too_large", "frame over", "length under 4")
    c.wait_eof(what="close after a length under 4")
    c.close()
    # a truncated frame, then the client goes away: nothing happens
    c = ch.ChannelClient(port, name="bad-truncated", proc=S.subscriber)
    c.send_raw(ch.request("publish", ["topic1"], "never")[:30])
    c.close()
    # a bad channel name is refused, the connection stays usable
    c = ch.ChannelClient(port, name="bad-name", proc=S.subscriber)
    c.send("subscribe", ["has space", "$ack.x"])
    c.expect_error("bad_topic", "invalid channel name", "a name with a space")
    c.expect_error("bad_topic", "invalid channel name", "a reserved name")
    c.send("publish", ["topic1"], "after-bad")
    c.close()
    # only the good publish arrived, at both
    watcher.expect_event("topic1", "after-bad", what="the good publish after the bad ones")
    seq, payload = h.parse_msg(text_sub.readline(what="the good publish"))[1:]
    h.check(payload == b"after-bad", "text subscriber: expected after-bad, got %r" % payload)
    return len(cases) + 3


def test():
    ch.require_php("52-channel")
    relay = h.tcp_ep(h.free_port())
    port, frame_port = h.free_port(), h.free_port()
    with h.system(source_args=["--relay-listen", relay],
                  sub_args=["--channel-listen", "%s:%d" % (h.HOST, port), "--relay", relay,
                            "--frame-listen", "%s:%d" % (h.HOST, frame_port)]) as S:
        # 1. Channel\Client to Channel\Client, through zchannel
        through_zchannel = php_roundtrip(port)
        want = ["topic1 m%d" % i for i in range(1, N + 1)]
        h.compare_lines("PHP subscriber through zchannel", through_zchannel, want)

        # 2. one connection subscribes and publishes; several channels at once
        both = ch.ChannelClient(port, name="both", proc=S.subscriber)
        both.send("subscribe", ["echo", "other"])
        both.send("publish", ["echo"], "to myself")
        both.expect_event("echo", "to myself", what="its own publish")
        both.send("publish", ["echo", "other"], "twice")
        both.expect_event("echo", "twice", what="first of a two-channel publish")
        both.expect_event("other", "twice", what="second of a two-channel publish")
        both.ping()
        both.send("unsubscribe", ["other"])
        both.send("publish", ["other", "echo"], "once")
        both.expect_event("echo", "once", what="after unsubscribing from other")

        # 3. PHP publisher, text subscriber; text publisher, PHP subscriber
        text_sub = S.sub_client("text-sub")
        h.subscribe(text_sub, "topic1")
        pub = ch.php_client(port, "pub", "topic1", 3, name="php-pub-text")
        ch.finish(pub)
        for i in range(1, 4):
            line = text_sub.readline(what="PHP publish %d" % i)
            h.check(h.parse_msg(line)[2] == b"m%d" % i, "text subscriber: got %r" % line)
        sub = ch.php_client(port, "sub", "topic1", 2, name="php-sub-text")
        ch.wait_started(sub)
        time.sleep(1.0)
        text_pub = S.source_client("text-pub")
        text_pub.sendline("PUB topic1 hello from text")
        text_pub.sendline('PUB topic1 {"a":1}')
        got = ch.finish(sub)
        h.check(got == ["topic1 hello from text", 'topic1 {"a":1}'],
                "PHP subscriber of a text publisher printed %r" % got)
        for _ in range(2):
            text_sub.readline(what="the text publishes")

        # 3b. PHP values other than strings: unchanged to channel clients
        # (and PHP's), JSON to text and frame clients
        frame_sub = frames.FrameClient(frame_port, name="frame-sub", proc=S.subscriber)
        frame_sub.subscribe("topic1")
        sub = ch.php_client(port, "sub", "topic1", 3, name="php-sub-values")
        ch.wait_started(sub)
        time.sleep(1.0)
        values = [{"k": [1, 2], "name": "zé"}, 7, [True, None, 0.5]]
        json_forms = [b'{"k":[1,2],"name":"z\xc3\xa9"}', b"7", b"[true,null,0.5]"]
        for value in values:
            both.send("publish", ["topic1"], value)
        got = ch.finish(sub)
        h.check(got == ['topic1 {"k":[1,2],"name":"z\\u00e9"}', "topic1 7", "topic1 [true,null,0.5]"],
                "PHP subscriber of PHP values printed %r" % got)
        for value, form in zip(values, json_forms):
            payload = h.parse_msg(text_sub.readline(what="a PHP value as JSON"))[2]
            h.check(payload == form, "text subscriber: expected %r, got %r" % (form, payload))
            msg = frame_sub.read(what="a PHP value as JSON")
            h.check(msg[0] == "msg" and msg[3] == form and msg[4] == {"content-type": "application/json"},
                    "frame subscriber: expected %r as JSON, got %r" % (form, msg))

        # 4. bad input, with a channel watcher and the text subscriber looking on
        watcher = ch.ChannelClient(port, name="watcher", proc=S.subscriber)
        watcher.send("subscribe", ["topic1", "watcher"])
        # its requests wait behind its subscriptions: hearing itself proves them live
        watcher.send("publish", ["watcher"], "live")
        watcher.expect_event("watcher", "live", what="its own publish")
        watcher.send("publish", ["watcher"], {"nested": {"list": [1, "two"]}, 3: 4.5})
        watcher.expect_event("watcher", {"nested": {"list": {0: 1, 1: "two"}}, 3: 4.5},
                             what="an array, back unchanged")
        both.send("publish", ["topic1"], "before-bad")
        watcher.expect_event("topic1", "before-bad", what="the publish before the bad ones")
        text_sub.readline(what="before-bad")
        bad = bad_input(S, port, watcher, text_sub)
        both.ping()
        both.send("publish", ["echo"], "still here")
        both.expect_event("echo", "still here", what="after the bad clients")
        S.check_alive()

    # 5. the same PHP run against the original channel server prints the same
    original = h.free_port()
    server = ch.original_server(original)
    try:
        got_original = php_roundtrip(original)
    finally:
        ch.stop(server)
    h.compare_lines("PHP subscriber: the original server's run against zchannel's",
                    through_zchannel, got_original)
    return "%d events in order through zchannel, as through the original server; %d bad " \
           "inputs refused and closed" % (N, bad)


if __name__ == "__main__":
    h.run("52-channel", test, budget=150)
