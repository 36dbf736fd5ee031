/*
 * auth/: digest authentication: subscribers, nonces, replay windows and
 * the lockout rules.  Below registrar/ and proxy/ (which ask it), above
 * location/, db/ and keys/.
 *
 * Who is asking: digest authentication of requests (RFC 3261 §22) against
 * locus.subscriber, with stateless nonces (auth/nonce.c) and nonce-count
 * replay protection (auth/nonce_count.c).
 *
 * An unknown user and a wrong password are answered alike (a new
 * challenge), so that neither can be told from the other.
 */
#ifndef LOCUS_AUTH_H
#define LOCUS_AUTH_H

#include <stdbool.h>
#include <re.h>

struct auth;
struct db;
struct locus_config;
struct node_key;

enum auth_kind {
	AUTH_WWW,                /* registrar: 401, Authorization        */
	AUTH_PROXY,              /* proxy: 407, Proxy-Authorization      */
};

enum auth_verdict {
	AUTH_OK,                 /* user is who the credentials say      */
	AUTH_PENDING,            /* the handler will be called           */
	AUTH_CHALLENGE,          /* answer 401/407 with auth_challenge   */
	AUTH_BAD,                /* answer 400 with reason               */
	AUTH_UNAVAILABLE,        /* no database: answer 503              */
	AUTH_BLOCKED,            /* too many failures: answer 403        */
};

struct auth_result {
	enum auth_verdict verdict;
	bool stale;              /* CHALLENGE: the nonce only had expired */
	const char *reason;      /* BAD: names the problem                */
	struct pl user;          /* OK: the username, a slice of the msg  */
};

typedef void (auth_done_h)(const struct auth_result *res, void *arg);

int auth_alloc(struct auth **authp, const struct locus_config *cfg,
	       struct db *db, const struct node_key *key);

/* After a reload: the lockout limits from the configuration again (the
 * other settings are read from it at each request). */
void auth_apply(struct auth *auth);

/*
 * Checks MSG's credentials for REALM (a domain of ours in any spelling:
 * the realm is the domain as configured), within the lockout rules of
 * auth/lockout.h.
 * Fills RES; when it says AUTH_PENDING, DONEH is called later with the
 * outcome, holding a reference to ARG (a mem object) until then.  MSG
 * must stay referenced by the caller until the outcome is known.
 */
void auth_check(struct auth *auth, const struct sip_msg *msg,
		enum auth_kind kind, const struct pl *realm,
		struct auth_result *res, auth_done_h *doneh, void *arg);

/* The WWW-Authenticate or Proxy-Authenticate headers of a challenge
 * (one per algorithm, most preferred first), for re_hprintf's %H. */
struct auth_challenge {
	struct auth *auth;
	enum auth_kind kind;
	const struct pl *realm;
	bool stale;
};
int auth_challenge_print(struct re_printf *pf,
			 const struct auth_challenge *ch);

#endif
