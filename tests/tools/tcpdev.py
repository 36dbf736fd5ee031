#!/usr/bin/env python3
"""A SIP device over TCP without outbound (RFC 5626), for tests.

    tcpdev.py HOST PORT AOR OUTDIR [--contact-host=H] [--via-host=H]

Listens on a TCP port of 127.0.0.1 of its own (written to OUTDIR/listen)
and names it in its Contact, <sip:dev@H:LISTEN;transport=tcp> (H is
127.0.0.1 unless --contact-host says otherwise, e.g. a private address
behind a NAT).  Connects to HOST:PORT from an ephemeral port (written to
OUTDIR/port), REGISTERs AOR there (no +sip.instance, no reg-id; its Via
sent-by is --via-host or 127.0.0.1, with the connection's local port)
and writes the response to OUTDIR/register.txt; OUTDIR/ready appears
then.

Every INVITE that arrives, over the registering connection or over one
that someone opened to the listening port, is answered 486 Busy Here and
its request line appended to OUTDIR/invites, preceded by "registered"
or "accepted" (which connection it came over).

SIGUSR1 closes the registering connection (OUTDIR/closed appears once it
is closed); the listening port stays open.  Runs until killed.
"""
import os
import selectors
import signal
import socket
import sys
import uuid


def read_message(buf):
    """(message, rest) if BUF holds a whole message (no body), else None."""
    if b"\r\n\r\n" not in buf:
        return None
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            length = int(value.strip())
    if len(rest) < length:
        return None
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def busy_here(invite):
    lines = invite.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    keep = [l for l in lines[1:] if l.split(b":")[0].strip().lower() in
            (b"via", b"v", b"from", b"f", b"call-id", b"i", b"cseq")]
    to = [l for l in lines[1:] if l.split(b":")[0].strip().lower()
          in (b"to", b"t")][0]
    return (b"SIP/2.0 486 Busy Here\r\n" + b"\r\n".join(keep) + b"\r\n" +
            to + b";tag=tcpdev\r\nContent-Length: 0\r\n\r\n")


class Device:
    def __init__(self, outdir):
        self.outdir = outdir
        self.sel = selectors.DefaultSelector()
        self.bufs = {}
        self.registered = None
        self.close_requested = False

    def path(self, name):
        return os.path.join(self.outdir, name)

    def watch(self, conn, kind):
        conn.setblocking(False)
        self.bufs[conn] = b""
        self.sel.register(conn, selectors.EVENT_READ, kind)

    def drop(self, conn):
        self.sel.unregister(conn)
        del self.bufs[conn]
        conn.close()

    def handle(self, conn, kind):
        try:
            data = conn.recv(65536)
        except ConnectionError:
            data = b""
        if not data:
            self.drop(conn)
            return
        self.bufs[conn] += data
        while True:
            got = read_message(self.bufs[conn])
            if not got:
                break
            msg, self.bufs[conn] = got
            line = msg.split(b"\r\n", 1)[0]
            if line.startswith(b"INVITE "):
                with open(self.path("invites"), "ab") as f:
                    f.write(kind.encode() + b" " + line + b"\n")
                conn.sendall(busy_here(msg))

    def run(self, listener):
        self.sel.register(listener, selectors.EVENT_READ, "listen")
        while True:
            if self.close_requested and self.registered:
                self.drop(self.registered)
                self.registered = None
                open(self.path("closed"), "w").close()
            for key, _ in self.sel.select(timeout=0.2):
                if key.data == "listen":
                    conn, _ = listener.accept()
                    self.watch(conn, "accepted")
                else:
                    self.handle(key.fileobj, key.data)


def main():
    host, port, aor, outdir = sys.argv[1:5]
    opts = dict(a[2:].partition("=")[::2] for a in sys.argv[5:])
    contact_host = opts.get("contact-host", "127.0.0.1")
    via_host = opts.get("via-host", "127.0.0.1")
    dev = Device(outdir)

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listen_port = listener.getsockname()[1]
    with open(dev.path("listen"), "w") as f:
        f.write(str(listen_port))

    sock = socket.create_connection((host, int(port)), timeout=5)
    local_port = sock.getsockname()[1]
    with open(dev.path("port"), "w") as f:
        f.write(str(local_port))
    msg = (f"REGISTER sip:{aor.split('@')[1]} SIP/2.0\r\n"
           f"Via: SIP/2.0/TCP {via_host}:{local_port};rport;"
           f"branch=z9hG4bK{uuid.uuid4().hex}\r\n"
           f"Max-Forwards: 70\r\n"
           f"From: <sip:{aor}>;tag={uuid.uuid4().hex[:8]}\r\n"
           f"To: <sip:{aor}>\r\n"
           f"Call-ID: {uuid.uuid4().hex}@tcpdev\r\n"
           f"CSeq: 1 REGISTER\r\n"
           f"Contact: <sip:dev@{contact_host}:{listen_port};transport=tcp>\r\n"
           f"Expires: 600\r\n"
           f"Content-Length: 0\r\n\r\n")
    sock.sendall(msg.encode())
    buf = b""
    while True:
        got = read_message(buf)
        if got and not got[0].startswith(b"SIP/2.0 1"):
            break
        if got:
            buf = got[1]
            continue
        data = sock.recv(65536)
        if not data:
            sys.exit("the registrar closed the connection")
        buf += data
    resp, rest = got
    with open(dev.path("register.txt"), "wb") as f:
        f.write(resp)

    def close_registered(signum, frame):
        dev.close_requested = True
    signal.signal(signal.SIGUSR1, close_registered)

    dev.registered = sock
    dev.watch(sock, "registered")
    dev.bufs[sock] = rest
    open(dev.path("ready"), "w").close()
    dev.run(listener)


if __name__ == "__main__":
    main()
