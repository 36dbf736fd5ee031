#!/usr/bin/env python3
"""A bare SIP user agent on UDP that answers every request, for tests.

    udpua.py ADDRESS PORT LOGFILE SECONDS

Binds ADDRESS:PORT (any loopback address: 127.0.0.5 plays a host that is
not ours), appends every datagram it receives to LOGFILE, each followed
by a line "----", and answers every request but ACK with 200 OK (its Via,
From, To with a tag of its own if it had none, Call-ID and CSeq copied),
so that a transaction through the proxy ends at once.  Exits after
SECONDS, or when killed.  Prints "ready" once bound.
"""
import socket
import sys
import time

COPIED = ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq")


def answer(request):
    head = request.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    if not lines[0] or lines[0].startswith(("SIP/2.0", "ACK ")):
        return None
    out = ["SIP/2.0 200 OK"]
    for line in lines[1:]:
        name = line.split(":", 1)[0].strip().lower()
        if name not in COPIED:
            continue
        if name in ("to", "t") and ";tag=" not in line:
            line += ";tag=udpua"
        out.append(line)
    out += ["Content-Length: 0", "", ""]
    return "\r\n".join(out).encode()


def main():
    addr, port, logfile, seconds = sys.argv[1:5]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, int(port)))
    sock.settimeout(0.2)
    print("ready", flush=True)
    end = time.monotonic() + float(seconds)
    with open(logfile, "ab") as log:
        while time.monotonic() < end:
            try:
                data, peer = sock.recvfrom(65535)
            except socket.timeout:
                continue
            log.write(data + b"\n----\n")
            log.flush()
            reply = answer(data)
            if reply:
                sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
