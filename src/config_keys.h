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

