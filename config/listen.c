/* The listen section: the sockets locus serves SIP on.  Each entry names
 * a transport (udp, tcp, tls, and ws and wss for SIP over WebSocket,
 * RFC 7118), a concrete address with port, and for tls and wss the PEM
 * certificate chain and key.  Two listeners may share an address only if
 * one is UDP: tcp, tls, ws and wss each need a TCP port of their own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "config/section.h"


static const struct field_rule listen_fields[] = {
	{"transport", CONFIG_TYPE_STRING, true, "transport = \"udp\";"},
	{"address",   CONFIG_TYPE_STRING, true,
	 "address = \"127.0.0.1:5060\";"},
	{"certificate", CONFIG_TYPE_STRING, false,
	 "certificate = \"tls/cert.pem\";"},
	{"key",       CONFIG_TYPE_STRING, false, "key = \"tls/key.pem\";"},
};

static const struct {
	const char *name;
	enum sip_transp tp;
} transports[] = {
	{"udp", SIP_TRANSP_UDP},
	{"tcp", SIP_TRANSP_TCP},
	{"tls", SIP_TRANSP_TLS},
	{"ws",  SIP_TRANSP_WS},     /* RFC 7118 */
	{"wss", SIP_TRANSP_WSS},
};

#define LISTEN_EXAMPLE \
	"{ transport = \"udp\"; address = \"127.0.0.1:5060\"; }"


static int parse_transport(struct loader *ld, const config_setting_t *s,
			   const char *gpath, enum sip_transp *tpp)
{
	const char *name = config_setting_get_string(s);
	char list[64] = "";
	size_t len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(transports); i++) {
		if (0 == strcmp(name, transports[i].name)) {
			*tpp = transports[i].tp;
			return 0;
		}
		if (len < sizeof(list))
			len += snprintf(list + len, sizeof(list) - len,
					"%s\"%s\"", i ? ", " : "",
					transports[i].name);
	}
	return validator_fail(&ld->v, s, "%s.transport '%s' is not supported;"
			      " use one of: %s", gpath, name, list);
}


const char *loader_addr_problem(struct sa *sa, const char *str)
{
	const char *rbracket = str[0] == '[' ? strchr(str, ']') : NULL;
	const char *colon = rbracket ? rbracket + 1 : strrchr(str, ':');
	const char *port;
	size_t digits;

	if (str[0] == '[' && !rbracket)
		return "has no closing ']'; write [IPv6]:port, e.g."
			" \"[::1]:5060\"";
	if (!colon || *colon != ':')
		return "has no port; write IPv4:port or [IPv6]:port, e.g."
			" \"127.0.0.1:5060\"";
	if (!rbracket && memchr(str, ':', colon - str))
		return "is ambiguous; put IPv6 addresses in brackets, e.g."
			" \"[::1]:5060\"";

	/* sa_decode() would wrap 70000 to 4464 and read "x" as 0 */
	port = colon + 1;
	digits = strspn(port, "0123456789");
	if (!digits || port[digits] || digits > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535)
		return "has no valid port; use a port from 1 to 65535, e.g."
			" \"127.0.0.1:5060\"";

	if (sa_decode(sa, str, strlen(str)))
		return "is not a literal IP address; write IPv4:port or"
			" [IPv6]:port (no host names), e.g. \"127.0.0.1:5060\"";
	return NULL;
}


/* Returns NULL if STR is a usable listen address, else "problem; fix". */
static const char *addr_problem(struct sa *sa, const char *str)
{
	const char *problem = loader_addr_problem(sa, str);

	if (problem)
		return problem;

	/* libre picks the sending socket by address family alone, not by
	 * destination, and writes that socket's own address into the Via
	 * sent-by: a wildcard there would reach no one. */
	if (sa_is_any(sa))
		return "is a wildcard address; use a concrete IP such as"
			" \"127.0.0.1:5060\" (libre picks sockets by address"
			" family and the Via sent-by is the socket address, so"
			" it must be one peers can reach)";
	return NULL;
}


static int parse_listen_addr(struct loader *ld, const config_setting_t *s,
			     const char *gpath, struct sa *sa)
{
	const char *str = config_setting_get_string(s);
	const char *problem = addr_problem(sa, str);

	if (problem)
		return validator_fail(&ld->v, s, "%s.address '%s' %s", gpath,
				      str, problem);
	return 0;
}


static bool transport_secure(enum sip_transp tp)
{
	return tp == SIP_TRANSP_TLS || tp == SIP_TRANSP_WSS;
}


