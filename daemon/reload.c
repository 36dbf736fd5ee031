/*
 * Live reload (daemon/reload.h).
 *
 * SIGHUP may arrive at any moment, the loop in the middle of anything: its
 * handler only writes a byte into a pipe, and the loop, watching the
 * other end like any socket, does the reload between two events.  There,
 * the file is loaded and validated into a configuration of its own; only
 * when it is valid does the live one take its settings (config_swap()),
 * and then each module that copied a setting at start-up is told (the
 * apply steps below).  Connections, transactions and bindings are not
 * touched: they belong to the modules, not to the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "auth/auth.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "daemon/metrics_http.h"
#include "daemon/reload.h"

struct reload {
	struct reload_deps deps;
	int pipe[2];                 /* the handler writes, the loop reads */
	struct sigaction previous;
	bool installed;
};

/* The pipe's write end, for the handler (one reload object at a time). */
static volatile sig_atomic_t wake_fd = -1;


static void sighup_handler(int sig)
{
	const char byte = 'h';
	int saved = errno;

	(void)sig;
	if (wake_fd >= 0)
		(void)!write(wake_fd, &byte, 1);   /* full: one is pending */
	errno = saved;
}


/* The modules that copied a setting at start-up take the new one. */
static void apply(const struct reload_deps *d)
{
	log_set_level(d->cfg->log_level);
	if (d->auth)
		auth_apply(d->auth);
	if (d->metrics)
		metrics_http_apply(d->metrics);
}


void reload_now(struct reload *r)
{
	struct locus_config *next = NULL;
	char errbuf[1024];
	unsigned restart;

	log_info("reload: reading %s", r->deps.cfg->path);
	if (config_load(&next, r->deps.cfg->path, errbuf, sizeof(errbuf))) {
		++metrics.reloads_refused;
		log_error("reload refused: %s; the running configuration"
			  " stays", errbuf);
		return;
	}
	restart = config_swap(r->deps.cfg, next);
	mem_deref(next);   /* now the settings replaced */
	apply(&r->deps);
	++metrics.reloads_applied;
	if (restart)
		log_info("reload: %s applied, but for %u change(s) that need"
			 " a restart (above)", r->deps.cfg->path, restart);
	else
		log_info("reload: %s applied", r->deps.cfg->path);
}


static void pipe_readable(int flags, void *arg)
{
	struct reload *r = arg;
	char buf[64];
	bool due = false;

	(void)flags;
	/* signals that came together make one reload */
	while (read(r->pipe[0], buf, sizeof(buf)) > 0)
		due = true;
	if (due)
		reload_now(r);
}


static void reload_destructor(void *arg)
{
	struct reload *r = arg;

	if (r->installed) {
		(void)sigaction(SIGHUP, &r->previous, NULL);
		wake_fd = -1;
	}
	if (r->pipe[0] >= 0) {
		fd_close(r->pipe[0]);
		(void)close(r->pipe[0]);
	}
	if (r->pipe[1] >= 0)
		(void)close(r->pipe[1]);
}


static int pipe_open(int fds[2])
{
	if (pipe(fds))
		return errno;
	for (int i = 0; i < 2; i++) {
		if (fcntl(fds[i], F_SETFL, O_NONBLOCK) ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC))
			return errno;
	}
	return 0;
}


int reload_alloc(struct reload **rp, const struct reload_deps *deps)
{
	struct reload *r = mem_zalloc(sizeof(*r), reload_destructor);
	struct sigaction sa;
	int err;

	if (!r)
		return ENOMEM;
	r->deps = *deps;
	r->pipe[0] = r->pipe[1] = -1;
	err = pipe_open(r->pipe);
	if (!err)
		err = fd_listen(r->pipe[0], FD_READ, pipe_readable, r);
	if (err)
		goto out;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sighup_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	wake_fd = r->pipe[1];
	if (sigaction(SIGHUP, &sa, &r->previous)) {
		err = errno;
		wake_fd = -1;
		goto out;
	}
	r->installed = true;
 out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}
