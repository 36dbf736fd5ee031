#!/usr/bin/env python3
"""A UDP user agent server that records what reaches it, for tests.

    rawuas.py [--bind=ADDR] [--via=SENTBY] [--contact=VALUE]
              [--supported=TAGS] PORT OUTDIR [REGISTRAR-PORT AOR...]

Listens on 127.0.0.1:PORT (or ADDR:PORT), and first REGISTERs each AOR
(user@domain) there with the registrar on 127.0.0.1:REGISTRAR-PORT, from
PORT, with Contact <sip:USER@ADDR:PORT> and a Via sent-by of ADDR:PORT;
--via gives another sent-by (with parameters, e.g. "192.168.1.10:5060;
rport": a device behind a NAT), --contact another Contact header value
(e.g. another device's, as a third party registers it), --supported a
Supported header.  The response to the Nth REGISTER is written to
OUTDIR/register-N.txt.  Every request that arrives is written, as it
came, to OUTDIR/N.sip (N = 1, 2, ... in order of arrival) and its request
line appended to OUTDIR/requests.  It is answered unless it is an ACK:

  - if OUTDIR/answer exists, with the responses in it, once (the file is
    renamed to answer.used): responses separated by lines "#pause MS"
    (MS milliseconds between them), in which a line "@VIA@" stands for
    every Via line of the request (continuations included), and "@FROM@",
    "@TO@", "@CALLID@", "@CSEQ@" for the request's line (the To with a
    tag added when it has none);
  - else an INVITE with 486 Busy Here, anything else with 200 OK.

OUTDIR/ready appears once the port is bound.  Runs until killed.
"""
import os
import re
import socket
import sys
import time

COMPACT = {b"v": b"via", b"f": b"from", b"t": b"to", b"i": b"call-id"}


def header_lines(msg):
    """The header lines of MSG, continuation lines joined to theirs."""
    head = msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    lines = []
    for line in head:
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += b"\r\n" + line
        else:
            lines.append(line)
    return lines


def name_of(line):
    name = line.split(b":", 1)[0].strip().lower()
    return COMPACT.get(name, name)


def fields(msg):
    """Via lines, and the From, To, Call-ID and CSeq line of MSG."""
    out = {b"via": []}
    for line in header_lines(msg):
        name = name_of(line)
        if name == b"via":
            out[b"via"].append(line)
        elif name in (b"from", b"to", b"call-id", b"cseq"):
            out.setdefault(name, line)
    to = out.get(b"to", b"To: <sip:nobody@invalid>")
    if b"tag=" not in to.lower():
        to += b";tag=rawuas"
    out[b"to"] = to
    return out


def fill(template, f):
    lines = []
    for line in template.split(b"\r\n"):
        if line == b"@VIA@":
            lines.extend(f[b"via"])
        elif line in (b"@FROM@", b"@TO@", b"@CALLID@", b"@CSEQ@"):
            key = {b"@FROM@": b"from", b"@TO@": b"to", b"@CALLID@": b"call-id",
                   b"@CSEQ@": b"cseq"}[line]
            lines.append(f.get(key, b""))
        else:
            lines.append(line)
    return b"\r\n".join(lines)


def default_answer(method, f):
    status = b"486 Busy Here" if method == b"INVITE" else b"200 OK"
    return (b"SIP/2.0 " + status + b"\r\n" + b"\r\n".join(f[b"via"]) +
            b"\r\n" + f.get(b"from", b"") + b"\r\n" + f[b"to"] + b"\r\n" +
            f.get(b"call-id", b"") + b"\r\n" + f.get(b"cseq", b"") +
            b"\r\nContent-Length: 0\r\n\r\n")


def register(sock, registrar, aor, n, opts, outdir):
    addr, port = sock.getsockname()
    user, domain = aor.split("@")
    sentby = opts.get("via", "%s:%d" % (addr, port))
    contact = opts.get("contact", "<sip:%s@%s:%d>" % (user, addr, port))
    supported = ("Supported: %s\r\n" % opts["supported"]
                 if "supported" in opts else "")
    req = ("REGISTER sip:%s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s;branch=z9hG4bKrawuas%d\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:%s>;tag=rawuas%d\r\n"
           "To: <sip:%s>\r\n"
           "Call-ID: rawuas-%d-%d@127.0.0.1\r\n"
           "CSeq: 1 REGISTER\r\n"
           "Contact: %s\r\n"
           "%s"
           "Expires: 3600\r\n"
           "Content-Length: 0\r\n\r\n" %
           (domain, sentby, n, aor, n, aor, port, n, contact, supported))
    sock.settimeout(5)
    sock.sendto(req.encode(), registrar)
    while True:
        data, _ = sock.recvfrom(65535)
        status = data.split(b"\r\n", 1)[0]
        if not status.startswith(b"SIP/2.0 1"):
            break
    sock.settimeout(None)
    with open(os.path.join(outdir, "register-%d.txt" % (n + 1)), "wb") as f:
        f.write(data)
    if not status.startswith(b"SIP/2.0 200 "):
        sys.exit("REGISTER of %s: %s" % (aor, status.decode(errors="replace")))


def main():
    opts = dict(a[2:].partition("=")[::2] for a in sys.argv[1:]
                if a.startswith("--"))
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    port, outdir = int(args[0]), args[1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((opts.get("bind", "127.0.0.1"), port))
    if len(args) > 2:
        registrar = ("127.0.0.1", int(args[2]))
        for n, aor in enumerate(args[3:]):
            register(sock, registrar, aor, n, opts, outdir)
    open(os.path.join(outdir, "ready"), "w").close()
    n = 0
    while True:
        data, peer = sock.recvfrom(65535)
        if data.startswith(b"SIP/2.0 ") or not data.strip():
            continue
        n += 1
        with open(os.path.join(outdir, "%d.sip" % n), "wb") as f:
            f.write(data)
        line = data.split(b"\r\n", 1)[0]
        with open(os.path.join(outdir, "requests"), "ab") as f:
            f.write(line + b"\n")
        method = line.split(b" ", 1)[0]
        if method == b"ACK":
            continue
        f = fields(data)
        answer = os.path.join(outdir, "answer")
        if os.path.exists(answer):
            with open(answer, "rb") as a:
                script = a.read()
            os.rename(answer, answer + ".used")
            parts = re.split(rb"(?m)^#pause (\d+)\r\n", script)
            sock.sendto(fill(parts[0], f), peer)
            for i in range(1, len(parts), 2):
                time.sleep(int(parts[i]) / 1000.0)
                sock.sendto(fill(parts[i + 1], f), peer)
        else:
            sock.sendto(default_answer(method, f), peer)


if __name__ == "__main__":
    main()
