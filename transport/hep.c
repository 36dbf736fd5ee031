/*
 * HEP version 3 packets (transport/hep.h).
 *
 * A packet is "HEP3", its total length (16 bits, network order, header
 * included) and chunks, each a vendor ID (0: generic), a type, its length
 * (header of 6 bytes included) and the value, integers in network order.
 * The generic chunk types used here: 1 IP family (2 IPv4, 10 IPv6), 2 IP
 * protocol (17 UDP, 6 TCP: TLS and WebSocket travel on TCP), 3 and 4 IPv4
 * source and destination, 5 and 6 IPv6 ones, 7 and 8 ports, 9 seconds
 * and 10 microseconds of the capture time, 11 the payload's protocol (1:
 * SIP), 12 the capture agent ID, 15 the captured message.
 */
#include <re.h>
#include "transport/hep.h"

enum {
	HEP_HDR = 6,             /* "HEP3" and the total length          */
	CHUNK_HDR = 6,
	HEP_MAX = 65535,
	FAMILY_IPV4 = 2,
	FAMILY_IPV6 = 10,
	PROTO_UDP = 17,
	PROTO_TCP = 6,
	PAYLOAD_SIP = 1,
};

enum chunk_type {
	CH_FAMILY = 1, CH_PROTO = 2, CH_SRC4 = 3, CH_DST4 = 4, CH_SRC6 = 5,
	CH_DST6 = 6, CH_SPORT = 7, CH_DPORT = 8, CH_SECS = 9, CH_USECS = 10,
	CH_PAYLOAD_TYPE = 11, CH_AGENT = 12, CH_PAYLOAD = 15,
};


static int chunk_head(struct mbuf *mb, enum chunk_type type, size_t len)
{
	int err = mbuf_write_u16(mb, htons(0));

	err |= mbuf_write_u16(mb, htons((uint16_t)type));
	err |= mbuf_write_u16(mb, htons((uint16_t)(CHUNK_HDR + len)));
	return err;
}


static int chunk_u8(struct mbuf *mb, enum chunk_type type, uint8_t v)
{
	return chunk_head(mb, type, 1) | mbuf_write_u8(mb, v);
}


static int chunk_u16(struct mbuf *mb, enum chunk_type type, uint16_t v)
{
	return chunk_head(mb, type, 2) | mbuf_write_u16(mb, htons(v));
}


static int chunk_u32(struct mbuf *mb, enum chunk_type type, uint32_t v)
{
	return chunk_head(mb, type, 4) | mbuf_write_u32(mb, htonl(v));
}


static int chunk_mem(struct mbuf *mb, enum chunk_type type,
		     const void *p, size_t len)
{
	return chunk_head(mb, type, len) | mbuf_write_mem(mb, p, len);
}


static int addresses(struct mbuf *mb, const struct sa *src,
		     const struct sa *dst)
{
	int err;

	if (sa_af(src) == AF_INET) {
		uint32_t s = htonl(sa_in(src)), d = htonl(sa_in(dst));

		err = chunk_u8(mb, CH_FAMILY, FAMILY_IPV4);
		err |= chunk_mem(mb, CH_SRC4, &s, 4);
		err |= chunk_mem(mb, CH_DST4, &d, 4);
	}
	else {
		uint8_t s[16], d[16];

		sa_in6(src, s);
		sa_in6(dst, d);
		err = chunk_u8(mb, CH_FAMILY, FAMILY_IPV6);
		err |= chunk_mem(mb, CH_SRC6, s, 16);
		err |= chunk_mem(mb, CH_DST6, d, 16);
	}
	return err;
}


int hep_encode(struct mbuf *mb, const struct hep_capture *c)
{
	size_t start = mb->pos, end;
	int af = sa_af(c->src);
	int err;

	if (af != sa_af(c->dst) || (af != AF_INET && af != AF_INET6))
		return EAFNOSUPPORT;
	/* the fixed part is under 100 bytes */
	if (c->len > HEP_MAX - 128)
		return EMSGSIZE;

	err = mbuf_write_str(mb, "HEP3");
	err |= mbuf_write_u16(mb, 0);       /* the length, written last */
	err |= addresses(mb, c->src, c->dst);
	err |= chunk_u8(mb, CH_PROTO, c->tp == SIP_TRANSP_UDP ? PROTO_UDP
			: PROTO_TCP);
	err |= chunk_u16(mb, CH_SPORT, sa_port(c->src));
	err |= chunk_u16(mb, CH_DPORT, sa_port(c->dst));
	err |= chunk_u32(mb, CH_SECS, (uint32_t)(c->time_us / 1000000));
	err |= chunk_u32(mb, CH_USECS, (uint32_t)(c->time_us % 1000000));
	err |= chunk_u8(mb, CH_PAYLOAD_TYPE, PAYLOAD_SIP);
	err |= chunk_u32(mb, CH_AGENT, c->agent_id);
	err |= chunk_mem(mb, CH_PAYLOAD, c->msg, c->len);
	if (err)
		return ENOMEM;

	end = mb->pos;
	mb->pos = start + 4;
	err = mbuf_write_u16(mb, htons((uint16_t)(end - start)));
	mb->pos = end;
	return err;
}
