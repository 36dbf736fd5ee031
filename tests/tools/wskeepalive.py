#!/usr/bin/env python3
"""CRLF keep-alives over SIP over WebSocket (RFC 7118 §6, RFC 5626
§3.5.1), from a bare WebSocket client, for tests.

    wskeepalive.py HOST PORT AOR [--tls]

Opens a WebSocket (subprotocol "sip") to HOST:PORT (over TLS with --tls,
any certificate accepted), REGISTERs AOR, then
sends CRLFCRLF keep-alives, each in a masked frame of its own:
  1. alone in one TCP write;
  2. split: the frame's header in one write, its payload in the next;
  3. in one write with an OPTIONS frame after it.
After each it expects a frame holding CRLF (and, for 3, the answer to
the OPTIONS as well).  Prints one line per step ("1 ok", ...) and exits
0, or prints what went wrong and exits 1.
"""
import base64
import os
import socket
import ssl
import sys
import time
import uuid


def frame(payload, opcode=1):
    """A masked client frame (RFC 6455 §5.2)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Conn:
    def __init__(self, host, port, tls):
        self.sock = socket.create_connection((host, port), timeout=5)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Protocol: sip\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            self.more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            sys.exit("handshake: " + head.split(b"\r\n")[0].decode())

    def more(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def frame(self, deadline):
        """The next frame's (opcode, payload); None at DEADLINE."""
        while True:
            if len(self.buf) >= 2:
                n, i = self.buf[1] & 0x7f, 2
                if n == 126 and len(self.buf) >= 4:
                    n, i = int.from_bytes(self.buf[2:4], "big"), 4
                elif n == 127 and len(self.buf) >= 10:
                    n, i = int.from_bytes(self.buf[2:10], "big"), 10
                if n < 126 or i > 2:
                    if len(self.buf) >= i + n:
                        op, payload = self.buf[0] & 0x0f, self.buf[i:i + n]
                        self.buf = self.buf[i + n:]
                        if op in (9, 10):   # ping, pong: not ours
                            continue
                        return op, payload
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                self.more()
            except (socket.timeout, ssl.SSLError):
                return None


def sip(method, aor, extra=""):
    domain = aor.split("@")[1]
    ruri = f"sip:{domain}"
    return (f"{method} {ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/WS kq3f.invalid;branch=z9hG4bK{uuid.uuid4().hex}\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:{aor}>;tag={uuid.uuid4().hex[:8]}\r\n"
            f"To: <sip:{aor}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\n"
            f"CSeq: 1 {method}\r\n"
            f"{extra}"
            f"Content-Length: 0\r\n\r\n").encode()


def expect(conn, step, wants):
    """Frames until every payload start in WANTS was seen (2 s)."""
    deadline = time.monotonic() + 2
    wants = list(wants)
    while wants:
        got = conn.frame(deadline)
        if got is None:
            print(f"{step}: no frame starting {wants[0]!r} within 2 s")
            sys.exit(1)
        for w in wants:
            if got[1] == w or (w != b"\r\n" and got[1].startswith(w)):
                wants.remove(w)
                break
        else:
            print(f"{step}: unexpected frame {got[1][:40]!r}")
            sys.exit(1)


def main():
    host, port, aor = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    conn = Conn(host, port, "--tls" in sys.argv[4:])
    conn.sock.sendall(frame(sip("REGISTER", aor,
                                "Contact: <sip:ws@kq3f.invalid;transport=ws>"
                                "\r\nExpires: 600\r\n")))
    expect(conn, "REGISTER", [b"SIP/2.0 200 OK"])
    ping = frame(b"\r\n\r\n")
    conn.sock.sendall(ping)
    expect(conn, "1", [b"\r\n"])
    print("1 ok", flush=True)
    conn.sock.sendall(ping[:6])
    time.sleep(0.2)
    conn.sock.sendall(ping[6:])
    expect(conn, "2", [b"\r\n"])
    print("2 ok", flush=True)
    conn.sock.sendall(frame(b"\r\n\r\n") + frame(sip("OPTIONS", aor)))
    expect(conn, "3", [b"\r\n", b"SIP/2.0 200 OK"])
    print("3 ok", flush=True)


if __name__ == "__main__":
    main()
