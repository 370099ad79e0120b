/* address.c - turn a recipient address into the record key of the consent
 * store: normalise it (one mailbox, one spelling), then HMAC-SHA256 it with
 * the secret address key so that Redis never holds a plain address. */
#include "build-config.h"
#include "address.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Length of a valid UTF-8 sequence starting at P (at most N bytes), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2; cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3; cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4; cp = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Reject what can never be part of an address: control bytes, blanks
 * outside a quoted local part, broken UTF-8. */
static int
check_bytes(const char *s, size_t n, const char **why)
{
	const unsigned char *p = (const unsigned char *)s;
	int quoted = 0;
	size_t i = 0, len;

	while (i < n) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			*why = "control byte in address";
			return -1;
		}
		if (p[i] == '"')
			quoted = !quoted;
		else if (p[i] == '\\' && quoted && i + 1 < n)
			i++;
		else if (p[i] == ' ' && !quoted) {
			*why = "blank in address";
			return -1;
		}
		len = utf8_seq(p + i, n - i);
		if (len == 0) {
			*why = "invalid UTF-8 in address";
			return -1;
		}
		i += len;
	}
	return 0;
}

/* Lower-case (ASCII) and check the domain D of length N into OUT; non-ASCII
 * domains go through IDNA. Returns the length written or -1. */
static int
normalise_domain(const char *d, size_t n, char *out, size_t outlen, const char **why)
{
	char tmp[ADDRESS_MAX + 1];
	char *alabel = NULL;
	const char *src = tmp;
	size_t i, len;
	int ascii = 1, rc;

	if (n == 0) {
		*why = "empty domain";
		return -1;
	}
	if (n >= sizeof tmp) {
		*why = "address longer than 254 octets";
		return -1;
	}
	for (i = 0; i < n; i++) {
		tmp[i] = (char)tolower((unsigned char)d[i]);
		if ((unsigned char)d[i] >= 0x80)
			ascii = 0;
	}
	tmp[n] = '\0';
	/* A domain literal ([192.0.2.1], [IPv6:...]) is kept as written. */
	if (tmp[0] == '[') {
		if (tmp[n - 1] != ']' || !ascii) {
			*why = "malformed domain literal";
			return -1;
		}
	} else {
		if (!ascii) {
			rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&alabel,
					    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
			if (rc != IDN2_OK) {
				*why = "domain is not a valid internationalised domain name";
				return -1;
			}
			src = alabel;
		}
		if (src[0] == '.' || strstr(src, "..") != NULL || src[strlen(src) - 1] == '.') {
			idn2_free(alabel);
			*why = "empty label in domain";
			return -1;
		}
	}
	len = strlen(src);
	if (len >= outlen) {
		idn2_free(alabel);
		*why = "address longer than 254 octets";
		return -1;
	}
	memcpy(out, src, len + 1);
	idn2_free(alabel);
	return (int)len;
}

/* Copy local part L (length N) to OUT with subaddress and case rules. */
static size_t
normalise_local(const char *l, size_t n, const char *subdelim, int case_sensitive,
		char *out)
{
	size_t i, cut = n;

	if (l[0] != '"' && subdelim != NULL && *subdelim != '\0') {
		cut = strcspn(l, subdelim);
		if (cut > n)
			cut = n;
		if (cut == 0)	/* "+tag@x": nothing before it, keep it whole */
			cut = n;
	}
	for (i = 0; i < cut; i++)
		out[i] = case_sensitive ? l[i] : (char)tolower((unsigned char)l[i]);
	return cut;
}

