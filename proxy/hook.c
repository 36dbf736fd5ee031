/*
 * The seam between the proxy and the services above it (proxy.h).
 *
 * Only an initial INVITE (no To tag, no dialog of ours) whose effective
 * Request-URI names a user of one of our domains, with no Route beyond
 * ours, goes to the service: the requests whose targets locus chooses
 * itself.  The plan's Request-URI takes the place of the received one
 * only for choosing targets; the INVITE is not otherwise changed (its To
 * stays as the caller wrote it, RFC 3261 §16.6 step 2 rewrites only the
 * Request-URI).
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"
#include "sip/uri.h"
#include "proxy/autoanswer.h"
#include "proxy/hook.h"
#include "proxy/route.h"
#include "proxy/target.h"


static bool hook_sees(const struct locus_config *cfg,
		      const struct sip_msg *msg, const struct route_info *ri)
{
	return 0 == pl_strcmp(&msg->met, "INVITE") &&
		!pl_isset(&msg->to.tag) && !ri->in_dialog &&
		!pl_isset(&ri->next_route) && sipuri_is_sip(&ri->uri) &&
		pl_isset(&ri->uri.user) && route_uri_is_us(cfg, &ri->uri);
}


void hook_plan(struct proxy_plan *plan, struct route_info *planned,
	       const struct hook *hook, const struct locus_config *cfg,
	       const struct sip_msg *msg, const struct route_info *ri,
	       const struct uri *caller)
{
	struct proxy_invite inv = {msg, &ri->ruri, &ri->uri, caller};
	struct pl pl;

	memset(plan, 0, sizeof(*plan));
	*planned = *ri;
	if (!hook->h || !hook_sees(cfg, msg, ri))
		return;
	hook->h(plan, &inv, hook->arg);
	if (plan->scode || !plan->ruri)
		return;

	pl_set_str(&pl, plan->ruri);
	if (uri_decode(&planned->uri, &pl) ||
	    !sipuri_wellformed(&pl, &planned->uri)) {
		log_warn("proxy: the Request-URI '%s' planned for %r is no "
			 "URI", plan->ruri, &msg->ruri);
		plan->scode = 500;
		plan->reason = "Server Internal Error";
		return;
	}
	planned->ruri = pl;
}


/* TARGETS and, for a device with several flows, the flows tried after
 * the first (RFC 5626 §7): each is the same call to the same device. */
static int targets_apply(const struct proxy_plan *plan,
			 const struct list *targets, bool strip)
{
	int err = 0;

	for (struct le *le = targets->head; le && !err; le = le->next) {
		struct target *t = le->data;

		if (strip)
			err = autoanswer_uri_strip(&t->ruri);
		if (!err && plan->targeth)
			err = plan->targeth(&t->ruri, &t->headers,
					    t->user_agent, plan->arg);
		if (!err)
			err = targets_apply(plan, &t->alts, strip);
	}
	return err;
}


int hook_targets(const struct proxy_plan *plan, struct target_set *ts,
		 const struct locus_config *cfg, const struct sip_msg *msg,
		 const struct route_info *ri)
{
	return targets_apply(plan, &ts->targets,
			     autoanswer_strip_wanted(cfg, msg, ri));
}


void hook_plan_release(struct proxy_plan *plan)
{
	plan->ruri = mem_deref(plan->ruri);
	plan->arg = mem_deref(plan->arg);
}
