#!/usr/bin/python3
"""CURVE between components and for ZeroMQ-native peers: with the broker's
certificate and an allow-list of client certificates, the source and the
subscriber (CURVE clients with their own certificates) carry messages end
to end; a ZeroMQ SUB with an allowed certificate receives every message in
order; a SUB without CURVE, one whose key is not on the list and one that
trusts the wrong server key receive nothing, and a producer without CURVE
gets nothing in. The subscriber's catch-ups reach the control endpoint
over CURVE too (a FROM is answered). `zchannel keygen` makes every
certificate."""

import os
import shutil
import tempfile
import time

import zmq
import zmq.auth

import harness as h

N = 300


def keygen(path):
    rc, out, err = h.run_cmd([h.LAUNCHER, "keygen", path])
    h.check(rc == 0 and os.path.exists(path) and os.path.exists(path + ".pub"),
            "zchannel keygen %s: exit %d, %r" % (path, rc, err))
    h.check(os.stat(path).st_mode & 0o077 == 0, "keygen: %s is readable by others" % path)
    public, secret = zmq.auth.load_certificate(path)
    h.check(secret is not None, "keygen: %s has no secret key" % path)
    h.check(zmq.auth.load_certificate(path + ".pub")[0] == public, "keygen: public keys differ")
    return public, secret


def curve_socket(kind, server_public, own=None):
    s = h.ctx().socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    public, secret = own if own else zmq.curve_keypair()
    s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server_public
    return s


def test():
    tmp = tempfile.mkdtemp(prefix="zch-curve-")
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    allowed = os.path.join(tmp, "allowed")
    os.mkdir(allowed)
    broker_pub, _ = keygen(os.path.join(tmp, "broker"))
    fe = keygen(os.path.join(tmp, "frontend"))
    app = keygen(os.path.join(tmp, "app"))
    stranger = keygen(os.path.join(tmp, "stranger"))
    for name in ("frontend", "app"):
        shutil.copy(os.path.join(tmp, name + ".pub"), allowed)
    ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
    sp, bp = h.free_port(), h.free_port()
    broker = h.start([h.BROKER, "--ingress", ingress, "--egress", egress, "--control", control,
                      "--curve-secret", os.path.join(tmp, "broker"), "--curve-clients", allowed],
                     name="broker")
    h.wait_stderr(broker, "CURVE on")
    fe_args = ["--curve-server-key", os.path.join(tmp, "broker.pub"),
               "--curve-secret", os.path.join(tmp, "frontend")]
    source = h.start([h.SOURCE, "--listen", "%s:%d" % (h.HOST, sp), "--broker", ingress,
                      "--control", control] + fe_args,
                     name="source")
    subscriber = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, bp), "--broker", egress,
                          "--control", control] + fe_args, name="subscriber")
    h.wait_stderr(source, "connected to the broker")

    # ZeroMQ-native peers on the egress: one allowed, three that must get nothing
    good = curve_socket(zmq.SUB, broker_pub, app)
    plain = h.zsocket(zmq.SUB)
    unlisted = curve_socket(zmq.SUB, broker_pub, stranger)
    wrong_server = curve_socket(zmq.SUB, stranger[0], app)
    for s in (good, plain, unlisted, wrong_server):
        s.setsockopt(zmq.SUBSCRIBE, b"c.")
        s.connect(egress)
    # a text subscriber through the CURVE subscriber front-end
    tsub = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, subscriber, name="text-sub")
    h.subscribe(tsub, "c.>")
    # the allowed peer is in once it sees a message: publish until it does
    pub = h.wait_frontend(sp, h.SOURCE_GREETING, source, name="text-pub")
    deadline = time.monotonic() + h.STEP
    warm = 0
    while not good.poll(100):
        pub.sendline("PUB c.warm w%d" % warm)
        warm += 1
        h.check(time.monotonic() < deadline, "allowed CURVE peer received nothing")
    # a producer without CURVE: its messages must not get in
    intruder = h.zsocket(zmq.PUB, ingress)
    for i in range(N):
        pub.sendline("PUB c.data %d" % i)
        intruder.send_multipart([b"c.data", b"intruder %d" % i])
    # the allowed peer: every message in order, nothing from the intruder
    seqs, payloads = [], []
    while len(payloads) < N:
        h.check(good.poll(h.STEP * 1000), "allowed peer: %d of %d messages" % (len(payloads), N))
        topic, meta, payload = good.recv_multipart()
        if topic == b"c.data":
            payloads.append(payload)
    h.check(payloads == [b"%d" % i for i in range(N)],
            "allowed peer: payloads differ, e.g. %r" % payloads[:5])
    lines = tsub.read_until(lambda l: l.startswith(b"MSG c.data") and l.endswith(b" %d" % (N - 1)),
                            what="the text subscriber's last message")
    data = [l for l in lines if l.startswith(b"MSG c.data ")]
    h.check(data == [h.msg_line("c.data", i + 1, b"%d" % i) for i in range(N)],
            "text subscriber through CURVE: %d lines, e.g. %r" % (len(data), data[:3]))
    # FROM goes over the subscriber's control link: answered only if it speaks CURVE
    late = h.wait_frontend(bp, h.SUBSCRIBER_GREETING, subscriber, name="late-sub")
    late.sendline("SUB c.data FROM %d" % (N - 3))
    late.expect(b"+OK", what="reply to SUB c.data FROM %d" % (N - 3))
    h.compare_lines("late-sub", late.read_lines(3, what="history through CURVE"),
                    [h.msg_line("c.data", i + 1, b"%d" % i) for i in range(N - 3, N)])
    time.sleep(0.5)             # anything the others could get has had its chance
    for name, s in (("plain", plain), ("unlisted", unlisted), ("wrong-server", wrong_server)):
        h.check(not s.poll(0), "%s SUB received a message" % name)
    # the control port is CURVE too: a plain DEALER gets no answer
    dealer = h.zsocket(zmq.DEALER, control)
    dealer.send(b"PING")
    h.check(not dealer.poll(500), "plain control request answered")
    ctl = curve_socket(zmq.DEALER, broker_pub, app)
    ctl.connect(control)
    ctl.send(b"PING")
    h.check(ctl.poll(h.STEP * 1000) and ctl.recv_multipart() == [b"PONG"],
            "allowed control request not answered")
    for s in (good, plain, unlisted, wrong_server, intruder, dealer, ctl):
        s.close()
    for p in (source, subscriber, broker):
        p.signal(15)
        h.check(p.wait(h.STOP_WAIT) == 0, "%s did not exit cleanly" % p.name)
    return "%d messages to the allowed peer and through the front-ends, history over the " \
           "CURVE control link; 3 unauthenticated peers and a plain producer got nothing" % N


if __name__ == "__main__":
    # starts the three programs itself, with settings of their own
    h.run("35-curve", test, budget=60, deployments=("procs",))
