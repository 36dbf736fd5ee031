/* The sections for running locus in production: metrics (the Prometheus
 * endpoint).  Optional; absent, there is no endpoint. */
#include <string.h>
#include <re.h>
#include "config/section.h"

#define FIELDS(t) t, ARRAY_SIZE(t)


/* ADDR ("IPv4:port" or "[IPv6]:port") into *SA. */
static int load_addr(struct loader *ld, const config_setting_t *s,
		     const char *name, struct sa *sa)
{
	const char *str = config_setting_get_string(s);
	const char *problem = loader_addr_problem(sa, str);

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
	return load_addr(ld, got[0], "metrics.listen",
			 &ld->cfg->metrics_listen);
}


const struct section section_metrics = {
	"metrics", false, "metrics = { listen = \"127.0.0.1:9100\"; };",
	FIELDS(metrics_fields), load_metrics
};

