#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <re.h>
#include "common/log.h"
#include "sip/sipmsg.h"
#include "config/config.h"
#include "transport/flows.h"
#include "transport/server.h"
#include "transport/sipws.h"
#include "transport/trace.h"
#include "transport/wire.h"

/* A finished non-INVITE server transaction stays 32 s (Timer J, RFC 3261
 * §17.2.2) to absorb retransmissions, and every new request is looked up
 * by branch and, for merge detection, by Call-ID.  REGISTERs keep none
 * (the registrar's answer cache does that job, registrar/replay.c); the
 * proxy's requests do.  Buckets enough for tens of thousands of calls a
 * second (8 MB of list heads each). */
enum {
	CTRANS_BUCKETS = 1u << 18,
	STRANS_BUCKETS = 1u << 19,
	TCONN_BUCKETS  = 1u << 10,
	/* a UDP datagram's largest payload: libre reads 8 KiB by default and
	 * drops a longer message, truncated, without a word */
	UDP_RX_MAX     = 65535,
	/* a UDP socket's receive buffer: the kernel's default (208 KiB, some
	 * 160 REGISTERs) fills in 16 ms at 10,000/s, so any hiccup longer
	 * than that (the loop descheduled, a burst from a client catching
	 * up, a group commit's answers going out) drops requests, each one
	 * costing its UA a retransmission 500 ms later.  4 MiB (the kernel
	 * doubles it) holds over half a second of them. */
	UDP_RCVBUF     = 4 << 20,
	UDP_SOCKS_MAX  = 16,
};

struct server {
	const struct locus_config *cfg;
	struct dnsc *dnsc;
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct flows *flows;
	struct trace *trace;         /* not referenced; NULL: none */
	server_request_h *reqh;
	void *arg;
	/* UDP sockets udp_socket_prepare() has seen */
	struct udp_sock *udp_socks[UDP_SOCKS_MAX];
	size_t udp_sockc;
};


static void server_destructor(void *arg)
{
	struct server *srv = arg;

	mem_deref(srv->lsnr);
	mem_deref(srv->flows);   /* unhooks its watches from libre's conns */
	if (srv->sip)
		sip_close(srv->sip, true);
	mem_deref(srv->sip);
	mem_deref(srv->dnsc);
}


static int tls_fail(char *errbuf, size_t errsz, const char *what,
		    const char *path, const char *hint)
{
	unsigned long e = ERR_peek_last_error();

	re_snprintf(errbuf, errsz, "cannot use %s %s: %s; %s", what, path,
		    e ? ERR_reason_error_string(e) : "unknown error", hint);
	ERR_clear_error();
	return EINVAL;
}


/* The TLS context of a listener, from its PEM files.  libre uses it for
 * the connections the listener accepts and for those locus opens to
 * sips: and ;transport=tls targets. */
