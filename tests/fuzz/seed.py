#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_sip.c into tests/fuzz/corpus:
every message of ../shared/traces, of the integration tests' raw messages
(tests/integration/msg) and of the sipp scenarios (their <send> bodies
with sipp's [keywords] filled in), each once as UDP (first byte 0) and
once as TCP (first byte 1).  Run from the checkout root."""
import glob, hashlib, os, re, sys

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(top, "tests/fuzz/corpus")
values = {
    "service": "bob", "remote_ip": "127.0.0.1", "remote_port": "5060",
    "local_ip": "127.0.0.1", "local_port": "5070", "transport": "UDP",
    "call_number": "7", "call_id": "seed-7@127.0.0.1", "branch": "z9hG4bKseed7",
    "pid": "42", "len": "0", "cseq": "1", "media_ip": "127.0.0.1",
    "media_port": "6000", "media_ip_type": "4", "peer_tag_param": ";tag=p1",
    "last_Via:": "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKlast",
    "last_From:": "From: <sip:alice@example.com>;tag=f1",
    "last_To:": "To: <sip:bob@example.com>;tag=t1",
    "last_Call-ID:": "Call-ID: seed-7@127.0.0.1",
    "last_CSeq:": "CSeq: 1 INVITE",
    "last_Record-Route:": "Record-Route: <sip:127.0.0.1:5060;lr>",
    "routes": "Route: <sip:127.0.0.1:5060;lr>",
    "next_url": "sip:bob@127.0.0.1:5070",
}


def fill(text):
    def sub(m):
        key = m.group(1)
        return values.get(key, values.get(key.split(" ")[0], "x"))
    return re.sub(r"\[([^\]\[]+)\]", sub, text)


def crlf(text):
    lines = [l.strip() for l in text.strip("\n").split("\n")]
    head, body = [], []
    target = head
    for l in lines:
        if not l and target is head:
            target = body
            continue
        target.append(l)
    return "\r\n".join(head) + "\r\n\r\n" + "\r\n".join(body)


def messages():
    for f in sorted(glob.glob(os.path.join(top, "../shared/traces/*.sip"))):
        yield open(f, "rb").read()
    for f in sorted(glob.glob(os.path.join(top, "tests/integration/msg/*.sip"))):
        yield open(f, "rb").read().replace(b"@", b"")
    for f in sorted(glob.glob(os.path.join(top, "tests/integration/sipp/*.xml"))):
        for m in re.finditer(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>",
                             open(f).read(), re.S):
            yield crlf(fill(m.group(1))).encode()


os.makedirs(out, exist_ok=True)
n = 0
for msg in messages():
    for prefix in (b"\x00", b"\x01"):
        data = prefix + msg
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        n += 1
print(f"seed: {n} inputs in {out}", file=sys.stderr)
