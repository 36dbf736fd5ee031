/* sipsend - send raw SIP bytes to a server and print what comes back.
 *
 * Integration tests use this to send messages no well-behaved UA would
 * send (bare LF, bad framing, oversized headers, ...), so the tool never
 * parses or "fixes" what it sends.  It only substitutes a few placeholders
 * so that test fixtures can carry a valid Via/Call-ID without knowing the
 * ephemeral port in advance.
 *
 * Deliberately standalone (POSIX sockets only, no libre) so that it cannot
 * share a bug with the code under test.
 *
 * Exit status: 0 something was received, 3 nothing arrived before the
 * timeout (tests use this to check "dropped"), 2 usage or I/O error.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum {
	EXIT_RECEIVED = 0,
	EXIT_ERROR    = 2,
	EXIT_NOTHING  = 3,
};

#define MAX_MSG          (256u * 1024u)
/* A response larger than this without a complete frame is flushed as-is;
 * a generous bound, only there so a broken peer cannot eat all memory. */
#define MAX_RX_STREAM    (1024u * 1024u)
#define DEFAULT_TIMEOUT  2000L

static const char usage_text[] =
	"usage: sipsend [-t udp|tcp] [-w TIMEOUT_MS] [-n MAX_RESPONSES] [-s]"
	" [-b ADDRESS] HOST PORT [FILE|-]\n"
	"\n"
	"Send the raw bytes of FILE (or stdin; at most 256 KiB) to HOST:PORT\n"
	"and print every SIP message received back, each followed by a line\n"
	"\"----\" (a newline is inserted first if the message does not end\n"
	"with one).\n"
	"\n"
	"  -t udp|tcp  transport (default udp).  udp binds an ephemeral port\n"
	"              on 127.0.0.1 or ::1 (same family as HOST) and sends\n"
	"              one datagram; tcp connects and sends the bytes.\n"
	"  -w MS       wait at most MS milliseconds for responses after\n"
	"              sending (default 2000).  TCP connect and send are\n"
	"              each bounded by the larger of MS and 1000.\n"
	"  -n N        stop once N final responses (status >= 200) arrived;\n"
	"              provisional responses are printed but not counted.\n"
	"              Default: wait until timeout (or TCP peer close).\n"
	"  -s          strict: send the bytes exactly, no substitution.\n"
	"  -b ADDRESS  send from this local address (a literal of HOST's\n"
	"              family, e.g. 127.0.0.2), an ephemeral port, over\n"
	"              either transport.\n"
	"  HOST        IPv4 or IPv6 literal (brackets allowed), no DNS.\n"
	"\n"
	"Placeholders (replaced everywhere unless -s; each gets one value per\n"
	"run, so repeated uses agree):\n"
	"  @LOCAL_IP@    local address of the socket (IPv6 without brackets)\n"
	"  @LOCAL_PORT@  local port of the socket\n"
	"  @BRANCH@      z9hG4bK followed by random hex\n"
	"  @CALLID@      random hex\n"
	"  @TAG@         random hex\n"
	"  @CLEN@        in the header part only: byte length of the body\n"
	"                after the first CRLFCRLF (LFLF if there is none;\n"
	"                0 if neither), as in \"Content-Length: @CLEN@\"\n"
	"Line endings are never rewritten.\n"
	"\n"
	"Exit: 0 something received, 3 nothing before timeout, 2 error.\n";


struct opts {
	bool tcp;
	bool strict;
	long timeout_ms;
	long max_final;      /* 0: no limit */
	const char *host;
	const char *port;
	const char *file;    /* NULL or "-": stdin */
	const char *bind;    /* NULL: loopback for UDP, any for TCP */
};

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

struct subst {
	const char *name;
	const char *value;
};

/* What the receive loops have seen; decides the exit status and -n. */
struct rx_count {
	unsigned long messages;
	unsigned long finals;
};


