#!/usr/bin/env python3
"""ready.py PORT TIMEOUT [USER CONTACT_PORT]: how long a server took to be
ready, in seconds since START_NS (an environment variable: time.time_ns()
when it was launched); exits 1 after TIMEOUT seconds.

Without USER, ready is the first SIP response to an OPTIONS sent to
127.0.0.1:PORT every 20 ms.  With USER, ready is when the server routes:
the OPTIONS goes to sip:USER@example.com, whose binding's Contact is
127.0.0.1:CONTACT_PORT, where this script listens; it is ready when the
OPTIONS arrives there (answered 200), not while it answers 404.  A server
may answer before it has loaded its bindings (Kamailio's usrloc loads
them while its SIP workers already run).  bench/lib.sh times start-up
with it: sipp's own start-up and 500-ms retransmission are too coarse."""
import os, socket, sys, time

port, timeout = int(sys.argv[1]), float(sys.argv[2])
user = sys.argv[3] if len(sys.argv) > 3 else None
start_ns = int(os.environ.get("START_NS", time.time_ns()))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[4]) if user else 0))
s.settimeout(0.02)
lport = s.getsockname()[1]
ruri = f"sip:{user}@example.com" if user else "sip:example.com"


def answer(request):
    """200 to a request the server forwarded to us."""
    head = request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [h for h in head if h.split(b":", 1)[0].strip().lower() in
            (b"via", b"v", b"from", b"f", b"to", b"t", b"call-id", b"i",
             b"cseq")]
    return b"\r\n".join([b"SIP/2.0 200 OK"] + keep +
                        [b"Content-Length: 0", b"", b""])


def ready():
    print(f"{(time.time_ns() - start_ns) / 1e9:.2f}")
    sys.exit(0)


deadline = time.monotonic() + timeout
n = 0
while time.monotonic() < deadline:
    n += 1
    msg = (f"OPTIONS {ruri} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bKready{n}\r\n"
           "From: <sip:ready@example.com>;tag=ready\r\n"
           f"To: <{ruri}>\r\n"
           f"Call-ID: ready-{os.getpid()}\r\nCSeq: {n} OPTIONS\r\n"
           "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    try:
        s.sendto(msg.encode(), ("127.0.0.1", port))
        data, peer = s.recvfrom(65535)
    except (socket.timeout, ConnectionRefusedError):
        continue
    if user and data.startswith(b"OPTIONS "):
        s.sendto(answer(data), peer)
        ready()
    if not user and data.startswith(b"SIP/2.0 "):
        ready()
sys.exit(1)
