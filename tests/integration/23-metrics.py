#!/usr/bin/python3
"""Metrics: broker, source and subscriber each serve Prometheus text on
--metrics-listen. Scraped over HTTP during traffic, the text is well formed
(# HELP and # TYPE for every family, counters never going back); once the
traffic is over, the counters are exactly what the test sent and received:
messages and payload bytes in and out per stage, deliveries per client,
malformed input, clients, subscriptions, topics. (The subscriber runs one
worker here: each worker receives the stream it subscribed to, so with
several the received counters are per worker summed.) `zchannel stat --once`
prints the broker's STATS. A metrics address already taken stops start-up
with exit 1 naming it. In zchannel run, plugin drops, bad frames and bad
datagrams are counted by cause at their stage."""

import json
import re
import socket
import subprocess
import threading
import time
import urllib.request

import harness as h
from harness import msg_line, subscribe

N = 3000
CLIENTS = 3
TOPICS = 5
BAD = 7
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$')


def scrape(port):
    with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, port), timeout=h.STEP) as r:
        h.check(r.status == 200, "metrics: HTTP %d" % r.status)
        h.check(r.headers.get("Content-Type", "").startswith("text/plain"),
                "metrics: Content-Type %r" % r.headers.get("Content-Type"))
        text = r.read().decode()
    values, typed, helped = {}, {}, set()
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        h.check(m, "metrics: malformed line %r" % line)
        name = m.group(1)
        h.check(name in typed and name in helped, "metrics: %s has no # TYPE or # HELP" % name)
        h.check(name.endswith("_total") == (typed[name] == "counter"),
                "metrics: %s is a %s; counters and only counters end in _total"
                % (name, typed[name]))
        values[name + (m.group(2) or "")] = float(m.group(3))
    return values


def metric(values, name, role, cause=None):
    labels = '{role="%s"%s}' % (role, ',cause="%s"' % cause if cause else "")
    h.check(name + labels in values, "metrics: no %s%s" % (name, labels))
    return values[name + labels]


