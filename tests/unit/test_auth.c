/*
 * Unit tests for auth/auth.c, digest authentication of a request against
 * locus.subscriber in a real PostgreSQL (tests/unit/with_db.sh).  The
 * pure parts (digest arithmetic, nonces, nonce counts, the limiter and
 * the lockout rules) are test_digest.c's; here is the state machine that
 * joins them: what is decided at once, what waits for the HA1, how a
 * verdict feeds the lockout, and what happens without a database.
 *
 * Credentials are computed the way a UA does, from the nonce of a
 * challenge auth_challenge_print() wrote.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <re.h>
#include "auth/auth.h"
#include "auth/nonce.h"
#include "config/config.h"
#include "db/db.h"
#include "keys/nodekey.h"
#include "location/persist.h"
#include "sip/digest.h"
#include "unit_support.h"
#include "db_support.h"

#define PHONE_IP    "192.0.2.10"
#define GUESSER_IP  "192.0.2.66"

struct fixture {
	struct locus_config cfg;
	struct node_key *key;
	struct db *db;
	struct auth *auth;
	PGconn *side;
};

/* The outcome of one auth_check(), as the handler got it. */
struct verdict {
	bool done;
	struct auth_result res;
	char user[32];
};

static struct fixture fx;


/* A nonce of a fresh challenge for REALM. */
static void challenge_nonce(char nonce[NONCE_LEN + 1], const char *realm)
{
	struct auth_challenge ch = {fx.auth, AUTH_WWW, NULL, false};
	struct pl r, n;
	char *text = NULL;

	pl_set_str(&r, realm);
	ch.realm = &r;
	assert_int_equal(0, re_sdprintf(&text, "%H", auth_challenge_print,
					&ch));
	assert_int_equal(0, re_regex(text, strlen(text), "nonce=\"[^\"]+\"",
				     &n));
	assert_int_equal(0, pl_strcpy(&n, nonce, NONCE_LEN + 1));
	mem_deref(text);
}


/* The credentials line (no CRLF) of USER with PASSWORD, the way a UA
 * computes it for REGISTER sip:example.com. */
static char *credentials(const char *user, const char *password,
			 enum digest_alg alg, const char *nonce, uint32_t nc,
			 const char *uri)
{
	char a1[128], a2[128], a3[512], ha1[DIGEST_HEX_MAX + 1],
		ha2[DIGEST_HEX_MAX + 1], resp[DIGEST_HEX_MAX + 1];
	char *line = NULL;

	re_snprintf(a1, sizeof(a1), "%s:example.com:%s", user, password);
	re_snprintf(a2, sizeof(a2), "REGISTER:%s", uri);
	assert_int_equal(0, digest_hex(ha1, alg, a1, strlen(a1)));
	assert_int_equal(0, digest_hex(ha2, alg, a2, strlen(a2)));
	re_snprintf(a3, sizeof(a3), "%s:%s:%08x:c0ffee:auth:%s", ha1, nonce,
		    nc, ha2);
	assert_int_equal(0, digest_hex(resp, alg, a3, strlen(a3)));
	assert_int_equal(0, re_sdprintf(&line, "Digest username=\"%s\","
		" realm=\"example.com\", nonce=\"%s\", uri=\"%s\","
		" response=\"%s\", algorithm=%s, qop=auth, nc=%08x,"
		" cnonce=\"c0ffee\"", user, nonce, uri, resp,
		digest_alg_name(alg), nc));
	return line;
}


static void verdict_done(const struct auth_result *res, void *arg)
{
	struct verdict *v = arg;

	v->done = true;
	v->res = *res;
	if (pl_isset(&res->user))
		(void)pl_strcpy(&res->user, v->user, sizeof(v->user));
}


static bool verdict_in(void *arg)
{
	return ((struct verdict *)arg)->done;
}


/*
 * auth_check() of a REGISTER from SRC_IP with the header line HDR
 * (NULL: none) for REALM.  Waits for the outcome when it is pending;
 * returns it, with *PENDING telling whether it had to wait.
 */
