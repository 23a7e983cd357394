/* The configuration file: "key = value" lines, '#' comments, blank lines.
 * A value is the rest of the line after the first '=', trimmed, so it may
 * contain '=' and spaces (a libpq DSN does). Unknown keys are errors, because
 * a misspelt key silently ignored is a setting an admin believes is in force.
 * Every key is documented in docs/config.md. */
#ifndef KAIRAN_CORE_CONFIG_H
#define KAIRAN_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config {
	char *imap_listen;          /* host:port for IMAP with STARTTLS; "" disables */
	char *imaps_listen;         /* host:port for implicit TLS; "" disables */
	char *imap_proxy_listen;    /* the same behind a PROXY v2 load balancer (proxy_accept.h) */
	char *imaps_proxy_listen;
	char *proxy_trusted;        /* the balancers' addresses/networks a PROXY listener accepts */
	char *lmtp_listen;          /* host:port for LMTP delivery (RFC 2033); "" disables */
	char *lmtp_socket;          /* path of a Unix socket for LMTP; "" disables */
	char *lmtp_detail_delimiter;/* "user+detail@domain": one character, "" = none */
	long lmtp_max_recipients;   /* RCPTs accepted in one transaction */
	long lmtp_duplicate_window; /* seconds a delivered message is not stored again; 0 = off */
	long lmtp_workers;          /* workers LMTP jobs may hold at once; 0 = 3/4 of workers */
	char *tls_cert;
	char *tls_key;
	char *db_dsn;
	char *ldap_uri;
	char *ldap_bind_dn;
	char *ldap_bind_password;
	char *ldap_base_dn;
	char *ldap_user_filter;
	char *ldap_login_attribute;
	long ldap_timeout;          /* seconds */
	char *ldap_mail_attributes; /* space-separated attributes holding an account's addresses */
	char *ldap_group_base_dn;   /* "" = ldap_base_dn */
	char *ldap_group_filter;
	char *ldap_group_name_attribute;
	char *ldap_group_membership;/* member, uniqueMember, memberUid, memberOf or auto */
	bool ldap_starttls;
	char *ldap_tls_ca_file;     /* "" = the system's trust store */
	bool ldap_tls_require_cert;
	long ldap_cache_ttl;        /* seconds groups and address look-ups are cached; 0 = off */
	long workers;
	long max_line_length;       /* bytes of a command line, literals excluded */
	long max_literal_size;      /* bytes; advertised as APPENDLIMIT later */
	long max_literals;          /* literals in one command */
	long literal_spool_threshold; /* message literals from this size on are spooled */
	char *literal_spool_dir;    /* where spool files are made (O_TMPFILE) */
	long max_command_literal_bytes; /* literal bytes of one command together */
	long max_session_literal_bytes; /* literal bytes of one session; 0 = no limit */
	long max_nesting;           /* parenthesis depth after login */
	long max_nesting_unauth;    /* parenthesis depth before login */
	long max_args;              /* arguments (all nesting levels) in one command */
	long max_bad_commands;      /* consecutive BADs before BYE */
	long max_keywords_per_mailbox; /* keywords a mailbox's registry takes (migrations/0009) */
	long expunge_history_days;     /* kairanctl gc prunes QRESYNC's history older than this */
	char *private_keywords;        /* kept per reader where \Seen is (migrations/0013) */
	long auth_fail_delay_ms;    /* delay of a first failed authentication */
	long auth_fail_delay_max_ms;/* cap of the delay, which doubles per failure from one address */
	long max_auth_failures;     /* failures on one connection before BYE */
	long max_connections_per_ip;
	long max_connections_per_user;
	long timeout_preauth;       /* seconds idle before login */
	/* Slow clients (server/client_slow.c): seconds from connecting to
	 * logging in, however busy; seconds a command's line may take to
	 * arrive (its literals' data not counted); seconds a literal may take
	 * to advance by CLIENT_LITERAL_CHUNK bytes. */
	long timeout_login;
	long timeout_command;
	long timeout_literal;
	long max_connection_rate_per_ip; /* new connections a second from one address; 0: any */
	long timeout_idle;          /* seconds idle after login */
	long timeout_idle_command;  /* seconds one IDLE command may run (RFC 2177) */
	long idle_keepalive_interval; /* seconds between "* OK Still here" while idling; 0 = never */
	long idle_poll_interval_ms; /* idling sessions re-read their mailbox this often; 0 = never */
	long search_timeout_ms;     /* longest a SEARCH may run in the database */
	long search_max_mailboxes;  /* mailboxes one ESEARCH may search (RFC 7377) */
	long search_index_quiet_ms; /* no APPEND/COPY/MOVE for this long before the indexer runs */
	long search_index_max_lag_s;/* ... unless the oldest waiting message has waited this long */
	long search_index_batch;    /* messages the indexer marks per transaction */
	bool allow_plaintext_auth;  /* LOGIN without TLS from non-loopback peers */
	bool trust_loopback;        /* loopback peers count as secure */
	bool auto_subscribe_shared; /* LIST subscribes newly shared mailboxes once */
	bool literal_plus;          /* advertise LITERAL+ instead of LITERAL- (RFC 7888) */
	char *auth_admin_group;     /* DN of the group whose members may act as others (PLAIN authzid) */
	bool allow_unauthenticate;  /* UNAUTHENTICATE (RFC 8437) is offered */
	bool log_syslog;
	char *user;                 /* kairand becomes this user after binding; "" = stay */
	char *group;                /* ... and this group; "" = the user's primary group */
	bool allow_root;            /* run on as root after start-up */
	char *metrics_listen;       /* host:port of the Prometheus endpoint; "" = off */
	bool metrics_allow_remote;  /* metrics_listen may be a non-loopback address */
	char *log_level;            /* error, warn, info or debug (log.h) */
	char *log_format;           /* text or json (log.h) */
	char *trace_dir;            /* protocol traces go here, a file a session; "" = the log */
	char *trace_users;          /* logins whose sessions are traced, comma/space-separated */
	char *trace_addresses;      /* client addresses whose sessions are traced, likewise */
	/* Teams from the directory (docs/acl.md, "A team run from LDAP"). */
	char *teams_from_directory; /* "no", "yes", or the group names allowed, space-separated */
	char *team_rights;          /* rights of group:NAME on a team made from the directory */
	char *ldap_team_filter;     /* which groups may be teams, ANDed with ldap_group_filter */
	char *ldap_team_mail_attribute; /* a team group's addresses */
	/* RFC 9208 quotas (docs/config.md, "Quotas") */
	long quota_storage_default;  /* KiB per person; 0: no limit */
	long quota_messages_default; /* messages per person; 0: no limit */
	bool lmtp_quota_defer;       /* over quota at delivery: 452 4.2.2, not 552 5.2.2 */
	char *ldap_quota_attribute;  /* a person's limits in the directory; "" = none */
};

