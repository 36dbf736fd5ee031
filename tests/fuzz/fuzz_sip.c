/*
 * libFuzzer harness: arbitrary bytes into locus's message handling, with
 * a live in-memory location (bindings, GRUU state) and no database.
 *
 * The first byte of an input picks the way in:
 *   even: a UDP datagram sent to locus's real listener on 127.0.0.1, so
 *         that libre's whole receive path runs (STUN check, decoding,
 *         transaction matching) before locus's own code;
 *   odd:  the message decoded here and handed to server_request() as if
 *         it had come over TCP (libre's TCP framing is not ours to fuzz;
 *         what locus does differently for connection-oriented transports
 *         is).
 * A UDP input is followed by a sentinel datagram that a listener of the
 * harness's own, ahead of locus's, consumes: when it arrives, everything
 * before it was handled.  Replies go to a port nobody listens on.
 *
 * Run: build-fuzz/fuzz_sip tests/fuzz/corpus (scripts/fuzz.sh).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"
#include "daemon/dispatch.h"
#include "daemon/owners.h"
#include "keys/nodekey.h"
#include "location/gruu.h"
#include "location/location.h"
#include "proxy/proxy.h"
#include "transport/server.h"
#include "proxy/stamp.h"
#include "registrar/registrar.h"

enum {
	RESET_EVERY = 20000,     /* inputs between fresh worlds            */
	WAIT_MS = 200,           /* longest wait for the sentinel           */
	PEER_PORT = 9,           /* discard: replies go nowhere             */
};

static const char sentinel[] =
	"OPTIONS sip:fuzz-sentinel@127.0.0.1 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKsentinel\r\n"
	"From: <sip:fuzz@127.0.0.1>;tag=s\r\nTo: <sip:fuzz@127.0.0.1>\r\n"
	"Call-ID: fuzz-sentinel\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
	"Content-Length: 0\r\n\r\n";

struct world {
	struct locus_config *cfg;
	struct node_key *node_key;
	struct gruu_key *key;
	struct location *loc;
	struct server *srv;
	struct registrar *reg;
	struct proxy *proxy;
	struct dispatch *dispatch;
	struct sip_lsnr *lsnr;
	struct udp_sock *tx;     /* sends the inputs                       */
	struct sa laddr;         /* locus's UDP listener                    */
	struct tmr wait;
	bool seen;
};

static struct world w;
static char conf_path[] = "/tmp/locus-fuzz-XXXXXX";
static uint64_t inputs;


static void world_free(void)
{
	if (w.srv)
		server_close(w.srv);
	tmr_cancel(&w.wait);
	w.lsnr = mem_deref(w.lsnr);
	w.dispatch = mem_deref(w.dispatch);
	w.proxy = mem_deref(w.proxy);
	w.reg = mem_deref(w.reg);
	w.srv = mem_deref(w.srv);
	w.tx = mem_deref(w.tx);
	w.loc = mem_deref(w.loc);
}


static _Noreturn void fatal(const char *what, int err)
{
	fprintf(stderr, "fuzz_sip: %s: %s\n", what, strerror(err));
	exit(1);
}


static bool sentinel_handler(const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (pl_strcmp(&msg->callid, "fuzz-sentinel"))
		return false;
	w.seen = true;
	re_cancel();
	return true;
}


/* Two AORs with bindings and GRUU state, so that requests to AORs, public
 * and temporary GRUUs find something to route to. */
static void location_fill(void)
{
	static const char *const aors[] = {"alice@example.com",
					   "bob@example.com"};
	const char *inst = "urn:uuid:00000000-0000-4000-8000-000000000001";

	for (size_t i = 0; i < ARRAY_SIZE(aors); i++) {
		struct binding *b = NULL;
		struct aor *aor = NULL;
		int err = location_aor_get(&aor, w.loc, aors[i]);

		err |= binding_alloc(&b);
		if (err)
			fatal("location", ENOMEM);
		err = binding_key_make(&b->key, inst, 1, NULL);
		err |= re_sdprintf(&b->uri, "sip:dev%zu@127.0.0.1:%u", i,
				   PEER_PORT);
		err |= str_dup(&b->instance, inst);
		err |= str_dup(&b->callid, "fuzz-reg");
		if (err)
			fatal("binding", err);
		b->reg_id = 1;
		b->q = -1;
		b->expires = location_now() + 3600;
		b->tp = i ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
		(void)sa_set_str(&b->received, "127.0.0.1", PEER_PORT);
		err = location_binding_put(w.loc, aor, b);
		err |= location_instance_put(aor, inst, 1, "fuzz-reg");
		if (err)
			fatal("location put", err);
	}
}


