/* One dialog locus itself holds (RFC 3261 §12): as the UAC that sent its
 * INVITE (a leg of a click-to-call, the call back to a parker) or as the
 * UAS that answered it (a parked call).  Built on libre's dialog code
 * (sip_dialog): the leg adds what a B2BUA needs and libre's sipsess does
 * not give, answers and acknowledgements that wait for the other leg:
 * a 2xx is acknowledged when the owner says so (leg_ack()), an incoming
 * request is answered when the owner says so (leg_reply()).
 *
 * Requests a leg sends go through locus's own proxy: an initial INVITE
 * with the origin stamp (proxy/stamp.h), in-dialog ones along the route
 * set, which is locus's Record-Route.  Requests of the peer reach the leg
 * through the dispatcher (ua_claim()), matched by Call-ID and our tag. */
#ifndef LOCUS_UA_LEG_H
#define LOCUS_UA_LEG_H

#include <stdbool.h>
#include <re.h>

struct leg;
struct ua;

/* What happens on a leg, for its owner.  Every handler may be NULL. */
struct leg_events {
	/* UAC: a response to the INVITE that makes the dialog, or ERR and
	 * MSG NULL when none came.  After a 2xx the leg waits for
	 * leg_ack(); leg_ok_sdp() is the 2xx's SDP, if it had one. */
	void (*invite_resp)(struct leg *leg, int err, const struct sip_msg *msg,
			    void *arg);
	/* A request within the dialog other than ACK, BYE, CANCEL and
	 * OPTIONS: the owner answers it with leg_reply(). */
	void (*request)(struct leg *leg, const struct sip_msg *msg, void *arg);
	/* The ACK to a 2xx of ours (its body: an answer, or nothing). */
	void (*ack)(struct leg *leg, const struct sip_msg *msg, void *arg);
	/* The dialog is over from the other side or by a failure: a BYE
	 * (SCODE 0), a CANCEL (487), no ACK (408), a 481 or 408 to one of
	 * our requests.  REASON says which. */
	void (*ended)(struct leg *leg, uint16_t scode, const char *reason,
		      void *arg);
};

/* A response to leg_request(); ERR and MSG NULL when none came. */
typedef void (leg_resp_h)(struct leg *leg, int err, const struct sip_msg *msg,
			  void *arg);

/* An INVITE that makes a dialog (UAC). */
struct leg_invite {
	const char *ruri;        /* Request-URI                           */
	const char *to;          /* To URI                                */
	const char *from;        /* From URI                              */
	const char *hdrs;        /* more header lines, each with CRLF, or
				    NULL                                  */
	const struct pl *sdp;    /* the offer; NULL: the peer offers (late
				    offer, RFC 3261 §13.2.1)              */
};

/* The leg is held by its owner (mem_deref() it after leg_close()). */
int  leg_invite(struct leg **legp, struct ua *ua, const struct leg_invite *p,
		const struct leg_events *ev, void *arg);
/* UAS: INVITE, a request that makes a dialog, is the leg's to answer
 * (leg_reply()); a CANCEL of it ends the leg (ended 487). */
int  leg_accept(struct leg **legp, struct ua *ua, const struct sip_msg *invite,
		const struct leg_events *ev, void *arg);

/* Who hears of the leg's events from now on. */
void leg_events_set(struct leg *leg, const struct leg_events *ev, void *arg);
/* No one, if ARG still does. */
void leg_events_reset(struct leg *leg, void *arg);

/* Acknowledges the 2xx the leg waits for (RFC 3261 §13.2.2.4), with SDP
 * (the answer to the 2xx's offer) or without a body (NULL). */
int  leg_ack(struct leg *leg, const struct pl *sdp);
/* Sends METHOD within the dialog, with header lines HDRS (or NULL) and a
 * body of type CTYPE (or none).  An INVITE's 2xx is then acknowledged with
 * leg_ack(). */
int  leg_request(struct leg *leg, const char *method, const char *hdrs,
		 const char *ctype, const struct pl *body, leg_resp_h *resph,
		 void *arg);
/* Answers REQ, a request the leg passed to its owner (or the INVITE of
 * leg_accept()), with header lines HDRS (or NULL).  A 2xx to an INVITE
 * carries our Contact and is sent again until its ACK comes (RFC 3261
 * §13.3.1.4). */
int  leg_reply(struct leg *leg, const struct sip_msg *req, uint16_t scode,
	       const char *reason, const char *hdrs, const char *ctype,
	       const struct pl *body);

/* Ends the leg from our side, whatever its state: CANCEL a pending
 * INVITE, answer an unanswered one SCODE REASON, acknowledge a 2xx that
 * waits (with an inactive answer to its offer) and BYE a dialog.  The
 * owner hears nothing of the leg after this; the leg finishes on its own
 * and goes once the owner's reference and its transactions are gone. */
void leg_close(struct leg *leg, uint16_t scode, const char *reason);

bool leg_confirmed(const struct leg *leg);
/* A request or 2xx of ours on this leg waits for its answer or ACK: a
 * new offer now would cross it (RFC 3261 §14.2, 491). */
bool leg_busy(const struct leg *leg);
/* The SDP of the 2xx the leg waits to acknowledge (empty if none). */
struct pl leg_ok_sdp(const struct leg *leg);
/* The URI of the peer: To of an INVITE we sent, From of one we got. */
const char *leg_peer(const struct leg *leg);
const char *leg_callid(const struct leg *leg);
/* The session interval (RFC 4028 §4) of the last 2xx to an INVITE or
 * UPDATE of ours, in seconds; 0 when it had none. */
uint32_t leg_session_expires(const struct leg *leg);

/* ---- for ua.c ------------------------------------------------------- */

/* Does MSG, a request or a response, belong to this leg's dialog: its
 * Call-ID and our tag (To of a request, From of a response)? */
bool leg_matches(const struct leg *leg, const struct sip_msg *msg);
/* A request of the peer within the dialog (MSG passed the dispatcher). */
void leg_recv(struct leg *leg, const struct sip_msg *msg);
/* A 2xx to our INVITE that no transaction claimed (RFC 3261 §13.2.2.4):
 * a retransmission is acknowledged again, another fork's 2xx is
 * acknowledged and ended with BYE. */
void leg_stray_2xx(struct leg *leg, const struct sip_msg *msg);

#endif