static struct auth_result check_as(const char *src_ip, const char *hdr,
				   enum auth_kind kind, const char *realm,
				   bool *pending, char user[32])
{
	struct verdict *v = mem_zalloc(sizeof(*v), NULL);
	struct sip_msg *msg;
	struct auth_result res;
	char *text, *lines = NULL;
	struct pl r;

	assert_non_null(v);
	assert_int_equal(0, re_sdprintf(&lines, "Contact: <sip:a@" PHONE_IP
					">\r\n%s%s", hdr ? hdr : "",
					hdr ? "\r\n" : ""));
	text = ut_register_text("sip:example.com", "sip:alice@example.com",
				"auth-call", 1, lines);
	msg = ut_msg_decode(text);
	assert_int_equal(0, sa_set_str(&msg->src, src_ip, 5060));
	pl_set_str(&r, realm);
	auth_check(fx.auth, msg, kind, &r, &res, verdict_done, v);
	*pending = res.verdict == AUTH_PENDING;
	if (*pending) {
		assert_true(ut_run_until(verdict_in, v));
		res = v->res;
	}
	if (user)
		str_ncpy(user, v->user, 32);
	mem_deref(v);
	mem_deref(msg);
	mem_deref(text);
	mem_deref(lines);
	return res;
}


/* As check_as() for an Authorization line from the phone, and the
 * verdict must have waited for the database exactly when WAITED. */
static enum auth_verdict check(const char *hdr, bool waited)
{
	bool pending;
	struct auth_result res = check_as(PHONE_IP, hdr, AUTH_WWW,
					  "example.com", &pending, NULL);

	assert_int_equal(waited, pending);
	return res.verdict;
}


/* "Authorization: " + credentials(...), to mem_deref. */
static char *authz(const char *user, const char *password,
		   enum digest_alg alg, const char *nonce, uint32_t nc)
{
	char *cred = credentials(user, password, alg, nonce, nc,
				 "sip:example.com");
	char *line = NULL;

	assert_int_equal(0, re_sdprintf(&line, "Authorization: %s", cred));
	mem_deref(cred);
	return line;
}


static int setup(void **state)
{
	uint8_t raw[32] = {4, 2};
	char errbuf[256] = "";

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(0, libre_init());
	ut_config(&fx.cfg);
	fx.cfg.auth = true;
	fx.cfg.auth_algs[0] = DIGEST_SHA256;
	fx.cfg.auth_algs[1] = DIGEST_MD5;
	fx.cfg.auth_algc = 2;
	fx.cfg.nonce_lifetime = 300;
	fx.cfg.fail_limit = 3;
	fx.cfg.fail_window = 600;
	fx.side = ut_side_connect();
	ut_sql(fx.side, "SELECT locus.set_password('alice', 'example.com',"
	       " 'secret')");
	assert_int_equal(0, node_key_from_bytes(&fx.key, raw));
	if (db_open(&fx.db, ut_conninfo(), persist_statements,
		    persist_statementc, persist_session_sql, errbuf,
		    sizeof(errbuf)))
		fail_msg("db_open: %s", errbuf);
	assert_int_equal(0, auth_alloc(&fx.auth, &fx.cfg, fx.db, fx.key));
	return 0;
}


static int teardown(void **state)
{
	(void)state;
	fx.auth = mem_deref(fx.auth);
	fx.db = mem_deref(fx.db);
	fx.key = mem_deref(fx.key);
	ut_sql(fx.side, "TRUNCATE locus.subscriber");
	PQfinish(fx.side);
	libre_close();
	return 0;
}


/* Without credentials: a challenge at once, one header per algorithm in
 * the configured order, the realm as configured whatever its spelling in
 * the request, stale only when said. */
static void test_no_credentials_challenged_at_once(void **state)
{
	struct auth_challenge ch = {NULL, AUTH_WWW, NULL, false};
	struct pl realm = PL("EXAMPLE.com.");
	char *text = NULL;
	(void)state;

	assert_int_equal(AUTH_CHALLENGE, check(NULL, false));

	ch.auth = fx.auth;
	ch.realm = &realm;
	assert_int_equal(0, re_sdprintf(&text, "%H", auth_challenge_print,
					&ch));
	assert_int_equal(0, re_regex(text, strlen(text),
		"WWW-Authenticate: Digest realm=\"example.com\", nonce=\"[0-9a-f]+\","
		" algorithm=SHA-256, qop=\"auth\"\r\n"
		"WWW-Authenticate: Digest realm=\"example.com\", nonce=\"[0-9a-f]+\","
		" algorithm=MD5, qop=\"auth\"\r\n", NULL, NULL));
	assert_null(strstr(text, "stale"));
	mem_deref(text);

	ch.kind = AUTH_PROXY;
	ch.stale = true;
	assert_int_equal(0, re_sdprintf(&text, "%H", auth_challenge_print,
					&ch));
	assert_non_null(strstr(text, "Proxy-Authenticate: Digest"));
	assert_non_null(strstr(text, "qop=\"auth\", stale=true\r\n"));
	mem_deref(text);
}