def test():
    ports = {role: h.free_port() for role in ("broker", "source", "subscriber")}
    arg = lambda role: ["--metrics-listen", "%s:%d" % (h.HOST, ports[role])]
    with h.system(broker_args=arg("broker"), source_args=arg("source"),
                  sub_args=arg("subscriber") + ["--workers", "1"]) as S:
        subs = [S.sub_client("sub%d" % i) for i in range(CLIENTS)]
        for c in subs:
            subscribe(c, "mt.>")
        pub = S.source_client("publisher")
        pub.sendline("VERBOSE on")
        pub.expect(b"+OK", what="VERBOSE on")
        for i in range(BAD):
            pub.sendline("PUB bad..topic x")
        for i in range(BAD):
            line = pub.readline(what="-ERR for a bad topic")
            h.check(line.startswith(b"-ERR invalid topic"), "bad topic: got %r" % line)

        payloads = ["m%d-%s" % (i, "p" * (i % 50)) for i in range(1, N + 1)]
        topic = lambda i: "mt.t%d" % (i % TOPICS)
        scrapes = []
        stop = threading.Event()

        def scraper():
            while not stop.is_set():
                scrapes.append({r: scrape(p) for r, p in ports.items()})

        t = threading.Thread(target=scraper, daemon=True)
        t.start()
        # one scrape before the traffic, at least one after it (never timing)
        deadline = time.monotonic() + h.STEP
        while not scrapes and time.monotonic() < deadline:
            time.sleep(0.01)
        pub.send(b"".join(b"PUB %s %s\n" % (topic(i).encode(), payloads[i - 1].encode())
                          for i in range(1, N + 1)))
        oks = pub.read_lines(N, timeout=30, what="+OK per PUB")
        h.check(all(l.startswith(b"+OK ") for l in oks),
                "publisher: not all +OK: %r" % [l for l in oks if not l.startswith(b"+OK ")][:3])
        seq = {}
        expected = []
        for i in range(1, N + 1):
            seq[topic(i)] = seq.get(topic(i), 0) + 1
            expected.append(msg_line(topic(i), seq[topic(i)], payloads[i - 1]))
        got = h.read_many(subs, [N] * CLIENTS, timeout=60, what="deliveries")
        for i, lines in enumerate(got):
            h.compare_lines("sub%d" % i, lines, expected)
        before = len(scrapes)
        deadline = time.monotonic() + h.STEP
        while len(scrapes) <= before and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        t.join(30)
        h.check(len(scrapes) >= 2, "only %d scrapes around the traffic" % len(scrapes))

        # counters never go back between scrapes
        for a, b in zip(scrapes, scrapes[1:]):
            for role in ports:
                for name, value in a[role].items():
                    if name.split("{")[0].endswith("_total"):
                        h.check(b[role][name] >= value, "%s went back: %s -> %s"
                                % (name, value, b[role][name]))

        # exact values once the traffic is over: wait for the broker's turn
        nbytes = sum(len(p) for p in payloads)
        want = {
            ("source", "zchannel_messages_received_total"): N,
            ("source", "zchannel_bytes_received_total"): nbytes,
            ("source", "zchannel_messages_sent_total"): N,
            ("source", "zchannel_bytes_sent_total"): nbytes,
            ("broker", "zchannel_messages_received_total"): N,
            ("broker", "zchannel_bytes_received_total"): nbytes,
            ("broker", "zchannel_messages_sent_total"): N,
            ("broker", "zchannel_bytes_sent_total"): nbytes,
            ("broker", "zchannel_topics"): TOPICS,
            ("subscriber", "zchannel_messages_received_total"): N,
            ("subscriber", "zchannel_bytes_received_total"): nbytes,
            ("subscriber", "zchannel_messages_sent_total"): N * CLIENTS,
            ("subscriber", "zchannel_bytes_sent_total"): nbytes * CLIENTS,
            ("subscriber", "zchannel_clients"): CLIENTS,
            ("subscriber", "zchannel_subscriptions"): CLIENTS,
            ("source", "zchannel_clients"): 1,
        }
        causes = {("source", "malformed"): BAD}
        for role in ports:
            for cause in ("slow_consumer", "hwm", "malformed", "plugin", "rate_limit"):
                causes.setdefault((role, cause), 0)
        #  gauges and the broker's counters are published once per turn: poll
        deadline = time.monotonic() + h.STEP
        while True:
            final = {r: scrape(p) for r, p in ports.items()}
            wrong = ["%s{role=%s}: %s, expected %s" % (name, role, metric(final[role], name, role), value)
                     for (role, name), value in sorted(want.items())
                     if metric(final[role], name, role) != value]
            wrong += ["zchannel_dropped_total{role=%s,cause=%s}: %s, expected %s"
                      % (role, cause, metric(final[role], "zchannel_dropped_total", role, cause), value)
                      for (role, cause), value in sorted(causes.items())
                      if metric(final[role], "zchannel_dropped_total", role, cause) != value]
            if not wrong or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        h.check(not wrong, "metrics after the traffic: " + "; ".join(wrong))
        for role in ports:
            # the uptime is the process's: zchannel run's is role="run"
            process = role if h.DEPLOYMENT == "procs" else "run"
            h.check(metric(final[role], "zchannel_uptime_seconds", process) > 0, "%s: no uptime" % role)
            metric(final[role], "zchannel_history_messages", role)
            metric(final[role], "zchannel_plugin_seconds_total", role)

        # zchannel stat --once --json: the broker's STATS, and each role's metrics
        metrics = ["--metrics", "%s:%d" % (h.HOST, ports["source"]),
                   "--metrics", "%s:%d" % (h.HOST, ports["subscriber"])]
        rc, out, err = h.run_cmd([h.LAUNCHER, "stat", "--control", S.control, "--once", "--json"]
                                 + metrics)
        h.check(rc == 0, "zchannel stat --once --json: exit %d, stderr %s" % (rc, h.short(err)))
        got = json.loads(out)
        h.check(got["broker"]["messages_in"] == N and got["broker"]["bytes_in"] == nbytes
                and got["broker"]["topics"] == TOPICS and got["source"]["messages_in"] == N,
                "zchannel stat --once --json: %r" % got)
        h.check(got["subscriber"]["messages_out"] == N * CLIENTS,
                "zchannel stat --json, subscriber deliveries: %r" % got["subscriber"])
        # the table, refreshed: a row per role, then the same with rates
        stat = h.start([h.LAUNCHER, "stat", "--control", S.control] + metrics, name="stat",
                       stdout=subprocess.PIPE)
        tables = [[stat.popen.stdout.readline().decode() for _ in range(5)] for _ in range(2)]
        stat.kill()
        for table in tables:
            h.check(table[0].split()[:3] == ["role", "messages", "in"]
                    and table[1].split()[0] == "broker"
                    and sorted(row.split()[0] for row in table[2:4]) == ["source", "subscriber"]
                    and table[4] == "\n", "zchannel stat table: %r" % table)
        broker = tables[1][1].split()
        h.check(broker[1] == str(N) and broker[2] == "0" and tables[0][1].split()[2] == "-",
                "zchannel stat: the broker's row, then its rate: %r" % tables)

        # a metrics address already taken
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((h.HOST, 0))
        s.listen(1)
        taken = "%s:%d" % (h.HOST, s.getsockname()[1])
        rc, out, err = h.run_cmd([h.BROKER, "--ingress", h.tcp_ep(h.free_port()), "--egress",
                                  h.tcp_ep(h.free_port()), "--control", h.tcp_ep(h.free_port()),
                                  "--metrics-listen", taken])
        s.close()
        h.check(rc == 1 and taken.encode() in err,
                "broker with --metrics-listen %s taken: exit %d, stderr %r" % (taken, rc, err))
    if h.DEPLOYMENT == "run":
        test_plugins_frames_udp()
    return ("%d scrapes during traffic; after it, %d messages x %d clients and %d malformed "
            "counted exactly at every stage; zchannel stat agrees; plugin drops, bad frames and "
            "datagrams counted by cause in zchannel run" % (len(scrapes), N, CLIENTS, BAD))


