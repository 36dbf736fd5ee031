/*
 * SIP over WebSocket (RFC 7118) listeners on libre 1.1.0.
 *
 * libre 1.1.0 has the server side (sip_transp_add_websock()), but three
 * defects keep browsers and locus from using it as it is:
 *
 *  1. Its 101 Switching Protocols lacks "Sec-WebSocket-Protocol: sip"
 *     (RFC 7118 §4.1, RFC 6455 §4.2.2), and browsers fail a handshake
 *     whose subprotocol they asked for is not echoed.  sipws_http.c, in
 *     the executable, takes the place of libre's http_reply() to add it.
 *  2. An accepted connection keeps the 32-s accept timer it was given and
 *     nothing restarts it: libre closes it 32 s after it opened, busy or
 *     not.  sipws_received() restarts it as the idle timer libre gives
 *     TCP connections (900 s) on every message.
 *  3. An accepted connection is never marked established, so a request to
 *     its peer (an INVITE to a browser) waits in its queue until the
 *     connection dies.  sipws_received() marks it.
 *
 * And a fourth: a WebSocket frame holding a CRLF keep-alive (RFC 5626
 * §3.5.1, usable over WebSocket by RFC 7118 §6) is dropped unanswered, so
 * a UA that pings its flow thinks it dead.  A TCP helper of ours, seeing
 * the connection's bytes before libre's WebSocket code (after TLS), finds
 * such frames, answers each with a CRLF, keeps the connection's idle
 * timer going as a SIP message does, and takes the frame out.
 *
 * 2, 3, 4 and the close watch need libre's private struct sip_conn.  Its
 * layout as of 1.1.0 is copied below and checked against each message
 * (fields libre's public functions also read must agree) before anything
 * is touched; start-up refuses ws/wss listeners with any other libre.
 * Upstream fixed 1 and 2 in later versions; drop this file with 1.1.0
 * once it is replaced by one that answers keep-alives (4).
 */
#define _GNU_SOURCE   /* memfd_create() */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <re.h>
#include "common/metrics.h"
#include "config/config.h"
#include "transport/sipws.h"

/* src/sip/transp.c, libre v1.1.0, lines 51-68 */
struct sip_conn {
	struct le he;
	struct list ql;
	struct list kal;
	struct tmr tmr;
	struct tmr tmr_ka;
	struct sa laddr;
	struct sa paddr;
	struct tls_conn *sc;
	struct tcp_conn *tc;
	struct mbuf *mb;
	struct sip *sip;
	uint32_t ka_interval;
	bool established;
	enum sip_transp tp;
	struct websock_conn *websock_conn;
};

/* src/sip/sip.h, libre v1.1.0, lines 37-42 (struct sip_keepalive): the
 * entries of conn->kal.  When libre closes a connection it unlinks each,
 * mem_deref()s it and then calls kah(err, arg). */
struct close_watch {
	struct le le;
	struct close_watch **kap;
	sipws_close_h *kah;
	void *arg;
};

enum {
	IDLE_TIMEOUT_MS = 900 * 1000,   /* libre's TCP_IDLE_TIMEOUT */
};

static const char LIBRE_VERSION[] = "1.1.0";


/* MSG's connection if it is a WS/WSS connection laid out as above. */
static struct sip_conn *ws_conn(const struct sip *sip,
				const struct sip_msg *msg)
{
	struct sip_conn *c;

	if (!msg || !msg->sock ||
	    (msg->tp != SIP_TRANSP_WS && msg->tp != SIP_TRANSP_WSS))
		return NULL;
	c = msg->sock;
	if (c->sip != sip || c->tp != msg->tp || c->tc || !c->websock_conn ||
	    websock_tcp(c->websock_conn) != sip_msg_tcpconn(msg) ||
	    !sa_cmp(&c->paddr, &msg->src, SA_ALL))
		return NULL;
	return c;
}


/* The connection is in use: libre's idle timer starts again (its handler
 * is libre's conn_tmr_handler, which closes the connection). */
static void idle_restart(struct sip_conn *c)
{
	if (tmr_isrunning(&c->tmr) && c->tmr.arg == c)
		tmr_start(&c->tmr, IDLE_TIMEOUT_MS, c->tmr.th, c);
}


