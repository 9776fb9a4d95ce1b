/* Settings of forkchatd: from defaults, the config file and the command line
 * (in that order, flags win). `struct fc_limits` is the part that SIGHUP can
 * change while the daemon runs; the master sends it to the workers. */
#ifndef FC_CONFIG_H
#define FC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_MAX_LISTEN 16
#define FC_PATH_SZ 1024

struct fc_listen {
	int dialect; /* enum reg_dialect */
	bool tls;
	char host[256];
	char port[16];
};

struct fc_limits {
	uint32_t max_clients;
	uint32_t max_per_ip;
	uint32_t max_line;
	int64_t ping_ms;
	int64_t pong_ms;
	int64_t login_timeout_ms;
	int64_t tls_handshake_ms; /* TLS handshake deadline, 0 = none */
	int64_t line_timeout_ms;
	uint64_t max_file_size;
	int64_t upload_timeout_ms; /* FILE upload without progress: 101, 0 = off
				    */
	uint64_t sendq_hard;
	uint64_t sendq_soft;
	int64_t sendq_soft_ms;
	uint64_t worker_budget;
	uint32_t flood_rate; /* commands per second, 0 = off (bytes too) */
	uint32_t flood_burst;
	uint32_t flood_bytes; /* input bytes per second, 0 = lines only */
	uint32_t flood_bytes_burst;
	uint32_t flood_max_queued;   /* lines waiting past this: disconnect */
	int64_t room_linger_ms;      /* an empty room lives this long */
	uint32_t max_rooms_per_user; /* live rooms one user created */
	int64_t keepalive_ms;        /* TCP keepalive idle time, 0 = off */
	uint32_t coalesce_ms; /* a few fresh pushed lines may wait this long */
	int log_level;
	char server_name[64];  /* irc: the prefix of server replies */
	char motd[FC_PATH_SZ]; /* irc: MOTD file, "" for none (422) */
	char irc_password[64]; /* irc: PASS needed to register, "" none */
	uint32_t irc_join_all; /* irc: join &all at registration (1) */
	char irc_oper[192];    /* irc: "name:pbkdf2-sha256$iter$salt$hash" */
};

struct fc_config {
	bool foreground;
	bool check_only;
	char config_file[FC_PATH_SZ];
	struct fc_listen listen[FC_MAX_LISTEN];
	int nlisten;
	int workers;
	uint32_t max_rooms;
	uint32_t max_users;
	uint32_t max_key_size; /* longest public key (PM_PUBKEY) */
	char user[64];
	char pidfile[FC_PATH_SZ];
	char log_file[FC_PATH_SZ];
	char ctl_socket[FC_PATH_SZ];
	char tls_cert[FC_PATH_SZ];
	char tls_key[FC_PATH_SZ];
	char spool_dir[FC_PATH_SZ]; /* "": the default for the daemon's user */
	uint64_t spool_max;         /* bytes all spooled files may take */
	char cluster[FC_PATH_SZ];   /* redis://HOST:PORT, redis+unix:///PATH */
	char node_id[64];           /* empty: host name and first listener */
	int64_t cluster_ttl_ms;     /* a silent node is dead after this */
	struct fc_limits lim;
};

void config_defaults(struct fc_config *c);
/* s is usable as an IRC server name (letters, digits, . - _; 1-63). */
bool config_valid_server_name(const char *s);
int config_parse_listen(const char *spec, struct fc_listen *out);
int config_set(struct fc_config *c, const char *key, const char *value,
	       char *err, size_t errlen);
int config_load_file(struct fc_config *c, const char *path, char *err,
		     size_t errlen);
int config_validate(struct fc_config *c, char *err, size_t errlen);
/* Descriptors a worker needs besides its clients: listeners, one channel
 * per peer worker and to the master, epoll, logs, file transfers, spare. */
uint32_t config_fd_reserve(int nlisten, int workers);

#endif