_Noreturn static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("sipsend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ERROR);
}


static void warn(const char *fmt, ...)
{
	va_list ap;

	fputs("sipsend: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}


_Noreturn static void usage_error(const char *msg)
{
	fprintf(stderr, "sipsend: %s\n%s", msg, usage_text);
	exit(EXIT_ERROR);
}


/* Always leaves data non-NULL, so that "data + len" is valid even for an
 * empty message (a zero-length datagram is a legitimate test input). */
static void buf_reserve(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;

	if (b->data && b->len + n <= b->cap)
		return;
	while (cap < b->len + n)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d)
		die("out of memory");
	b->data = d;
	b->cap = cap;
}


static void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}


static void buf_consume(struct buf *b, size_t n)
{
	if (!n)
		return;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}


/* ---- arguments ---------------------------------------------------- */


static long parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		char msg[128];

		snprintf(msg, sizeof msg, "invalid %s '%s' (%ld..%ld)",
			 what, s, min, max);
		usage_error(msg);
	}
	return v;
}


static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .timeout_ms = DEFAULT_TIMEOUT };

	while ((c = getopt(argc, argv, "t:w:n:sb:h")) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "tcp"))
				o->tcp = true;
			else if (strcmp(optarg, "udp"))
				usage_error("transport must be udp or tcp");
			break;
		case 'w':
			o->timeout_ms = parse_num(optarg, 0, 3600000,
						  "timeout");
			break;
		case 'n':
			o->max_final = parse_num(optarg, 1, 1000000,
						 "response count");
			break;
		case 's':
			o->strict = true;
			break;
		case 'b':
			o->bind = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_SUCCESS);
		default:
			usage_error("invalid option");
		}
	}

	if (argc - optind < 2 || argc - optind > 3)
		usage_error("expected HOST PORT [FILE|-]");
	o->host = argv[optind];
	o->port = argv[optind + 1];
	o->file = argc - optind == 3 ? argv[optind + 2] : NULL;
}


/* Literal addresses only: a test must say exactly where bytes go. */
static socklen_t parse_addr(const char *host, uint16_t p,
			    struct sockaddr_storage *ss)
{
	char h[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	/* Accept "[::1]" too, since that is how SIP URIs spell it. */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof h)
		usage_error("HOST must be an IPv4 or IPv6 literal");
	memcpy(h, host, n);
	h[n] = '\0';

	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, h, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		return sizeof *sin;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, h, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		return sizeof *sin6;
	}
	usage_error("HOST must be an IPv4 or IPv6 literal");
}


/* ---- input and substitution --------------------------------------- */


static void read_input(const char *path, struct buf *msg)
{
	bool use_stdin = !path || !strcmp(path, "-");
	int fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY);
	char chunk[16384];
	ssize_t n;

	if (fd < 0)
		die("%s: %s", path, strerror(errno));

	buf_reserve(msg, sizeof chunk);
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("%s: %s", use_stdin ? "stdin" : path,
			    strerror(errno));
		}
		if (msg->len + (size_t)n > MAX_MSG)
			die("message exceeds %u bytes", MAX_MSG);
		buf_append(msg, chunk, (size_t)n);
	}
	if (!use_stdin)
		close(fd);
}


static void random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];
	int fd = open("/dev/urandom", O_RDONLY);

	if (nbytes > sizeof raw)
		nbytes = sizeof raw;
	if (fd < 0 || read(fd, raw, nbytes) != (ssize_t)nbytes)
		die("/dev/urandom: %s", strerror(errno));
	close(fd);

	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[2 * nbytes] = '\0';
}


static const struct subst *match(const char *p, size_t len,
				 const struct subst *tab, size_t ntab)
{
	for (size_t k = 0; k < ntab; k++) {
		size_t nl = strlen(tab[k].name);

		if (nl <= len && !memcmp(p, tab[k].name, nl))
			return &tab[k];
	}
	return NULL;
}


