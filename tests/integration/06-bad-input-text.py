#!/usr/bin/python3
"""Bad text input on both front-ends: each error has its exact -ERR line and
the connection stays usable (PING -> PONG); CRLF lines work; a line longer
than the default limit (64 KiB) gets `-ERR line too long` and closes only
that connection while other clients keep publishing and receiving."""

import threading

import harness as h
from harness import msg_line, subscribe

MAX_LINE = 65536
LONG = 70 * 1024


def expect_prefix(client, prefix, what):
    line = client.readline(what=what)
    h.check(line.startswith(prefix) and len(line) > len(prefix),
            "%s: %s: expected a line starting %r with a reason, got %r"
            % (client.name, what, prefix, line))
    return line


def errors_then_pong(client, cases):
    """cases: (line sent, exact reply or prefix ending in ': ')."""
    for sent, reply in cases:
        client.send(sent + b"\n")
        if reply.endswith(b": "):
            expect_prefix(client, reply, "reply to %r" % sent)
        else:
            client.expect(reply, what="reply to %r" % sent)
        extra = client.ping()
        h.check(extra == [], "%s: extra lines after the reply to %r: %r"
                % (client.name, sent, extra))


def too_long(client, line, what):
    """Sends an over-long line; the server answers -ERR line too long and
    closes. Returns the bytes received after the error line."""
    def send():
        try:
            client.send(line)
        except OSError:
            pass                      # the server may close before reading it all
    t = threading.Thread(target=send, daemon=True)
    t.start()
    got = client.readline(what="-ERR line too long (%s)" % what)
    h.check(got == b"-ERR line too long",
            "%s: %s: expected b'-ERR line too long', got %r" % (client.name, what, got))
    rest = client.read_to_eof(h.STEP, "close after line too long")
    t.join(h.STEP)
    h.check(rest == b"", "%s: bytes after -ERR line too long: %s" % (client.name, h.short(rest)))