/* ---- CRLF keep-alives (4) ------------------------------------------- */

enum {
	WS_HDR_MAX = 14,        /* RFC 6455 §5.2: 2 + 8 (length) + 4 (mask) */
	WS_FIN = 0x80,
	WS_RSV = 0x70,
	WS_OPCODE = 0x0f,
	WS_MASKED = 0x80,
	HELPER_LAYER = 100,     /* after TLS (layer 0): sees plain bytes   */
};

enum ws_state {
	WS_HEADER,              /* reading a frame's header                 */
	WS_PAYLOAD,             /* ... its payload                          */
	WS_LOST,                /* not frames as expected: hands off        */
};

/* Watches one connection's frames, from the first SIP message on (the
 * WebSocket handshake is over then, and a UA waits for the answer to
 * its first request: nothing else is in flight to be caught mid-frame).
 * A frame header that is not what a client sends (RFC 6455 §5.1, §5.2:
 * masked, no extension bits, a known opcode) means it lost track: it
 * then leaves the connection alone.
 *
 * It is an entry of the connection's close watch list (its first member
 * is laid out as one): libre frees it with the connection, and it then
 * takes its helper off the TCP connection, which it holds until then so
 * that the helper is gone before the connection. */
struct ws_keepalive {
	struct close_watch w;
	struct sip_conn *conn;
	struct tcp_conn *tc;
	struct tcp_helper *th;
	enum ws_state state;
	uint8_t hdr[WS_HDR_MAX];
	size_t hdrn;            /* header bytes read of the current frame   */
	uint64_t left;          /* its payload bytes still to come          */
	uint8_t body[4];        /* the first 4 bytes of its payload, clear  */
	uint64_t bodyn;         /* payload bytes seen                       */
	size_t start;           /* where it began in this chunk, or SIZE_MAX */
};


static void keepalive_destructor(void *arg)
{
	struct ws_keepalive *ka = arg;

	list_unlink(&ka->w.le);
	mem_deref(ka->th);
	mem_deref(ka->tc);
}


/* libre calls it once it freed the watch: nothing left to do. */
static void keepalive_closed(int err, void *arg)
{
	(void)err;
	(void)arg;
}


/* The length of a frame header whose second byte is H1. */
static size_t ws_hdr_len(uint8_t h1)
{
	uint8_t len = h1 & 0x7f;

	return 2 + ((h1 & WS_MASKED) ? 4 : 0) +
		(len == 126 ? 2 : len == 127 ? 8 : 0);
}


/* RFC 6455 §5.1, §5.2, §5.5: what a client's frame header looks like. */
static bool ws_hdr_plausible(const uint8_t *hdr)
{
	uint8_t op = hdr[0] & WS_OPCODE;

	if ((hdr[0] & WS_RSV) || !(hdr[1] & WS_MASKED))
		return false;
	if (op >= 8)
		return op <= 10 && (hdr[0] & WS_FIN) && (hdr[1] & 0x7f) <= 125;
	return op <= 2;
}


static void ws_hdr_done(struct ws_keepalive *ka)
{
	uint8_t len = ka->hdr[1] & 0x7f;

	ka->left = len;
	if (len == 126) {
		ka->left = (uint64_t)ka->hdr[2] << 8 | ka->hdr[3];
	}
	else if (len == 127) {
		ka->left = 0;
		for (int i = 0; i < 8; i++)
			ka->left = ka->left << 8 | ka->hdr[2 + i];
	}
	ka->bodyn = 0;
}


static void payload_take(struct ws_keepalive *ka, const uint8_t *p, size_t n)
{
	const uint8_t *mask = ka->hdr + ws_hdr_len(ka->hdr[1]) - 4;
	uint64_t seen = ka->bodyn;

	/* beyond the first 4 bytes only their number matters */
	for (size_t i = 0; i < n && seen + i < sizeof(ka->body); i++)
		ka->body[seen + i] = p[i] ^ mask[(seen + i) % 4];
	ka->bodyn = seen + n;
}


