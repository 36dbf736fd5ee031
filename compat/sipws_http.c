/*
 * libre's http_reply(), with the subprotocol a SIP WebSocket handshake
 * must echo (RFC 7118 §4.1; RFC 6455 §4.2.2: a browser fails the
 * connection when the 101 leaves out the protocol it asked for).
 *
 * libre 1.1.0's websock_accept() answers the upgrade through
 * http_reply(), via its PLT, so this definition in the executable takes
 * the place of libre's (the link exports it, CMakeLists.txt) and hands
 * everything to libre's own after adding the header to the 101.  locus
 * itself serves no HTTP; libre's SIP WebSocket listener is the only
 * caller.  See transport/sipws.c.
 */
#define _GNU_SOURCE   /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>
#include <re.h>

typedef int (http_reply_f)(struct http_conn *conn, uint16_t scode,
			   const char *reason, const char *fmt, ...);

/* websock_accept()'s headers of the 101, libre v1.1.0 websock.c */
static const char ACCEPT_FMT[] =
	"Upgrade: websocket\r\n"
	"Connection: Upgrade\r\n"
	"Sec-WebSocket-Accept: %H\r\n"
	"\r\n";


int http_reply(struct http_conn *conn, uint16_t scode, const char *reason,
	       const char *fmt, ...)
{
	static http_reply_f *libre_reply;
	char *headers = NULL;
	va_list ap;
	int err;

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
