#!/usr/bin/python3
"""The SDK out of tree: `cmake --install` into a temporary prefix, build the
example from plugins/README.md (which must be plugins/uppercase/uppercase.c,
so the guide cannot drift) with cc $(pkg-config --cflags zchannel-plugin),
and load it, with an installed shipped plugin behind it, in the installed
broker on real traffic."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import msgpack
import zmq

import harness as h

TOP = os.environ.get("ZCH_TOP", os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("ZCH_BUILD", os.path.join(TOP, "build"))


def test():
    readme = open(os.path.join(TOP, "plugins", "README.md")).read()
    blocks = re.findall(r"```c\n(.*?)```", readme, re.S)
    h.check(blocks, "plugins/README.md has a C example")
    example = blocks[0]
    shipped = open(os.path.join(TOP, "plugins", "uppercase", "uppercase.c")).read()
    h.check(example == shipped, "the README example is plugins/uppercase/uppercase.c verbatim")

    prefix = tempfile.mkdtemp(prefix="zch-prefix-")
    try:
        rc, out, err = h.run_cmd(["cmake", "--install", BUILD, "--prefix", prefix], timeout=60)
        h.check(rc == 0, "cmake --install: %s" % err.decode(errors="replace"))
        pcs = glob.glob(os.path.join(prefix, "**", "zchannel-plugin.pc"), recursive=True)
        h.check(len(pcs) == 1, "one zchannel-plugin.pc installed: %r" % pcs)
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
        cflags = subprocess.run(["pkg-config", "--cflags", "zchannel-plugin"], env=env,
                                stdout=subprocess.PIPE, check=True).stdout.decode().split()
        h.check(any(os.path.realpath(f[2:]) == os.path.realpath(os.path.join(prefix, "include"))
                    for f in cflags if f.startswith("-I")),
                "pkg-config points into the prefix: %r" % cflags)
        work = os.path.join(prefix, "oot")
        os.mkdir(work)
        with open(os.path.join(work, "shout.c"), "w") as f:
            f.write(example)
        rc, out, err = h.run_cmd(["cc"] + cflags + ["-std=c11", "-Wall", "-Wextra", "-Werror",
                                                    "-shared", "-o", os.path.join(work, "zch_shout.so"),
                                                    os.path.join(work, "shout.c")], timeout=60)
        h.check(rc == 0, "out-of-tree build: %s" % err.decode(errors="replace"))
        installed = glob.glob(os.path.join(prefix, "**", "zch_json_wrap.so"), recursive=True)
        h.check(len(installed) == 1, "json_wrap installed: %r" % installed)

        for attempt in range(3):
            # a port taken between free_port() and the bind: try new ones
            ingress, egress, control = (h.tcp_ep(h.free_port()) for _ in range(3))
            broker = h.start([os.path.join(prefix, "bin", "zchannel-broker"), "--ingress", ingress,
                              "--egress", egress, "--control", control,
                              "--plugin-path", work, "--plugin-path", os.path.dirname(installed[0]),
                              "--plugin", "shout@oot.>", "--plugin", "json_wrap@oot.>"],
                             name="installed-broker")
            if broker.wait(0.3) is None or attempt == 2:
                break
        h.wait_broker(control, broker)
        sub = h.zsocket(zmq.SUB, egress)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        pub = h.zsocket(zmq.PUB, ingress)
        deadline = time.monotonic() + h.STEP
        got = None
        # PUB/SUB joins take a moment: publish until the first delivery
        while got is None:
            h.check(time.monotonic() < deadline, "no delivery from the installed broker")
            pub.send_multipart([b"oot.t", b"hello sdk"])
            if sub.poll(100):
                got = sub.recv_multipart()
        topic, meta, payload = got
        meta = msgpack.unpackb(meta, raw=False)
        h.check(topic == b"oot.t", "topic %r" % topic)
        h.check(payload == b'{"topic":"oot.t","seq":%d,"ts":%d,"payload":"HELLO SDK"}'
                % (meta["seq"], meta["ts"]), "shout then json_wrap: %r (meta %r)" % (payload, meta))
        h.check(broker.stop() == 0, "installed broker exits 0")
        pub.close()
        sub.close()
    finally:
        shutil.rmtree(prefix)
    return "installed SDK, README example built out of tree and loaded"


if __name__ == "__main__":
    h.run("20-plugin-sdk", test, budget=100)