/* Copies src to out, replacing each "@NAME@" in the table by its value.
 * Unknown @...@ sequences are garbage a test may want to send: kept. */
static void substitute(const char *src, size_t len,
		       const struct subst *tab, size_t ntab, struct buf *out)
{
	size_t i = 0;

	buf_reserve(out, len);
	while (i < len) {
		const struct subst *hit = NULL;

		if (src[i] == '@')
			hit = match(src + i, len - i, tab, ntab);
		if (hit) {
			buf_append(out, hit->value, strlen(hit->value));
			i += strlen(hit->name);
		}
		else {
			buf_append(out, src + i, 1);
			i++;
		}
	}
}


/* Offset of the first byte after the header/body separator, or 0 if
 * there is none.  CRLFCRLF wins; bare LFLF is accepted because fixtures
 * (and broken peers) use it. */
static size_t header_end(const char *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (i + 3 < len && !memcmp(p + i, "\r\n\r\n", 4))
			return i + 4;
		if (!memcmp(p + i, "\n\n", 2))
			return i + 2;
	}
	return 0;
}


/* For the message we send, the spec is "after the first CRLFCRLF", so
 * that takes precedence over an earlier LFLF in a mixed-ending fixture. */
static size_t body_offset(const char *p, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (!memcmp(p + i, "\r\n\r\n", 4))
			return i + 4;
	}
	return header_end(p, len);
}


/* @CLEN@ is substituted last and only in the header part: it depends on
 * the body after its own placeholders were expanded, and replacing it in
 * the body would change the very length it stands for. */
static void fill_content_length(struct buf *msg)
{
	size_t hdr = body_offset(msg->data, msg->len);
	char clen[24];
	struct buf out = { 0 };
	const struct subst tab[] = { { "@CLEN@", clen } };

	if (!hdr)
		hdr = msg->len;          /* no separator: all header, no body */
	snprintf(clen, sizeof clen, "%zu", msg->len - hdr);

	substitute(msg->data, hdr, tab, 1, &out);
	buf_append(&out, msg->data + hdr, msg->len - hdr);
	free(msg->data);
	*msg = out;
}


static void local_endpoint(int fd, char *ip, size_t iplen, char *port,
			   size_t portlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const void *a;
	unsigned p;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		die("getsockname: %s", strerror(errno));
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		a = &sin->sin_addr;
		p = ntohs(sin->sin_port);
	}
	else {
		const struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		a = &sin6->sin6_addr;
		p = ntohs(sin6->sin6_port);
	}
	if (!inet_ntop(ss.ss_family, a, ip, (socklen_t)iplen))
		die("inet_ntop: %s", strerror(errno));
	snprintf(port, portlen, "%u", p);
}


static void expand_placeholders(int fd, struct buf *msg)
{
	char ip[INET6_ADDRSTRLEN], port[8];
	char branch[8 + 32 + 1] = "z9hG4bK";
	char callid[33], tag[17];
	struct buf out = { 0 };

	local_endpoint(fd, ip, sizeof ip, port, sizeof port);
	random_hex(branch + 7, 8);
	random_hex(callid, 16);
	random_hex(tag, 8);

	const struct subst tab[] = {
		{ "@LOCAL_IP@",   ip },
		{ "@LOCAL_PORT@", port },
		{ "@BRANCH@",     branch },
		{ "@CALLID@",     callid },
		{ "@TAG@",        tag },
	};

	substitute(msg->data, msg->len, tab, sizeof tab / sizeof tab[0],
		   &out);
	free(msg->data);
	*msg = out;
	fill_content_length(msg);
}


/* ---- sockets ------------------------------------------------------ */


static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* true once fd is ready for events, false when the deadline passed. */
static bool wait_ready(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = events };
		int r;

		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return true;
		if (r == 0)
			return false;
		if (errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}