/* The HA1 comes from the database: the right password passes (either
 * algorithm), a wrong one and an unknown user are challenged alike. */
static void test_password_checked_against_the_database(void **state)
{
	char nonce[NONCE_LEN + 1], user[32];
	char *line;
	bool pending;
	struct auth_result res;
	(void)state;

	challenge_nonce(nonce, "example.com");
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 1);
	res = check_as(PHONE_IP, line, AUTH_WWW, "example.com", &pending,
		       user);
	assert_true(pending);
	assert_int_equal(AUTH_OK, res.verdict);
	assert_string_equal("alice", user);
	mem_deref(line);

	line = authz("alice", "secret", DIGEST_MD5, nonce, 2);
	assert_int_equal(AUTH_OK, check(line, true));
	mem_deref(line);
	line = authz("alice", "wrong", DIGEST_SHA256, nonce, 3);
	assert_int_equal(AUTH_CHALLENGE, check(line, true));
	mem_deref(line);
	line = authz("mallory", "secret", DIGEST_SHA256, nonce, 1);
	assert_int_equal(AUTH_CHALLENGE, check(line, true));
	mem_deref(line);

	/* a password set with psql counts from the next request on */
	ut_sql(fx.side, "SELECT locus.set_password('alice', 'example.com',"
	       " 'changed')");
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 4);
	assert_int_equal(AUTH_CHALLENGE, check(line, true));
	mem_deref(line);
	line = authz("alice", "changed", DIGEST_SHA256, nonce, 5);
	assert_int_equal(AUTH_OK, check(line, true));
	mem_deref(line);
}


/* A nonce count used before is a replayed request: challenged. */
static void test_replayed_nonce_count_challenged(void **state)
{
	char nonce[NONCE_LEN + 1];
	char *line;
	(void)state;

	challenge_nonce(nonce, "example.com");
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 7);
	assert_int_equal(AUTH_OK, check(line, true));
	assert_int_equal(AUTH_CHALLENGE, check(line, true));
	mem_deref(line);
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 8);
	assert_int_equal(AUTH_OK, check(line, true));
	mem_deref(line);
}


/* An expired nonce of ours: challenged as stale, without asking the
 * database; a nonce not of ours: challenged, not stale. */
static void test_stale_and_foreign_nonces(void **state)
{
	uint8_t nonce_key[32], other[32] = {1};
	char nonce[NONCE_LEN + 1];
	struct pl realm = PL("example.com");
	struct auth_result res;
	bool pending;
	char *line;
	(void)state;

	assert_int_equal(0, node_key_derive(fx.key, "locus digest nonce",
					    nonce_key));
	assert_int_equal(0, nonce_make(nonce, nonce_key, &realm,
				       (uint64_t)time(NULL) - 400));
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 1);
	res = check_as(PHONE_IP, line, AUTH_WWW, "example.com", &pending,
		       NULL);
	assert_false(pending);
	assert_int_equal(AUTH_CHALLENGE, res.verdict);
	assert_true(res.stale);
	mem_deref(line);

	assert_int_equal(0, nonce_make(nonce, other, &realm,
				       (uint64_t)time(NULL)));
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 1);
	res = check_as(PHONE_IP, line, AUTH_WWW, "example.com", &pending,
		       NULL);
	assert_false(pending);
	assert_int_equal(AUTH_CHALLENGE, res.verdict);
	assert_false(res.stale);
	mem_deref(line);
}


/* Decided without the database: malformed credentials (400 with the
 * problem), credentials for another Request-URI (400), for another
 * realm or of an algorithm not enabled (challenged), in the other
 * header than the kind asks for (challenged), and a realm not ours. */
