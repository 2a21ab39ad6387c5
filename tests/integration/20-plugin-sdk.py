#!/usr/bin/python3
"""The SDK out of tree: `cmake --install` into a temporary prefix, build the
example from plugins/README.md (which must be plugins/uppercase/uppercase.c,
so the guide cannot drift) with cc $(pkg-config --cflags zchannel-plugin),
first against the build tree's zchannel-plugin.pc before any install, then
against the installed one, and load each, with a shipped plugin found by
name behind it, in the build tree's and in the installed broker on real
traffic."""

import glob
import os
import re
import shutil
import subprocess
import tempfile


import harness as h

TOP = os.environ.get("ZCH_TOP", os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("ZCH_BUILD", os.path.join(TOP, "build"))


def build_example(example, pc_dir, include_dir, work):
    """Builds the README example as zch_shout.so in work with the cflags
    pkg-config gives from pc_dir, which must point at include_dir."""
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
    cflags = subprocess.run(["pkg-config", "--cflags", "zchannel-plugin"], env=env,
                            stdout=subprocess.PIPE, check=True).stdout.decode().split()
    h.check(any(os.path.realpath(f[2:]) == os.path.realpath(include_dir)
                for f in cflags if f.startswith("-I")),
            "pkg-config from %s points at %s: %r" % (pc_dir, include_dir, cflags))
    with open(os.path.join(work, "shout.c"), "w") as f:
        f.write(example)
    rc, out, err = h.run_cmd(["cc"] + cflags + ["-std=c11", "-fPIC", "-Wall", "-Wextra", "-Werror",
                                                "-shared", "-o", os.path.join(work, "zch_shout.so"),
                                                os.path.join(work, "shout.c")], timeout=60)
    h.check(rc == 0, "out-of-tree build: %s" % err.decode(errors="replace"))


def check_chain(program, args, what):
    """Runs program (a broker) with args and checks that a message on
    oot.t goes through shout then json_wrap."""
    topic, meta, payload = h.broker_delivery(program, args, b"oot.t", b"hello sdk", what)
    h.check(topic == b"oot.t", "topic %r" % topic)
    h.check(payload == b'{"topic":"oot.t","seq":%d,"ts":%d,"payload":"HELLO SDK"}'
            % (meta["seq"], meta["ts"]), "%s: shout then json_wrap: %r (meta %r)"
            % (what, payload, meta))


def test():
    readme = open(os.path.join(TOP, "plugins", "README.md")).read()
    blocks = re.findall(r"```c\n(.*?)```", readme, re.S)
    h.check(blocks, "plugins/README.md has a C example")
    example = blocks[0]
    shipped = open(os.path.join(TOP, "plugins", "uppercase", "uppercase.c")).read()
    h.check(example == shipped, "the README example is plugins/uppercase/uppercase.c verbatim")
    chain = ["--plugin", "shout@oot.>", "--plugin", "json_wrap@oot.>"]

    prefix = tempfile.mkdtemp(prefix="zch-prefix-")
    try:
        # before any install: against the build tree's .pc, in the build's broker
        tree = os.path.join(prefix, "tree")
        os.mkdir(tree)
        build_example(example, os.path.join(BUILD, "pkgconfig"),
                      os.path.join(TOP, "plugins", "include"), tree)
        check_chain(h.BROKER, ["--plugin-path", tree] + chain, "build-tree broker")

        rc, out, err = h.run_cmd(["cmake", "--install", BUILD, "--prefix", prefix], timeout=60)
        h.check(rc == 0, "cmake --install: %s" % err.decode(errors="replace"))
        pcs = glob.glob(os.path.join(prefix, "**", "zchannel-plugin.pc"), recursive=True)
        h.check(len(pcs) == 1, "one zchannel-plugin.pc installed: %r" % pcs)
        work = os.path.join(prefix, "oot")
        os.mkdir(work)
        build_example(example, os.path.dirname(pcs[0]), os.path.join(prefix, "include"), work)
        installed = glob.glob(os.path.join(prefix, "**", "zch_json_wrap.so"), recursive=True)
        h.check(len(installed) == 1, "json_wrap installed: %r" % installed)
        # json_wrap by name, found beside the installed program
        check_chain(os.path.join(prefix, "bin", "zchannel-broker"), ["--plugin-path", work] + chain,
                    "installed broker")
    finally:
        shutil.rmtree(prefix)
    return ("README example built against the build tree and against an install, each loaded "
            "with json_wrap found by name")


if __name__ == "__main__":
    # starts the programs it needs itself: runs once
    h.run("20-plugin-sdk", test, budget=100, deployments=h.ONCE)
