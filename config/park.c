/* features.park: call parking (ua/park.h).
 *
 *   features = { park = { slots = "701-799"; auto = "70"; timeout = 120; }; };
 *
 * slots: the slot numbers, "FIRST-LAST", both of as many digits (a slot
 * is dialled as written, "701"), at most PARK_SLOTS_MAX of them; auto: a
 * number that parks in the first free slot, outside the slots; timeout:
 * seconds until an unclaimed call rings its parker again. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "config/section.h"

enum { PARK_SLOTS_MAX = 1000, PARK_DIGITS_MAX = 9 };

static const struct field_rule park_fields[] = {
	{"slots", CONFIG_TYPE_STRING, true, "slots = \"701-799\";"},
	{"auto", CONFIG_TYPE_STRING, false, "auto = \"70\";"},
	{"timeout", CONFIG_TYPE_INT, false, "timeout = 120;", 1, 86400, 120,
	 offsetof(struct locus_config, park.timeout)},
};


static bool all_digits(const char *p, size_t n)
{
	if (!n || n > PARK_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return false;
	}
	return true;
}


static int load_slots(struct loader *ld, const config_setting_t *s)
{
	struct park_cfg *pc = &ld->cfg->park;
	const char *v = config_setting_get_string(s);
	const char *dash = strchr(v, '-');
	size_t n1 = dash ? (size_t)(dash - v) : 0;
	size_t n2 = dash ? strlen(dash + 1) : 0;

	if (!dash || !all_digits(v, n1) || !all_digits(dash + 1, n2) ||
	    n1 != n2)
		return validator_fail(&ld->v, s, "features.park.slots '%s' is"
				      " not a range of slot numbers of as many"
				      " digits each; write e.g. slots ="
				      " \"701-799\";", v);
	pc->first = (uint32_t)strtoul(v, NULL, 10);
	pc->last = (uint32_t)strtoul(dash + 1, NULL, 10);
	pc->digits = (uint32_t)n1;
	if (pc->first > pc->last || pc->last - pc->first >= PARK_SLOTS_MAX)
		return validator_fail(&ld->v, s, "features.park.slots '%s'"
				      " must run upwards and hold at most %u"
				      " slots; write e.g. slots = \"701-799\";",
				      v, PARK_SLOTS_MAX);
	return 0;
}


static int load_auto(struct loader *ld, const config_setting_t *s)
{
	struct park_cfg *pc = &ld->cfg->park;
	const char *v;
	uint32_t n;

	if (!s)
		return 0;
	v = config_setting_get_string(s);
	if (!all_digits(v, strlen(v)))
		return validator_fail(&ld->v, s, "features.park.auto '%s' is"
				      " not a number to dial; write e.g. auto"
				      " = \"70\";", v);
	n = (uint32_t)strtoul(v, NULL, 10);
	if (strlen(v) == pc->digits && n >= pc->first && n <= pc->last)
		return validator_fail(&ld->v, s, "features.park.auto '%s' is"
				      " one of the slots; pick a number outside"
				      " them, e.g. auto = \"70\";", v);
	return str_dup(&pc->auto_number, v);
}


int config_park_load(struct loader *ld, const config_setting_t *s)
{
	const config_setting_t *got[VALIDATOR_MAX_FIELDS] = {NULL};
	int err;

	err = validator_group(&ld->v, s, "features.park", park_fields,
			      ARRAY_SIZE(park_fields), got);
	err = err ? err : load_slots(ld, got[0]);
	err = err ? err : load_auto(ld, got[1]);
	err = err ? err : validator_int(&ld->v, "features.park",
					&park_fields[2], got[2],
					&ld->cfg->park.timeout);
	if (!err)
		ld->cfg->park.enabled = true;
	return err;
}
