"""Hosts for multi-host tests: Linux network namespaces on one bridge.

Hosts(names) makes one namespace per host plus one holding a bridge, joins
each host to the bridge with a veth pair and gives it 198.18.0.<n>/24 (an
address range that exists only inside these namespaces), then removes all
of it again on exit, on failure too: the processes started inside are
killed first (by the pids `ip netns pids` names, all of them the test's
own), then the namespaces go, taking their links with them. Everything is
bounded in time. Needs root and `ip` (iproute2); skip() says when a
namespace cannot be made."""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

import harness as h

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _ip(*args, check=True):
    p = subprocess.run(["ip"] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    if check and p.returncode != 0:
        h.fail("ip %s: %s" % (" ".join(map(str, args)), p.stderr.decode().strip()))
    return p


def skip_unless_possible(name):
    """Exits with the skip code, saying why, when namespaces cannot be made."""
    if os.geteuid() != 0:
        print("SKIP %s: network namespaces need root" % name)
        sys.exit(77)
    probe = "zchprobe%d" % os.getpid()
    try:
        p = _ip("netns", "add", probe, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        print("SKIP %s: cannot run ip (iproute2): %s" % (name, e))
        sys.exit(77)
    if p.returncode != 0:
        print("SKIP %s: cannot make a network namespace: %s" % (name, p.stderr.decode().strip()))
        sys.exit(77)
    _ip("netns", "del", probe, check=False)


class Hosts:
    def __init__(self, names):
        self.prefix = "zch%d" % os.getpid()
        self.names = list(names)
        self.address = {n: "198.18.0.%d" % (i + 1) for i, n in enumerate(self.names)}
        self.made = []

    def ns(self, host):
        return "%s%s" % (self.prefix, host)

    def __enter__(self):
        try:
            bridge = self.ns("bridge")
            _ip("netns", "add", bridge)
            self.made.append(bridge)
            _ip("-n", bridge, "link", "add", "br0", "type", "bridge")
            _ip("-n", bridge, "link", "set", "br0", "up")
            for host in self.names:
                ns = self.ns(host)
                _ip("netns", "add", ns)
                self.made.append(ns)
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", bridge, "link", "add", "v" + host, "type", "veth", "peer", "name", "eth0",
                    "netns", ns)
                _ip("-n", bridge, "link", "set", "v" + host, "master", "br0", "up")
                _ip("-n", ns, "addr", "add", self.address[host] + "/24", "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def remove(self):
        for ns in reversed(self.made):
            pids = _ip("netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            deadline = time.monotonic() + 5
            while _ip("netns", "pids", ns, check=False).stdout.split() and time.monotonic() < deadline:
                time.sleep(0.05)
            _ip("netns", "del", ns, check=False)
        self.made = []

    def link(self, host, up):
        """Connects host to the bridge or cuts it off (a partition)."""
        _ip("-n", self.ns("bridge"), "link", "set", "v" + host, "up" if up else "down")

    def start(self, host, cmd, name):
        return h.start(["ip", "netns", "exec", self.ns(host)] + list(cmd), name=name)

    @contextlib.contextmanager
    def inside(self, host):
        """Sockets made in this block (and threads started) belong to host."""
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/" + self.ns(host), os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                h.fail("setns into %s: %s" % (host, os.strerror(ctypes.get_errno())))
            yield
        finally:
            _libc.setns(home, CLONE_NEWNET)
            os.close(target)
            os.close(home)
