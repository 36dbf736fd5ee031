#!/usr/bin/env python3
"""A HEP v3 collector for tests: decodes every packet it receives.

    hepd.py PORT OUTFILE

Listens on UDP 127.0.0.1:PORT and appends one JSON object a line to
OUTFILE per datagram: the decoded packet (family, proto, src, sport,
dst, dport, secs, usecs, type, agent, payload as text), or {"error": why}
when it is not a well-formed HEP3 packet: "HEP3", a total length equal
to the datagram's, chunks of vendor 0 whose lengths (6-byte header
included) add up exactly, each of the types below at most once, all of
them present, addresses of the family announced.  Prints "ready" once
bound; runs until killed.
"""
import json
import socket
import struct
import sys

U8, U16, U32, IP4, IP6, TEXT = "u8", "u16", "u32", "ip4", "ip6", "text"
TYPES = {
    1: ("family", U8), 2: ("proto", U8), 3: ("src4", IP4), 4: ("dst4", IP4),
    5: ("src6", IP6), 6: ("dst6", IP6), 7: ("sport", U16), 8: ("dport", U16),
    9: ("secs", U32), 10: ("usecs", U32), 11: ("type", U8), 12: ("agent", U32),
    15: ("payload", TEXT),
}
SIZES = {U8: 1, U16: 2, U32: 4, IP4: 4, IP6: 16}


def decode(pkt):
    if pkt[:4] != b"HEP3":
        raise ValueError("no HEP3 magic")
    total = struct.unpack("!H", pkt[4:6])[0]
    if total != len(pkt):
        raise ValueError("length %d, datagram %d" % (total, len(pkt)))
    out, pos = {}, 6
    while pos < total:
        if total - pos < 6:
            raise ValueError("truncated chunk header at %d" % pos)
        vendor, ctype, clen = struct.unpack("!HHH", pkt[pos:pos + 6])
        if vendor != 0 or ctype not in TYPES:
            raise ValueError("unexpected chunk %d/%d" % (vendor, ctype))
        if clen < 6 or pos + clen > total:
            raise ValueError("chunk %d: length %d" % (ctype, clen))
        name, kind = TYPES[ctype]
        body = pkt[pos + 6:pos + clen]
        if name in out:
            raise ValueError("chunk %s twice" % name)
        if kind in SIZES and len(body) != SIZES[kind]:
            raise ValueError("chunk %s: %d bytes" % (name, len(body)))
        if kind == U8:
            out[name] = body[0]
        elif kind == U16:
            out[name] = struct.unpack("!H", body)[0]
        elif kind == U32:
            out[name] = struct.unpack("!I", body)[0]
        elif kind == IP4:
            out[name] = socket.inet_ntop(socket.AF_INET, body)
        elif kind == IP6:
            out[name] = socket.inet_ntop(socket.AF_INET6, body)
        else:
            out[name] = body.decode("utf-8", "replace")
        pos += clen
    fam = {2: "4", 10: "6"}.get(out.get("family"))
    if not fam:
        raise ValueError("family %r" % out.get("family"))
    for side in ("src", "dst"):
        if side + fam not in out:
            raise ValueError("no IPv%s %s address" % (fam, side))
        out[side] = out.pop(side + fam)
    missing = [n for n, _ in TYPES.values()
               if n not in out and not n[-1].isdigit()]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    return out


def main():
    port, outfile = int(sys.argv[1]), sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        pkt, _ = sock.recvfrom(65535)
        try:
            rec = decode(pkt)
        except ValueError as e:
            rec = {"error": str(e)}
        with open(outfile, "a") as f:
            f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