/* Bounds connect(): without it a dropped SYN (full backlog) would hang
 * the test for minutes.  At least 1 s so that -w 0 can still connect. */
static void set_connect_timeout(int fd, long timeout_ms)
{
	long ms = timeout_ms < 1000 ? 1000 : timeout_ms;
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		die("setsockopt: %s", strerror(errno));
}


/* The -b address, port 0; false without one. */
static bool bind_address(const struct opts *o, int family,
			 struct sockaddr_storage *ss, socklen_t *sl)
{
	if (!o->bind)
		return false;
	*sl = parse_addr(o->bind, 0, ss);
	if (ss->ss_family != family)
		usage_error("-b ADDRESS must be of HOST's address family");
	return true;
}


/* UDP binds to loopback explicitly (or to -b) so @LOCAL_IP@ is a
 * concrete address the server can answer to, never the wildcard. */
static int open_udp(const struct opts *o, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(family, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));

	if (!bind_address(o, family, &ss, &sl))
		sl = parse_addr(family == AF_INET ? "127.0.0.1" : "::1", 0,
				&ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die("bind: %s", strerror(errno));
	return fd;
}


static int open_tcp(const struct opts *o, const struct sockaddr_storage *dst,
		    socklen_t dlen)
{
	struct sockaddr_storage local;
	socklen_t llen;
	int fd = socket(dst->ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (bind_address(o, dst->ss_family, &local, &llen) &&
	    bind(fd, (struct sockaddr *)&local, llen) < 0)
		die("bind: %s", strerror(errno));
	set_connect_timeout(fd, o->timeout_ms);
	if (connect(fd, (const struct sockaddr *)dst, dlen) < 0)
		die("connect: %s", strerror(errno));
	return fd;
}


static void send_udp(int fd, const struct buf *msg,
		     const struct sockaddr_storage *dst, socklen_t dlen)
{
	if (sendto(fd, msg->data, msg->len, 0,
		   (const struct sockaddr *)dst, dlen) < 0)
		die("sendto: %s", strerror(errno));
}


/* A server may legitimately reset or stop reading a connection that
 * carries garbage; that is an outcome to observe, not a tool error, so
 * we warn and still collect whatever it sent before.  The whole send is
 * bounded by one deadline: a per-call SO_SNDTIMEO would restart with
 * every partial write. */
static void send_tcp(int fd, const struct buf *msg, long timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms < 1000 ? 1000 : timeout_ms);
	size_t off = 0;

	while (off < msg->len) {
		ssize_t n = send(fd, msg->data + off, msg->len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_ready(fd, POLLOUT, deadline))
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			warn("send stopped after %zu of %zu bytes: peer not "
			     "reading", off, msg->len);
			return;
		}
		if (errno == EPIPE || errno == ECONNRESET) {
			warn("send stopped after %zu of %zu bytes: %s",
			     off, msg->len, strerror(errno));
			return;
		}
		die("send: %s", strerror(errno));
	}
}


/* ---- receiving ---------------------------------------------------- */


static bool is_final_response(const char *p, size_t len)
{
	if (len < 12 || strncasecmp(p, "SIP/2.0 ", 8))
		return false;
	for (int i = 8; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
	}
	return p[8] >= '2';
}


/* The message exactly as received, then the separator on its own line. */
static void emit(const char *p, size_t len, struct rx_count *rx)
{
	fwrite(p, 1, len, stdout);
	if (len == 0 || p[len - 1] != '\n')
		fputc('\n', stdout);
	fputs("----\n", stdout);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("stdout: %s", strerror(errno));

	rx->messages++;
	if (is_final_response(p, len))
		rx->finals++;
}


static bool enough(const struct opts *o, const struct rx_count *rx)
{
	return o->max_final && rx->finals >= (unsigned long)o->max_final;
}


/* One datagram is one message, however malformed. */
static void receive_udp(int fd, const struct opts *o, int64_t deadline,
			struct rx_count *rx)
{
	static char dgram[65536];

