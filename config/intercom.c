/* The sections of the configuration that intercom calls read (the feature
 * itself is features/intercom.c):
 *
 *   features = { intercom = "*6"; };
 *   intercom = {
 *     style   = ( { user_agent = "Polycom*"; dialect = "ring-answer"; } );
 *     trusted = [ "192.0.2.10" ];
 *   };
 *
 * features.intercom is the prefix of a dialled user part that makes a call
 * an intercom call; absent or "" switches the feature code off.
 * intercom.style picks, by the User-Agent a device registered with, how
 * it is told to answer by itself; intercom.trusted lists the peers whose
 * own auto-answer headers locus forwards instead of removing. */
#include <string.h>
#include <re.h>
#include "config/section.h"

#define FIELDS(t) t, ARRAY_SIZE(t)

enum { PREFIX_MAX = 16 };

/* The names intercom.style's dialect takes, by enum intercom_dialect. */
static const char *const dialect_names[] = {
	[INTERCOM_DEFAULT]     = "default",
	[INTERCOM_RING_ANSWER] = "ring-answer",
	[INTERCOM_URI_PARAM]   = "intercom-uri",
	[INTERCOM_ANSWER_MODE] = "answer-mode",
};


/* ---- features ------------------------------------------------------- */

static const char *const features_keys[] = {"intercom", "park"};


/* RFC 3261 §25.1 unreserved characters: those a user part carries
 * unescaped and locus compares unescaped, so that "*6bob" and "%2A6bob"
 * dial the same code. */
static bool prefix_plausible(const char *p)
{
	size_t n = strlen(p);

	if (n > PREFIX_MAX)
		return false;
	for (; *p; p++) {
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && !strchr("-_.!~*'()", *p))
			return false;
	}
	return true;
}


/* features.park: a group of its own (config/park.c). */
static int load_park(struct loader *ld, const config_setting_t *s)
{
	const config_setting_t *park = config_setting_get_member(s, "park");

	if (!park)
		return 0;
	if (config_setting_type(park) != CONFIG_TYPE_GROUP)
		return validator_fail(&ld->v, park, "features.park must be a"
				      " group (got %s); write e.g. park = {"
				      " slots = \"701-799\"; };",
				      validator_type_name(
					      config_setting_type(park)));
	return config_park_load(ld, park);
}


static int load_features(struct loader *ld, const config_setting_t *s,
			 const config_setting_t **got)
{
	const config_setting_t *code;
	const char *prefix;
	int err;
	(void)got;

	if (!s)
		return 0;
	err = validator_keys(&ld->v, s, "features", features_keys,
			     ARRAY_SIZE(features_keys));
	if (!err)
		err = load_park(ld, s);
	if (err)
		return err;
	code = config_setting_get_member(s, "intercom");
	if (!code)
		return 0;
	prefix = config_setting_get_string(code);
	if (!prefix)
		return validator_fail(&ld->v, code, "features.intercom must be"
				      " a string (got %s); write e.g."
				      " intercom = \"*6\";",
				      validator_type_name(
					      config_setting_type(code)));
	if (!prefix_plausible(prefix))
		return validator_fail(&ld->v, code, "features.intercom '%s'"
				      " must be at most %d digits, letters"
				      " or - _ . ! ~ * ' ( ) (what a SIP user"
				      " part carries unescaped); write e.g."
				      " intercom = \"*6\";", prefix,
				      PREFIX_MAX);
	/* "" is off, as if absent */
	return *prefix ? str_dup(&ld->cfg->intercom_prefix, prefix) : 0;
}


const struct section section_features = {
	"features", false, "features = { intercom = \"*6\"; park = {"
	" slots = \"701-799\"; }; };",
	NULL, 0, load_features
};


/* ---- intercom ------------------------------------------------------- */

static const struct field_rule intercom_fields[] = {
	{"style", CONFIG_TYPE_ARRAY, false,
	 "style = ( { user_agent = \"Polycom*\"; dialect = \"ring-answer\";"
	 " } );"},
	{"trusted", CONFIG_TYPE_ARRAY, false,
	 "trusted = [ \"192.0.2.10\" ];"},
};

static const struct field_rule style_fields[] = {
	{"user_agent", CONFIG_TYPE_STRING, true,
	 "user_agent = \"Polycom*\";"},
	{"dialect", CONFIG_TYPE_STRING, true, "dialect = \"ring-answer\";"},
};