static void world_make(void)
{
	char errbuf[256] = "";
	struct sa any;
	int err;

	err = location_alloc(&w.loc);
	if (!err)
		err = server_alloc(&w.srv, w.cfg, errbuf, sizeof(errbuf));
	if (err)
		fatal(errbuf[0] ? errbuf : "world", err);
	location_fill();
	err = registrar_alloc(&w.reg, &(struct registrar_deps){
		.sip = server_sip(w.srv), .cfg = w.cfg, .loc = w.loc,
		.gruu_key = w.key});
	if (!err)
		err = proxy_alloc(&w.proxy, &(struct proxy_deps){
			.sip = server_sip(w.srv), .cfg = w.cfg,
			.loc = w.loc, .node_key = w.node_key,
			.gruu_key = w.key});
	/* ahead of locus's own listener */
	if (!err)
		err = sip_listen(&w.lsnr, server_sip(w.srv), true,
				 sentinel_handler, NULL);
	if (!err)
		err = dispatch_alloc(&w.dispatch, server_sip(w.srv));
	if (!err)
		err = owners_add(w.dispatch, w.reg, NULL, w.proxy);
	if (!err)
		err = server_start(w.srv, dispatch_request, w.dispatch);
	(void)sa_set_str(&any, "127.0.0.1", 0);
	if (!err)
		err = udp_listen(&w.tx, &any, NULL, NULL);
	if (err)
		fatal("world", err);
	w.laddr = w.cfg->listen[0].addr;
}


/* A configuration like a test's, on a port found free. */
static void config_make(void)
{
	char errbuf[256];
	FILE *f = NULL;
	int fd = mkstemp(conf_path), err = EADDRINUSE;

	if (fd < 0 || !(f = fdopen(fd, "w")))
		fatal("config file", errno);
	fprintf(f, "domains = [ \"example.com\", \"127.0.0.1\" ];\n"
		"listen = ( { transport = \"udp\"; address = "
		"\"127.0.0.1:%u\"; } );\n"
		"database = { conninfo = \"dbname=none\"; };\n"
		"gruu = { key_file = \"/nonexistent/gruu.key\"; };\n"
		"auth = { enabled = false; };\n"
		"log = { level = \"error\"; };\n",
		20000 + (unsigned)getpid() % 40000);
	fclose(f);
	err = config_load(&w.cfg, conf_path, errbuf, sizeof(errbuf));
	unlink(conf_path);
	if (err)
		fatal(errbuf, err);
}


/* ---- seeds with stamps of this harness's key ------------------------ */

static void seed_write(const char *dir, const char *name, const char *msg)
{
	for (int tp = 0; tp < 2; tp++) {
		char path[512];
		FILE *f;

		(void)re_snprintf(path, sizeof(path), "%s/stamped-%s-%s", dir,
				  name, tp ? "tcp" : "udp");
		f = fopen(path, "wb");
		if (!f)
			fatal(path, errno);
		fputc(tp, f);
		fputs(msg, f);
		fclose(f);
	}
}


/* A request of the dialog "fz-dialog" between alice's tag "fa" and bob's
 * device (tag "fb"), routed by our stamp (DIR, over HOP) as the
 * harness's proxy made it: the fuzzer cannot forge a MAC, so without
 * these it would never get past the stamp check into in-dialog
 * forwarding, target refreshes and the dialogs in memory. */
static void seed_request(const char *dir, const struct stamp *st,
			 const char *name, const char *method,
			 enum stamp_dir dir_, const char *ruri,
			 const char *extra_route, const char *extra)
{
	struct stamp_dialog_fields f = {
		.callid = PL("fz-dialog"), .caller_tag = PL("fa"),
		.callee_tag = PL("fb"), .hop = PL("127.0.0.1:9"),
		.caller = PL("alice@example.com"),
		.callee = PL("bob@example.com"),
	};
	bool up = dir_ == STAMP_TO_CALLER;
	char ls[STAMP_DIALOG_LEN + 1], *msg = NULL;

	if (stamp_dialog(ls, st, dir_, &f))
		fatal("stamp", EIO);
	(void)re_sdprintf(&msg,
		"%s %s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfz%s\r\n"
		"Route: <sip:example.com;lr;ls=%s>%s\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:%s@example.com>;tag=%s\r\n"
		"To: <sip:%s@example.com>;tag=%s\r\n"
		"Call-ID: fz-dialog\r\nCSeq: 2 %s\r\n%s"
		"Content-Length: 0\r\n\r\n",
		method, ruri, name, ls, extra_route,
		up ? "bob" : "alice", up ? "fb" : "fa",
		up ? "alice" : "bob", up ? "fa" : "fb", method, extra);
	if (!msg)
		fatal("seed", ENOMEM);
	seed_write(dir, name, msg);
	mem_deref(msg);
}


/* A 2xx no transaction claims (relayed statelessly if our Via stamp is
 * right), carrying our Record-Route with a stamp to be replaced. */
