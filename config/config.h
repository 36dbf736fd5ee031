/* config/: the locus configuration.  One libconfig file becomes one
 * validated, typed struct locus_config, and every rejection is one line
 * naming FILE:LINE and what to change.  This header is the folder's whole
 * public face; inside it, config.c loads the file and assembles the
 * struct, validator.c is the generic table-driven checker (unknown keys
 * with "did you mean", types, ranges), listen.c reads the listen section,
 * intercom.c the features and intercom sections and sections.c every
 * other section. */
#ifndef LOCUS_CONFIG_H
#define LOCUS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "common/log.h"

struct listen_cfg {
	enum sip_transp tp;      /* SIP_TRANSP_UDP, _TCP or _TLS            */
	struct sa addr;          /* concrete address and port, never ANY    */
	char *certificate;       /* TLS: PEM chain file, absolute path      */
	char *key;               /* TLS: PEM private key file, absolute     */
};

/* How an intercom call tells one device to answer by itself (intercom.style,
 * features/intercom.c writes them). */
enum intercom_dialect {
	INTERCOM_DEFAULT,        /* Call-Info answer-after=0 and Alert-Info
				    info=alert-autoanswer;delay=0          */
	INTERCOM_RING_ANSWER,    /* Alert-Info: Ring-Answer (Polycom)       */
	INTERCOM_URI_PARAM,      /* ;intercom=true on the Request-URI       */
	INTERCOM_ANSWER_MODE,    /* Answer-Mode: Auto (RFC 5373)            */
};

/* One row of intercom.style: devices whose User-Agent matches the glob
 * USER_AGENT (case-insensitive) get DIALECT. */
struct intercom_style {
	char *user_agent;
	enum intercom_dialect dialect;
};

/* registrar.nat: how a binding's device is reached (README, "Registrar
 * behaviour"). */
enum nat_policy {
	NAT_AUTO,                /* decided per REGISTER (registrar/nat.h)  */
	NAT_ALWAYS,              /* at the REGISTER's source address        */
	NAT_NEVER,               /* at the Contact                          */
};

struct locus_config {
	char *path;              /* the file this was read from             */

	char **domains;          /* lower-cased domain names, domainc of them */
	size_t domainc;

	struct listen_cfg *listen;
	size_t listenc;

	char *db_conninfo;       /* libpq conninfo string                   */

	uint32_t min_expires;    /* registrar.*, seconds                    */
	uint32_t default_expires;
	uint32_t max_expires;
	uint32_t max_contacts;   /* per AOR                                 */
	enum nat_policy nat;     /* registrar.nat                           */
	uint32_t flow_timer;     /* registrar.flow_timer, seconds; 0: none  */

	bool relay;              /* proxy.relay: forward to foreign domains */
	uint32_t timer_c;        /* proxy.timer_c, seconds (RFC 3261 §16.8) */
	char *edge_registrar;    /* proxy.edge_registrar: the registrar locus
				    is the edge proxy of (a sip: URI), or
				    NULL                                    */
	struct sa *dns_servers;  /* proxy.dns_servers; none: resolv.conf's  */
	size_t dns_serverc;

	/* auth.*: digest authentication (RFC 3261 §22, RFC 8760) */
	bool auth;               /* off only for labs                       */
	uint8_t auth_algs[2];    /* enum digest_alg values, challenge order */
	size_t auth_algc;
	uint32_t nonce_lifetime; /* seconds                                 */
	uint32_t fail_limit;     /* failed authentications per window, per
				    source address and per AOR, before 403   */
	uint32_t fail_window;    /* seconds                                 */
	struct sa *trusted;      /* peers never challenged (address only)   */
	size_t trustedc;

	/* features.*, intercom.*: intercom calls (config/intercom.c) */
	char *intercom_prefix;   /* features.intercom; NULL: no feature code */
	struct intercom_style *intercom_styles;  /* first match wins       */
	size_t intercom_stylec;
	struct sa *intercom_trusted;  /* peers whose auto-answer headers are
				         forwarded (address only)          */
	size_t intercom_trustedc;

	char *gruu_key_file;     /* absolute: a relative key_file is taken
				    relative to the config file's directory */

	/* features.park: call parking (ua/park.h); off when absent */
	struct park_cfg {
		bool enabled;
		uint32_t first;      /* slots: first and last slot number   */
		uint32_t last;
		uint32_t digits;     /* a slot's number is written with this
					many digits ("701")                 */
		char *auto_number;   /* parks in the first free slot; NULL:
					none                                */
		uint32_t timeout;    /* seconds until the parker is called
					back                                */
	} park;

	enum log_level log_level;

	/* metrics.*: Prometheus text format at http://LISTEN/metrics
	 * (daemon/metrics_http.c).  These addresses are unset when absent:
	 * no port (sa_isset(..., SA_PORT) is false); a wildcard address
	 * that is set has one. */
	struct sa metrics_listen;

	/* trace.*: what a trace (locus.trace(), transport/trace.c) also
	 * sends, as HEP v3 to a collector (Homer) */
	struct sa trace_hep;
	uint32_t trace_hep_id;   /* the capture agent ID in each packet     */
};

/*
 * Reads and validates FILE.  On success *cfgp is a mem_deref()-able
 * struct and 0 is returned.  On failure, returns an errno value and, if
 * errbuf is given, writes one human-readable line into it of the form
 *   "FILE:LINE: what is wrong; what to change"
 * (LINE omitted only when the file cannot be opened at all).
 */
int config_load(struct locus_config **cfgp, const char *path,
		char *errbuf, size_t errsz);

/*
 * A reload (SIGHUP): LIVE, the configuration every module points at,
 * takes the settings of NEXT, a configuration just loaded from the same
 * file, except those only a restart can change (listen, database.conninfo,
 * gruu.key_file, auth.enabled, proxy.relay): those keep their running
 * values, and each that differs is logged as needing a restart.  Every
 * setting that changed is logged.  Afterwards NEXT holds what LIVE held:
 * mem_deref() it.  Returns how many changes need a restart.  See
 * config/swap.c for why this is safe with modules holding LIVE.
 */
unsigned config_swap(struct locus_config *live, struct locus_config *next);

/* True if SRC's address (any port) is a trusted peer (auth.trusted). */
bool config_is_trusted(const struct locus_config *cfg, const struct sa *src);

/* True if SRC's address (any port) is in intercom.trusted. */
bool config_is_intercom_trusted(const struct locus_config *cfg,
				const struct sa *src);

/* The name intercom.style gives dialect D ("ring-answer", ...). */
const char *config_intercom_dialect_name(enum intercom_dialect d);

/* True if DOMAIN is one of ours: any case, with or without the trailing
 * dot of a fully qualified name ("EXAMPLE.COM." is example.com). */
bool config_is_our_domain(const struct locus_config *cfg,
			  const struct pl *domain);

/* The domain of ours that DOMAIN names, as configured (lower-case, no
 * trailing dot); NULL when DOMAIN is not ours. */
const char *config_our_domain(const struct locus_config *cfg,
			      const struct pl *domain);

#endif
