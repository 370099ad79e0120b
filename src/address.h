/* address.h - recipient address normalisation and HMAC-SHA256 record keys.
 *
 * The consent store never sees a plain address: the milter and consentctl
 * both turn an address into "<RedisKeyPrefix>c:<hex HMAC-SHA256(key, addr)>"
 * after normalising it, so that every spelling of one mailbox maps to one
 * record. All functions are thread-safe (no shared state). */
#ifndef CM_ADDRESS_H
#define CM_ADDRESS_H

#include <stddef.h>

struct cm_config;

/* Longest accepted address in octets (RFC 5321 path, 256, minus "<>"). */
#define ADDRESS_MAX		254
/* Address key: at least 32 bytes (64 hex digits), at most 64 bytes. */
#define ADDRESS_KEY_MIN		32
#define ADDRESS_KEY_MAX		64
/* Longest RedisKeyPrefix accepted by address_store_key(). */
#define ADDRESS_PREFIX_MAX	64
/* Room for "<prefix>c:<64 hex>" and the NUL. */
#define ADDRESS_STORE_KEY_MAX	(ADDRESS_PREFIX_MAX + 2 + 64 + 1)

struct address_key {
	size_t len;
	unsigned char bytes[ADDRESS_KEY_MAX];
	/* SHA-256 states after the HMAC inner and outer key blocks
	 * (EVP_MD_CTX *), set by address_key_prepare(): they make one key
	 * about 6 times cheaper (no per-call algorithm fetch). Read-only once
	 * prepared, so threads share them. NULL: slow path, same result. */
	void *inner, *outer;
};

/* Normalise IN into OUT (ADDRESS_MAX + 1 bytes):
 *   - surrounding blanks and one pair of angle brackets are removed;
 *   - the domain is lower-cased; a non-ASCII domain is converted to its
 *     A-label (IDNA2008 / UTS #46 non-transitional, libidn2);
 *   - the local part is ASCII-lower-cased unless CASE_SENSITIVE_LOCAL;
 *     a quoted local part ("a b"@x) is kept whole apart from case;
 *   - the subaddress is cut at the first character found in SUBDELIM
 *     (a set, like Postfix's recipient_delimiter; NULL or "" disables),
 *     unless that leaves the local part empty.
 * Returns 0, or -1 with *WHY (static string) set: no @, empty local part,
 * empty domain, control byte, blank, invalid UTF-8, empty domain label,
 * IDNA failure, longer than 254 octets. */
int address_normalise(const char *in, const char *subdelim, int case_sensitive_local,
		      char *out, const char **why);

/* Read the address key from PATH: one line of hex digits (64 to 128), and
 * prepare it (address_key_prepare); release it with address_key_wipe.
 * Refused, with a reason in ERR, when the file is not a regular file, is
 * accessible by group or others (any of mode 077), is shorter than 32 bytes
 * or is not hex. Returns 0 or -1. */
int address_key_load(const char *path, struct address_key *key, char *err, size_t errlen);
/* Precompute the HMAC states of KEY (LEN and BYTES set). address_key_load
 * does it; call it for a key built in memory. 0 or -1 (OpenSSL error). */
int address_key_prepare(struct address_key *key);
/* Free the precomputed states and overwrite the key in memory. */
void address_key_wipe(struct address_key *key);

/* Store key of an already normalised address: "<PREFIX>c:<64 lower-case hex>"
 * into OUT (OUTLEN >= ADDRESS_STORE_KEY_MAX is always enough).
 * Returns the length written, or -1 (prefix too long, OUTLEN too small, crypto error). */
int address_store_key(const struct address_key *key, const char *prefix,
		      const char *normalised, char *out, size_t outlen);

/* Normalise RAW with the settings of CFG (SubaddressDelimiter,
 * CaseSensitiveLocalPart) and compute its store key (RedisKeyPrefix).
 * Returns the key length, or -1 with *WHY set. */
int address_key_for(const struct cm_config *cfg, const struct address_key *key,
		    const char *raw, char *out, size_t outlen, const char **why);

#endif
