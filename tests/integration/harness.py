"""Shared helpers for the zchannel integration tests.

Each test script starts the real programs on free loopback ports, talks to
them over TCP and ZeroMQ, and exits non-zero with a clear message (and the
captured stderr of every program it started) when an expectation fails.

The programs come from the environment (set by CMake):
    ZCH_BROKER, ZCH_SOURCE, ZCH_SUBSCRIBER, ZCH_LAUNCHER
and fall back to the default build tree for manual runs. ZCH_DEPLOYMENT
(procs, the default, or run) says whether system() starts the three
programs or `zchannel run` (deployment.py); CMake runs every test under both.

Only the standard library, pyzmq and msgpack are used.
"""

import atexit
import contextlib
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import msgpack
import zmq

import deployment

HOST = "127.0.0.1"
_HERE = os.path.dirname(os.path.abspath(__file__))
_BUILD = os.path.normpath(os.path.join(_HERE, "..", "..", "build"))

BROKER = os.environ.get("ZCH_BROKER", os.path.join(_BUILD, "broker", "zchannel-broker"))
SOURCE = os.environ.get("ZCH_SOURCE", os.path.join(_BUILD, "source", "zchannel-source"))
SUBSCRIBER = os.environ.get("ZCH_SUBSCRIBER",
                            os.path.join(_BUILD, "subscriber", "zchannel-subscriber"))
LAUNCHER = os.environ.get("ZCH_LAUNCHER", os.path.join(_BUILD, "launcher", "zchannel"))
#  The shipped and fixture plugins, all built into one directory
PLUGINS = os.environ.get("ZCH_PLUGINS", os.path.join(_BUILD, "plugins-out"))
#  the failure-mode plugins of tests/fixtures, kept apart from the shipped ones
FIXTURES = os.environ.get("ZCH_FIXTURES", os.path.join(_BUILD, "tests", "fixtures"))

SOURCE_GREETING = b"Welcome to Data Source Server"
SUBSCRIBER_GREETING = b"Welcome to Subscriber Server"

#  How long we wait for anything that should be quick (one reply, one line)
STEP = 10.0
#  How long a program may take to exit after SIGTERM ("within ~5 s", with
#  slack for sanitizer builds)
STOP_WAIT = 8.0

#  "procs" or "run": what system() starts (see deployment.py)
DEPLOYMENT = deployment.CURRENT
#  The exit code of a test that does not apply to this deployment
SKIPPED = 77
#  run(deployments=ONCE): a test that starts the programs it needs itself,
#  the same under either deployment, so it runs once (as ...-procs)
ONCE = ("once",)


class TestFailure(Exception):
    """An expectation of the test was not met."""


class TestSkipped(Exception):
    """The test cannot run here (a tool it needs is missing): run() reports
    SKIP with the reason and exits SKIPPED, never passes silently."""


def skip(reason):
    raise TestSkipped(reason)


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def short(data, limit=300):
    """repr() of bytes, cut to limit characters for messages."""
    r = repr(bytes(data))
    return r if len(r) <= limit else r[:limit] + "...(%d bytes)" % len(data)


# --------------------------------------------------------------------------
#  Ports and limits

_handed_out = set()


def free_port():
    """A loopback TCP port that was free a moment ago, and that this test
    has not been given before (the kernel may offer a just-closed port again,
    and two endpoints of one system must not share one)."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no fresh free port after 100 tries")


def tcp_ep(port):
    return "tcp://%s:%d" % (HOST, port)


def raise_nofile():
    """Raises RLIMIT_NOFILE's soft limit to the hard one; returns the new limit.
    Children started afterwards inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --------------------------------------------------------------------------
#  Processes

_procs = []
_procs_lock = threading.Lock()