/* Fills cfg with defaults, then reads path over them. 0 on success; -1 with a
 * one-line reason ("kairan.conf:12: unknown key 'foo'") in err. The strings
 * are heap-allocated and freed by config_free. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
/* The same from an open stream, called name in the reason (tests/fuzz/
 * fuzz_config.c reads from memory); the caller closes f. */
int config_read(FILE *f, const char *name, struct config *cfg, char *err, size_t errlen);
void config_defaults(struct config *cfg);
void config_free(struct config *cfg);

/* Sets one key from "key=value" (kairand -o, as Dovecot's -o): the value
 * as it would be written in the file, untrimmed; checked like the file's.
 * 0, or -1 with a one-line reason in err. */
int config_override(struct config *cfg, const char *assignment, char *err, size_t errlen);

/* SIGHUP (server/kairand.c): for every key that only a restart can change
 * and whose value differs between next (just loaded) and cur (in force),
 * calls changed(name, ctx) and copies cur's value into next, so that next
 * describes what actually runs. */
void config_keep_fixed(struct config *next, const struct config *cur,
		       void (*changed)(const char *name, void *ctx), void *ctx);
/* Copies one key's value from cur into next. -1 if there is no such key. */
int config_keep_key(struct config *next, const struct config *cur, const char *name);
/* True if SIGHUP changes the key in a running kairand. */
bool config_key_is_live(const char *name);

/* Splits "host:port" or "[v6]:port". 0 or -1. host_r must hold 256 bytes. */
int config_split_hostport(const char *spec, char *host_r, size_t hostlen, int *port_r);

#endif
