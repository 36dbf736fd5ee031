/* The counters' storage, and the names of their labels.  See metrics.h. */
#include <string.h>
#include <re.h>
#include "common/metrics.h"

/* How many devices an initial INVITE forked to: most ring one to a few. */
static const uint64_t forks_bounds[] = {1, 2, 3, 4, 6, 8, 12, 16, 32};

/* A commit's time in microseconds, from 250 us (a local disk that keeps
 * its promises) to 2.5 s (a stalled one). */
static const uint64_t commit_bounds[] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000
};

/* Transactions per commit: group commit at work.  A batch holds at most
 * 512 (db/db.c). */
static const uint64_t batch_bounds[] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512
};

struct metrics metrics = {
	.forks = {forks_bounds, ARRAY_SIZE(forks_bounds)},
	.commit_us = {commit_bounds, ARRAY_SIZE(commit_bounds)},
	.batch_txns = {batch_bounds, ARRAY_SIZE(batch_bounds)},
};

static const char *const method_names[METRICS_METHODS] = {
	"REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "PRACK",
	"UPDATE", "INFO", "REFER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "PUBLISH",
	"other"
};


void metrics_observe(struct metrics_histogram *h, uint64_t v)
{
	size_t i = 0;

	while (i < h->n && v > h->bounds[i])
		++i;
	++h->bucket[i];
	h->sum += v;
	++h->count;
}


enum metrics_register metrics_register_outcome(uint16_t scode)
{
	if (scode >= 200 && scode < 300)
		return METRICS_REG_OK;
	if (scode == 401)
		return METRICS_REG_CHALLENGED;
	if (scode >= 500 && scode < 600)
		return METRICS_REG_FAILED;
	return METRICS_REG_REFUSED;
}


enum metrics_method metrics_method(const char *name, size_t len)
{
	for (size_t m = 0; m < METRICS_OTHER; m++) {
		if (strlen(method_names[m]) == len &&
		    0 == memcmp(method_names[m], name, len))
			return (enum metrics_method)m;
	}
	return METRICS_OTHER;
}


const char *metrics_dir_name(enum metrics_dir d)
{
	return d == METRICS_RECEIVED ? "received" : "sent";
}


const char *metrics_method_name(enum metrics_method m)
{
	return method_names[m];
}


const char *metrics_register_name(enum metrics_register r)
{
	static const char *const names[] = {
		"ok", "challenged", "refused", "failed"
	};
	return names[r];
}


const char *metrics_gruu_name(enum metrics_gruu g)
{
	static const char *const names[] = {
		"routed", "not_found", "unavailable"
	};
	return names[g];
}


const char *metrics_auth_failure_name(enum metrics_auth_failure f)
{
	static const char *const names[] = {
		"wrong_password", "no_such_user", "replayed_nonce_count"
	};
	return names[f];
}


const char *metrics_block_name(enum metrics_block b)
{
	static const char *const names[] = {"address_aor", "address", "aor"};
	return names[b];
}


const char *metrics_conn_name(enum metrics_conn c)
{
	static const char *const names[] = {"writer", "listen", "trace",
					    "intercom", "ua", "ua_listen"};
	return names[c];
}


const char *metrics_transport_name(size_t tp)
{
	static const char *const names[] = {"udp", "tcp", "tls", "ws", "wss"};
	return tp < ARRAY_SIZE(names) ? names[tp] : "other";
}
