/* Running the seam of proxy.h: which INVITEs its service sees, the
 * Request-URI its plan gives, and what it adds to each target. */
#ifndef LOCUS_HOOK_H
#define LOCUS_HOOK_H

#include <stdbool.h>
#include <re.h>
#include "proxy/proxy.h"

struct locus_config;
struct route_info;
struct target_set;

struct hook {
	proxy_invite_h *h;           /* NULL: no service */
	void *arg;
};

/* Asks the service about MSG when it is an initial INVITE to one of our
 * domains, and leaves in *PLANNED the route information to look targets
 * up by: RI, or RI with the plan's Request-URI.  CALLER: see struct
 * proxy_invite.  PLAN->scode set: MSG is to be answered so. */
void hook_plan(struct proxy_plan *plan, struct route_info *planned,
	       const struct hook *hook, const struct locus_config *cfg,
	       const struct sip_msg *msg, const struct route_info *ri,
	       const struct uri *caller);

/* Removes the caller's ;intercom from each target's Request-URI (unless
 * MSG comes from intercom.trusted), then lets the plan add its own. */
int  hook_targets(const struct proxy_plan *plan, struct target_set *ts,
		  const struct locus_config *cfg, const struct sip_msg *msg,
		  const struct route_info *ri);

void hook_plan_release(struct proxy_plan *plan);

#endif
