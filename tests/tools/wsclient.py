#!/usr/bin/env python3
"""A SIP-over-WebSocket client that opens one connection and keeps it, for
tests.

    wsclient.py PORT OUTFILE

Connects to 127.0.0.1:PORT, makes the WebSocket handshake with the
subprotocol "sip" (RFC 7118), sends one OPTIONS sip:example.com in a text
frame and waits for the answer, then writes its status line to OUTFILE
and keeps the connection open until killed (SIGTERM closes it).  Exits
non-zero, saying why, when the handshake or the answer fails.
"""
import base64
import os
import socket
import struct
import sys


def frame(payload):
    """A final, masked text frame (RFC 6455 §5.2): clients must mask."""
    mask = os.urandom(4)
    head = bytes([0x81])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit("connection closed")
        data += chunk
    return data


def read_frame(sock):
    b0, b1 = read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(sock, 8))[0]
    return read_exact(sock, n)


def main():
    port, outfile = int(sys.argv[1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: sip\r\n\r\n" % (port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += read_exact(sock, 1)
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit("handshake refused: %r" % head.split(b"\r\n")[0])
    options = ("OPTIONS sip:example.com SIP/2.0\r\n"
               "Via: SIP/2.0/WS wsclient.invalid;branch=z9hG4bKws%d\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:ws@wsclient.invalid>;tag=ws%d\r\n"
               "To: <sip:example.com>\r\n"
               "Call-ID: ws-%d@wsclient.invalid\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n" % ((os.getpid(),) * 3)).encode()
    sock.sendall(frame(options))
    answer = read_frame(sock)
    with open(outfile, "w") as f:
        f.write(answer.split(b"\r\n", 1)[0].decode("utf-8", "replace") + "\n")
    sock.settimeout(None)
    while sock.recv(65536):
        pass   # held open; anything more is ignored


if __name__ == "__main__":
    main()
