"""A frame-protocol client for the integration tests (proto/PROTOCOL.md
section 4): a 4-byte big-endian length, then a msgpack array."""

import select
import socket
import struct
import time

import msgpack

import harness as h


def encode(obj):
    """One frame holding obj, packed with bin for bytes and str for str."""
    body = msgpack.packb(obj, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def raw(body):
    """One frame around body bytes as they are (for malformed cases)."""
    return struct.pack(">I", len(body)) + body


class FrameClient:
    """Connects to a frame port; sends objects as frames and reads frames
    back as decoded lists (str for str, bytes for bin)."""

    def __init__(self, port, name=None, proc=None, timeout=h.STEP, rcvbuf=None):
        self.name = name or "frames@%d" % port
        self.buf = bytearray()
        self.eof = False
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf is not None:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            try:
                s.connect((h.HOST, port))
                break
            except OSError as e:
                s.close()
                if proc is not None and not proc.alive():
                    h.fail("%s: cannot connect: %s" % (self.name, proc.describe()))
                if time.monotonic() >= deadline:
                    h.fail("%s: cannot connect to port %d: %s" % (self.name, port, e))
                time.sleep(0.05)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s

    def send(self, obj):
        self.sock.sendall(encode(obj))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _pump(self, timeout):
        if self.eof:
            return
        p = select.poll()
        p.register(self.sock.fileno(), select.POLLIN)
        if not p.poll(max(0.0, timeout) * 1000):
            return
        try:
            data = self.sock.recv(4 << 20)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        self.buf += data

    def take(self):
        """A whole buffered frame, decoded, or None."""
        if len(self.buf) < 4:
            return None
        size = struct.unpack(">I", bytes(self.buf[:4]))[0]
        if len(self.buf) < 4 + size:
            return None
        body = bytes(self.buf[4:4 + size])
        del self.buf[:4 + size]
        try:
            return msgpack.unpackb(body, raw=False)
        except Exception as e:
            h.fail("%s: server sent a frame that does not decode: %s (%s)"
                   % (self.name, e, h.short(body)))

    def read(self, timeout=h.STEP, what="a frame"):
        deadline = time.monotonic() + timeout
        while True:
            frame = self.take()
            if frame is not None:
                return frame
            if self.eof:
                h.fail("%s: connection closed while waiting for %s; buffered %s"
                       % (self.name, what, h.short(self.buf)))
            left = deadline - time.monotonic()
            if left <= 0:
                h.fail("%s: no frame within %.0fs while waiting for %s" % (self.name, timeout, what))
            self._pump(left)

    def expect(self, expected, what=None, timeout=h.STEP):
        got = self.read(timeout, what or repr(expected))
        h.check(got == expected, "%s: expected %r (%s), got %r"
                % (self.name, expected, what, h.short(repr(got).encode())))
        return got

    def expect_err(self, code, what):
        got = self.read(what=what)
        h.check(isinstance(got, list) and len(got) == 3 and got[0] == "err" and got[1] == code
                and isinstance(got[2], str) and got[2],
                "%s: %s: expected ['err', %r, reason], got %r" % (self.name, what, code, got))
        return got

    def wait_eof(self, timeout=h.STEP, what="close"):
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                h.fail("%s: not closed within %.0fs (%s)" % (self.name, timeout, what))
            self._pump(left)
        rest = bytes(self.buf)
        self.buf.clear()
        return rest

    def ping(self):
        """["ping"], then the frames before ["pong"]."""
        self.send(["ping"])
        before = []
        while True:
            f = self.read(what="pong")
            if f == ["pong"]:
                return before
            before.append(f)

    def subscribe(self, pattern):
        self.send(["sub", pattern])
        self.expect(["ok"], "reply to sub %s" % pattern)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
