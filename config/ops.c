/* The sections for running locus in production: metrics (the Prometheus
 * endpoint) and trace (where traced messages also go).  Both optional;
 * absent, there is no endpoint and traces are only logged. */
#include <string.h>
#include <re.h>
#include "config/section.h"

#define FIELDS(t) t, ARRAY_SIZE(t)


/* ADDR ("IPv4:port" or "[IPv6]:port") into *SA; WILDCARD_OK for a socket
 * we listen on, not for a destination. */
static int load_addr(struct loader *ld, const config_setting_t *s,
		     const char *name, bool wildcard_ok, struct sa *sa)
{
	const char *str = config_setting_get_string(s);
	const char *problem = loader_addr_problem(sa, str);

	if (!problem && !wildcard_ok && sa_is_any(sa))
		problem = "is a wildcard address; name the collector's own"
			" address, e.g. \"192.0.2.20:9060\"";
	if (problem)
		return validator_fail(&ld->v, s, "%s '%s' %s", name, str,
				      problem);
	return 0;
}


/* ---- metrics -------------------------------------------------------- */

static const struct field_rule metrics_fields[] = {
	{"listen", CONFIG_TYPE_STRING, true, "listen = \"127.0.0.1:9100\";"},
};


static int load_metrics(struct loader *ld, const config_setting_t *s,
			const config_setting_t **got)
{
	if (!s)
		return 0;
	return load_addr(ld, got[0], "metrics.listen", true,
			 &ld->cfg->metrics_listen);
}


const struct section section_metrics = {
	"metrics", false, "metrics = { listen = \"127.0.0.1:9100\"; };",
	FIELDS(metrics_fields), load_metrics
};


/* ---- trace ---------------------------------------------------------- */

static const struct field_rule trace_fields[] = {
	{"hep", CONFIG_TYPE_STRING, false, "hep = \"127.0.0.1:9060\";"},
	{"hep_id", CONFIG_TYPE_INT, false, "hep_id = 1;", 0, UINT32_MAX >> 1,
	 1, offsetof(struct locus_config, trace_hep_id)},
};


static int load_trace(struct loader *ld, const config_setting_t *s,
		      const config_setting_t **got)
{
	int err = validator_int(&ld->v, "trace", &trace_fields[1], got[1],
				&ld->cfg->trace_hep_id);

	if (!err && got[0])
		err = load_addr(ld, got[0], "trace.hep", false,
				&ld->cfg->trace_hep);
	return err;
}


const struct section section_trace = {
	"trace", false, "trace = { hep = \"127.0.0.1:9060\"; };",
	FIELDS(trace_fields), load_trace
};
