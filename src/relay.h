/* relay.h - per-message tracking switches for downstream ESP relays.
 *
 * When the MTA relays through an ESP's SMTP service (SendGrid, Mailgun,
 * Postmark, Mailjet, SparkPost, Amazon SES), the ESP inserts its own pixels
 * and tracked links after the milter has run. For a message enforced without
 * `open` or `click` consent this module computes the header edits that ask
 * each configured ESP not to track the purposes without consent.
 *
 * Vendor, header and the value that switches tracking off (each confirmed in
 * the vendor's public documentation, see doc in relay.c):
 *   sendgrid   X-SMTPAPI: JSON, filters.opentrack / filters.clicktrack
 *              settings.enable = 0 (merged into an existing X-SMTPAPI)
 *   mailgun    X-Mailgun-Track-Opens: no, X-Mailgun-Track-Clicks: no
 *   postmark   X-PM-TrackOpens: false, X-PM-TrackLinks: None
 *   mailjet    X-Mailjet-TrackOpen: 0, X-Mailjet-TrackClick: 0
 *   sparkpost  X-MSYS-API: JSON, options.open_tracking / click_tracking
 *              = false (merged into an existing X-MSYS-API)
 *   ses        X-SES-CONFIGURATION-SET: <RelaySesConfigurationSet>, a set
 *              the operator configured without open/click tracking */
#ifndef CM_RELAY_H
#define CM_RELAY_H

#include <stddef.h>

#include "headers.h"

struct cm_config;

#define RELAY_OPEN	1u	/* consent bit: pixels, open measurement */
#define RELAY_CLICK	2u	/* consent bit: link tracking */

/* Longest line we ever write, in octets without the CRLF (RFC 5322 2.1.1). */
#define RELAY_LINE_MAX	998

/* Vendor names accepted in RelayTrackingHeaders (case-insensitive). 1 or 0. */
int relay_vendor_valid(const char *name);

/* Header edits that switch off the purposes NOT in CONSENT (bits: 1 open,
 * 2 click) for the listed vendors, given the message's top-level headers.
 * A header that enables tracking for a purpose without consent is replaced
 * (HDR_CHANGE on its first occurrence; extra duplicates deleted, last one
 * first); only the purposes without consent are turned off; nothing is
 * added when CONSENT has both bits. JSON headers (X-SMTPAPI, X-MSYS-API) are
 * merged, every occurrence on its own; one that is not a JSON object of the
 * documented shape, or that cannot be written back within RELAY_LINE_MAX
 * octets a line, is left unchanged and logged. SES is skipped when
 * SES_CONFIG_SET is NULL, empty or not a valid set name.
 * Edits are appended to OUT. 0, or -1 (out of memory; OUT may then hold
 * some of the edits and should be cleared by the caller). */
int relay_headers(char *const *vendors, const char *ses_config_set, unsigned consent,
		  const struct header_list *hdrs, struct hdr_edits *out);

/* Start-up check of RelayTrackingHeaders and RelaySesConfigurationSet: every
 * vendor name known, the SES set name valid (letters, digits, '_', '-', at
 * most 64). "ses" listed with an empty set is not an error: it is logged at
 * warning and SES is skipped. 0, or -1 with the reason in ERR. */
int relay_check_config(const struct cm_config *cfg, char *err, size_t errlen);

#endif
