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
 * 2 and 3 and the close watch need libre's private struct sip_conn.  Its
 * layout as of 1.1.0 is copied below and checked against each message
 * (fields libre's public functions also read must agree) before anything
 * is touched; start-up refuses ws/wss listeners with any other libre.
 * Upstream fixed 1 and 2 in later versions; drop this file with 1.1.0.
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
	/* the timer's handler is libre's conn_tmr_handler (close) */
	if (tmr_isrunning(&c->tmr) && c->tmr.arg == c)
		tmr_start(&c->tmr, IDLE_TIMEOUT_MS, c->tmr.th, c);
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