class Proc:
    """A started program, its stderr going to a temp file."""

    def __init__(self, cmd, name=None, stdout=None, env=None):
        self.cmd = [str(c) for c in cmd]
        self.name = name or os.path.basename(self.cmd[0])
        self.errfile = tempfile.NamedTemporaryFile(
            prefix="zch-%s-" % self.name, suffix=".stderr", delete=False)
        self.errpath = self.errfile.name
        self.popen = subprocess.Popen(
            self.cmd, stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=self.errfile, env=env)
        self.pid = self.popen.pid
        self.signalled = False          # the test stopped it on purpose
        with _procs_lock:
            _procs.append(self)

    def alive(self):
        return self.popen.poll() is None

    @property
    def returncode(self):
        return self.popen.poll()

    def signal(self, sig):
        self.signalled = True
        if self.alive():
            self.popen.send_signal(sig)

    def wait(self, timeout):
        """Exit code, or None if still running after timeout seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=5.0):
        """SIGTERM, then SIGKILL after timeout. Returns the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def kill(self):
        if self.alive():
            self.popen.kill()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def stderr_text(self, limit=64 * 1024):
        try:
            with open(self.errpath, "rb") as f:
                data = f.read()
        except OSError:
            return "<stderr unavailable>"
        cut = ""
        if len(data) > limit:
            cut = "...(first %d bytes omitted)...\n" % (len(data) - limit)
            data = data[-limit:]
        return cut + data.decode("utf-8", "replace")

    def describe(self):
        rc = self.popen.poll()
        state = "running" if rc is None else "exited with %d" % rc
        return "%s (pid %d, %s): %s" % (self.name, self.pid, state, " ".join(self.cmd))


