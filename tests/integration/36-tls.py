#!/usr/bin/python3
"""TLS on the TCP front-ends (OpenSSL): Python's ssl module subscribes and
publishes, `openssl s_client` publishes, and every message arrives in order;
the subscriber front-end asks for client certificates (--tls-ca) and turns
away a TLS client without one; a plain TCP client on a TLS port gets no
greeting; failed handshakes are counted."""

import os
import re
import socket
import ssl
import subprocess
import time

import harness as h
from guard import counters, stop
from pki import in_pki

N = 500


class TlsClient(h.LineClient):
    """A LineClient over TLS (the handshake happens in the constructor)."""

    def __init__(self, port, d, name, cert=True, proc=None):
        context = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
        if cert:
            context.load_cert_chain(os.path.join(d, "client.pem"), os.path.join(d, "client.key"))
        self.name, self.buf, self.eof, self.reset = name, bytearray(), False, False
        deadline = time.monotonic() + h.STEP
        while True:
            try:
                raw = socket.create_connection((h.HOST, port), timeout=h.STEP)
                break
            except OSError:
                h.check(time.monotonic() < deadline and (proc is None or proc.alive()),
                        "%s: cannot connect to %d" % (name, port))
                time.sleep(0.05)
        self.sock = context.wrap_socket(raw, server_hostname=h.HOST)
        self.sock.settimeout(None)

    def pump(self, timeout):
        if self.eof:
            return 0
        if self.sock.pending() == 0:
            import select
            p = select.poll()
            p.register(self.sock.fileno(), select.POLLIN)
            if not p.poll(max(0.0, timeout) * 1000):
                return 0
        try:
            data = self.sock.recv(1 << 20)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.eof = True
            return 0
        self.buf += data
        return len(data)


def test():
    return in_pki(run, "zch-tls-")


def run(d):
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    sp, bp = h.free_port(), h.free_port()
    tls = ["--tls-cert", os.path.join(d, "server.pem"), "--tls-key", os.path.join(d, "server.key")]
    broker = h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control],
                     name="broker")
    h.wait_broker(control, broker)
    source = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, sp), "--broker", ingress,
                      "--control", control] + tls,
                     name="source")
    subscriber = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, bp), "--broker", egress,
                          "--control", control, "--tls-ca", os.path.join(d, "ca.pem")] + tls, name="subscriber")
    h.wait_stderr(source, "connected to the broker")

    sub = TlsClient(bp, d, "tls-sub", proc=subscriber)
    sub.expect(h.SUBSCRIBER_GREETING)
    h.subscribe(sub, "secure.>")
    pub = TlsClient(sp, d, "tls-pub", cert=False, proc=source)
    pub.expect(h.SOURCE_GREETING)
    pub.send(b"".join(b"PUB secure.py %d\n" % i for i in range(N)))
    h.check(pub.ping() == [], "tls-pub: replies before PONG")

    # openssl s_client publishes too
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (h.HOST, sp), "-quiet",
                        "-CAfile", os.path.join(d, "ca.pem"), "-verify_return_error"],
                       input=b"VERBOSE on\nPUB secure.s_client via-openssl\nQUIT\n",
                       capture_output=True, timeout=h.STEP)
    h.check(p.returncode == 0, "s_client: exit %d (stderr %r)" % (p.returncode, p.stderr[-300:]))
    h.check(re.fullmatch(re.escape(h.SOURCE_GREETING) + rb"\n\+OK\n\+OK secure\.s_client 1 [0-9a-z]+\n",
                         p.stdout),
            "s_client: got %r (stderr %r)" % (p.stdout, p.stderr[-300:]))

    want = [h.msg_line("secure.py", i + 1, b"%d" % i) for i in range(N)]
    want.append(h.msg_line("secure.s_client", 1, b"via-openssl"))
    got = sub.read_lines(len(want), what="deliveries over TLS")
    # two publishers: each one's messages in order
    h.compare_lines("tls-sub", [l for l in got if l.startswith(b"MSG secure.py ")], want[:-1])
    h.compare_lines("tls-sub", [l for l in got if not l.startswith(b"MSG secure.py ")], want[-1:])

    # the subscriber port wants a client certificate
    refused = False
    try:
        nocert = TlsClient(bp, d, "tls-no-cert", cert=False, proc=subscriber)
        line = nocert.readline(what="anything") if not nocert.eof else b""
        refused = line != h.SUBSCRIBER_GREETING
    except (ssl.SSLError, ConnectionResetError, h.TestFailure):
        refused = True
    h.check(refused, "a TLS client without a certificate was served")
    # plain TCP on a TLS port: no greeting, and the failed handshake is counted
    plain = socket.create_connection((h.HOST, sp), timeout=h.STEP)
    plain.sendall(b"PUB secure.plain nope\n")
    plain.settimeout(h.STEP)
    try:
        got = plain.recv(4096)
    except ConnectionResetError:
        got = b""
    h.check(h.SOURCE_GREETING not in got, "plain client got the greeting on a TLS port: %r" % got)
    plain.close()
    h.check(sub.ping() == [], "tls-sub: received something unexpected")
    for proc in (source, subscriber):
        stop(proc)
    failures = counters(source, "source")["tls_failures"] + counters(subscriber, "subscriber")["tls_failures"]
    h.check(failures >= 2, "TLS failures counted: %d" % failures)
    # every program stops cleanly (a sanitizer report at exit shows here)
    stop(broker)
    return "%d messages over TLS in order, s_client included; %d failed handshakes counted" % (
        len(want), failures)


if __name__ == "__main__":
    # starts the three programs itself, with settings of their own
    h.run("36-tls", test, budget=60, deployments=("procs",))