def test_plugins_frames_udp():
    """zchannel run with a dropping plugin at each stage (each on its own
    topic), a frame port and UDP ingest: what each plugin dropped is
    cause="plugin" at its stage, a bad frame and a bad datagram are
    cause="malformed" at the source, and only the untouched topic arrives."""
    K = 50
    mport, src, subp, fport, uport = (h.free_port() for _ in range(5))
    run = h.start([h.LAUNCHER, "run", "--source-listen", "%s:%d" % (h.HOST, src),
                   "--subscriber-listen", "%s:%d" % (h.HOST, subp),
                   "--ingress", h.tcp_ep(h.free_port()), "--egress", h.tcp_ep(h.free_port()),
                   "--control", h.tcp_ep(h.free_port()), "--workers", "1",
                   "--metrics-listen", "%s:%d" % (h.HOST, mport),
                   "--source-frame-listen", "%s:%d" % (h.HOST, fport),
                   "--udp-listen", "%s:%d" % (h.HOST, uport), "--plugin-path", h.FIXTURES,
                   "--source-plugin", "drop@pd.s", "--broker-plugin", "drop@pd.b",
                   "--subscriber-plugin", "drop@pd.u"], name="zchannel-run")
    sub = h.wait_frontend(subp, h.SUBSCRIBER_GREETING, run, name="sub")
    subscribe(sub, "pd.>")
    pub = h.wait_frontend(src, h.SOURCE_GREETING, run, name="pub")
    with socket.create_connection((h.HOST, fport), timeout=h.STEP) as frames:
        frames.sendall(b"\0\0\0\1\xc1")        # a frame whose body is not msgpack
        h.check(frames.recv(4096), "no answer to a bad frame")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"NOT A PUB LINE", (h.HOST, uport))
    pub.send(b"".join(b"PUB pd.%s %d\n" % (t, i) for i in range(K) for t in (b"s", b"b", b"u", b"ok")))
    got = sub.read_lines(K, timeout=30, what="the untouched topic")
    h.check(all(l.startswith(b"MSG pd.ok ") for l in got), "a dropped topic arrived: %r"
            % [l for l in got if not l.startswith(b"MSG pd.ok ")][:3])
    want = {("source", "plugin"): K, ("broker", "plugin"): K, ("subscriber", "plugin"): K,
            ("source", "malformed"): 2, ("broker", "malformed"): 0, ("subscriber", "malformed"): 0}
    counts = {("zchannel_messages_received_total", "source"): 4 * K,
              ("zchannel_messages_sent_total", "source"): 3 * K,
              ("zchannel_messages_received_total", "broker"): 3 * K,
              ("zchannel_messages_received_total", "subscriber"): 2 * K,
              ("zchannel_messages_sent_total", "subscriber"): K}
    # A worker publishes its counters one by one, so a scrape may see some
    # of a turn's figures before the others: wait until all of them agree
    deadline = time.monotonic() + h.STEP
    while True:
        values = scrape(mport)
        wrong = ["%s/%s: %s, expected %s" % (role, cause, metric(values, "zchannel_dropped_total",
                                                                 role, cause), n)
                 for (role, cause), n in sorted(want.items())
                 if metric(values, "zchannel_dropped_total", role, cause) != n]
        miscounted = [(name, role) for (name, role), n in counts.items()
                      if metric(values, name, role) != n]
        if (not wrong and not miscounted) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    h.check(not wrong, "drops by cause in zchannel run: " + "; ".join(wrong))
    h.check(not miscounted,
            "received/sent with plugin drops: %r" % {k: v for k, v in values.items() if "messages" in k})
    h.check(metric(values, "zchannel_plugin_seconds_total", "broker") > 0, "no time in plugins")
    h.check(run.stop() == 0, "zchannel run exits 0")


if __name__ == "__main__":
    h.run("23-metrics", test, budget=90)
