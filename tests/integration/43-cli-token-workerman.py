#!/usr/bin/python3
"""zchannel pub and sub with --token against front-ends with an auth-file
(no token: refused with exit 1 and the server's reason; a token outside its
ACL: refused; the right one: delivered), and with --profile workerman
against front-ends running that profile (payload lines in, payloads out),
where a wrong topic or --frame is a usage error (exit 2)."""

import os
import subprocess
import tempfile
import time

import harness as h

TOKENS = """\
tokens
    writer
        secret = "w-s3cret"
        publish = "cli.>"
    reader
        secret = "r-s3cret"
        subscribe = "cli.>"
"""


def tool(*args):
    return [h.LAUNCHER] + list(args)


def start_sub(args):
    return subprocess.Popen(tool("sub", *args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_token():
    fd, path = tempfile.mkstemp(prefix="zch-tokens-", suffix=".zpl")
    os.write(fd, TOKENS.encode())
    os.close(fd)
    try:
        with h.system(source_args=["--auth-file", path], sub_args=["--auth-file", path]) as S:
            pub = lambda *a: h.run_cmd(tool("pub", "--port", str(S.source_port), *a))
            rc, out, err = pub("cli.t", "no token")
            h.check(rc == 1 and b"auth required" in err, "pub without a token: %d %r" % (rc, err))
            rc, out, err = pub("--token", "w-s3cret", "other.t", "outside")
            h.check(rc == 1 and b"forbidden" in err, "pub outside its ACL: %d %r" % (rc, err))
            rc, out, err = h.run_cmd(tool("sub", "--port", str(S.sub_port), "--count", "1",
                                          "--token", "wrong", "cli.>"))
            h.check(rc == 1 and b"-ERR" in err, "sub with a wrong token: %d %r" % (rc, err))
            sub = start_sub(["--port", str(S.sub_port), "--count", "1", "--token", "r-s3cret",
                             "cli.>"])
            # +OK comes before the sub prints anything; publish until it has one
            deadline = time.monotonic() + h.STEP
            while sub.poll() is None and time.monotonic() < deadline:
                rc, out, err = pub("--token", "w-s3cret", "cli.t", "with token")
                h.check(rc == 0, "pub with its token: %d %r" % (rc, err))
                time.sleep(0.1)
            rc, out, err = h.finish_cmd(sub, "zchannel sub --token")
            h.check(rc == 0 and out == b"with token\n", "sub with its token: %d %r %r" % (rc, out, err))
    finally:
        os.unlink(path)


def test_workerman():
    with h.system(profile="workerman") as S:
        rc, out, err = h.run_cmd(tool("pub", "--profile", "workerman", "other", "x"))
        h.check(rc == 2 and b"topic1" in err, "workerman pub on another topic: %d %r" % (rc, err))
        rc, out, err = h.run_cmd(tool("sub", "--profile", "workerman", "--frame", "topic1"))
        h.check(rc == 2, "workerman sub --frame: %d %r" % (rc, err))
        sub = start_sub(["--port", str(S.sub_port), "--profile", "workerman", "--count", "3",
                         "topic1"])
        # no +OK in this profile: publish until the subscription has caught three
        sent = []
        deadline = time.monotonic() + h.STEP
        while sub.poll() is None and time.monotonic() < deadline:
            payload = "w%d with spaces" % len(sent)
            p = subprocess.run(tool("pub", "--port", str(S.source_port), "--profile", "workerman",
                                    "topic1"), input=(payload + "\n").encode(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=h.STEP)
            h.check(p.returncode == 0, "workerman pub: %d %r" % (p.returncode, p.stderr))
            sent.append(payload)
            time.sleep(0.05)
        rc, out, err = h.finish_cmd(sub, "zchannel sub --profile workerman")
        got = out.decode().split("\n")[:-1]
        h.check(rc == 0 and len(got) == 3 and got == sent[sent.index(got[0]):][:3],
                "workerman sub: %d, got %r of %r (%r)" % (rc, got, sent, err))
    return len(sent)


def test():
    test_token()
    n = test_workerman()
    return ("--token: refused without, outside the ACL and when wrong, delivered with it; "
            "--profile workerman: three consecutive payloads of %d published" % n)


if __name__ == "__main__":
    h.run("43-cli-token-workerman", test, budget=60)