static int dialect_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(dialect_names); i++) {
		if (0 == strcmp(name, dialect_names[i]))
			return (int)i;
	}
	return -1;
}


static int load_style_row(struct loader *ld, const config_setting_t *e,
			  int idx, struct intercom_style *row)
{
	const config_setting_t *got[ARRAY_SIZE(style_fields)] = {NULL};
	char gpath[32];
	const char *name;
	int dialect, err;

	re_snprintf(gpath, sizeof(gpath), "intercom.style[%d]", idx);
	if (!config_setting_is_group(e))
		return validator_fail(&ld->v, e, "%s must be a group (got %s);"
				      " write e.g. %s", gpath,
				      validator_type_name(
					      config_setting_type(e)),
				      intercom_fields[0].example);
	err = validator_group(&ld->v, e, gpath, FIELDS(style_fields), got);
	if (err)
		return err;
	name = config_setting_get_string(got[1]);
	dialect = dialect_parse(name);
	if (dialect < 0)
		return validator_fail(&ld->v, got[1], "%s.dialect '%s' is not"
				      " a dialect; use one of: \"%s\", \"%s\","
				      " \"%s\", \"%s\"", gpath, name,
				      dialect_names[0], dialect_names[1],
				      dialect_names[2], dialect_names[3]);
	row->dialect = (enum intercom_dialect)dialect;
	return str_dup(&row->user_agent,
		       config_setting_get_string(got[0]));
}


static int load_styles(struct loader *ld, const config_setting_t *s)
{
	struct locus_config *cfg = ld->cfg;
	int n = s ? config_setting_length(s) : 0;

	if (!n)
		return 0;
	cfg->intercom_styles = mem_zalloc(n * sizeof(*cfg->intercom_styles),
					  NULL);
	if (!cfg->intercom_styles)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		int err = load_style_row(ld, config_setting_get_elem(s, i), i,
					 &cfg->intercom_styles[i]);
		if (err)
			return err;
		cfg->intercom_stylec = (size_t)i + 1;
	}
	return 0;
}


static int load_intercom_trusted(struct loader *ld, const config_setting_t *s)
{
	struct locus_config *cfg = ld->cfg;
	int n = s ? config_setting_length(s) : 0;

	if (!n)
		return 0;
	cfg->intercom_trusted = mem_zalloc(n * sizeof(struct sa), NULL);
	if (!cfg->intercom_trusted)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *str = config_setting_get_string(e);

		if (!str || sa_set_str(&cfg->intercom_trusted[i], str, 0))
			return validator_fail(&ld->v, e, "intercom.trusted[%d]"
					      " must be an IP address; write"
					      " it as a string without port"
					      " or name, e.g. %s", i,
					      intercom_fields[1].example);
	}
	cfg->intercom_trustedc = (size_t)n;
	return 0;
}


static int load_intercom(struct loader *ld, const config_setting_t *s,
			 const config_setting_t **got)
{
	int err;

	if (!s)
		return 0;
	err = load_styles(ld, got[0]);
	if (!err)
		err = load_intercom_trusted(ld, got[1]);
	return err;
}


const struct section section_intercom = {
	"intercom", false, "intercom = { style = ( { user_agent = \"Polycom*\";"
	" dialect = \"ring-answer\"; } ); trusted = [ ]; };",
	FIELDS(intercom_fields), load_intercom
};


void config_intercom_free(struct locus_config *cfg)
{
	for (size_t i = 0; i < cfg->intercom_stylec; i++)
		mem_deref(cfg->intercom_styles[i].user_agent);
	mem_deref(cfg->intercom_styles);
	mem_deref(cfg->intercom_trusted);
	mem_deref(cfg->intercom_prefix);
}


const char *config_intercom_dialect_name(enum intercom_dialect d)
{
	return (size_t)d < ARRAY_SIZE(dialect_names) ? dialect_names[d] : "?";
}


bool config_is_intercom_trusted(const struct locus_config *cfg,
				const struct sa *src)
{
	for (size_t i = 0; i < cfg->intercom_trustedc; i++)
		if (sa_cmp(&cfg->intercom_trusted[i], src, SA_ADDR))
			return true;
	return false;
}