static void seed_stray_2xx(const char *dir, const struct stamp *st)
{
	struct stamp_dialog_fields f = {
		.callid = PL("fz-dialog"), .caller_tag = PL("fa"),
		.hop = PL("127.0.0.1:9"),
		.caller = PL("alice@example.com"),
		.callee = PL("bob@example.com"),
	};
	struct pl branch = PL("z9hG4bKfzstray");
	char ls[STAMP_DIALOG_LEN + 1], lt[STAMP_VIA_LEN + 1], *msg = NULL;

	if (stamp_dialog(ls, st, STAMP_TO_CALLER, &f) ||
	    stamp_via(lt, st, &branch))
		fatal("stamp", EIO);
	(void)re_sdprintf(&msg,
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP %J;branch=%r;lt=%s\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfzcaller\r\n"
		"From: <sip:alice@example.com>;tag=fa\r\n"
		"To: <sip:bob@example.com>;tag=fb2\r\n"
		"Call-ID: fz-dialog\r\nCSeq: 1 INVITE\r\n"
		"Record-Route: <sip:example.com;lr;ls=%s>\r\n"
		"Contact: <sip:dev1@127.0.0.1:9>\r\n"
		"Content-Length: 0\r\n\r\n", &w.laddr, &branch, lt, ls);
	if (!msg)
		fatal("seed", ENOMEM);
	seed_write(dir, "stray-2xx", msg);
	mem_deref(msg);
}


/* LOCUS_FUZZ_SEEDS=DIR: the stamped seeds go to DIR (scripts/fuzz.sh
 * points it at the run's own corpus). */
static void seeds_write(void)
{
	const char *dir = getenv("LOCUS_FUZZ_SEEDS");
	struct stamp *st = NULL;

	if (!dir)
		return;
	if (stamp_alloc(&st, w.node_key))
		fatal("stamp", EIO);
	seed_request(dir, st, "bye", "BYE", STAMP_TO_CALLEE,
		     "sip:dev1@127.0.0.1:9", "", "");
	seed_request(dir, st, "ack", "ACK", STAMP_TO_CALLEE,
		     "sip:dev1@127.0.0.1:9", "", "");
	seed_request(dir, st, "reinvite", "INVITE", STAMP_TO_CALLEE,
		     "sip:dev1@127.0.0.1:9", "",
		     "Contact: <sip:alice@127.0.0.1:9>\r\n");
	seed_request(dir, st, "beyond", "MESSAGE", STAMP_TO_CALLEE,
		     "sip:bob@elsewhere.example", ", <sip:127.0.0.1:9;lr>",
		     "Content-Type: text/plain\r\n");
	seed_request(dir, st, "to-caller", "INFO", STAMP_TO_CALLER,
		     "sip:alice@127.0.0.1:9", "", "");
	seed_request(dir, st, "notify", "NOTIFY", STAMP_TO_CALLER,
		     "sip:alice@127.0.0.1:9", "",
		     "Event: refer\r\nSubscription-State: active\r\n");
	seed_stray_2xx(dir, st);
	mem_deref(st);
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t raw[32] = {42};
	int err;

	(void)argc;
	(void)argv;
	err = libre_init();
	if (!err)
		err = node_key_from_bytes(&w.node_key, raw);
	if (!err)
		err = gruu_key_alloc(&w.key, w.node_key);
	if (err)
		fatal("init", err);
	log_set_level(LOG_LEVEL_ERROR);
	config_make();
	world_make();
	seeds_write();
	return 0;
}


static void wait_expired(void *arg)
{
	(void)arg;
	re_cancel();
}


static void udp_input(const uint8_t *data, size_t size)
{
	struct mbuf *mb = mbuf_alloc(size);
	struct mbuf *sb = mbuf_alloc(sizeof(sentinel));

	if (!mb || !sb)
		goto out;
	(void)mbuf_write_mem(mb, data, size);
	(void)mbuf_write_str(sb, sentinel);
	mb->pos = sb->pos = 0;
	w.seen = false;
	if (udp_send(w.tx, &w.laddr, mb) || udp_send(w.tx, &w.laddr, sb))
		goto out;
	tmr_start(&w.wait, WAIT_MS, wait_expired, NULL);
	(void)re_main(NULL);
	tmr_cancel(&w.wait);
 out:
	mem_deref(mb);
	mem_deref(sb);
}


static void tcp_input(const uint8_t *data, size_t size)
{
	struct mbuf *mb = mbuf_alloc(size);
	struct sip_msg *msg = NULL;

	if (!mb)
		return;
	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;
	if (!sip_msg_decode(&msg, mb) && msg->req) {
		msg->tp = SIP_TRANSP_TCP;
		(void)sa_set_str(&msg->src, "127.0.0.1", PEER_PORT);
		msg->dst = w.laddr;
		server_request(w.srv, msg);
	}
	mem_deref(msg);
	mem_deref(mb);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65000)
		return 0;
	if (data[0] & 1)
		tcp_input(data + 1, size - 1);
	else
		udp_input(data + 1, size - 1);

	/* transactions and their timers pile up: start afresh now and then */
	if (++inputs % RESET_EVERY == 0) {
		world_free();
		world_make();
	}
	return 0;
}