/* UDP has sockets of its own; the others each need a TCP port. */
static bool transport_stream(enum sip_transp tp)
{
	return tp != SIP_TRANSP_UDP;
}


/* A TLS or WSS listener names its certificate chain and key (PEM files,
 * relative to the configuration's directory); other transports have none.
 * The files are read when the listener starts. */
static int load_tls_files(struct loader *ld, const config_setting_t *e,
			  const config_setting_t **got, const char *gpath,
			  struct listen_cfg *lc)
{
	int err;

	lc->certificate = lc->key = NULL;
	if (!transport_secure(lc->tp)) {
		const config_setting_t *extra = got[2] ? got[2] : got[3];

		if (extra)
			return validator_fail(&ld->v, extra, "%s.%s is only"
					      " for transports \"tls\" and"
					      " \"wss\"; remove it", gpath,
					      config_setting_name(extra));
		return 0;
	}
	for (int i = 2; i <= 3; i++) {
		if (!got[i])
			return validator_fail(&ld->v, e, "%s has transport"
					      " \"%s\" but no %s; add %s",
					      gpath,
					      config_setting_get_string(got[0]),
					      listen_fields[i].name,
					      listen_fields[i].example);
	}
	err = loader_path(ld, &lc->certificate,
			  config_setting_get_string(got[2]));
	if (!err)
		err = loader_path(ld, &lc->key,
				  config_setting_get_string(got[3]));
	if (err) {
		lc->certificate = mem_deref(lc->certificate);
		lc->key = mem_deref(lc->key);
	}
	return err;
}


static int load_listen_entry(struct loader *ld, const config_setting_t *e,
			     unsigned idx)
{
	struct locus_config *cfg = ld->cfg;
	const config_setting_t *got[VALIDATOR_MAX_FIELDS];
	struct listen_cfg lc;
	char gpath[32];
	int err;

	(void)snprintf(gpath, sizeof(gpath), "listen[%u]", idx);
	if (!config_setting_is_group(e)) {
		return validator_fail(&ld->v, e, "%s must be a group (got %s);"
				      " write e.g. %s", gpath,
				      validator_type_name(
					      config_setting_type(e)),
				      LISTEN_EXAMPLE);
	}

	err = validator_group(&ld->v, e, gpath, listen_fields,
			      ARRAY_SIZE(listen_fields), got);
	err = err ? err : parse_transport(ld, got[0], gpath, &lc.tp);
	err = err ? err : parse_listen_addr(ld, got[1], gpath, &lc.addr);
	err = err ? err : load_tls_files(ld, e, got, gpath, &lc);
	if (err)
		return err;

	for (size_t j = 0; j < cfg->listenc; j++) {
		const struct listen_cfg *o = &cfg->listen[j];

		if (!sa_cmp(&o->addr, &lc.addr, SA_ALL))
			continue;
		if (o->tp == lc.tp || (transport_stream(o->tp) &&
				       transport_stream(lc.tp))) {
			mem_deref(lc.certificate);
			mem_deref(lc.key);
			return validator_fail(&ld->v, got[1], "%s uses the"
					      " address of listen[%zu]%s; give"
					      " one of them another port",
					      gpath, j, o->tp == lc.tp ? ""
					      : " (tcp, tls, ws and wss each"
					      " need a TCP port of their own)");
		}
	}
	cfg->listen[cfg->listenc++] = lc;
	return 0;
}


static int load_listen(struct loader *ld, const config_setting_t *s,
		       const config_setting_t **got)
{
	int n, err;

	if (!config_setting_is_list(s)) {
		return validator_fail(&ld->v, s, "listen must be a list of"
				      " groups (got %s); write e.g. listen ="
				      " ( " LISTEN_EXAMPLE " );",
				      validator_type_name(
					      config_setting_type(s)));
	}
	n = config_setting_length(s);
	if (n == 0) {
		return validator_fail(&ld->v, s, "listen is empty; add at"
				      " least one socket, e.g. listen = ( "
				      LISTEN_EXAMPLE " );");
	}

	ld->cfg->listen = mem_zalloc(n * sizeof(struct listen_cfg), NULL);
	if (!ld->cfg->listen)
		return ENOMEM;

	for (int i = 0; i < n; i++) {
		err = load_listen_entry(ld, config_setting_get_elem(s, i), i);
		if (err)
			return err;
	}
	return 0;
}



const struct section section_listen = {
	"listen", true, "listen = ( " LISTEN_EXAMPLE " );",
	NULL, 0, load_listen
};
