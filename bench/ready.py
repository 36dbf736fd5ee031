#!/usr/bin/env python3
"""ready.py PORT TIMEOUT: sends an OPTIONS to 127.0.0.1:PORT every 20 ms
until any SIP response arrives; prints the seconds since START_NS (an
environment variable: time.time_ns() when the server was launched) and
exits 0, or exits 1 after TIMEOUT seconds.  bench/lib.sh times start-up
with it: sipp's own start-up and 500-ms retransmission timer are too
coarse for that."""
import os, socket, sys, time

port, timeout = int(sys.argv[1]), float(sys.argv[2])
start_ns = int(os.environ.get("START_NS", time.time_ns()))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.02)
lport = s.getsockname()[1]
deadline = time.monotonic() + timeout
n = 0
while time.monotonic() < deadline:
    n += 1
    msg = ("OPTIONS sip:example.com SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bKready{n}\r\n"
           "From: <sip:ready@example.com>;tag=ready\r\n"
           "To: <sip:example.com>\r\n"
           f"Call-ID: ready-{os.getpid()}\r\nCSeq: {n} OPTIONS\r\n"
           "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    try:
        s.sendto(msg.encode(), ("127.0.0.1", port))
        data = s.recv(65535)
    except (socket.timeout, ConnectionRefusedError):
        continue
    if data.startswith(b"SIP/2.0 "):
        print(f"{(time.time_ns() - start_ns) / 1e9:.2f}")
        sys.exit(0)
sys.exit(1)