def freeze(proc):
    """SIGSTOP, then waits until every thread of proc is stopped: kill()
    wakes one thread to take the stop, and the others run on until that
    one is scheduled, which on a loaded machine takes a while."""
    proc.popen.send_signal(signal.SIGSTOP)
    deadline = time.monotonic() + STEP
    while True:
        states = set()
        for tid in os.listdir("/proc/%d/task" % proc.pid):
            try:
                with open("/proc/%d/task/%s/stat" % (proc.pid, tid)) as f:
                    states.add(f.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:       # a thread that just ended
                pass
        if states <= {"T", "t"}:
            return
        check(time.monotonic() < deadline, "%s not stopped: thread states %r" % (proc.name, states))
        time.sleep(0.01)


def start(cmd, name=None, stdout=None, env=None):
    """Starts cmd (a list); the process is killed when the test exits."""
    return Proc(cmd, name=name, stdout=stdout, env=env)


def finish_cmd(proc, what, timeout=STEP):
    """Waits for a started subprocess.Popen (stdout and stderr piped);
    returns (rc, stdout bytes, stderr bytes). Fails the test, after killing
    it, if it does not finish within timeout."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        fail("%s did not finish: stdout %r stderr %r" % (what, out, err))
    return proc.returncode, out, err


def run_cmd(cmd, timeout=STEP):
    """Runs cmd to completion; returns (rc, stdout bytes, stderr bytes).
    Fails the test if it does not finish within timeout."""
    try:
        p = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        fail("command did not finish within %.0fs: %s\nstdout: %s\nstderr: %s"
             % (timeout, " ".join(map(str, cmd)), short(e.stdout or b""),
                short(e.stderr or b"")))
    return p.returncode, p.stdout, p.stderr


def _kill_all():
    with _procs_lock:
        procs = list(_procs)
    for p in procs:
        p.kill()


def _dump_all():
    with _procs_lock:
        procs = list(_procs)
    for p in procs:
        sys.stdout.write("\n----- stderr of %s -----\n" % p.describe())
        sys.stdout.write(p.stderr_text())
        sys.stdout.write("\n----- end of stderr of %s (file %s) -----\n" % (p.name, p.errpath))
    sys.stdout.flush()


def _remove_logs():
    with _procs_lock:
        procs = list(_procs)
    for p in procs:
        try:
            os.unlink(p.errpath)
        except OSError:
            pass


atexit.register(_kill_all)


# --------------------------------------------------------------------------
#  Line-oriented TCP client

class LineClient:
    """A text-protocol client: connect with retry, send, read lines with
    timeouts. Lines are returned as bytes without the trailing LF."""

    def __init__(self, host, port, timeout=STEP, rcvbuf=None, name=None, proc=None):
        self.name = name or "client@%d" % port
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        deadline = time.monotonic() + timeout
        last = None
        while True:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf is not None:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                s.connect((host, port))
                break
            except OSError as e:
                last = e
                s.close()
                if proc is not None and not proc.alive():
                    fail("%s: cannot connect to %s:%d, %s" % (self.name, host, port,
                                                              proc.describe()))
                if time.monotonic() >= deadline:
                    fail("%s: cannot connect to %s:%d within %.0fs: %s"
                         % (self.name, host, port, timeout, last))
                time.sleep(0.05)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(None)
        self.sock = s

    def fileno(self):
        return self.sock.fileno()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def sendline(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\n")

    def pump(self, timeout):
        """Waits up to timeout for bytes and appends them to the buffer.
        Returns the number of bytes read (0 on timeout or EOF)."""
        if self.eof:
            return 0
        p = select.poll()
        p.register(self.sock.fileno(), select.POLLIN)
        if not p.poll(max(0.0, timeout) * 1000):
            return 0
        try:
            data = self.sock.recv(1 << 20)
        except ConnectionResetError:
            self.eof = True
            self.reset = True
            return 0
        if not data:
            self.eof = True
            return 0
        self.buf += data
        return len(data)

    def take_line(self):
        """A complete buffered line, or None."""
        i = self.buf.find(b"\n")
        if i < 0:
            return None
        line = bytes(self.buf[:i])
        del self.buf[:i + 1]
        return line

    def readline(self, timeout=STEP, what="a line"):
        """The next line; fails on timeout or EOF."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.take_line()
            if line is not None:
                return line
            if self.eof:
                fail("%s: connection closed%s while waiting for %s; unterminated rest: %s"
                     % (self.name, " (reset)" if self.reset else "", what, short(self.buf)))
            left = deadline - time.monotonic()
            if left <= 0:
                fail("%s: no complete line within %.1fs while waiting for %s; buffered: %s"
                     % (self.name, timeout, what, short(self.buf)))
            self.pump(left)

    def expect(self, expected, timeout=STEP, what=None):
        """Reads one line and fails unless it equals expected; b"+OK" also
        takes a +OK with details (a publisher confirm, `+OK <topic> <seq>
        <epoch>`; expect_confirm checks those)."""
        if isinstance(expected, str):
            expected = expected.encode()
        line = self.readline(timeout, what or repr(expected))
        if line != expected and not (expected == b"+OK" and is_ok(line)):
            fail("%s: expected %r%s, got %r" % (self.name, expected,
                                               " (%s)" % what if what else "", line))
        return line

    def read_lines(self, n, timeout=STEP, what=None):
        """Exactly n lines."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            line = self.take_line()
            if line is not None:
                out.append(line)
                continue
            if self.eof:
                fail("%s: connection closed after %d of %d lines (%s); last lines %r"
                     % (self.name, len(out), n, what or "lines", out[-3:]))
            left = deadline - time.monotonic()
            if left <= 0:
                fail("%s: got %d of %d lines (%s) within %.0fs; last lines %r; buffered %s"
                     % (self.name, len(out), n, what or "lines", timeout, out[-3:],
                        short(self.buf)))
            self.pump(left)
        return out

    def read_some(self, n, timeout=STEP):
        """Up to n lines, stopping early at timeout or EOF, never failing:
        for tests that analyse a short stream before reporting it.
        Returns (lines, why) where why is None when all n arrived."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            line = self.take_line()
            if line is not None:
                out.append(line)
                continue
            if self.eof:
                return out, "connection closed%s" % (" (reset)" if self.reset else "")
            left = deadline - time.monotonic()
            if left <= 0:
                return out, "timed out after %.0fs (buffered %s)" % (timeout, short(self.buf))
            self.pump(left)
        return out, None

    def read_until(self, pred, timeout=STEP, what="the expected line"):
        """Lines up to and including the first one for which pred is true."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.take_line()
            if line is not None:
                out.append(line)
                if pred(line):
                    return out
                continue
            if self.eof:
                fail("%s: connection closed before %s; %d lines before it, last %r"
                     % (self.name, what, len(out), out[-3:]))
            left = deadline - time.monotonic()
            if left <= 0:
                fail("%s: no %s within %.0fs; %d lines read, last %r; buffered %s"
                     % (self.name, what, timeout, len(out), out[-3:], short(self.buf)))
            self.pump(left)

    def read_to_eof(self, timeout=STEP, what="end of stream"):
        """All remaining bytes up to EOF (buffered ones included)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("%s: connection not closed within %.0fs (%s); %d bytes read, tail %s"
                     % (self.name, timeout, what, len(self.buf), short(self.buf[-200:])))
            self.pump(left)
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def quiet(self, wait):
        """True if no bytes arrive within wait seconds (a negative check:
        only for things that cannot be observed any other way)."""
        if self.buf:
            return False
        self.pump(wait)
        return not self.buf and not self.eof

    def ping(self, timeout=STEP):
        """PING, then lines up to PONG; returns the lines before PONG."""
        self.sendline("PING")
        lines = self.read_until(lambda l: l == b"PONG", timeout, "PONG")
        return lines[:-1]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def read_many(clients, counts, timeout, what="lines"):
    """Reads from several clients at once until client i has counts[i] lines.
    Returns a list of line lists."""
    got = [[] for _ in clients]
    deadline = time.monotonic() + timeout
    pending = {c.fileno(): i for i, c in enumerate(clients) if counts[i] > 0}
    while pending:
        for fd, i in list(pending.items()):
            c = clients[i]
            while len(got[i]) < counts[i]:
                line = c.take_line()
                if line is None:
                    break
                got[i].append(line)
            if len(got[i]) >= counts[i]:
                del pending[fd]
            elif c.eof:
                fail("%s: connection closed after %d of %d %s; last %r"
                     % (c.name, len(got[i]), counts[i], what, got[i][-3:]))
        if not pending:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            worst = sorted(((len(got[i]), clients[i].name) for i in pending.values()))[:5]
            fail("timed out after %.0fs reading %s: %d clients incomplete, e.g. %s (of %s)"
                 % (timeout, what, len(pending), worst, counts[next(iter(pending.values()))]))
        p = select.poll()
        for fd in pending:
            p.register(fd, select.POLLIN)
        for fd, _ in p.poll(min(left, 1.0) * 1000):
            clients[pending[fd]].pump(0)
    return got


# --------------------------------------------------------------------------
#  Text protocol helpers

def msg_line(topic, seq, payload):
    """The delivery line the subscriber writes for one message."""
    if isinstance(topic, str):
        topic = topic.encode()
    if isinstance(payload, str):
        payload = payload.encode()
    return b"MSG %s %d %s" % (topic, seq, escape(payload))


def unescape(payload):
    """The payload bytes of a MSG line's escaped payload."""
    out, i = bytearray(), 0
    while i < len(payload):
        c = payload[i:i + 1]
        if c == b"\\" and i + 1 < len(payload):
            out += {b"n": b"\n", b"r": b"\r", b"\\": b"\\"}.get(payload[i + 1:i + 2],
                                                                   payload[i + 1:i + 2])
            i += 2
        else:
            out += c
            i += 1
    return bytes(out)


def broker_delivery(program, args, topic, payload, what):
    """Runs program (a broker) with args on free ports, publishes payload
    on topic until a raw egress subscriber gets a message, stops the
    broker (which must exit 0) and returns that message as (topic, meta
    as a dict, payload)."""
    for attempt in range(3):
        # a port taken between free_port() and the bind: try new ones
        ingress, egress, control = (tcp_ep(free_port()) for _ in range(3))
        broker = start([program, "--ingress", ingress, "--egress", egress, "--control", control]
                       + args, name=what)
        if broker.wait(0.3) is None or attempt == 2:
            break
    wait_broker(control, broker)
    sub = zsocket(zmq.SUB, egress)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    pub = zsocket(zmq.PUB, ingress)
    deadline = time.monotonic() + STEP
    got = None
    # PUB/SUB joins take a moment: publish until the first delivery
    while got is None:
        check(time.monotonic() < deadline, "no delivery from the %s" % what)
        pub.send_multipart([topic, payload])
        if sub.poll(100):
            got = sub.recv_multipart()
    check(broker.stop() == 0, "%s exits 0" % what)
    pub.close()
    sub.close()
    return got[0], msgpack.unpackb(got[1], raw=False), got[2]


def plugin_args(*specs, flag="--plugin"):
    """Command-line flags for a chain of plugins found in PLUGINS or FIXTURES."""
    args = ["--plugin-path", PLUGINS, "--plugin-path", FIXTURES]
    for spec in specs:
        args += [flag, spec]
    return args


def wait_stderr(proc, text, timeout=STEP, start=0):
    """Waits until proc's stderr (from byte offset start) contains text;
    returns the offset just past it."""
    deadline = time.monotonic() + timeout
    needle = text.encode() if isinstance(text, str) else text
    while True:
        try:
            with open(proc.errpath, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        at = data.find(needle, start)
        if at >= 0:
            return at + len(needle)
        if time.monotonic() >= deadline:
            fail("%s: %r not in its log within %.0fs" % (proc.name, text, timeout))
        time.sleep(0.02)


def escape(payload):
    return payload.replace(b"\\", b"\\\\").replace(b"\r", b"\\r").replace(b"\n", b"\\n")


def parse_msg(line):
    """(topic, seq, escaped payload) of a MSG line, or None."""
    if not line.startswith(b"MSG "):
        return None
    parts = line.split(b" ", 3)
    if len(parts) < 4:
        if len(parts) == 3:
            parts.append(b"")
        else:
            return None
    try:
        seq = int(parts[2])
    except ValueError:
        return None
    return parts[1], seq, parts[3]


def epoch_text(epoch):
    """An epoch (meta "ep", STATS "epoch") as clients write it: base 36."""
    digits = b"0123456789abcdefghijklmnopqrstuvwxyz"
    out = b""
    while True:
        out = digits[epoch % 36:epoch % 36 + 1] + out
        epoch //= 36
        if not epoch:
            return out


def is_ok(line):
    """True for +OK, with or without details (a publisher confirm)."""
    return line == b"+OK" or line.startswith(b"+OK ")


def expect_confirm(client, topic, seq=None, timeout=STEP, what=None):
    """Reads a VERBOSE publisher's confirm, `+OK <topic> <seq> <epoch>`;
    checks topic (and seq when given); returns (seq, epoch)."""
    line = client.readline(timeout, what or "confirm of a PUB to %s" % topic)
    parts = line.split(b" ")
    topic = topic.encode() if isinstance(topic, str) else topic
    check(len(parts) == 4 and parts[0] == b"+OK" and parts[1] == topic and parts[2].isdigit()
          and (seq is None or int(parts[2]) == seq) and parts[3].isalnum(),
          "%s: expected +OK %s %s <epoch>, got %r" % (client.name, topic.decode(),
                                                      "<seq>" if seq is None else seq, line))
    return int(parts[2]), parts[3]


def subscribe(client, pattern, timeout=STEP):
    client.sendline(b"SUB " + (pattern.encode() if isinstance(pattern, str) else pattern))
    client.expect(b"+OK", timeout, "reply to SUB %s" % pattern)


def compare_lines(name, got, expected):
    """Fails with the first difference between two line lists."""
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            fail("%s: line %d differs: expected %r, got %r (previous %r)"
                 % (name, i, e, g, got[i - 1] if i else None))
    if len(got) != len(expected):
        fail("%s: expected %d lines, got %d; extra/missing around %r"
             % (name, len(expected), len(got),
                (got[len(expected):len(expected) + 3] if len(got) > len(expected)
                 else expected[len(got):len(got) + 3])))


# --------------------------------------------------------------------------
#  ZeroMQ helpers

_ctx = None


def ctx():
    global _ctx
    if _ctx is None:
        _ctx = zmq.Context()
    return _ctx


def zsocket(kind, endpoint=None, bind=False):
    s = ctx().socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    if endpoint:
        if bind:
            s.bind(endpoint)
        else:
            s.connect(endpoint)
    return s


def control_request(control, frames, timeout=STEP):
    """Sends one request to the broker's control port; returns the reply frames."""
    s = zsocket(zmq.DEALER, control)
    try:
        s.send_multipart(frames)
        if not s.poll(int(timeout * 1000)):
            fail("broker control %s: no reply to %r within %.0fs" % (control, frames, timeout))
        return s.recv_multipart()
    finally:
        s.close()


def _keys_to_str(obj):
    if isinstance(obj, dict):
        return {(k.decode() if isinstance(k, bytes) else k): _keys_to_str(v)
                for k, v in obj.items()}
    return obj


def broker_stats(control, timeout=STEP):
    reply = control_request(control, [b"STATS"], timeout)
    check(len(reply) == 2 and reply[0] == b"STATS",
          "broker STATS: expected [b'STATS', map], got %r" % reply)
    try:
        stats = msgpack.unpackb(reply[1], raw=False, strict_map_key=False)
    except Exception as e:
        fail("broker STATS: map does not decode: %s (%s)" % (e, short(reply[1])))
    check(isinstance(stats, dict), "broker STATS: not a map: %r" % (stats,))
    return _keys_to_str(stats)


def wait_broker(control, proc=None, timeout=STEP):
    """Polls PING on the control port until PONG."""
    s = zsocket(zmq.DEALER, control)
    deadline = time.monotonic() + timeout
    try:
        while True:
            s.send(b"PING")
            if s.poll(200):
                reply = s.recv_multipart()
                check(reply == [b"PONG"], "broker control: PING answered %r" % reply)
                return
            if proc is not None and not proc.alive():
                fail("broker did not start: %s" % proc.describe())
            if time.monotonic() >= deadline:
                fail("broker control %s: no PONG within %.0fs" % (control, timeout))
    finally:
        s.close()


def wait_frontend(port, greeting, proc=None, timeout=STEP, name="front-end"):
    """Connects until the greeting arrives; returns the connected client."""
    c = LineClient(HOST, port, timeout=timeout, name=name, proc=proc)
    c.expect(greeting, timeout, "greeting")
    return c


# --------------------------------------------------------------------------
#  A whole system

class System:
    """Addresses and processes of a running broker + source + subscriber."""

    host = HOST

    def source_client(self, name="publisher", greeting=SOURCE_GREETING, **kw):
        c = LineClient(HOST, self.source_port, name=name, proc=self.source, **kw)
        c.expect(greeting, STEP, "source greeting")
        return c

    def sub_client(self, name="subscriber", greeting=SUBSCRIBER_GREETING, **kw):
        c = LineClient(HOST, self.sub_port, name=name, proc=self.subscriber, **kw)
        c.expect(greeting, STEP, "subscriber greeting")
        return c

    def stats(self):
        return broker_stats(self.control)

    def procs(self):
        """The processes, each once (zchannel run is all three roles)."""
        out = []
        for p in (self.subscriber, self.source, self.broker):
            if p is not None and p not in out:
                out.append(p)
        return out

    def check_alive(self):
        for p in self.procs():
            if not p.alive() and not p.signalled:
                fail("%s exited unexpectedly: %s" % (p.name, p.describe()))


def _start_procs(S, started, common, broker_args, source_args, sub_args):
    S.broker = start([BROKER, "--ingress", S.ingress, "--egress", S.egress,
                      "--control", S.control] + list(broker_args), name="broker")
    started.append(S.broker)
    wait_broker(S.control, S.broker)
    S.source = start([SOURCE, "--listen", "%s:%d" % (HOST, S.source_port),
                      "--broker", S.ingress, "--control", S.control] + common + list(source_args),
                     name="source")
    started.append(S.source)
    S.subscriber = start([SUBSCRIBER, "--listen", "%s:%d" % (HOST, S.sub_port),
                          "--broker", S.egress, "--control", S.control] + common + list(sub_args),
                         name="subscriber")
    started.append(S.subscriber)


#  zchannel run with the same settings: one process plays all three roles
def _start_run(S, started, common, broker_args, source_args, sub_args):
    try:
        args, aliases = deployment.run_args(LAUNCHER, {
            "broker": ["--ingress", S.ingress, "--egress", S.egress, "--control", S.control]
                      + list(broker_args),
            "source": ["--listen", "%s:%d" % (HOST, S.source_port)] + common + list(source_args),
            "subscriber": ["--listen", "%s:%d" % (HOST, S.sub_port)] + common + list(sub_args)})
    except deployment.Untranslatable as e:
        fail("these settings do not fit one zchannel run (declare the test's deployment "
             "in run()): %s" % e)
    S.broker = S.source = S.subscriber = start([LAUNCHER, "run"] + args, name="zchannel-run")
    started.append(S.broker)
    wait_broker(S.control, S.broker)
    for listen, target in aliases:
        deployment.forward(listen, target)


def _start_system(started, workers, profile, broker_args, source_args, sub_args):
    S = System()
    S.deployment = DEPLOYMENT
    S.source_port, S.sub_port = free_port(), free_port()
    S.ingress, S.egress, S.control = (tcp_ep(free_port()) for _ in range(3))
    S.broker = S.source = S.subscriber = None
    common = []
    if workers is not None:
        common += ["--workers", str(workers)]
    if profile is not None:
        common += ["--profile", profile]
    starter = _start_run if DEPLOYMENT == "run" else _start_procs
    starter(S, started, common, broker_args, source_args, sub_args)
    wait_frontend(S.source_port, SOURCE_GREETING, S.source, name="source-ready").close()
    wait_frontend(S.sub_port, SUBSCRIBER_GREETING, S.subscriber, name="subscriber-ready").close()
    return S


@contextlib.contextmanager
def system(workers=None, profile=None, broker_args=(), source_args=(), sub_args=()):
    """Starts broker, source and subscriber on fresh ports and yields a System:
    three processes, or one `zchannel run` (S.broker, S.source and
    S.subscriber are then the same process), as DEPLOYMENT says. Retries with new ports if a program could not start (a port taken between
    our check and its bind). On exit, fails if any program died meanwhile,
    then stops them with SIGTERM and fails unless each exits 0 promptly."""
    S = None
    for attempt in range(3):
        started = []
        try:
            S = _start_system(started, workers, profile, broker_args, source_args, sub_args)
            break
        except TestFailure:
            died = [p for p in started if not p.alive()]
            for p in started:
                p.kill()
            if attempt == 2 or not died:
                raise
            sys.stdout.write("note: a program did not start (%s); retrying on new ports\n"
                             % "; ".join(p.describe() for p in died))
    ok = False
    try:
        yield S
        ok = True
    finally:
        dead = [p for p in S.procs() if not p.alive() and not p.signalled]
        unclean = []
        for p in S.procs():
            if p.alive():
                t0 = time.monotonic()
                p.signal(signal.SIGTERM)
                rc = p.wait(STOP_WAIT)
                if rc != 0:
                    unclean.append("%s: %s after SIGTERM (%.1fs)" % (
                        p.name, "still running" if rc is None else "exit code %d" % rc,
                        time.monotonic() - t0))
                p.kill()
        if ok and dead:
            fail("; ".join("%s exited unexpectedly during the test: %s" % (p.name, p.describe())
                           for p in dead))
        if ok and unclean:
            fail("unclean shutdown at the end of the test (expected exit 0 within %.0fs of "
                 "SIGTERM): %s" % (STOP_WAIT, "; ".join(unclean)))


# --------------------------------------------------------------------------
#  Test runner

def _on_alarm(signum, frame):
    raise TestFailure("test exceeded its time budget (watchdog)")


def _on_term(signum, frame):
    raise TestFailure("test interrupted by signal %d" % signum)


def run(name, fn, budget=50, deployments=deployment.ALL):
    """Runs fn() (which returns a one-line summary) with a watchdog of budget
    seconds; prints PASS/FAIL and exits accordingly. A test that is about one
    deployment only (it kills one role's process, or starts the programs
    itself) names it in deployments, and is skipped under the other."""
    if deployments == ONCE and DEPLOYMENT != "procs":
        print("SKIP %s [%s]: starts what it needs itself, runs once (as procs)" % (name, DEPLOYMENT))
        sys.stdout.flush()
        os._exit(SKIPPED)
    if deployments != ONCE and DEPLOYMENT not in deployments:
        print("SKIP %s [%s]: a test of %s only" % (name, DEPLOYMENT, " and ".join(deployments)))
        sys.stdout.flush()
        os._exit(SKIPPED)
    name = "%s [%s]" % (name, DEPLOYMENT)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    signal.alarm(int(budget))
    t0 = time.monotonic()
    for path in (BROKER, SOURCE, SUBSCRIBER, LAUNCHER):
        if not os.access(path, os.X_OK):
            print("FAIL %s: program not found or not executable: %s" % (name, path))
            sys.exit(1)
    try:
        summary = fn()
    except TestSkipped as e:
        signal.alarm(0)
        print("SKIP %s: %s" % (name, e))
        _kill_all()
        _remove_logs()
        sys.stdout.flush()
        os._exit(SKIPPED)
    except BaseException as e:  # noqa: includes TestFailure, KeyboardInterrupt
        signal.alarm(0)
        if isinstance(e, TestFailure):
            print("FAIL %s: %s" % (name, e))
        else:
            print("FAIL %s: unexpected %s: %s" % (name, type(e).__name__, e))
        traceback.print_exc(file=sys.stdout)
        _kill_all()
        _dump_all()
        sys.stdout.flush()
        os._exit(1)
    signal.alarm(0)
    _kill_all()
    _remove_logs()
    print("PASS %s: %s (%.1fs)" % (name, summary, time.monotonic() - t0))
    sys.stdout.flush()
    os._exit(0)