def test():
    with h.system() as S:
        # ---- source
        src = S.source_client("source-errors")
        errors_then_pong(src, [
            (b"FOO bar", b"-ERR unknown command"),
            (b"PUB", b"-ERR missing topic"),
            (b"PUB a..b x", b"-ERR invalid topic: "),
            (b"PUB $sys x", b"-ERR invalid topic: "),
            (b"PUB a.* x", b"-ERR invalid topic: "),
            (b"PUB a.> x", b"-ERR invalid topic: "),
            (b"PUB .a x", b"-ERR invalid topic: "),
            (b"PUB a. x", b"-ERR invalid topic: "),
        ])
        src.sendline("ping")
        src.expect(b"PONG", what="lowercase ping")
        src.send(b"PING\r\n")
        src.expect(b"PONG", what="PING with CRLF")
        src.send(b"VERBOSE on\r\n")
        src.expect(b"+OK", what="VERBOSE on")

        # ---- subscriber
        sub = S.sub_client("subscriber-errors")
        errors_then_pong(sub, [
            (b"SUB", b"-ERR missing pattern"),
            (b"SUB a.>.b", b"-ERR invalid pattern: "),
            (b"SUB a*", b"-ERR invalid pattern: "),
            (b"SUB a..b", b"-ERR invalid pattern: "),
            (b"UNSUB", b"-ERR missing pattern"),
            (b"UNSUB not.there", b"-ERR not subscribed"),
            (b"BOGUS x", b"-ERR unknown command"),
        ])
        sub.send(b"SUB crlf.t\r\n")
        sub.expect(b"+OK", what="SUB with CRLF")
        sub.send(b"sub big.t\r\n")
        sub.expect(b"+OK", what="lowercase sub with CRLF")

        # CRLF on the source: the CR is not part of the payload.
        src.send(b"PUB crlf.t hello\r\n")
        h.expect_confirm(src, "crlf.t", 1, what="VERBOSE reply to PUB (CRLF)")
        sub.expect(msg_line("crlf.t", 1, "hello"), what="payload of a CRLF line")
        src.send(b"PUB\r\n")
        src.expect(b"-ERR missing topic", what="PUB alone with CRLF")

        # A line of exactly the limit is accepted (limit counts the line
        # without its terminator).
        head = b"PUB big.t "
        payload = b"x" * (MAX_LINE - len(head))
        src.send(head + payload + b"\n")
        h.expect_confirm(src, "big.t", 1, what="a line of exactly %d bytes" % MAX_LINE)
        got = sub.readline(what="the %d-byte payload" % len(payload))
        h.check(got == msg_line("big.t", 1, payload),
                "subscriber-errors: the max-size payload was not delivered intact: %s"
                % h.short(got))

        # ---- lines too long, with bystanders on both front-ends
        bystander_pub = S.source_client("bystander-pub")
        bystander_sub = S.sub_client("bystander-sub")
        subscribe(bystander_sub, "by.t")

        long_src = S.source_client("long-line-source")
        too_long(long_src, b"PUB by.t " + b"y" * LONG + b"\n", "70 KiB line on the source")
        long_sub = S.sub_client("long-line-subscriber")
        too_long(long_sub, b"SUB " + b"z" * LONG + b"\n", "70 KiB line on the subscriber")
        # an over-long line without any newline at all
        long_src2 = S.source_client("long-no-newline")
        too_long(long_src2, b"PUB by.t " + b"w" * LONG, "70 KiB without a newline")

        for i in range(1, 4):
            bystander_pub.sendline("PUB by.t after-%d" % i)
        h.compare_lines("bystander-sub", bystander_sub.read_lines(3),
                        [msg_line("by.t", i, "after-%d" % i) for i in range(1, 4)])
        h.check(bystander_pub.ping() == [], "bystander-pub: unexpected lines")
        h.check(src.ping() == [], "source-errors: unexpected lines")
        h.check(sub.ping() == [], "subscriber-errors: unexpected lines")

        # VERBOSE covers PUBLISH too; VERBOSE off silences it again.
        subscribe(bystander_sub, "topic1")
        src.sendline("PUBLISH verbose default")
        h.expect_confirm(src, "topic1", what="VERBOSE reply to PUBLISH")
        src.sendline("verbose OFF")
        src.expect(b"+OK", what="reply to VERBOSE off")
        src.sendline("PUB by.t quiet")
        h.check(src.ping() == [], "source-errors: PUB answered after VERBOSE off")
        h.compare_lines("bystander-sub", bystander_sub.read_lines(2),
                        [msg_line("topic1", 1, "verbose default"),
                         msg_line("by.t", 4, "quiet")])

        # QUIT closes, on both front-ends.
        for c in (src, sub):
            c.sendline("QUIT")
            rest = c.read_to_eof(h.STEP, "close after QUIT")
            h.check(rest == b"", "%s: bytes after QUIT: %s" % (c.name, h.short(rest)))
        S.check_alive()

    # A configured --max-line on both front-ends: exactly the limit is fine,
    # one byte more is too long.
    limit = 1000
    with h.system(source_args=["--max-line", str(limit)],
                  sub_args=["--max-line", str(limit)]) as S:
        sub = S.sub_client("limit-sub")
        subscribe(sub, "lim.t")
        pub = S.source_client("limit-pub")
        head = b"PUB lim.t "
        pub.send(head + b"a" * (limit - len(head)) + b"\n")
        sub.expect(msg_line("lim.t", 1, b"a" * (limit - len(head))),
                   what="a line of exactly --max-line bytes")
        too_long(pub, head + b"b" * (limit - len(head) + 1) + b"\n", "--max-line + 1 on the source")
        pattern = b"p." + b"q" * (limit - 5)            # "SUB " + pattern = limit + 1
        too_long(sub, b"SUB " + pattern + b"\n", "--max-line + 1 on the subscriber")
        S.check_alive()
    return ("every -ERR exact, connections usable after errors, CRLF, VERBOSE, QUIT ok, "
            "long lines (default and --max-line) close only their connection")


if __name__ == "__main__":
    h.run("06-bad-input-text", test)
