#!/usr/bin/python3
"""publishLoop on the channel protocol across two subscriber front-ends:
Workerman Channel\\Client subscribers of one channel, one on each
front-end, take turns (20 messages: 10 each, every one exactly once);
ordinary subscribers of the channel's topic do not see them; with no
subscriber left nothing is delivered and the broker says so."""

import os
import time

import channel as ch
import harness as h

N = 20


def test():
    ch.require_php("55-channel-loop")
    relay = h.tcp_ep(h.free_port())
    port1, port2 = h.free_port(), h.free_port()
    with h.system(source_args=["--relay-listen", relay],
                  sub_args=["--channel-listen", "%s:%d" % (h.HOST, port1), "--relay", relay]) as S:
        sub2_port = h.free_port()
        other = h.start([h.SUBSCRIBER, "--listen", "%s:%d" % (h.HOST, sub2_port), "--broker", S.egress,
                         "--control", S.control, "--channel-listen", "%s:%d" % (h.HOST, port2),
                         "--relay", relay], name="subscriber-2")
        h.wait_frontend(sub2_port, h.SUBSCRIBER_GREETING, other, name="subscriber-2-ready").close()
        text = S.sub_client("ordinary")
        h.subscribe(text, "loop.t")

        subs = [ch.php_client(port, "sub", "loop.t", N // 2, name="php-sub-%d" % i)
                for i, port in enumerate((port1, port2))]
        for sub in subs:
            ch.wait_started(sub)
        time.sleep(1.5)                 # both subscriptions live
        pub = ch.ChannelClient(port1, name="looper", proc=S.subscriber)
        for i in range(N):
            pub.send("publishLoop", ["loop.t"], "L%d" % i)
        got = [ch.finish(sub) for sub in subs]
        for i, lines in enumerate(got):
            h.check(len(lines) == N // 2 and all(l.startswith("loop.t L") for l in lines),
                    "PHP subscriber %d printed %r" % (i, lines))
        union = sorted(l for lines in got for l in lines)
        h.check(union == sorted("loop.t L%d" % i for i in range(N)),
                "the two subscribers' shares are not every message once: %r" % union)
        text.sendline("PING")
        line = text.readline(what="PONG")
        h.check(line == b"PONG", "the ordinary subscriber saw a publishLoop message: %r" % line)

        # nobody follows the channel any more: nothing to deliver, said in the log
        mark = os.path.getsize(S.broker.errpath)
        pub.send("publishLoop", ["loop.t"], "to nobody")
        h.wait_stderr(S.broker, "no member of queue group $loop", start=mark)
        S.check_alive()
        h.check(other.alive(), "the second subscriber died: %s" % other.describe())
        other.stop()
    return "%d publishLoop messages shared 10/10 by PHP subscribers on two front-ends" % N


if __name__ == "__main__":
    h.run("55-channel-loop", test, budget=120, deployments=("procs",))
