/* Dialogs locus record-routed: the stamp on our Record-Route, and which
 * in-dialog requests it lets through (proxy/dialog.c says why). */
#ifndef LOCUS_DIALOG_H
#define LOCUS_DIALOG_H

#include <stdbool.h>
#include <re.h>
#include "proxy/fwd.h"
#include "proxy/route.h"
#include "proxy/stamp.h"

struct dialogs;
struct locus_config;

/* The caller's side of a dialog, as the request that makes it shows it. */
struct dialog_origin {
	char hop[ROUTE_HOP_SIZE];  /* next hop of requests to the caller  */
	bool by_contact;           /* HOP is its Contact, not a proxy's   */
};

/* Our Record-Route values in a response, rewritten (at most two: RFC
 * 5658 double record-routing, and a spiral's second pair). */
enum { DIALOG_EDITS_MAX = 4 };
struct dialog_edits {
	struct fwd_edit edit[DIALOG_EDITS_MAX];
	size_t n;
	char stamp[STAMP_DIALOG_LEN + 1];
};

int  dialogs_alloc(struct dialogs **dsp, const struct stamp *stamp,
		   const struct locus_config *cfg);

/* For the Record-Route of REQ, a request that makes a dialog: the stamp
 * that lets the callee's requests reach the caller, and the caller's
 * side (kept by the transaction for dialog_response()). */
int  dialog_request_stamp(char out[STAMP_DIALOG_LEN + 1],
			  struct dialog_origin *orig,
			  const struct dialogs *ds, const struct sip_msg *req);

/* Does the stamp that RI found in REQ's Route vouch for REQ: a request
 * within a dialog we record-routed, going to that dialog's other party?
 * Sets RI->in_dialog. */
bool dialog_vouch(struct dialogs *ds, const struct sip_msg *req,
		  struct route_info *ri);

/*
 * RESP, a response to REQ, goes upstream.  ED gets the rewrite of our
 * Record-Route values in it (RFC 3261 §16.7 step 4: the stamp for
 * requests from upstream, which never leaves for upstream itself), and
 * the dialogs in memory learn what RESP tells: a dialog made, ended, or
 * its targets refreshed.  REQ and ORIG are NULL when there is no
 * transaction (a 2xx relayed statelessly, a response to a request
 * forwarded statelessly: a BYE's still ends its dialog); VOUCHED: REQ was
 * let through by dialog_vouch().  ISSUED: the stamp our Record-Route gave
 * REQ (NULL: none, or no transaction); a stamp in RESP that is not it, or
 * not the one memory's dialog had, is not replaced.  Non-zero when no
 * stamp could be made: RESP must then not be relayed.
 */
int  dialog_response(struct dialogs *ds, struct dialog_edits *ed,
		     const struct sip_msg *resp, const struct sip_msg *req,
		     const struct dialog_origin *orig, bool vouched,
		     const char *issued);

/* REQ, which would have made a dialog, got no 2xx: its early dialogs end
 * (RFC 3261 §12.3, §13.2.2.3). */
void dialog_request_failed(struct dialogs *ds, const struct sip_msg *req);

/* Dialogs in memory (tests, statistics). */
uint32_t dialogs_count(const struct dialogs *ds);

#endif
