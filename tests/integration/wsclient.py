"""A minimal WebSocket (RFC 6455) client for the tests: the upgrade, masked
frames out (or unmasked, or fragmented, on request), frames in, close codes.
Test-side only; the server's framing is wslay's."""

import base64
import hashlib
import json
import os
import select
import socket
import struct
import time

import harness as h

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0


def upgrade_request(port, path="/", origin=None, protocol="zchannel.v1", key=None, extra=""):
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (h.HOST, port), "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: %s" % key, "Sec-WebSocket-Version: 13"]
    if protocol:
        lines.append("Sec-WebSocket-Protocol: %s" % protocol)
    if origin:
        lines.append("Origin: %s" % origin)
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode(), key


def http_exchange(port, request, timeout=h.STEP):
    """Sends raw bytes, returns everything until the server closes."""
    s = socket.create_connection((h.HOST, port), timeout=timeout)
    s.sendall(request)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    return data


class WsClient:
    def __init__(self, port, name="ws", origin=None, protocol="zchannel.v1", rcvbuf=None, tls=None):
        """tls: an ssl.SSLContext for wss://, or None."""
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(h.STEP)
        self.sock.connect((h.HOST, port))
        if tls:
            self.sock = tls.wrap_socket(self.sock, server_hostname=h.HOST)
        self.buf = b""
        request, key = upgrade_request(port, origin=origin, protocol=protocol)
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            h.check(chunk, "%s: connection closed during the upgrade: %r" % (name, self.buf))
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.at = 0
        self.head = head.decode()
        h.check(self.head.startswith("HTTP/1.1 101"), "%s: upgrade refused: %s" % (name, self.head))
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        h.check("Sec-WebSocket-Accept: %s" % want in self.head, "%s: bad accept: %s" % (name, self.head))
        self.closed = None

    # -- out
    def send_frame(self, opcode, payload, fin=True, mask=True):
        self.sock.sendall(self.frame_bytes(opcode, payload, fin, mask))

    def send_json_batch(self, objs):
        """Several JSON messages in one write, so the server reads them at once."""
        self.sock.sendall(b"".join(self.frame_bytes(TEXT, json.dumps(o).encode()) for o in objs))

    def frame_bytes(self, opcode, payload, fin=True, mask=True):
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            header += bytes([mbit | n])
        elif n < 65536:
            header += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            header += bytes([mbit | 127]) + struct.pack(">Q", n)
        if mask:
            key = os.urandom(4)
            header += key
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
                _mask_fast(payload, key)
        return header + payload

    def send_json(self, obj):
        self.send_frame(TEXT, json.dumps(obj).encode())

    # -- in
    def _fill(self, timeout):
        # TLS may hold decrypted bytes that select does not see
        pending = getattr(self.sock, "pending", lambda: 0)()
        r, _, _ = select.select([self.sock], [], [], 0 if pending else timeout)
        if not r and not pending:
            return False
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError
        self.buf = self.buf[self.at:] + chunk
        self.at = 0
        return True

    def read_frame(self, timeout=h.STEP):
        """(opcode, payload) of the next whole frame; None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._take()
            if frame:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                self._fill(left)
            except EOFError:
                raise h.TestFailure("%s: connection closed without a close frame" % self.name)

    def _take(self):
        # self.buf [self.at:] is unread; slicing off each frame would copy
        # the whole backlog per frame
        b, at = self.buf, self.at
        if len(b) - at < 2:
            return None
        opcode, n = b[at] & 0x0F, b[at + 1] & 0x7F
        h.check(not (b[at + 1] & 0x80), "%s: the server masked a frame" % self.name)
        pos = at + 2
        if n == 126:
            if len(b) - at < 4:
                return None
            n, pos = struct.unpack(">H", b[at + 2:at + 4])[0], at + 4
        elif n == 127:
            if len(b) - at < 10:
                return None
            n, pos = struct.unpack(">Q", b[at + 2:at + 10])[0], at + 10
        if len(b) < pos + n:
            return None
        self.at = pos + n
        return opcode, b[pos:pos + n]

    def read_json(self, timeout=h.STEP, what="a message"):
        """The next JSON message, answering pings on the way."""
        while True:
            frame = self.read_frame(timeout)
            h.check(frame is not None, "%s: no %s within %.0fs" % (self.name, what, timeout))
            opcode, payload = frame
            if opcode == PING:
                self.send_frame(PONG, payload)
                continue
            if opcode == CLOSE:
                raise h.TestFailure("%s: closed (%s) while waiting for %s"
                                    % (self.name, close_reason(payload), what))
            h.check(opcode == TEXT, "%s: expected a text frame, got opcode %d" % (self.name, opcode))
            return json.loads(payload)

    def expect_ok(self, what):
        m = self.read_json(what=what)
        h.check(m == {"op": "ok"}, "%s: %s: expected ok, got %r" % (self.name, what, m))

    def subscribe(self, pattern, **opts):
        self.send_json(dict(op="sub", pattern=pattern, **opts))
        self.expect_ok("sub %s" % pattern)

    def ping(self):
        self.send_json({"op": "ping"})
        m = self.read_json(what="pong")
        h.check(m == {"op": "pong"}, "%s: expected pong, got %r" % (self.name, m))

    def expect_close(self, code, timeout=h.STEP, what="the close"):
        """Reads until a close frame; checks its code; returns (code, reason)
        and the messages before it."""
        before = []
        deadline = time.monotonic() + timeout
        while True:
            frame = self.read_frame(max(0.1, deadline - time.monotonic()))
            h.check(frame is not None, "%s: no close frame within %.0fs (%s)" % (self.name, timeout, what))
            opcode, payload = frame
            if opcode == CLOSE:
                got = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode(errors="replace")
                h.check(got == code, "%s: %s: close code %r (%s), expected %d"
                        % (self.name, what, got, reason, code))
                return reason, before
            before.append((opcode, payload))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def close_reason(payload):
    if len(payload) < 2:
        return "no code"
    return "%d %s" % (struct.unpack(">H", payload[:2])[0], payload[2:].decode(errors="replace"))


def _mask_fast(payload, key):
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")
