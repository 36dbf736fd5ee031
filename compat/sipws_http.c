/*
 * libre's http_reply(), with the subprotocol a SIP WebSocket handshake
 * must echo (RFC 7118 §4.1; RFC 6455 §4.2.2: a browser fails the
 * connection when the 101 leaves out the protocol it asked for).
 *
 * libre 1.1.0's websock_accept() answers the upgrade through
 * http_reply(), via its PLT, so this definition in the executable takes
 * the place of libre's (the link exports it, CMakeLists.txt) and hands
 * everything to libre's own after adding the header to the 101.  Its
 * callers: libre's SIP WebSocket listener, and the metrics endpoint
 * (daemon/metrics_http.c), whose answers pass through unchanged.  See
 * transport/sipws.c.  compat_http_check() proves at start-up
 * that websock_accept()'s 101 comes here, in the form expected.
 *
 * Measured: with libre 1.1.0's own 101, JsSIP in Chromium never
 * registers (tests/integration/jssip_ws.sh): "Error during WebSocket
 * handshake: Sent non-empty 'Sec-WebSocket-Protocol' header but no
 * response was received".  Upstream fixed it in baresip/re v3.2.0:
 * websock_accept_proto(), which libre's SIP transport calls with "sip".
 * Drop this file with libre 1.1.0: remove it, http_reply from
 * LOCUS_COMPAT_SYMBOLS in CMakeLists.txt and its check in daemon/main.c,
 * and run tests/integration/jssip_ws.sh.
 */
#define _GNU_SOURCE   /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "compat/override.h"
#include "compat/sipws_http.h"

typedef int (http_reply_f)(struct http_conn *conn, uint16_t scode,
			   const char *reason, const char *fmt, ...);

/* websock_accept()'s headers of the 101, libre v1.1.0 websock.c */
static const char ACCEPT_FMT[] =
	"Upgrade: websocket\r\n"
	"Connection: Upgrade\r\n"
	"Sec-WebSocket-Accept: %H\r\n"
	"\r\n";

/* While compat_http_check() runs, http_reply() answers nothing: it notes
 * what it was asked to send. */
static struct http_probe {
	bool on;
	bool reached;
	bool accept_fmt;     /* a 101 with websock_accept()'s headers */
} probe;


int http_reply(struct http_conn *conn, uint16_t scode, const char *reason,
	       const char *fmt, ...)
{
	static http_reply_f *libre_reply;
	char *headers = NULL;
	va_list ap;
	int err;

	if (probe.on) {
		probe.reached = true;
		probe.accept_fmt = scode == 101 && fmt &&
				   0 == strcmp(fmt, ACCEPT_FMT);
		return ECANCELED;
	}
	if (!libre_reply)
		libre_reply = (http_reply_f *)dlsym(RTLD_NEXT, "http_reply");
	if (!libre_reply)
		return ENOSYS;
	if (!fmt)
		return libre_reply(conn, scode, reason, NULL);

	va_start(ap, fmt);
	if (scode == 101 && 0 == strcmp(fmt, ACCEPT_FMT)) {
		re_printf_h *accept_print = va_arg(ap, re_printf_h *);
		void *key = va_arg(ap, void *);

		va_end(ap);
		return libre_reply(conn, scode, reason,
				   "Upgrade: websocket\r\n"
				   "Connection: Upgrade\r\n"
				   "Sec-WebSocket-Accept: %H\r\n"
				   "Sec-WebSocket-Protocol: sip\r\n"
				   "\r\n", accept_print, key);
	}
	err = re_vsdprintf(&headers, fmt, ap);
	va_end(ap);
	if (!err)
		err = libre_reply(conn, scode, reason, "%s", headers);
	mem_deref(headers);
	return err;
}


/* ---- start-up check -------------------------------------------------------- */

static void probe_recv(const struct websock_hdr *hdr, struct mbuf *mb,
		       void *arg)
{
	(void)hdr;
	(void)mb;
	(void)arg;
}


static void probe_close(int err, void *arg)
{
	(void)err;
	(void)arg;
}


/* libre's websock_accept() with a browser's upgrade request, as its SIP
 * WebSocket listener calls it; this http_reply() notes its 101 and sends
 * nothing.  The connection is a zeroed stand-in: should libre's own
 * http_reply() be the one called, it finds no TCP connection in it and
 * sends nothing either (ENOTCONN, libre v1.1.0 http/server.c). */
static int accept_probe(void)
{
	static const char upgrade[] =
		"GET / HTTP/1.1\r\n"
		"Host: probe.invalid\r\n"
		"Upgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\n"
		"Sec-WebSocket-Protocol: sip\r\n"
		"\r\n";
	static union {
		max_align_t align;
		uint8_t bytes[512];    /* more than libre's struct http_conn */
	} no_conn;
	struct websock *ws = NULL;
	struct websock_conn *conn = NULL;
	struct http_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(sizeof(upgrade));
	int err;

	if (!mb)
		return ENOMEM;
	(void)mbuf_write_str(mb, upgrade);
	mb->pos = 0;
	err = http_msg_decode(&msg, mb, true);
	if (!err)
		err = websock_alloc(&ws, NULL, NULL);
	if (!err) {
		probe = (struct http_probe){.on = true};
		err = websock_accept(&conn, ws, (struct http_conn *)&no_conn,
				     msg, 0, probe_recv, probe_close, NULL);
		probe.on = false;
		/* the 101 failed: this http_reply() (ECANCELED) or libre's
		 * (ENOTCONN) answered, and websock_accept() gave up */
		if (err == ECANCELED || err == ENOTCONN)
			err = 0;
	}
	mem_deref(conn);
	mem_deref(ws);
	mem_deref(msg);
	mem_deref(mb);
	return err;
}


static const char FILE_NAME[] = "compat/sipws_http.c";

int compat_http_check(char *errbuf, size_t errsz)
{
	void *libre_reply = dlsym(RTLD_NEXT, "http_reply");
	int err;

	if (!libre_reply || libre_reply == (void *)http_reply) {
		re_snprintf(errbuf, errsz, "%s: libre's http_reply() not "
			    "found: WebSocket handshakes could not be "
			    "answered", FILE_NAME);
		return ENOSYS;
	}
	err = accept_probe();
	if (err) {
		re_snprintf(errbuf, errsz, "WebSocket check: libre's "
			    "websock_accept(): %m", err);
		return err;
	}
	if (!probe.reached)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
			"http_reply", (void *)http_reply, "the WebSocket "
			"handshake would not echo the subprotocol sip and "
			"browsers would drop the connection");
	if (!probe.accept_fmt) {
		re_snprintf(errbuf, errsz, "%s is not in effect: libre's "
			    "websock_accept() sends another 101 than libre "
			    "1.1.0's, so the subprotocol sip would not be "
			    "echoed and browsers would drop the connection; "
			    "compare ACCEPT_FMT there with this libre's "
			    "websock.c", FILE_NAME);
		return ENOSYS;
	}
	return 0;
}
