#!/usr/bin/env python3
"""A DNS server on UDP that knows a few A records, for tests.

    dnsstub.py PORT LOGFILE NAME=IPV4...

Listens on 127.0.0.1:PORT.  A query of type A for one of the NAMEs
(case-insensitive, with or without the final dot) is answered with its
address; any other query for a known name with no answer (NOERROR, as
for the NAPTR and SRV records RFC 3263 looks for first); a query for an
unknown name with NXDOMAIN.  Each query is appended to LOGFILE as
"NAME TYPE".  Prints "ready" once bound; runs until killed.
"""
import socket
import struct
import sys

TYPES = {1: "A", 28: "AAAA", 33: "SRV", 35: "NAPTR"}


def question(packet):
    """(name, qtype, end offset of the question) of PACKET."""
    labels, i = [], 12
    while packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, _ = struct.unpack("!HH", packet[i + 1:i + 5])
    return ".".join(labels).lower(), qtype, i + 5


def answer(packet, records):
    ident, flags = struct.unpack("!HH", packet[:4])
    name, qtype, end = question(packet)
    rd = flags & 0x0100
    if name not in records:
        return name, qtype, struct.pack("!HHHHHH", ident, 0x8083 | rd, 1, 0,
                                        0, 0) + packet[12:end]
    if qtype != 1:
        return name, qtype, struct.pack("!HHHHHH", ident, 0x8080 | rd, 1, 0,
                                        0, 0) + packet[12:end]
    rr = struct.pack("!HHHIH", 0xc00c, 1, 1, 60, 4) + \
        socket.inet_aton(records[name])
    return name, qtype, struct.pack("!HHHHHH", ident, 0x8080 | rd, 1, 1,
                                    0, 0) + packet[12:end] + rr


def main():
    port, logfile = int(sys.argv[1]), sys.argv[2]
    records = {}
    for arg in sys.argv[3:]:
        name, _, addr = arg.partition("=")
        records[name.lower().rstrip(".")] = addr
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        packet, peer = sock.recvfrom(4096)
        try:
            name, qtype, reply = answer(packet, records)
        except (IndexError, struct.error):
            continue
        with open(logfile, "a") as log:
            log.write("%s %s\n" % (name, TYPES.get(qtype, qtype)))
        sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