/* An unfragmented text or binary frame of exactly CRLFCRLF. */
static bool is_keepalive(const struct ws_keepalive *ka, uint64_t len)
{
	uint8_t op = ka->hdr[0] & WS_OPCODE;

	return (ka->hdr[0] & WS_FIN) && (op == WEBSOCK_TEXT ||
					 op == WEBSOCK_BIN) &&
		len == 4 && 0 == memcmp(ka->body, "\r\n\r\n", 4);
}


/* The frame that ended at END of MB's data is a keep-alive: answered
 * with a CRLF of the same opcode (RFC 5626 §3.5.1), and cut out of MB
 * when it began there too (else libre complains it is no SIP message).
 * Returns the bytes cut. */
static size_t keepalive_answer(struct ws_keepalive *ka, struct mbuf *mb,
			       size_t end)
{
	struct sip_conn *c = ka->conn;
	size_t cut;

	if (c->websock_conn) {
		(void)websock_send(c->websock_conn,
				   (enum websock_opcode)(ka->hdr[0] &
							 WS_OPCODE), "\r\n");
		idle_restart(c);
	}
	if (ka->start == SIZE_MAX)
		return 0;
	cut = end - ka->start;
	memmove(mb->buf + ka->start, mb->buf + end, mb->end - end);
	mb->end -= cut;
	return cut;
}


/* One byte of a frame header; false when it is not one after all. */
static bool header_byte(struct ws_keepalive *ka, uint8_t b)
{
	ka->hdr[ka->hdrn++] = b;
	if (ka->hdrn == 2 && !ws_hdr_plausible(ka->hdr))
		return false;
	if (ka->hdrn >= 2 && ka->hdrn == ws_hdr_len(ka->hdr[1])) {
		ws_hdr_done(ka);
		ka->state = WS_PAYLOAD;
	}
	return true;
}


static bool keepalive_recv(int *err, struct mbuf *mb, bool *estab, void *arg)
{
	struct ws_keepalive *ka = arg;
	size_t i = mb->pos;

	(void)err;
	(void)estab;
	ka->start = ka->state == WS_HEADER && !ka->hdrn ? mb->pos : SIZE_MAX;
	while (i < mb->end && ka->state != WS_LOST) {
		if (ka->state == WS_HEADER) {
			if (!ka->hdrn)
				ka->start = i;
			if (!header_byte(ka, mb->buf[i++])) {
				ka->state = WS_LOST;
				break;
			}
			if (ka->state == WS_HEADER || ka->left)
				continue;
		}
		else {
			size_t n = (size_t)MIN(ka->left, (uint64_t)(mb->end - i));

			payload_take(ka, mb->buf + i, n);
			i += n;
			ka->left -= n;
			if (ka->left)
				continue;
		}
		/* a frame ended at i */
		if (is_keepalive(ka, ka->bodyn))
			i -= keepalive_answer(ka, mb, i);
		ka->state = WS_HEADER;
		ka->hdrn = 0;
	}
	return mb->pos >= mb->end;
}


/* Watches C's frames for keep-alives, once per connection. */
static void keepalive_watch(struct sip_conn *c)
{
	struct ws_keepalive *ka;
	struct tcp_conn *tc = websock_tcp(c->websock_conn);

	for (struct le *le = c->kal.head; le; le = le->next) {
		const struct close_watch *w = le->data;
		if (w->kah == keepalive_closed)
			return;
	}
	ka = mem_zalloc(sizeof(*ka), keepalive_destructor);
	if (!ka || !tc)
		goto fail;
	ka->conn = c;
	ka->w.kah = keepalive_closed;
	if (tcp_register_helper(&ka->th, tc, HELPER_LAYER, NULL, NULL,
				keepalive_recv, ka))
		goto fail;
	ka->tc = mem_ref(tc);
	list_append(&c->kal, &ka->w.le, ka);
	return;
 fail:
	mem_deref(ka);
}


static void count_closed(int err, void *arg)
{
	(void)err;
	(void)arg;   /* the count went down in count_destructor() */
}


static void count_destructor(void *arg)
{
	struct close_watch *w = arg;

	list_unlink(&w->le);
	--metrics.websockets;
}


/* C counts as an open WebSocket from its first message until libre lets
 * go of it: a close watch of our own on it, freed by libre whether it
 * closes the connection (and calls its handler) or just frees it. */
