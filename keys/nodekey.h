/* keys/: the secret shared by every locus node, and the keys made of it.
 * One 256-bit node key, kept in a file (gruu.key_file) of which every
 * node serving the same domains has a copy, is the root of every key
 * locus uses: each purpose (temp-GRUU tokens, digest nonces, Via and
 * dialog stamps) derives its own from it with HKDF-SHA256 (RFC 5869,
 * keys/hkdf.h), so that every node computes the same keys and no two
 * purposes share one.  base64url (keys/base64url.h) is here too, the
 * encoding of what is made with them.  Nothing in keys/ knows SIP. */
#ifndef LOCUS_NODEKEY_H
#define LOCUS_NODEKEY_H

#include <stddef.h>
#include <stdint.h>

enum {
	NODE_KEY_LEN    = 32,   /* bytes of the node key: 64 hex digits */
	DERIVED_KEY_LEN = 32,   /* bytes of each key derived from it    */
};

struct node_key;

/*
 * Loads the node key from PATH: a file holding 64 hex digits (and an
 * optional trailing newline).  If PATH does not exist, a new random key is
 * written there with mode 0600.  A file that exists but is unreadable,
 * malformed, or readable by group/others is an error; errbuf then receives
 * one line saying what is wrong and what to do.
 */
int node_key_load(struct node_key **keyp, const char *path,
		  char *errbuf, size_t errsz);

/* A node key from its raw bytes (tests, and nodes sharing a key by other
 * means). */
int node_key_from_bytes(struct node_key **keyp,
			const uint8_t raw[NODE_KEY_LEN]);

/*
 * OUT gets the key for PURPOSE (a name such as "locus via stamp", never
 * empty): HKDF-SHA256 with the node key as input keying material, no
 * salt, and PURPOSE as the info.  What every node holding the key file
 * computes alike; another purpose gives an unrelated key.
 */
int node_key_derive(const struct node_key *key, const char *purpose,
		    uint8_t out[DERIVED_KEY_LEN]);

#endif
