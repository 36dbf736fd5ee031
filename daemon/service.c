/* The service manager's side channel: sd_notify(3) notices and watchdog
 * pings as datagrams to $NOTIFY_SOCKET, and SIGHUP through a pipe into
 * the event loop.  See daemon/service.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <re.h>
#include "common/log.h"
#include "daemon/service.h"

struct service {
	int notify_fd;              /* -1: no $NOTIFY_SOCKET, no notices */
	struct sockaddr_un notify_addr;
	socklen_t notify_len;
	int notify_err;             /* errno of the last failed notice */
	uint64_t watchdog_ms;       /* ping interval; 0: no watchdog */
	struct tmr watchdog;
	int hup_pipe[2];
	bool hup_installed;
	service_reload_h *reloadh;
	void *arg;
};

/* The pipe's write end, for the signal handler, which gets no argument.
 * One service per process. */
static volatile sig_atomic_t hup_write_fd = -1;


/* Async-signal-safe: one byte into the pipe.  A full pipe already holds
 * a request, so a failed write loses nothing. */
static void hup_signal(int sig)
{
	const int saved = errno;
	ssize_t n = write(hup_write_fd, "h", 1);

	(void)sig;
	(void)n;
	errno = saved;
}


/* In the loop: however many SIGHUPs arrived, one reload. */
static void hup_readable(int flags, void *arg)
{
	struct service *sv = arg;
	char buf[64];
	bool requested = false;

	(void)flags;
	while (read(sv->hup_pipe[0], buf, sizeof(buf)) > 0)
		requested = true;
	if (requested && sv->reloadh)
		sv->reloadh(sv->arg);
}


static int nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return errno;
	return 0;
}


static int hup_install(struct service *sv)
{
	struct sigaction sa;
	int err;

	if (pipe(sv->hup_pipe))
		return errno;
	err = nonblocking(sv->hup_pipe[0]);
	if (!err)
		err = nonblocking(sv->hup_pipe[1]);
	if (!err)
		err = fd_listen(sv->hup_pipe[0], FD_READ, hup_readable, sv);
	if (err)
		return err;

	hup_write_fd = sv->hup_pipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hup_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGHUP, &sa, NULL))
		return errno;
	sv->hup_installed = true;
	return 0;
}


/* $NOTIFY_SOCKET: a path, or "@name" for the abstract namespace
 * (sd_notify(3)).  Anything else is warned about and ignored: locus runs
 * on, and a Type=notify unit times out saying why. */
static int notify_open(struct service *sv)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len = path ? strlen(path) : 0;

	if (!len)
		return 0;
	if ((path[0] != '/' && path[0] != '@') ||
	    len >= sizeof(sv->notify_addr.sun_path)) {
		log_warn("service: NOTIFY_SOCKET '%s' is not a unix socket "
			 "path or @name: no notices will be sent", path);
		return 0;
	}
	sv->notify_addr.sun_family = AF_UNIX;
	memcpy(sv->notify_addr.sun_path, path, len);
	if (path[0] == '@')
		sv->notify_addr.sun_path[0] = '\0';
	sv->notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				     len);
	sv->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
			       SOCK_NONBLOCK, 0);
	return sv->notify_fd < 0 ? errno : 0;
}


/* Never blocks: a notice the manager's queue has no room for is dropped
 * and warned about (once per kind of failure, not on every ping). */
static void notify_send(struct service *sv, const char *state)
{
	int err = 0;

	if (sv->notify_fd < 0)
		return;
	if (sendto(sv->notify_fd, state, strlen(state),
		   MSG_NOSIGNAL | MSG_DONTWAIT,
		   (const struct sockaddr *)&sv->notify_addr,
		   sv->notify_len) < 0)
		err = errno;
	if (err && err != sv->notify_err)
		log_warn("service: cannot send '%s' to NOTIFY_SOCKET: %m",
			 state, err);
	sv->notify_err = err;
}


/* Half of $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; 0 when no
 * watchdog was asked for, or it was asked of another process. */
static uint64_t watchdog_interval_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long us;
	char *end;

	if (!usec)
		return 0;
	if (pid && strtoll(pid, NULL, 10) != (long long)getpid())
		return 0;
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno || end == usec || *end || !us) {
		log_warn("service: WATCHDOG_USEC '%s' is not a number of "
			 "microseconds: no watchdog pings", usec);
		return 0;
	}
	return us >= 2000 ? us / 2000 : 1;
}


/* A timer of the event loop: pings stop when the loop stops turning. */
static void watchdog_ping(void *arg)
{
	struct service *sv = arg;

	notify_send(sv, "WATCHDOG=1");
	tmr_start(&sv->watchdog, sv->watchdog_ms, watchdog_ping, sv);
}


static void service_destructor(void *arg)
{
	struct service *sv = arg;

	tmr_cancel(&sv->watchdog);
	if (sv->hup_installed)
		(void)signal(SIGHUP, SIG_DFL);
	if (sv->hup_pipe[1] >= 0 && hup_write_fd == sv->hup_pipe[1])
		hup_write_fd = -1;
	if (sv->hup_pipe[0] >= 0) {
		fd_close(sv->hup_pipe[0]);
		(void)close(sv->hup_pipe[0]);
	}
	if (sv->hup_pipe[1] >= 0)
		(void)close(sv->hup_pipe[1]);
	if (sv->notify_fd >= 0)
		(void)close(sv->notify_fd);
}


int service_alloc(struct service **svp, service_reload_h *reloadh,
		  void *arg)
{
	struct service *sv;
	int err;

	if (!svp)
		return EINVAL;
	if (hup_write_fd >= 0)
		return EALREADY;
	sv = mem_zalloc(sizeof(*sv), service_destructor);
	if (!sv)
		return ENOMEM;
	sv->notify_fd = sv->hup_pipe[0] = sv->hup_pipe[1] = -1;
	sv->reloadh = reloadh;
	sv->arg = arg;
	tmr_init(&sv->watchdog);

	err = hup_install(sv);
	if (!err)
		err = notify_open(sv);
	if (err) {
		mem_deref(sv);
		return err;
	}
	*svp = sv;
	return 0;
}


void service_ready(struct service *sv)
{
	if (!sv)
		return;
	notify_send(sv, "READY=1");
	sv->watchdog_ms = sv->notify_fd >= 0 ? watchdog_interval_ms() : 0;
	if (sv->watchdog_ms) {
		log_info("service: watchdog ping every %llu ms",
			 (unsigned long long)sv->watchdog_ms);
		watchdog_ping(sv);
	}
}


void service_stopping(struct service *sv)
{
	if (!sv)
		return;
	tmr_cancel(&sv->watchdog);
	notify_send(sv, "STOPPING=1");
}