int
address_normalise(const char *in, const char *subdelim, int case_sensitive_local,
		  char *out, const char **why)
{
	const char *s = in, *e, *at;
	char local[ADDRESS_MAX + 1];
	size_t n, llen;
	int dlen;

	if (in == NULL) {
		*why = "no address";
		return -1;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (e > s && *s == '<') {
		if (e[-1] != '>') {
			*why = "unbalanced angle bracket";
			return -1;
		}
		s++;
		e--;
	}
	n = (size_t)(e - s);
	if (n == 0) {
		*why = "empty address";
		return -1;
	}
	if (n > ADDRESS_MAX) {
		*why = "address longer than 254 octets";
		return -1;
	}
	if (check_bytes(s, n, why) < 0)
		return -1;
	/* The last @ separates the domain: a quoted local part may hold one. */
	for (at = e - 1; at >= s && *at != '@'; at--)
		;
	if (at < s) {
		*why = "no @ in address";
		return -1;
	}
	if (at == s) {
		*why = "empty local part";
		return -1;
	}
	llen = (size_t)(at - s);
	if (s[0] == '"' && (llen < 2 || at[-1] != '"')) {
		*why = "unbalanced quote in local part";
		return -1;
	}
	memcpy(local, s, llen);
	local[llen] = '\0';
	llen = normalise_local(local, llen, subdelim, case_sensitive_local, out);
	out[llen] = '@';
	dlen = normalise_domain(at + 1, (size_t)(e - at - 1), out + llen + 1,
				ADDRESS_MAX + 1 - llen - 1, why);
	if (dlen < 0)
		return -1;
	return 0;
}

void
address_key_wipe(struct address_key *key)
{
	EVP_MD_CTX_free(key->inner);
	EVP_MD_CTX_free(key->outer);
	OPENSSL_cleanse(key, sizeof *key);
}

/* HMAC (RFC 2104) keeps two hash states that depend only on the key: the
 * hash of (key XOR ipad) and of (key XOR opad). Computing them once saves
 * the per-call algorithm lookup and key schedule of OpenSSL's HMAC(). */
int
address_key_prepare(struct address_key *key)
{
	unsigned char pad[64];
	EVP_MD_CTX *in = EVP_MD_CTX_new(), *out = EVP_MD_CTX_new();
	size_t i;
	int ok;

	if (key->len > sizeof pad || in == NULL || out == NULL) {
		EVP_MD_CTX_free(in);
		EVP_MD_CTX_free(out);
		return -1;
	}
	for (i = 0; i < sizeof pad; i++)
		pad[i] = (unsigned char)((i < key->len ? key->bytes[i] : 0) ^ 0x36);
	ok = EVP_DigestInit_ex(in, EVP_sha256(), NULL) && EVP_DigestUpdate(in, pad, sizeof pad);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = (unsigned char)((i < key->len ? key->bytes[i] : 0) ^ 0x5c);
	ok = ok && EVP_DigestInit_ex(out, EVP_sha256(), NULL) && EVP_DigestUpdate(out, pad, sizeof pad);
	OPENSSL_cleanse(pad, sizeof pad);
	if (!ok) {
		EVP_MD_CTX_free(in);
		EVP_MD_CTX_free(out);
		return -1;
	}
	EVP_MD_CTX_free(key->inner);
	EVP_MD_CTX_free(key->outer);
	key->inner = in;
	key->outer = out;
	return 0;
}

/* HMAC-SHA256 of MSG into MAC (32 bytes) from the prepared states. */
static int
hmac_prepared(const struct address_key *key, const char *msg, unsigned char *mac)
{
	EVP_MD_CTX *w = EVP_MD_CTX_new();
	unsigned char inner[32];
	unsigned int n = 0;
	int ok;

	if (w == NULL)
		return -1;
	ok = EVP_MD_CTX_copy_ex(w, key->inner) && EVP_DigestUpdate(w, msg, strlen(msg)) &&
	     EVP_DigestFinal_ex(w, inner, &n) && n == 32 &&
	     EVP_MD_CTX_copy_ex(w, key->outer) && EVP_DigestUpdate(w, inner, n) &&
	     EVP_DigestFinal_ex(w, mac, &n) && n == 32;
	EVP_MD_CTX_free(w);
	return ok ? 0 : -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode the one line of hex in TEXT into KEY. */
static int
parse_key_text(char *text, struct address_key *key, char *err, size_t errlen,
	       const char *path)
{
	size_t n = strlen(text), i;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
			 text[n - 1] == ' ' || text[n - 1] == '\t'))
		text[--n] = '\0';
	if (n % 2 != 0 || n > 2 * ADDRESS_KEY_MAX) {
		snprintf(err, errlen, "%s: expected one line of %d to %d hex digits",
			 path, 2 * ADDRESS_KEY_MIN, 2 * ADDRESS_KEY_MAX);
		return -1;
	}
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)text[2 * i]);
		int lo = hexval((unsigned char)text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "%s: not a hex key (one line of hex digits)", path);
			return -1;
		}
		key->bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	key->len = n / 2;
	if (key->len < ADDRESS_KEY_MIN) {
		snprintf(err, errlen, "%s: key too short: %zu bytes, at least %d (%d hex digits) needed",
			 path, key->len, ADDRESS_KEY_MIN, 2 * ADDRESS_KEY_MIN);
		return -1;
	}
	return 0;
}

int
address_key_load(const char *path, struct address_key *key, char *err, size_t errlen)
{
	char text[4 * ADDRESS_KEY_MAX];
	struct stat st;
	ssize_t n;
	int fd, rc;

	memset(key, 0, sizeof *key);
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "AddressKeyFile is not set");
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: refusing a key file accessible by group or others "
			 "(mode %03o; chmod 600 it)", path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text[n] = '\0';
	if (strlen(text) != (size_t)n) {
		snprintf(err, errlen, "%s: not a hex key (NUL byte)", path);
		rc = -1;
	} else
		rc = parse_key_text(text, key, err, errlen, path);
	OPENSSL_cleanse(text, sizeof text);
	if (rc == 0 && address_key_prepare(key) < 0) {
		snprintf(err, errlen, "%s: cannot set up HMAC-SHA256 (OpenSSL)", path);
		rc = -1;
	}
	if (rc < 0)
		address_key_wipe(key);
	return rc;
}

int
address_store_key(const struct address_key *key, const char *prefix,
		  const char *normalised, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;
	size_t plen = strlen(prefix);

	if (plen > ADDRESS_PREFIX_MAX || outlen < plen + 2 + 64 + 1)
		return -1;
	if (key->inner && key->outer) {
		if (hmac_prepared(key, normalised, mac) < 0)
			return -1;
		maclen = 32;
	} else if (HMAC(EVP_sha256(), key->bytes, (int)key->len,
			(const unsigned char *)normalised, strlen(normalised), mac, &maclen) == NULL ||
		   maclen != 32)
		return -1;
	memcpy(out, prefix, plen);
	out[plen] = 'c';
	out[plen + 1] = ':';
	for (i = 0; i < maclen; i++) {
		out[plen + 2 + 2 * i] = hex[mac[i] >> 4];
		out[plen + 3 + 2 * i] = hex[mac[i] & 15];
	}
	out[plen + 2 + 64] = '\0';
	return (int)(plen + 2 + 64);
}

int
address_key_for(const struct cm_config *cfg, const struct address_key *key,
		const char *raw, char *out, size_t outlen, const char **why)
{
	char norm[ADDRESS_MAX + 1];
	int n;

	if (address_normalise(raw, cfg->subaddress_delimiter, cfg->case_sensitive_local_part,
			      norm, why) < 0)
		return -1;
	n = address_store_key(key, cfg->redis_key_prefix, norm, out, outlen);
	if (n < 0)
		*why = "cannot compute the record key (RedisKeyPrefix too long?)";
	return n;
}