static int tls_context(struct tls **tlsp, const struct listen_cfg *l,
		       char *errbuf, size_t errsz)
{
	struct tls *tls = NULL;
	SSL_CTX *ctx;
	int err;

	err = tls_alloc(&tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (err) {
		re_snprintf(errbuf, errsz, "cannot create a TLS context: %m",
			    err);
		return err;
	}
	ctx = tls_openssl_context(tls);
	if (SSL_CTX_use_certificate_chain_file(ctx, l->certificate) <= 0)
		err = tls_fail(errbuf, errsz, "TLS certificate", l->certificate,
			       "point listen.certificate at a PEM certificate"
			       " (chain) file");
	else if (SSL_CTX_use_PrivateKey_file(ctx, l->key,
					     SSL_FILETYPE_PEM) <= 0)
		err = tls_fail(errbuf, errsz, "TLS key", l->key, "point "
			       "listen.key at the certificate's PEM private key");
	else if (!SSL_CTX_check_private_key(ctx))
		err = tls_fail(errbuf, errsz, "TLS key", l->key, "it does not "
			       "belong to listen.certificate");
	if (err)
		mem_deref(tls);
	else
		*tlsp = tls;
	return err;
}


static int listener_add(struct server *srv, const struct listen_cfg *l,
			char *errbuf, size_t errsz)
{
	struct tls *tls = NULL;
	int err;

	if (l->tp == SIP_TRANSP_TLS || l->tp == SIP_TRANSP_WSS) {
		err = tls_context(&tls, l, errbuf, errsz);
		if (err)
			return err;
	}
	if (l->tp == SIP_TRANSP_WS || l->tp == SIP_TRANSP_WSS) {
		/* the files were checked above, with errors that name them */
		mem_deref(tls);
		return sipws_listen(srv->sip, l, errbuf, errsz);
	}
	err = sip_transp_add(srv->sip, l->tp, &l->addr, tls);
	mem_deref(tls);   /* the transport holds its own reference */
	if (err)
		re_snprintf(errbuf, errsz, "cannot listen on %s %J: %m",
			    sip_transp_name(l->tp), &l->addr, err);
	return err;
}


static int listeners_add(struct server *srv, char *errbuf, size_t errsz)
{
	for (size_t i = 0; i < srv->cfg->listenc; i++) {
		const struct listen_cfg *l = &srv->cfg->listen[i];
		int err = listener_add(srv, l, errbuf, errsz);

		if (err)
			return err;
		log_info("listening on %s %J", sip_transp_name(l->tp),
			 &l->addr);
	}
	return 0;
}


/* Every SIP message in and out (libre's trace hook): counted, logged
 * whole when it concerns a traced user (at log level info), and at log
 * level debug every one of them. */
static void sip_trace(bool tx, enum sip_transp tp, const struct sa *src,
		      const struct sa *dst, const uint8_t *pkt, size_t len,
		      void *arg)
{
	struct server *srv = arg;

	wire_count(tx, pkt, len);
	if (trace_message(srv->trace, tx, tp, src, dst, pkt, len))
		return;
	if (log_get_level() == LOG_LEVEL_DEBUG)
		log_debug("%s %s %J -> %J (%zu bytes)\n%b", tx ? "sent" :
			  "received", sip_transp_name(tp), src, dst, len, pkt,
			  len);
}


/* Where requests go by name (RFC 3263 with libre's asynchronous resolver,
 * never a blocking call): a Contact or Path with a host name, a relayed
 * Request-URI.  The servers are proxy.dns_servers, else those of
 * /etc/resolv.conf.  Without relaying locus can do without one: a target
 * named by a host then gets no answer but 480 (its device is unavailable)
 * and the reason is logged here, at start-up. */
static int resolver_alloc(struct server *srv, char *errbuf, size_t errsz)
{
	const struct locus_config *cfg = srv->cfg;
	struct sa nsv[4];
	uint32_t nsn = ARRAY_SIZE(nsv);
	char domain[64];
	int err = 0;

	if (cfg->dns_serverc) {
		nsn = (uint32_t)MIN(cfg->dns_serverc, ARRAY_SIZE(nsv));
		memcpy(nsv, cfg->dns_servers, nsn * sizeof(*nsv));
	}
	else {
		err = dns_srv_get(domain, sizeof(domain), nsv, &nsn);
	}
	if (!err)
		err = dnsc_alloc(&srv->dnsc, NULL, nsv, nsn);
	if (err && cfg->relay) {
		re_snprintf(errbuf, errsz, "proxy.relay is on but no DNS "
			    "resolver could be set up (/etc/resolv.conf or "
			    "proxy.dns_servers): %m", err);
		return err;
	}
	if (err)
		log_warn("no DNS resolver (/etc/resolv.conf or "
			 "proxy.dns_servers: %m): Contacts and Paths with "
			 "host names cannot be reached", err);
	return 0;
}


int server_alloc(struct server **srvp, const struct locus_config *cfg,
		 char *errbuf, size_t errsz)
{
	struct server *srv = mem_zalloc(sizeof(*srv), server_destructor);
	int err;

	if (!srv)
		return ENOMEM;
	srv->cfg = cfg;

	err = resolver_alloc(srv, errbuf, errsz);
	if (err)
		goto out;
	err = sip_alloc(&srv->sip, srv->dnsc, CTRANS_BUCKETS, STRANS_BUCKETS,
			TCONN_BUCKETS, LOCUS_SERVER_NAME, NULL, srv);
	if (err)
		re_snprintf(errbuf, errsz, "cannot create the SIP stack: %m",
			    err);
	else
		err = flows_alloc(&srv->flows, srv->sip);
	if (!err)
		err = listeners_add(srv, errbuf, errsz);
	/* libre hands its trace hook the sip_alloc() argument: srv */
	if (!err)
		sip_set_trace_handler(srv->sip, sip_trace);

 out:
	if (err)
		mem_deref(srv);
	else
		*srvp = srv;
	return err;
}


struct sip *server_sip(const struct server *srv)
{
	return srv->sip;
}


struct flows *server_flows(const struct server *srv)
{
	return srv->flows;
}


void server_trace_set(struct server *srv, struct trace *trace)
{
	srv->trace = trace;
}


/*
 * Once per UDP socket, from its first message: libre 1.1.0 gives no
 * access to its UDP sockets but through the messages they received.
 * From then on every datagram is read whole, so that an oversized header
 * gets its 400 instead of vanishing (one over 8 KiB before any other on a
 * socket is still lost: libre's UDP_RXSZ_DEFAULT), and the receive
 * buffer rides out a long turn of the loop (SO_RCVBUFFORCE passes
 * net.core.rmem_max where we may).
 */
static void udp_socket_prepare(struct server *srv, const struct sip_msg *msg)
{
	struct udp_sock *us = msg->sock;
	int size = UDP_RCVBUF, got = 0;
	socklen_t len = sizeof(got);

	for (size_t i = 0; i < srv->udp_sockc; i++) {
		if (srv->udp_socks[i] == us)
			return;
	}
	udp_rxsz_set(us, UDP_RX_MAX);
	if (srv->udp_sockc == UDP_SOCKS_MAX)
		return;
	srv->udp_socks[srv->udp_sockc++] = us;

#ifdef SO_RCVBUFFORCE
	if (!udp_setsockopt(us, SOL_SOCKET, SO_RCVBUFFORCE, &size,
			    sizeof(size)))
		size = 0;
#endif
	if (size)
		(void)udp_setsockopt(us, SOL_SOCKET, SO_RCVBUF, &size,
				     sizeof(size));
	(void)getsockopt(udp_sock_fd(us, sa_af(&msg->dst)), SOL_SOCKET,
			 SO_RCVBUF, &got, &len);
	log_info("UDP %J: receive buffer %d bytes", &msg->dst, got);
}


void server_request(struct server *srv, const struct sip_msg *msg)
{
	bool ack = 0 == pl_strcmp(&msg->met, "ACK");
	const char *problem;
	uint16_t scode;

	if (msg->tp == SIP_TRANSP_UDP)
		udp_socket_prepare(srv, msg);
	else if (msg->tp == SIP_TRANSP_WS || msg->tp == SIP_TRANSP_WSS)
		sipws_received(srv->sip, msg);

	problem = sipmsg_request_problem(msg, &scode);
	if (problem) {
		log_debug("%u %s to %r from %J", scode, problem, &msg->met,
			  &msg->src);
		/* RFC 3261 §17.1.1.3: an ACK is never answered */
		if (!ack)
			(void)sip_reply(srv->sip, msg, scode, problem);
		return;
	}

	srv->reqh(msg, srv->arg);
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	server_request(arg, msg);
	return true;
}


int server_start(struct server *srv, server_request_h *reqh, void *arg)
{
	srv->reqh = reqh;
	srv->arg = arg;
	return sip_listen(&srv->lsnr, srv->sip, true, request_handler, srv);
}


void server_close(struct server *srv)
{
	if (srv && srv->sip)
		sip_close(srv->sip, false);
}
