#!/usr/bin/python3
"""zchannel pub and sub over TLS against front-ends with --tls-cert: with
--tls-ca naming the CA that signed the servers' certificate, what `pub`
publishes (text port, and frame port with --frame) reaches `sub`, in
order; `pub` and `sub` trusting another CA, or only the system's CAs
(--tls), are refused before anything is sent (exit 1, the reason named,
nothing delivered); --tls against a plain port fails clearly too."""

import os
import subprocess
import time

import harness as h
from pki import in_pki, make_ca


def tool(*args):
    return [h.LAUNCHER] + list(args)


def test():
    return in_pki(run, "zch-cli-tls-")


def run(d):
    make_ca(d, "other")
    ca, other = os.path.join(d, "ca.pem"), os.path.join(d, "other.pem")
    tls = ["--tls-cert", os.path.join(d, "server.pem"), "--tls-key", os.path.join(d, "server.key")]
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    sp, fp, bp, plain = h.free_port(), h.free_port(), h.free_port(), h.free_port()
    procs = []
    try:
        broker = h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control],
                         name="broker")
        procs.append(broker)
        h.wait_broker(control, broker)
        source = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, sp), "--frame-listen",
                          "%s:%d" % (h.HOST, fp), "--broker", ingress, "--control", control] + tls,
                         name="source")
        procs.append(source)
        subscriber = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, bp), "--broker", egress,
                              "--control", control] + tls, name="subscriber")
        procs.append(subscriber)
        plain_source = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, plain), "--broker", ingress,
                                "--control", control], name="plain-source")
        procs.append(plain_source)
        h.wait_stderr(source, "connected to the broker")
        h.wait_stderr(plain_source, "connected to the broker")
        pub = lambda *a: h.run_cmd(tool("pub", "--port", str(sp), *a))

        # refused: another CA, the system's CAs, TLS to a plain port
        for args, reason in ((["--tls-ca", other], b"not trusted"), (["--tls"], b"not trusted")):
            rc, out, err = pub(*(args + ["cli.tls", "never"]))
            h.check(rc == 1 and b"TLS handshake failed" in err and reason in err,
                    "pub %s: exit %d, %r" % (args, rc, err))
            rc, out, err = h.run_cmd(tool("sub", "--port", str(bp), "--count", "1", *args, "cli.tls"))
            h.check(rc == 1 and b"TLS handshake failed" in err and reason in err and out == b"",
                    "sub %s: exit %d, %r %r" % (args, rc, out, err))
        rc, out, err = h.run_cmd(tool("pub", "--port", str(plain), "--tls-ca", ca, "cli.tls", "never"))
        h.check(rc == 1 and b"TLS handshake failed" in err, "pub --tls to a plain port: %d %r" % (rc, err))

        # trusted: pub's messages reach sub, in order
        sub = subprocess.Popen(tool("sub", "--port", str(bp), "--tls-ca", ca, "--count", "5", "cli.tls"),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # +OK comes before the sub prints anything: publish until it has one
        sent = 0
        deadline = time.monotonic() + h.STEP
        while sub.poll() is None and time.monotonic() < deadline:
            args = ["--frame-port", str(fp)] if sent % 2 else []
            rc, out, err = pub("--tls-ca", ca, *args, "cli.tls", "m%d" % sent)
            h.check(rc == 0, "pub --tls-ca %s: exit %d, %r" % (args, rc, err))
            sent += 1
            time.sleep(0.05)
        rc, out, err = h.finish_cmd(sub, "zchannel sub --tls-ca")
        got = out.decode().split("\n")[:-1]
        first = int(got[0][1:]) if got and got[0][:1] == "m" else -1
        h.check(rc == 0 and got == ["m%d" % i for i in range(first, first + 5)],
                "sub --tls-ca: exit %d, got %r (%r)" % (rc, got, err))
        h.check(any(i % 2 for i in range(first, first + 5)), "no frame-port publish delivered")
        # the refused tools published nothing: "never" reached no one
        h.check(b"never" not in out, "a refused publish was delivered")
    finally:
        for p in procs:
            if p.alive():
                p.stop()
    return ("pub and sub over TLS with --tls-ca: 5 messages in order (text and frame port); "
            "another CA, the system's CAs and a plain port refused with the reason")


if __name__ == "__main__":
    # starts the programs itself, with TLS settings of their own
    h.run("58-cli-tls", test, budget=60, deployments=("procs",))
