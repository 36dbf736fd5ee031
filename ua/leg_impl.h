/* The inside of a leg, shared by leg.c (the leg, and the requests it
 * sends) and leg_peer.c (the requests of the peer, and answering them).
 * Internal to ua/. */
#ifndef LOCUS_UA_LEG_IMPL_H
#define LOCUS_UA_LEG_IMPL_H

#include <stdbool.h>
#include <re.h>
#include "ua/leg.h"

enum leg_state {
	LEG_CALLING,     /* INVITE sent or received, no 2xx yet          */
	LEG_CONFIRMED,   /* a 2xx made the dialog                       */
	LEG_ENDED,
};

/* A request of the peer's waiting for the owner's answer. */
struct inreq {
	struct le le;
	struct leg *leg;
	const struct sip_msg *msg;
	struct sip_strans *st;
};

/* A request of ours waiting for its response. */
struct outreq {
	struct le le;
	struct leg *leg;
	struct sip_request *req;
	leg_resp_h *resph;
	void *arg;
	uint32_t cseq;
	bool invite;
	bool offer;              /* INVITE or UPDATE                  */
	bool bye;
};

struct leg {
	struct le he;                /* in ua->legs, by Call-ID          */
	struct ua *ua;
	bool uac;
	enum leg_state state;
	struct sip_dialog *proto;    /* UAC: the dialog of the INVITE    */
	struct sip_dialog *dlg;      /* the confirmed dialog             */
	char *callid;
	char *peer;
	const struct leg_events *ev; /* NULL once closed                 */
	void *arg;
	bool closed;                 /* leg_close(): the owner is gone   */
	struct list inreqs;          /* struct inreq                     */
	struct list outreqs;         /* struct outreq                    */

	/* RFC 4028: the session interval of the last 2xx to an INVITE or
	 * UPDATE of ours, seconds (0: none) */
	uint32_t session_expires;

	/* UAS: the INVITE that made the dialog, while unanswered */
	struct inreq *initial;

	/* UAC: the initial INVITE */
	struct outreq *invite;
	uint32_t invite_cseq;

	/* UAC: the 2xx that waits for our ACK, and the last ACK sent */
	bool ack_due;
	uint32_t ack_cseq;
	struct mbuf *offer;          /* the 2xx's SDP                    */
	bool acked;
	uint32_t acked_cseq;
	struct mbuf *ack_sdp;        /* the last ACK's body, for again   */

	/* UAS: our 2xx until its ACK (RFC 3261 §13.3.1.4) */
	struct mbuf *ok;
	const struct sip_msg *ok_req;
	struct sa ok_dst;
	uint32_t ok_cseq;
	uint32_t ok_sent;
	struct tmr ok_tmr;
	uint64_t ok_since;
};


/* "Content-Type: ...\r\nContent-Length: N\r\n\r\nBODY" of a request or
 * response: none when PL is NULL or empty (%H). */
struct body {
	const char *ctype;
	const struct pl *pl;
};
int  leg_body_print(struct re_printf *pf, const struct body *b);

struct leg *leg_alloc_bare(struct ua *ua, const struct leg_events *ev,
			   void *arg);
/* Into ua->legs, by Call-ID: its peer's requests find it there. */
void leg_register(struct leg *leg);
/* The dialog is over (struct leg_events ended), once. */
void leg_ended(struct leg *leg, uint16_t scode, const char *reason);
bool leg_is_offer_method(const struct pl *met);
/* METHOD within the dialog; its response to RESPH. */
int  leg_send(struct leg *leg, const char *method, const char *hdrs,
	      const char *ctype, const struct pl *body, leg_resp_h *resph,
	      void *arg);
void leg_bye_send(struct leg *leg);
int  leg_ack_send(struct leg *leg, uint32_t cseq, const struct pl *sdp,
		  struct sip_dialog *dlg);
/* ACK of a 2xx whose offer is not taken up: an inactive answer. */
void leg_ack_decline(struct leg *leg, struct sip_dialog *dlg, uint32_t cseq,
		     const struct pl *offer);
/* Takes note of the Session-Expires in MSG, a 2xx from the peer. */
void leg_session_note(struct leg *leg, const struct sip_msg *msg);
/* A request of the peer's kept for its answer (leg_peer.c). */
struct inreq *leg_inreq_new(struct leg *leg, const struct sip_msg *msg,
			    sip_cancel_h *cancelh);

#endif
