#!/usr/bin/env python3
"""An RFC 5626 outbound device over one TCP connection, for tests.

    flowdev.py HOST PORT AOR INSTANCE OUTDIR [--no-reg-id] [--reg-id=N]
               [--local-port=PORT] [--auth=USER:PASSWORD] [--reset]
    flowdev.py --impostor PORT OUTDIR

Connects to HOST:PORT, REGISTERs AOR with +sip.instance=INSTANCE and
reg-id=1 (or N; Supported: outbound, gruu, path) and writes the response to
OUTDIR/register.txt.  Then sends a CRLF keep-alive ping (RFC 5626 §3.5.1)
and writes what came back, as hex, to OUTDIR/pong.  Then answers every
INVITE that arrives on the connection with 486 Busy Here (so a caller
knows it got here) and appends its request line to OUTDIR/invites,
until it is killed: its connection then closes with it.  OUTDIR/ready
appears once the registration and the ping are done; OUTDIR/port holds
the connection's local port.

--local-port connects from that port of 127.0.0.1 (another socket of
ours may hold it too: SO_REUSEADDR).  --auth answers a 401 with digest
credentials (RFC 7616, qop=auth, the first algorithm offered) and
writes the answer to those instead.  --reset makes the connection end
with a RST when the device is killed, so that no TIME_WAIT keeps its
address and port from being used again at once.

With --impostor it listens on 127.0.0.1:PORT instead (a device's old
port, after its connection closed) and appends whatever any connection
brings to OUTDIR/impostor: a server that re-dials a closed flow reaches
whoever holds the port now (RFC 5626 §5.3: it must not).
"""
import hashlib
import os
import re
import socket
import struct
import sys
import uuid


def read_message(sock, buf):
    """One SIP message (no body expected) from buf + sock; (msg, rest)."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise EOFError("connection closed by the server")
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            length = int(value.strip())
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def register(sock, aor, instance, reg_id, call_id, cseq, extra=""):
    host, port = sock.getsockname()
    params = f';+sip.instance="<urn:uuid:{instance}>"'
    if reg_id:
        params += ";reg-id=%d" % reg_id
    msg = (f"REGISTER sip:{aor.split('@')[1]} SIP/2.0\r\n"
           f"Via: SIP/2.0/TCP {host}:{port};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
           f"Max-Forwards: 70\r\n"
           f"From: <sip:{aor}>;tag={uuid.uuid4().hex[:8]}\r\n"
           f"To: <sip:{aor}>\r\n"
           f"Call-ID: {call_id}\r\n"
           f"CSeq: {cseq} REGISTER\r\n"
           f"Contact: <sip:dev@{host}:{port};transport=tcp;ob>{params}\r\n"
           f"Supported: outbound, gruu, path\r\n"
           f"Expires: 600\r\n"
           f"{extra}"
           f"Content-Length: 0\r\n\r\n")
    sock.sendall(msg.encode())


def credentials(resp, aor, user, password):
    """Authorization header line answering the first challenge in resp."""
    hashes = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
    challenge = [l for l in resp.decode().split("\r\n")
                 if l.lower().startswith("www-authenticate:")][0]
    realm = re.search(r'realm="([^"]*)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
    alg = re.search(r"algorithm=([A-Z0-9-]+)", challenge).group(1)
    h = lambda text: hashes[alg](text.encode()).hexdigest()
    uri = f"sip:{aor.split('@')[1]}"
    cnonce = uuid.uuid4().hex[:16]
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"REGISTER:{uri}")
    response = h(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
    return (f'Authorization: Digest username="{user}", realm="{realm}", '
            f'nonce="{nonce}", uri="{uri}", algorithm={alg}, qop=auth, '
            f'nc=00000001, cnonce="{cnonce}", response="{response}"\r\n')


def busy_here(invite):
    """486 to INVITE: its Via, From, To (+tag), Call-ID, CSeq."""
    lines = invite.split(b"\r\n")
    keep = [l for l in lines[1:] if l.split(b":")[0].strip().lower() in
            (b"via", b"v", b"from", b"f", b"call-id", b"i", b"cseq")]
    to = [l for l in lines[1:] if l.split(b":")[0].strip().lower()
          in (b"to", b"t")][0]
    return (b"SIP/2.0 486 Busy Here\r\n" + b"\r\n".join(keep) + b"\r\n" +
            to + b";tag=flowdev\r\nContent-Length: 0\r\n\r\n")


def impostor(port, outdir):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(port)))
    srv.listen(8)
    open(os.path.join(outdir, "ready"), "w").close()
    while True:
        conn, _ = srv.accept()
        with conn, open(os.path.join(outdir, "impostor"), "ab") as f:
            conn.settimeout(2)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    f.write(data)
                    f.flush()
            except socket.timeout:
                pass


def main():
    if sys.argv[1] == "--impostor":
        return impostor(sys.argv[2], sys.argv[3])
    host, port, aor, instance, outdir = sys.argv[1:6]
    opts = dict(a[2:].partition("=")[::2] for a in sys.argv[6:])
    reg_id = 0 if "no-reg-id" in opts else int(opts.get("reg-id", 1))
    sock = socket.socket()
    # so that --impostor can take the port over while this one's
    # TIME_WAIT lasts (Linux wants SO_REUSEADDR on both)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if "reset" in opts:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    if "local-port" in opts:
        sock.bind(("127.0.0.1", int(opts["local-port"])))
    sock.settimeout(5)
    sock.connect((host, int(port)))
    with open(os.path.join(outdir, "port"), "w") as f:
        f.write(str(sock.getsockname()[1]))
    call_id = f"{uuid.uuid4().hex}@flowdev"
    register(sock, aor, instance, reg_id, call_id, 1)
    resp, rest = read_message(sock, b"")
    if "auth" in opts and resp.startswith(b"SIP/2.0 401 "):
        user, _, password = opts["auth"].partition(":")
        register(sock, aor, instance, reg_id, call_id, 2,
                 credentials(resp, aor, user, password))
        resp, rest = read_message(sock, rest)
    with open(os.path.join(outdir, "register.txt"), "wb") as f:
        f.write(resp)

    sock.sendall(b"\r\n\r\n")
    pong = rest
    while len(pong) < 2:
        pong += sock.recv(2 - len(pong))
    with open(os.path.join(outdir, "pong"), "w") as f:
        f.write(pong[:2].hex())
    rest = pong[2:]
    open(os.path.join(outdir, "ready"), "w").close()

    sock.settimeout(None)
    while True:
        msg, rest = read_message(sock, rest)
        if msg.startswith(b"INVITE "):
            with open(os.path.join(outdir, "invites"), "ab") as f:
                f.write(msg.split(b"\r\n", 1)[0] + b"\n")
            sock.sendall(busy_here(msg))


if __name__ == "__main__":
    main()
