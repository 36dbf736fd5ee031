/* What the daemon says to its service manager, and what it hears from
 * the operator: systemd's notification protocol (sd_notify(3): one
 * datagram per notice to the socket named by $NOTIFY_SOCKET, spoken
 * here without libsystemd) for readiness, shut-down and watchdog pings;
 * and SIGHUP, delivered into the event loop as a reload request.
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or not Type=notify)
 * the notices are skipped; SIGHUP is handled either way. */
#ifndef LOCUS_SERVICE_H
#define LOCUS_SERVICE_H

struct service;

/* Called from the event loop, never from the signal handler, once per
 * turn of the loop in which one SIGHUP or more arrived. */
typedef void (service_reload_h)(void *arg);

/* Installs the SIGHUP handler and opens the notification socket.  Call
 * after libre_init() and before start-up work, so that a SIGHUP during
 * start-up waits for the loop instead of ending the process.  The
 * destructor puts SIGHUP's default action back. */
int  service_alloc(struct service **svp, service_reload_h *reloadh,
		   void *arg);

/* READY=1: every listener is open and the bindings are loaded.  Starts
 * the watchdog pings (WATCHDOG=1 every half $WATCHDOG_USEC) when the
 * service manager asked for them. */
void service_ready(struct service *sv);

/* STOPPING=1: shut-down has begun.  Stops the watchdog pings. */
void service_stopping(struct service *sv);

#endif