static void count_open(struct sip_conn *c)
{
	struct close_watch *w;

	for (struct le *le = c->kal.head; le; le = le->next)
		if (((struct close_watch *)le->data)->kah == count_closed)
			return;
	w = mem_zalloc(sizeof(*w), count_destructor);
	if (!w)
		return;
	w->kah = count_closed;
	list_append(&c->kal, &w->le, w);
	++metrics.websockets;
}


void sipws_received(const struct sip *sip, const struct sip_msg *msg)
{
	struct sip_conn *c = ws_conn(sip, msg);

	if (!c)
		return;
	count_open(c);
	c->established = true;
	idle_restart(c);
	keepalive_watch(c);
}


static void watch_destructor(void *arg)
{
	struct close_watch *w = arg;

	if (w->kap)
		*w->kap = NULL;
	list_unlink(&w->le);
}


int sipws_watch(void **watchp, const struct sip *sip,
		const struct sip_msg *msg, sipws_close_h *closeh, void *arg)
{
	struct sip_conn *c = ws_conn(sip, msg);
	struct close_watch *w;

	if (!watchp || !closeh)
		return EINVAL;
	if (!c)
		return EPROTO;
	w = mem_zalloc(sizeof(*w), watch_destructor);
	if (!w)
		return ENOMEM;
	w->kah = closeh;
	w->arg = arg;
	w->kap = (struct close_watch **)watchp;
	list_append(&c->kal, &w->le, w);
	*watchp = w;
	return 0;
}


static int file_append(int fd, const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;
	int err = 0;

	if (!f)
		return errno;
	while (!err && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (write(fd, buf, n) != (ssize_t)n)
			err = errno ? errno : EIO;
	}
	if (!err && ferror(f))
		err = EIO;
	fclose(f);
	return err;
}


/* libre's https listener takes one PEM file holding both the chain and
 * the key; locus's configuration names two.  Joined in memory (a memfd,
 * reached as /proc/self/fd/N) so the key is never copied to disk. */
static int pem_join(int *fdp, const struct listen_cfg *l)
{
	int fd = memfd_create("locus-wss-pem", MFD_CLOEXEC);
	int err;

	if (fd < 0)
		return errno;
	err = file_append(fd, l->certificate);
	if (!err && write(fd, "\n", 1) != 1)
		err = EIO;
	if (!err)
		err = file_append(fd, l->key);
	if (err)
		close(fd);
	else
		*fdp = fd;
	return err;
}


int sipws_listen(struct sip *sip, const struct listen_cfg *l,
		 char *errbuf, size_t errsz)
{
	const char *version = sys_libre_version_get();
	char pem[64] = "";
	int fd = -1, err;

	if (!version || strcmp(version, LIBRE_VERSION)) {
		re_snprintf(errbuf, errsz, "cannot listen on %s %J: locus's "
			    "WebSocket support is for libre %s, this is libre "
			    "%s; remove the listener or build with libre %s",
			    sip_transp_name(l->tp), &l->addr, LIBRE_VERSION,
			    version ? version : "?", LIBRE_VERSION);
		return ENOTSUP;
	}
	/* libre 1.1.0's WebSocket code prints to stdout whatever it does
	 * (re_printf); locus writes nothing there once running. */
	if (!freopen("/dev/null", "w", stdout))
		return errno;

	if (l->tp == SIP_TRANSP_WSS) {
		err = pem_join(&fd, l);
		if (err) {
			re_snprintf(errbuf, errsz, "cannot read %s or %s for "
				    "wss %J: %m", l->certificate, l->key,
				    &l->addr, err);
			return err;
		}
		re_snprintf(pem, sizeof(pem), "/proc/self/fd/%d", fd);
	}
	/* the certificate is loaded here, once: the memfd can go after */
	err = sip_transp_add_websock(sip, l->tp, &l->addr, true,
				     fd >= 0 ? pem : NULL);
	if (fd >= 0)
		close(fd);
	if (err)
		re_snprintf(errbuf, errsz, "cannot listen on %s %J: %m",
			    sip_transp_name(l->tp), &l->addr, err);
	return err;
}
