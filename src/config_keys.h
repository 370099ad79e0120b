/* config_keys.h - every configuration key, declared once.
 *
 * This file is an X-macro list: config.h expands it into the fields of
 * struct cm_config, config.c into the parser table, and `consent-milter -h
 * keys` into a listing. One row per key:
 *
 *   CFG_KEY(Name, TYPE, field, "default", "arg", "one-line documentation")
 *
 * TYPE and what "arg" means for it:
 *   STRING   char *      arg unused
 *   PATH     char *      arg unused; must be absolute unless empty
 *   BOOL     int         arg unused; yes/no, true/false, on/off, 1/0
 *   INT      long        arg "MIN:MAX"
 *   SIZE     size_t      arg "MIN:MAX" in bytes; value may end in K, M or G
 *   ENUM     int         arg "a|b|c"; the field holds the index of the choice
 *   LIST     char **     arg unused; comma- or space-separated, NULL-terminated
 *   SOCKET   char *      milter socket: unix:/p, local:/p, inet:port[@host], inet6:port[@host]
 *   USER     char *      user[:group]; both must exist
 *   MODE     long        octal umask, 0 to 0777
 *   FACILITY int         syslog facility name (mail, daemon, local0..local7, user)
 *   LEVEL    int         syslog priority name (error, warning, notice, info, debug)
 *
 * Keep etc/consent-milter.conf and man/consent-milter.conf.5 in step. Sections
 * are kept apart so that work on different modules merges cleanly.
 */

/* ---- daemon -------------------------------------------------------------- */
CFG_KEY(Socket, SOCKET, socket, "local:/run/consent-milter/consent-milter.sock", "",
	"where the milter listens: unix:/path, local:/path, inet:port@host, inet6:port@host")
CFG_KEY(UserID, USER, user_id, "", "",
	"user[:group] to run as after opening the socket; empty keeps the current user")
CFG_KEY(Umask, MODE, umask, "007", "",
	"umask applied before the socket and pid file are created (octal)")
CFG_KEY(PidFile, PATH, pid_file, "", "",
	"file to write the process id to; empty writes none")
CFG_KEY(SyslogFacility, FACILITY, syslog_facility, "mail", "",
	"syslog facility for all log lines")
CFG_KEY(LogLevel, LEVEL, log_level, "info", "",
	"lowest priority logged: error, warning, notice, info or debug")
CFG_KEY(ShutdownTimeout, INT, shutdown_timeout, "30", "0:3600",
	"seconds to let in-flight messages finish after SIGTERM before exiting")


/* ---- consent store (address.c, store.c) ---------------------------------- */
CFG_KEY(RedisServer, LIST, redis_server, "127.0.0.1:6379", "",
	"Redis servers in order of preference: unix:/path or host:port (IP address), comma-separated")
CFG_KEY(RedisDatabase, INT, redis_database, "0", "0:15",
	"Redis database number selected after connecting")
CFG_KEY(RedisPasswordFile, PATH, redis_password_file, "", "",
	"file holding \"password\" or \"user password\" on one line for AUTH; mode 0600 or stricter; empty: no AUTH")
CFG_KEY(RedisTimeout, INT, redis_timeout, "250", "1:60000",
	"milliseconds allowed for connecting and for each lookup, failover included")
CFG_KEY(RedisKeyPrefix, STRING, redis_key_prefix, "cm:", "",
	"prefix of every Redis key: records are PREFIXc:HMAC, the proof-of-consent stream is PREFIXlog")
CFG_KEY(AddressKeyFile, PATH, address_key_file, SYSCONFDIR "/consent-milter/address.key", "",
	"secret HMAC key (at least 64 hex digits, one line, mode 0600) that turns addresses into record keys")
CFG_KEY(DefaultConsent, ENUM, default_consent, "none", "none|open|click|all",
	"consent assumed for a purpose that has no record: none, open, click or all")
CFG_KEY(OnStoreError, ENUM, on_store_error, "strip", "strip|tempfail|accept",
	"when Redis cannot answer in time: strip (treat as no consent), tempfail, or accept unchanged")