	while (!enough(o, rx) && wait_ready(fd, POLLIN, deadline)) {
		ssize_t n = recv(fd, dgram, sizeof dgram, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv: %s", strerror(errno));
		}
		emit(dgram, (size_t)n, rx);
	}
}


/* Content-Length (or compact "l") of a header block; absent or
 * unparsable counts as 0, which is what RFC 3261 18.3 implies. */
static size_t content_length(const char *p, size_t hdrlen)
{
	const char *end = p + hdrlen;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon;

		if (!eol)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			size_t nl = (size_t)(colon - p);

			while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
				nl--;
			if ((nl == 14 && !strncasecmp(p, "Content-Length", 14))
			    || (nl == 1 && (*p == 'l' || *p == 'L')))
				return (size_t)strtoul(colon + 1, NULL, 10);
		}
		p = eol + 1;
	}
	return 0;
}


/* Length of the complete message at the start of the stream, or 0 if
 * more bytes are needed.  CR/LF between messages are keep-alives
 * (RFC 5626) or padding (RFC 3261 7.5) and are dropped. */
static size_t tcp_frame(struct buf *s)
{
	size_t skip = 0, hdr;

	while (skip < s->len && (s->data[skip] == '\r' ||
				 s->data[skip] == '\n'))
		skip++;
	buf_consume(s, skip);

	hdr = header_end(s->data, s->len);
	if (!hdr)
		return 0;

	size_t clen = content_length(s->data, hdr);
	if (clen > MAX_RX_STREAM || s->len < hdr + clen)
		return 0;
	return hdr + clen;
}


/* Reads until the peer closes, the deadline, or -n is satisfied; prints
 * each complete message.  A trailing incomplete fragment is printed too
 * (with a warning): tests must see every byte the server sent. */
static void receive_tcp(int fd, const struct opts *o, int64_t deadline,
			struct rx_count *rx)
{
	struct buf s = { 0 };
	char chunk[16384];

	while (!enough(o, rx) && wait_ready(fd, POLLIN, deadline)) {
		ssize_t n = recv(fd, chunk, sizeof chunk, 0);
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != ECONNRESET)
			die("recv: %s", strerror(errno));
		if (n <= 0) {
			if (n < 0)
				warn("connection reset by peer");
			break;
		}
		buf_append(&s, chunk, (size_t)n);

		while (!enough(o, rx) && (len = tcp_frame(&s)) > 0) {
			emit(s.data, len, rx);
			buf_consume(&s, len);
		}
		if (s.len > MAX_RX_STREAM) {
			warn("no complete message in %zu bytes", s.len);
			break;
		}
	}

	if (s.len && !enough(o, rx)) {
		warn("%zu bytes of incomplete message", s.len);
		emit(s.data, s.len, rx);
	}
	free(s.data);
}


int main(int argc, char **argv)
{
	struct opts o;
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct buf msg = { 0 };
	struct rx_count rx = { 0 };
	int fd;

	parse_args(argc, argv, &o);
	dlen = parse_addr(o.host, (uint16_t)parse_num(o.port, 1, 65535, "port"),
			  &dst);
	read_input(o.file, &msg);

	fd = o.tcp ? open_tcp(&o, &dst, dlen) : open_udp(&o, dst.ss_family);
	if (!o.strict)
		expand_placeholders(fd, &msg);

	if (o.tcp)
		send_tcp(fd, &msg, o.timeout_ms);
	else
		send_udp(fd, &msg, &dst, dlen);

	int64_t deadline = now_ms() + o.timeout_ms;
	if (o.tcp)
		receive_tcp(fd, &o, deadline, &rx);
	else
		receive_udp(fd, &o, deadline, &rx);

	close(fd);
	free(msg.data);
	return rx.messages ? EXIT_RECEIVED : EXIT_NOTHING;
}
