"""walkor/channel's protocol for the integration tests: a Python client
(a 4-byte big-endian length that counts itself, then PHP serialize()), a
small serialize()/unserialize() for plain values, and the real PHP peers
(Workerman's Channel\\Client and the original Channel\\Server) run from
../shared/peers as users run them."""

import os
import shutil
import struct
import subprocess
import time

import frames
import harness as h


# --------------------------------------------------------------------------
#  PHP serialize() for str, bytes, int, float, bool, None, list and dict

def serialize(value):
    if value is None:
        return b"N;"
    if isinstance(value, bool):
        return b"b:%d;" % int(value)
    if isinstance(value, int):
        return b"i:%d;" % value
    if isinstance(value, float):
        return b"d:" + repr(value).encode() + b";"
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b's:%d:"' % len(value) + value + b'";'
    items = enumerate(value) if isinstance(value, list) else value.items()
    body = b"".join(serialize(k) + serialize(v) for k, v in items)
    return b"a:%d:{" % len(value) + body + b"}"


def unserialize(data):
    """Plain values only; PHP arrays become dicts (str for valid UTF-8)."""
    value, pos = _read(data, 0)
    h.check(pos == len(data), "unserialize: trailing bytes in %s" % h.short(data))
    return value


def _read(data, pos):
    tag = data[pos:pos + 1]
    if tag == b"N":
        return None, pos + 2
    end = data.index(b";" if tag in b"bid" else b":", pos + 2)
    number = data[pos + 2:end]
    if tag == b"b":
        return number == b"1", end + 1
    if tag == b"i":
        return int(number), end + 1
    if tag == b"d":
        return float(number), end + 1
    if tag == b"s":
        size = int(number)
        raw = data[end + 2:end + 2 + size]
        try:
            return raw.decode(), end + 4 + size
        except UnicodeDecodeError:
            return raw, end + 4 + size
    h.check(tag == b"a", "unserialize: unexpected %r in %s" % (tag, h.short(data)))
    count, pos, result = int(number), end + 2, {}
    for _ in range(count):
        key, pos = _read(data, pos)
        result[key], pos = _read(data, pos)
    return result, pos + 1


def frame(body):
    return struct.pack(">I", len(body) + 4) + body


def request(kind, channels=None, data=None, with_data=True):
    fields = {"type": kind}
    if channels is not None:
        fields["channels"] = list(channels)
    if with_data and kind in ("publish", "publishLoop", "enqueue"):
        fields["data"] = data
    return frame(serialize(fields))


class ChannelClient(frames.FrameClient):
    """A connection to a channel port; reads events as dicts."""

    def send(self, kind, channels=None, data=None):
        self.sock.sendall(request(kind, channels, data))

    def ping(self):
        self.sock.sendall(frame(b""))

    def take(self):
        if len(self.buf) < 4:
            return None
        size = struct.unpack(">I", bytes(self.buf[:4]))[0]
        h.check(size >= 4, "%s: server sent a length under 4: %d" % (self.name, size))
        if len(self.buf) < size:
            return None
        body = bytes(self.buf[4:size])
        del self.buf[:size]
        return unserialize(body)

    def expect_event(self, channel, data, kind="event", what="event"):
        got = self.read(what=what)
        want = {"type": kind, "channel": channel, "data": data}
        h.check(got == want, "%s: %s: expected %r, got %r" % (self.name, what, want, got))

    def expect_error(self, code, text, what):
        got = self.read(what=what)
        h.check(isinstance(got, dict) and got.get("type") == "error" and got.get("channel") == code
                and text in str(got.get("data")),
                "%s: %s: expected an error %r saying %r, got %r" % (self.name, what, code, text, got))
        return got


# --------------------------------------------------------------------------
#  The real PHP peers

def _find_peers():
    top = os.environ.get("ZCH_TOP", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    for candidate in (os.environ.get("ZCH_PEERS"), os.path.join(top, "..", "shared", "peers"),
                      os.path.join(top, "..", "..", "shared", "peers")):
        if candidate and os.path.isfile(os.path.join(candidate, "channel-client.php")):
            return os.path.normpath(candidate)
    return None


PEERS = _find_peers()
PHP = shutil.which("php")


def require_php(name):
    """Skips the test, saying why, when PHP or the peers are missing."""
    if PHP is None:
        h.skip("php not found (Debian package php-cli; scripts/install-deps installs it)")
    if PEERS is None:
        h.skip("the PHP peers (shared/peers/channel-client.php) are not beside the "
               "source tree; set ZCH_PEERS")


def php_start(script, args, name, cwd=None):
    """Starts `php SCRIPT start ARGS...` with its stdout kept in a file."""
    out = open(h.tempfile.NamedTemporaryFile(prefix="zch-%s-" % name, suffix=".out",
                                             delete=False).name, "w+b")
    proc = h.start([PHP, script, "start"] + [str(a) for a in args], name=name, stdout=out)
    proc.outfile = out
    return proc


def php_output(proc):
    with open(proc.outfile.name, "rb") as f:
        return f.read()


def php_client(port, mode, channel, count, name=None):
    return php_start(os.path.join(PEERS, "channel-client.php"), [port, mode, channel, count],
                     name or "php-%s" % mode)


def wait_started(proc, timeout=h.STEP):
    """Waits until Workerman says it started (its workers then connect at once)."""
    deadline = time.monotonic() + timeout
    while b"Start success" not in php_output(proc):
        if not proc.alive():
            h.fail("%s exited before starting: %s\n%s" % (proc.name, proc.describe(),
                                                         php_output(proc).decode("utf-8", "replace")))
        if time.monotonic() >= deadline:
            h.fail("%s did not start within %.0fs" % (proc.name, timeout))
        time.sleep(0.05)


def finish(proc, timeout=h.STEP * 3):
    """Waits for a client that exits by itself; returns its data lines."""
    rc = proc.wait(timeout)
    out = php_output(proc).decode("utf-8", "replace")
    h.check(rc is not None, "%s did not finish within %.0fs; output so far:\n%s"
            % (proc.name, timeout, out))
    h.check(rc == 0, "%s exited with %s:\n%s" % (proc.name, rc, out))
    banner = ("Workerman", "---", "proto", "tcp ", "Press Ctrl+C")
    return [line for line in out.splitlines() if line and not line.startswith(banner)]


def original_server(port):
    """The original walkor/channel server on 127.0.0.1:port."""
    proc = php_start(os.path.join(PEERS, "channel-server.php"), [port], "channel-server")
    wait_started(proc)
    return proc


def stop(proc):
    """SIGINT, as Ctrl+C: Workerman's master stops its workers and exits."""
    proc.signal(h.signal.SIGINT)
    if proc.wait(h.STOP_WAIT) is None:
        proc.kill()
