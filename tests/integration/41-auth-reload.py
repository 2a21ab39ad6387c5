#!/usr/bin/python3
"""Tokens, ACLs and limits reload on SIGHUP, without a restart. Both
front-ends read the same token file and a config file. After the token
file is rewritten (token `old` removed, token `kept` unchanged but with a
wider publish ACL, token `new` added), auth-max-failures lowered from 3 to
1 in the config file, and SIGHUP: every connection of the removed token
is closed with `-ERR token revoked` (text) or ["err", "auth_revoked", ...]
(frame port), on both front-ends; a subscriber whose token stays but may
no longer follow a pattern it holds (`narrow`) gets `-ERR forbidden
<pattern> (permissions changed)` and is closed; the `kept` connections stay and are
served (a publish to a topic only the new ACL allows arrives at the kept
subscriber); `new` authenticates and `old` no longer does; one failed AUTH
now closes a connection; and each front-end logs the revocations."""

import os
import re
import signal
import tempfile

import harness as h
from frames import FrameClient

BEFORE = """\
tokens
    kept
        secret = "kept-secret"
        publish = "k.a"
        subscribe = "k.>"
    old
        secret = "old-secret"
        publish = "o.>"
        subscribe = "o.>"
    narrow
        secret = "narrow-secret"
        subscribe = "n.>"
"""

AFTER = """\
tokens
    kept
        secret = "kept-secret"
        publish = "k.>"
        subscribe = "k.>"
    new
        secret = "new-secret"
        publish = "o.>"
        subscribe = "o.>"
    narrow
        secret = "narrow-secret"
        subscribe = "n.a"
"""

CONFIG = """\
source
    auth-max-failures = %d
subscriber
    auth-max-failures = %d
"""


def auth(client, token):
    client.sendline("AUTH " + token)
    client.expect(b"+OK", what="AUTH %s" % token)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def test():
    d = tempfile.mkdtemp(prefix="zch-auth-reload-")
    tokens, config = os.path.join(d, "tokens.zpl"), os.path.join(d, "zchannel.zpl")
    write(tokens, BEFORE)
    write(config, CONFIG % (3, 3))
    fport = h.free_port()
    common = ["--auth-file", tokens, "--config", config]
    with h.system(workers=2, source_args=common + ["--frame-listen", "%s:%d" % (h.HOST, fport)],
                  sub_args=common) as S:
        kept_sub = S.sub_client("kept-sub")
        auth(kept_sub, "kept-secret")
        h.subscribe(kept_sub, "k.>")
        kept_pub = S.source_client("kept-pub")
        auth(kept_pub, "kept-secret")
        kept_pub.sendline("VERBOSE on")
        kept_pub.expect(b"+OK")
        kept_pub.sendline("PUB k.b before")
        kept_pub.expect(b"-ERR forbidden k.b", what="k.b outside the old ACL")
        old_sub = S.sub_client("old-sub")
        auth(old_sub, "old-secret")
        h.subscribe(old_sub, "o.>")
        old_pub = S.source_client("old-pub")
        auth(old_pub, "old-secret")
        narrow = S.sub_client("narrow-sub")
        auth(narrow, "narrow-secret")
        h.subscribe(narrow, "n.>")
        old_frames = FrameClient(fport, name="old-frames", proc=S.source)
        old_frames.send(["auth", "old-secret"])
        old_frames.expect(["ok"], what="frame AUTH old")

        write(tokens, AFTER)
        write(config, CONFIG % (1, 1))
        for proc in (S.source, S.subscriber):
            proc.popen.send_signal(signal.SIGHUP)
        for proc, n in ((S.source, 2), (S.subscriber, 1)):
            h.wait_stderr(proc, "tokens reloaded")

        for client in (old_sub, old_pub):
            client.expect(b"-ERR token revoked", what="revocation")
            client.read_to_eof(h.STEP, "close after the revocation")
        narrow.expect(b"-ERR forbidden n.> (permissions changed)", what="narrowed ACL")
        narrow.read_to_eof(h.STEP, "close after the narrowed ACL")
        old_frames.expect_err("auth_revoked", "frame revocation")
        old_frames.wait_eof(what="close after the revocation")

        kept_pub.sendline("PUB k.b after")
        kept_pub.expect(b"+OK", what="k.b inside the new ACL")
        kept_sub.expect(h.msg_line("k.b", 1, "after"), what="the kept subscriber still served")

        fresh = S.source_client("new-pub")
        auth(fresh, "new-secret")
        stale = S.sub_client("stale")
        stale.sendline("AUTH old-secret")
        stale.expect(b"-ERR auth failed", what="the removed token")
        stale.read_to_eof(h.STEP, "close after one failure (auth-max-failures now 1)")
        for proc in (S.source, S.subscriber):
            h.check(re.search(r"client 127\.0\.0\.1:\d+ closed: its token 'old' was removed",
                              proc.stderr_text()), "%s: no revocation in its log" % proc.name)
    return ("SIGHUP: the removed token's text and frame connections closed with the error on "
            "both front-ends, the unchanged token's stayed under its new ACL, the new token "
            "works, auth-max-failures 3 -> 1 applied")


if __name__ == "__main__":
    h.run("41-auth-reload", test, budget=60)