CFG_KEY(SubaddressDelimiter, STRING, subaddress_delimiter, "+", "",
	"characters that start a subaddress (user+tag), removed before hashing; empty disables")
CFG_KEY(CaseSensitiveLocalPart, BOOL, case_sensitive_local_part, "no", "",
	"keep the case of the local part (the domain is always lower-cased)")


/* ---- tracking-removal engine (rules.c, rewrite.c) ------------------------ */
#ifndef SYSCONFDIR	/* normally -DSYSCONFDIR='"$(sysconfdir)"' from Makefile.am */
#define SYSCONFDIR "/etc"
#endif
CFG_KEY(TrackerRules, PATH, tracker_rules, SYSCONFDIR "/consent-milter/trackers.conf", "",
	"the tracker rules file (format: trackers.conf(5))")
CFG_KEY(OwnTrackingDomains, LIST, own_tracking_domains, "", "",
	"hosts (and their subdomains) of the organisation's own click/open trackers")
CFG_KEY(StripCampaignParams, BOOL, strip_campaign_params, "no", "",
	"also strip campaign-level utm_* parameters from links without click consent")
CFG_KEY(PixelAction, ENUM, pixel_action, "remove", "remove|anonymize",
	"tracking pixels without open consent: remove them, or anonymize by their rule")


/* ---- per-message policy, MIME, logs and metrics (milter.c, mime.c) ------- */
CFG_KEY(MaxMimeDepth, INT, max_mime_depth, "20", "1:100",
	"deepest multipart nesting rewritten; deeper messages pass unchanged (logged)")
CFG_KEY(MixedRecipients, ENUM, mixed_recipients, "strictest", "strictest|split",
	"recipients of different consent: enforce the strictest, or split with 452 4.5.3")
CFG_KEY(ExemptHeader, STRING, exempt_header, "X-Tracking-Purpose", "",
	"internal header naming a message's purpose; always removed before delivery")
CFG_KEY(ExemptValues, LIST, exempt_values, "security", "",
	"ExemptHeader values that exempt a message (CNIL's authentication exception)")
CFG_KEY(ExemptSenders, LIST, exempt_senders, "", "",
	"envelope senders left alone: user@domain, @domain or domain (subdomains too)")
CFG_KEY(ExemptRecipientDomains, LIST, exempt_recipient_domains, "", "",
	"recipient domains treated as full consent (e.g. the organisation's own)")
CFG_KEY(ApplyTo, LIST, apply_to, "all", "",
	"which mail is in scope: all, authenticated, daemon=NAME (Postfix {daemon_name}); any match")
CFG_KEY(MaxProcessSize, SIZE, max_process_size, "25M", "1024:2147483647",
	"largest body processed; a larger one gets OnOversize")
CFG_KEY(OnOversize, ENUM, on_oversize, "accept", "accept|tempfail",
	"a body larger than MaxProcessSize: accept unchanged (logged) or tempfail")
CFG_KEY(AddHeader, BOOL, add_header, "yes", "",
	"add X-Consent-Milter with the counts to every processed message")
CFG_KEY(SignedMessages, ENUM, signed_messages, "rewrite", "rewrite|leave",
	"messages already carrying DKIM-Signature: rewrite (signature invalidated, logged) or leave")
CFG_KEY(LogAddresses, BOOL, log_addresses, "no", "",
	"log recipients' plain addresses instead of the first 8 hex digits of their key")
CFG_KEY(StatsInterval, INT, stats_interval, "300", "0:86400",
	"seconds between two stats: log lines (0: only on SIGUSR1)")
CFG_KEY(StatsFile, PATH, stats_file, "", "",
	"also write the figures here in Prometheus text format (atomically replaced)")
CFG_KEY(RelayTrackingHeaders, LIST, relay_tracking_headers, "", "",
	"vendors whose relay tracking controls are added: sendgrid, mailgun, postmark, mailjet, sparkpost, ses")
CFG_KEY(RelaySesConfigurationSet, STRING, relay_ses_configuration_set, "", "",
	"Amazon SES configuration set without open/click tracking, named in X-SES-CONFIGURATION-SET (empty: SES skipped)")

