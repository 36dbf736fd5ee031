/* What locus counts, for Prometheus (daemon/metrics_http.c serves it at
 * /metrics).  One process-wide struct of plain integers: the modules
 * increment them where things happen (one line each, no lock, no
 * allocation: there is one thread), and the exposition reads them when
 * scraped.  Gauges that a module keeps anyway (bindings, AORs) are read
 * from that module instead of being counted twice.
 *
 * The label values of each family are the enums below; their names (the
 * text after "=" in the exposition) are metrics_*_name(). */
#ifndef LOCUS_METRICS_H
#define LOCUS_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_dir { METRICS_RECEIVED, METRICS_SENT, METRICS_DIRS };

/* SIP methods counted by name; any other is "other". */
enum metrics_method {
	METRICS_REGISTER, METRICS_INVITE, METRICS_ACK, METRICS_BYE,
	METRICS_CANCEL, METRICS_OPTIONS, METRICS_PRACK, METRICS_UPDATE,
	METRICS_INFO, METRICS_REFER, METRICS_SUBSCRIBE, METRICS_NOTIFY,
	METRICS_MESSAGE, METRICS_PUBLISH, METRICS_OTHER, METRICS_METHODS
};

/* Status classes 1xx to 6xx, index 0 to 5. */
enum { METRICS_CLASSES = 6 };

/* What became of a REGISTER (its final answer). */
enum metrics_register {
	METRICS_REG_OK,          /* 2xx: stored, or a query          */
	METRICS_REG_CHALLENGED,  /* 401                               */
	METRICS_REG_REFUSED,     /* any other 3xx, 4xx or 6xx         */
	METRICS_REG_FAILED,      /* 5xx: database down, out of memory */
	METRICS_REG_OUTCOMES
};

/* A request for a GRUU (RFC 5627 §5.3). */
enum metrics_gruu {
	METRICS_GRUU_ROUTED,      /* to its device                    */
	METRICS_GRUU_NOT_FOUND,   /* 404: unknown or no longer valid  */
	METRICS_GRUU_UNAVAILABLE, /* 480: valid, its device offline   */
	METRICS_GRUU_RESULTS
};

enum metrics_auth_failure {
	METRICS_AUTH_WRONG_PASSWORD,
	METRICS_AUTH_NO_SUCH_USER,
	METRICS_AUTH_REPLAYED,    /* a nonce count used before        */
	METRICS_AUTH_FAILURES
};

/* The lockout rule that refused a request (auth/lockout.h). */
enum metrics_block {
	METRICS_BLOCK_PAIR, METRICS_BLOCK_SOURCE, METRICS_BLOCK_AOR,
	METRICS_BLOCKS
};

/* locus's PostgreSQL connections. */
enum metrics_conn {
	METRICS_CONN_WRITER,      /* the pipeline (db/db.c)           */
	METRICS_CONN_LISTEN,      /* bindings followed (location/sync.c) */
	METRICS_CONN_TRACE,       /* traces followed (transport/trace.c) */
	METRICS_CONN_INTERCOM,    /* intercom grants (features/grants.c) */
	METRICS_CONN_UA,          /* the user agent's calls (ua/store.c) */
	METRICS_CONN_UA_LISTEN,   /* ... followed (db/listen.c)       */
	METRICS_CONNS
};

/* Transports, in libre's order (enum sip_transp: udp, tcp, tls, ws, wss). */
enum { METRICS_TRANSPORTS = 5 };

enum { METRICS_BUCKETS_MAX = 16 };

/* A histogram: the count of observations up to each bound (not yet
 * cumulative: the exposition sums them), their number and their sum. */
struct metrics_histogram {
	const uint64_t *bounds;  /* ascending; +Inf is implicit */
	size_t n;
	uint64_t bucket[METRICS_BUCKETS_MAX + 1];
	uint64_t sum;
	uint64_t count;
};

struct metrics {
	uint64_t requests[METRICS_DIRS][METRICS_METHODS];
	uint64_t responses[METRICS_DIRS][METRICS_METHODS][METRICS_CLASSES];
	uint64_t registers[METRICS_REG_OUTCOMES];
	int64_t proxy_transactions;       /* gauge                         */
	int64_t register_transactions;    /* gauge                         */
	struct metrics_histogram forks;   /* targets per initial INVITE    */
	uint64_t gruu_lookups[METRICS_GRUU_RESULTS];
	struct metrics_histogram commit_us; /* send to Sync, microseconds  */
	struct metrics_histogram batch_txns; /* transactions per commit    */
	int64_t pipeline_txns;            /* gauge: submitted, not done    */
	uint64_t reconnects[METRICS_CONNS];
	uint64_t notify_reloads;          /* AORs reloaded                 */
	uint64_t auth_failures[METRICS_AUTH_FAILURES];
	uint64_t auth_blocks[METRICS_BLOCKS];
	int64_t flows[METRICS_TRANSPORTS]; /* gauge                        */
	int64_t websockets;               /* gauge                         */
	uint64_t reloads_applied, reloads_refused;
	int64_t traces;                   /* gauge: AORs traced now        */
	uint64_t traced_messages;
	uint64_t start_time;              /* seconds since the epoch       */
};

extern struct metrics metrics;

/* Counts V into H: a walk over at most METRICS_BUCKETS_MAX bounds. */
void metrics_observe(struct metrics_histogram *h, uint64_t v);

/* The REGISTER outcome a final answer SCODE stands for. */
enum metrics_register metrics_register_outcome(uint16_t scode);

/* The method named by the LEN bytes at NAME (case-sensitive, RFC 3261
 * §7.1); METRICS_OTHER for any other. */
enum metrics_method metrics_method(const char *name, size_t len);

const char *metrics_dir_name(enum metrics_dir d);
const char *metrics_method_name(enum metrics_method m);
const char *metrics_register_name(enum metrics_register r);
const char *metrics_gruu_name(enum metrics_gruu g);
const char *metrics_auth_failure_name(enum metrics_auth_failure f);
const char *metrics_block_name(enum metrics_block b);
const char *metrics_conn_name(enum metrics_conn c);
const char *metrics_transport_name(size_t tp);

#endif
