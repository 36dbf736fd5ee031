#include <time.h>
#include <re.h>
#include "common/aging.h"
#include "sip/sipmsg.h"
#include "registrar/replay.h"

enum {
	/* Timer J, and a margin for the time the request takes to answer */
	KEEP_SECONDS = 32 + 8,
	/* 40 s at 15,000 REGISTER/s with room to spare, and buckets for
	 * chains of one or two */
	MAX_SLOTS = 1u << 20,
	SLOT_BUCKETS = 1u << 19,
};

struct replay {
	struct sip *sip;
	struct aging *slots;
};

struct replay_slot {
	struct aging_entry ae;       /* keyed by branch and sent-by       */
	struct replay *rp;           /* not referenced                    */
	struct mbuf *answer;         /* NULL while being processed        */
};


static void replay_destructor(void *arg)
{
	struct replay *rp = arg;

	mem_deref(rp->slots);
}


int replay_alloc(struct replay **rpp, struct sip *sip)
{
	struct replay *rp = mem_zalloc(sizeof(*rp), replay_destructor);
	int err;

	if (!rp)
		return ENOMEM;
	rp->sip = sip;
	err = aging_alloc(&rp->slots, SLOT_BUCKETS, MAX_SLOTS);
	if (!err)
		aging_set_max_bytes(rp->slots, REPLAY_MAX_BYTES);
	if (err)
		mem_deref(rp);
	else
		*rpp = rp;
	return err;
}


static void slot_destructor(void *arg)
{
	struct replay_slot *slot = arg;

	aging_entry_unlink(&slot->ae);
	mem_deref(slot->answer);
}


/* RFC 3261 §17.2.3: the top Via's branch and sent-by (and the method,
 * always REGISTER here) identify the transaction. */
static int slot_key(char *buf, size_t size, const struct sip_msg *msg,
		    struct pl *key)
{
	int n = re_snprintf(buf, size, "%r|%r", &msg->via.branch,
			    &msg->via.sentby);

	if (n < 0 || (size_t)n >= size)
		return EOVERFLOW;
	key->p = buf;
	key->l = (size_t)n;
	return 0;
}


static void answer_again(struct replay *rp, const struct replay_slot *slot,
			 const struct sip_msg *msg)
{
	struct sa dst;

	if (!slot->answer)
		return;   /* still being processed: absorbed */
	sipmsg_reply_addr(&dst, msg);
	slot->answer->pos = 0;
	(void)sip_send(rp->sip, msg->sock, msg->tp, &dst, slot->answer);
}


bool replay_check(struct replay *rp, const struct sip_msg *msg,
		  struct replay_slot **slotp)
{
	char buf[512];
	struct replay_slot *slot;
	struct pl key;
	uint64_t now = (uint64_t)time(NULL);

	*slotp = NULL;
	if (slot_key(buf, sizeof(buf), msg, &key))
		return false;   /* too long a key: answered statelessly */
	slot = aging_find(rp->slots, &key, now);
	if (slot) {
		answer_again(rp, slot, msg);
		return true;
	}
	slot = mem_zalloc(sizeof(*slot), slot_destructor);
	if (!slot || aging_add(rp->slots, &slot->ae, slot, &key,
			       now + KEEP_SECONDS)) {
		mem_deref(slot);
		return false;
	}
	slot->rp = rp;
	*slotp = mem_ref(slot);
	aging_charge(&slot->ae, sizeof(*slot) + key.l + 1);
	return false;
}


int replay_answer(struct replay_slot *slot, const struct sip_msg *msg,
		  struct mbuf *mb)
{
	struct sa dst;

	sipmsg_reply_addr(&dst, msg);
	mb->pos = 0;
	/* kept as long as it is: not in the room it was written in */
	if (mb->end && mb->end < mb->size)
		(void)mbuf_resize(mb, mb->end);
	if (!slot->answer)
		aging_charge(&slot->ae, sizeof(*mb) + mb->size);
	mem_deref(slot->answer);
	slot->answer = mem_ref(mb);
	return sip_send(slot->rp->sip, msg->sock, msg->tp, &dst, mb);
}


void replay_forget(struct replay_slot *slot)
{
	if (slot)
		aging_forget(&slot->ae);
}