static void test_refused_before_the_database(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct auth_result res;
	bool pending;
	char *cred, *line = NULL;
	(void)state;

	challenge_nonce(nonce, "example.com");
	res = check_as(PHONE_IP, "Authorization: Digest username=\"alice\"",
		       AUTH_WWW, "example.com", &pending, NULL);
	assert_false(pending);
	assert_int_equal(AUTH_BAD, res.verdict);
	assert_non_null(res.reason);

	cred = credentials("alice", "secret", DIGEST_SHA256, nonce, 1,
			   "sip:bob@example.com");
	re_sdprintf(&line, "Authorization: %s", cred);
	res = check_as(PHONE_IP, line, AUTH_WWW, "example.com", &pending,
		       NULL);
	assert_int_equal(AUTH_BAD, res.verdict);
	assert_string_equal("Digest URI Does Not Match Request-URI",
			    res.reason);
	line = mem_deref(line);
	mem_deref(cred);

	line = authz("alice", "secret", DIGEST_SHA256, nonce, 1);
	memcpy(strstr(line, "example.com"), "example.net", 11);
	assert_int_equal(AUTH_CHALLENGE, check(line, false));
	mem_deref(line);

	fx.cfg.auth_algc = 1;      /* SHA-256 only */
	line = authz("alice", "secret", DIGEST_MD5, nonce, 1);
	assert_int_equal(AUTH_CHALLENGE, check(line, false));
	mem_deref(line);

	line = authz("alice", "secret", DIGEST_SHA256, nonce, 1);
	res = check_as(PHONE_IP, line, AUTH_PROXY, "example.com", &pending,
		       NULL);
	assert_false(pending);
	assert_int_equal(AUTH_CHALLENGE, res.verdict);
	res = check_as(PHONE_IP, line, AUTH_WWW, "example.org", &pending,
		       NULL);
	assert_false(pending);
	assert_int_equal(AUTH_CHALLENGE, res.verdict);
	mem_deref(line);
}


/* Past fail_limit failures an address is refused for the AOR, even with
 * the right password; the user's own device elsewhere is not. */
static void test_guesser_locked_out_user_not(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct auth_result res;
	bool pending;
	char *line;
	(void)state;

	challenge_nonce(nonce, "example.com");
	for (uint32_t nc = 1; nc <= 3; nc++) {
		line = authz("alice", "guess", DIGEST_SHA256, nonce, nc);
		res = check_as(GUESSER_IP, line, AUTH_WWW, "example.com",
			       &pending, NULL);
		assert_true(pending);
		assert_int_equal(AUTH_CHALLENGE, res.verdict);
		mem_deref(line);
	}
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 4);
	res = check_as(GUESSER_IP, line, AUTH_WWW, "example.com", &pending,
		       NULL);
	assert_false(pending);
	assert_int_equal(AUTH_BLOCKED, res.verdict);
	mem_deref(line);

	line = authz("alice", "secret", DIGEST_SHA256, nonce, 5);
	assert_int_equal(AUTH_OK, check(line, true));
	mem_deref(line);
}


static void kill_backend(void)
{
	char sql[64];

	re_snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)",
		    db_backend_pid(fx.db));
	ut_sql(fx.side, sql);
}


static bool db_down(void *arg)
{
	(void)arg;
	return !db_is_up(fx.db);
}


static bool db_up(void *arg)
{
	(void)arg;
	return db_is_up(fx.db);
}


/* Without the database: unavailable (503), and not counted as failures:
 * once it is back, the same address authenticates. */
static void test_unavailable_without_database_not_counted(void **state)
{
	char nonce[NONCE_LEN + 1];
	char *line;
	(void)state;

	challenge_nonce(nonce, "example.com");
	kill_backend();
	assert_true(ut_run_until(db_down, NULL));
	for (uint32_t nc = 1; nc <= 4; nc++) {
		line = authz("alice", "secret", DIGEST_SHA256, nonce, nc);
		assert_int_equal(AUTH_UNAVAILABLE, check(line, false));
		mem_deref(line);
	}
	assert_true(ut_run_until(db_up, NULL));
	line = authz("alice", "secret", DIGEST_SHA256, nonce, 5);
	assert_int_equal(AUTH_OK, check(line, true));
	mem_deref(line);
}


int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_no_credentials_challenged_at_once),
		T(test_password_checked_against_the_database),
		T(test_replayed_nonce_count_challenged),
		T(test_stale_and_foreign_nonces),
		T(test_refused_before_the_database),
		T(test_guesser_locked_out_user_not),
		T(test_unavailable_without_database_not_counted),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
