#!/usr/bin/python3
"""A front-end that stops tells its clients why before it closes them: at
SIGTERM every client of the source and of the subscriber, on the text port
and on the frame port, reads `-ERR shutting down` (text) or
["err", "shutting_down", "shutting down"] (frames) as its last message,
after anything it was owed (a subscriber's last delivery comes first), then
the end of the stream; never a bare EOF. The same for `zchannel run` and
one SIGTERM."""

import signal

import harness as h
from frames import FrameClient

BYE = b"-ERR shutting down"


def text_bye(client, what):
    data = client.read_to_eof(h.STEP, "close at shutdown")
    lines = data.split(b"\n")
    h.check(lines[-1] == b"" and len(lines) >= 2 and lines[-2] == BYE,
            "%s: expected %r as the last line before EOF, got %s" % (what, BYE, h.short(data)))
    return lines[:-2]


def frame_bye(client, what):
    got = client.read(what="%s: the last frame" % what)
    h.check(got == ["err", "shutting_down", "shutting down"],
            "%s: expected ['err', 'shutting_down', 'shutting down'] before EOF, got %r" % (what, got))
    rest = client.wait_eof(what="%s: close after the goodbye" % what)
    h.check(rest == b"", "%s: bytes after the goodbye: %r" % (what, rest))


def clients(source_port, sub_port, source_fport, sub_fport, procs):
    pub = h.LineClient(h.HOST, source_port, name="pub", proc=procs[0])
    pub.expect(h.SOURCE_GREETING, h.STEP, "greeting")
    pub_frames = FrameClient(source_fport, name="pub-frames", proc=procs[0])
    sub = h.LineClient(h.HOST, sub_port, name="sub", proc=procs[1])
    sub.expect(h.SUBSCRIBER_GREETING, h.STEP, "greeting")
    h.subscribe(sub, "bye.t")
    sub_frames = FrameClient(sub_fport, name="sub-frames", proc=procs[1])
    sub_frames.send(["sub", "bye.t"])
    sub_frames.expect(["ok"], what="frame SUB")
    pub.sendline("PUB bye.t last")
    sub.expect(h.msg_line("bye.t", 1, "last"), what="the delivery before the stop")
    got = sub_frames.read(what="frame delivery")
    h.check(got[:2] == ["msg", "bye.t"], "sub-frames: expected the delivery, got %r" % got)
    pub_frames.send(["ping"])
    pub_frames.expect(["pong"], what="frame PING")
    return pub, pub_frames, sub, sub_frames


def stop(proc, what):
    proc.signal(signal.SIGTERM)
    rc = proc.wait(h.STOP_WAIT)
    h.check(rc == 0, "%s: exit code %r after SIGTERM" % (what, rc))


def separate():
    fs, fb = h.free_port(), h.free_port()
    with h.system(source_args=["--frame-listen", "%s:%d" % (h.HOST, fs)],
                  sub_args=["--frame-listen", "%s:%d" % (h.HOST, fb)]) as S:
        pub, pub_frames, sub, sub_frames = clients(S.source_port, S.sub_port, fs, fb,
                                                   (S.source, S.subscriber))
        S.source.signal(signal.SIGTERM)
        text_bye(pub, "source text client")
        frame_bye(pub_frames, "source frame client")
        h.check(S.source.wait(h.STOP_WAIT) == 0, "source: no clean exit")
        S.subscriber.signal(signal.SIGTERM)
        h.check(text_bye(sub, "subscriber text client") == [], "subscriber text client: "
                "lines before the goodbye that were not owed")
        frame_bye(sub_frames, "subscriber frame client")
        h.check(S.subscriber.wait(h.STOP_WAIT) == 0, "subscriber: no clean exit")


def all_in_one():
    sp, bp, fs, fb = (h.free_port() for _ in range(4))
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    proc = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, sp),
                    "--subscriber-listen", "%s:%d" % (h.HOST, bp),
                    "--source-frame-listen", "%s:%d" % (h.HOST, fs),
                    "--subscriber-frame-listen", "%s:%d" % (h.HOST, fb),
                    "--ingress", ingress, "--egress", egress, "--control", control],
                   name="zchannel-run")
    h.wait_broker(control, proc)
    h.wait_frontend(sp, h.SOURCE_GREETING, proc, name="run-source").close()
    pub, pub_frames, sub, sub_frames = clients(sp, bp, fs, fb, (proc, proc))
    proc.signal(signal.SIGTERM)
    text_bye(pub, "run: source text client")
    frame_bye(pub_frames, "run: source frame client")
    text_bye(sub, "run: subscriber text client")
    frame_bye(sub_frames, "run: subscriber frame client")
    h.check(proc.wait(h.STOP_WAIT) == 0, "zchannel run: no clean exit")


def test():
    separate()
    all_in_one()
    return ("SIGTERM: source and subscriber clients, text and frames, separate and "
            "zchannel run, each read the goodbye before EOF")


if __name__ == "__main__":
    h.run("42-goodbye", test, budget=60)
