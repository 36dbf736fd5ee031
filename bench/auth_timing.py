#!/usr/bin/env python3
"""auth_timing.py PORT USER N: N times, a REGISTER for USER@example.com
to 127.0.0.1:PORT, its 401, then the REGISTER again with MD5 credentials
and a wrong password; prints the time from sending the credentials to
their 401 (microseconds): mean, p50, p99.  Used by bench/auth_timing.sh."""
import hashlib, random, re, socket, sys, time

port, user, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(2)
lport = s.getsockname()[1]


def register(callid, cseq, extra=""):
    return ("REGISTER sip:example.com SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{random.getrandbits(48):x}\r\n"
            f"From: <sip:{user}@example.com>;tag={callid}\r\n"
            f"To: <sip:{user}@example.com>\r\nCall-ID: {callid}\r\n"
            f"CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@127.0.0.1:{lport}>\r\n"
            f"{extra}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def md5(t):
    return hashlib.md5(t.encode()).hexdigest()


times = []
for i in range(n):
    callid = f"t{i}-{random.getrandbits(32):x}"
    s.sendto(register(callid, 1), ("127.0.0.1", port))
    ch = s.recv(65535).decode()
    nonce = re.search(r'nonce="([^"]+)"', ch).group(1)
    ha1 = md5(f"{user}:example.com:wrong")
    ha2 = md5("REGISTER:sip:example.com")
    resp = md5(f"{ha1}:{nonce}:00000001:c{i}:auth:{ha2}")
    auth = (f'Authorization: Digest username="{user}", realm="example.com", '
            f'nonce="{nonce}", uri="sip:example.com", algorithm=MD5, '
            f'qop=auth, nc=00000001, cnonce="c{i}", response="{resp}"\r\n')
    msg = register(callid, 2, auth)
    t0 = time.perf_counter()
    s.sendto(msg, ("127.0.0.1", port))
    r = s.recv(65535).decode()
    times.append((time.perf_counter() - t0) * 1e6)
    assert r.startswith("SIP/2.0 401"), r.split("\r\n")[0]
times.sort()
print(f"{user:8} {'wrong password' if user == 'alice' else 'no such user':15}"
      f" n={n}: mean {sum(times) / n:.0f} us, p50 {times[n // 2]:.0f} us,"
      f" p99 {times[int(n * 0.99)]:.0f} us")
