#!/usr/bin/env python3
"""Stands in for systemd's notification socket (sd_notify(3)).

    notify_listen.py PATH OUT SECONDS

Binds a unix datagram socket at PATH ("@name": in the abstract
namespace; a path is made writable by every user, as systemd's own
socket is), and appends every datagram it receives to OUT, one line per
assignment ("READY=1", "WATCHDOG=1", ...), until SECONDS have passed or
it is terminated.  The socket file is removed at exit.  Test helper: a
service started with NOTIFY_SOCKET=PATH talks to it as it would to
systemd.
"""
import os
import signal
import socket
import sys
import time


def main():
    path, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    address = "\0" + path[1:] if path.startswith("@") else path
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    if not path.startswith("@"):
        os.chmod(path, 0o777)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deadline = time.monotonic() + seconds
    try:
        with open(out, "a", buffering=1) as log:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                sock.settimeout(left)
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    return
                for line in data.decode("utf-8", "replace").split("\n"):
                    if line:
                        log.write(line + "\n")
    finally:
        sock.close()
        if not path.startswith("@"):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    main()
