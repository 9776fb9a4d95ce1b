/* One table of settings serves the command line, the config file and
 * SIGHUP: every key has one parser, one range and one place to go. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

enum key_type {
	K_U32,
	K_U64,
	K_SECS,
	K_STR,
	K_TEXT,
	K_LISTEN,
	K_LEVEL,
	K_WORKERS
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;
	size_t size; /* for strings */
	uint64_t min, max;
};

#define L(f) offsetof(struct fc_config, lim.f)
#define C(f) offsetof(struct fc_config, f)

static const struct key_def keys[] = {
	{"listen", K_LISTEN, 0, 0, 0, 0},
	{"workers", K_WORKERS, C(workers), 0, 1, 64},
	{"max-clients", K_U32, L(max_clients), 0, 1, 1000000},
	{"max-per-ip", K_U32, L(max_per_ip), 0, 0, 1000000},
	{"max-line", K_U32, L(max_line), 0, 64, 60000},
	{"ping-interval", K_SECS, L(ping_ms), 0, 10, 86400000},
	{"pong-timeout", K_SECS, L(pong_ms), 0, 10, 86400000},
	{"login-timeout", K_SECS, L(login_timeout_ms), 0, 0, 86400000},
	{"tls-handshake-timeout", K_SECS, L(tls_handshake_ms), 0, 0, 86400000},
	{"line-timeout", K_SECS, L(line_timeout_ms), 0, 0, 86400000},
	{"max-file-size", K_U64, L(max_file_size), 0, 0, UINT64_MAX / 2},
	{"upload-timeout", K_SECS, L(upload_timeout_ms), 0, 0, 86400000},
	{"spool-dir", K_STR, C(spool_dir), FC_PATH_SZ, 0, 0},
	{"spool-max", K_U64, C(spool_max), 0, 0, UINT64_MAX / 2},
	{"sendq-hard", K_U64, L(sendq_hard), 0, 4096, 1ull << 40},
	{"sendq-soft", K_U64, L(sendq_soft), 0, 1024, 1ull << 40},
	{"sendq-soft-seconds", K_SECS, L(sendq_soft_ms), 0, 0, 86400000},
	{"worker-budget", K_U64, L(worker_budget), 0, 65536, 1ull << 44},
	{"flood-rate", K_U32, L(flood_rate), 0, 0, 1000000},
	{"flood-burst", K_U32, L(flood_burst), 0, 1, 1000000},
	{"flood-bytes", K_U32, L(flood_bytes), 0, 0, 1u << 30},
	{"flood-bytes-burst", K_U32, L(flood_bytes_burst), 0, 1024, 1u << 30},
	{"flood-max-queued", K_U32, L(flood_max_queued), 0, 1, 1000000},
	{"room-linger", K_SECS, L(room_linger_ms), 0, 0, 86400000},
	{"max-rooms-per-user", K_U32, L(max_rooms_per_user), 0, 1, 1000000},
	{"tcp-keepalive", K_SECS, L(keepalive_ms), 0, 0, 86400000},
	{"coalesce-ms", K_U32, L(coalesce_ms), 0, 0, 1000},
	{"max-key-size", K_U32, C(max_key_size), 0, 256, 60000},
	{"log-level", K_LEVEL, L(log_level), 0, 0, 3},
	{"max-rooms", K_U32, C(max_rooms), 0, 1, 1000000},
	{"user", K_STR, C(user), sizeof(((struct fc_config *)0)->user), 0, 0},
	{"pidfile", K_STR, C(pidfile), FC_PATH_SZ, 0, 0},
	{"log-file", K_STR, C(log_file), FC_PATH_SZ, 0, 0},
	{"control-socket", K_STR, C(ctl_socket), FC_PATH_SZ, 0, 0},
	{"tls-cert", K_STR, C(tls_cert), FC_PATH_SZ, 0, 0},
	{"tls-key", K_STR, C(tls_key), FC_PATH_SZ, 0, 0},
	{"server-name", K_TEXT, L(server_name),
	 sizeof(((struct fc_limits *)0)->server_name), 0, 0},
	{"motd", K_STR, L(motd), FC_PATH_SZ, 0, 0},
	{"irc-join-all", K_U32, L(irc_join_all), 0, 0, 1},
	{"irc-password", K_TEXT, L(irc_password),
	 sizeof(((struct fc_limits *)0)->irc_password), 0, 0},
	{"irc-oper", K_TEXT, L(irc_oper),
	 sizeof(((struct fc_limits *)0)->irc_oper), 0, 0},
	{"cluster", K_TEXT, C(cluster), FC_PATH_SZ, 0, 0},
	{"node-id", K_TEXT, C(node_id),
	 sizeof(((struct fc_config *)0)->node_id), 0, 0},
	{"cluster-ttl", K_SECS, C(cluster_ttl_ms), 0, 1000, 3600000},
};

/* An IRC server name: one word of letters, digits, '.', '-', '_' with a dot
 * or not (irctest uses "My.Little.Server"); it starts every reply prefix. */
bool
config_valid_server_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(".-_", s[i]))
			return false;
	return true;
}

void
config_defaults(struct fc_config *c)
{
	memset(c, 0, sizeof(*c));
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = n < 1 ? 1 : (n > 64 ? 64 : (int)n);
	c->max_rooms = 4096;
	c->lim.max_clients = 10000;
	c->lim.max_per_ip = 64;
	c->lim.max_line = 8192;
	c->lim.ping_ms = 10000;
	c->lim.pong_ms = 3000;
	c->lim.login_timeout_ms = 60000;
	c->lim.tls_handshake_ms = 10000;
	c->lim.line_timeout_ms = 60000;
	c->lim.max_file_size = 4ull << 30;
	c->lim.upload_timeout_ms = 60000;
	c->spool_max = 8ull << 30;
	c->lim.sendq_hard = 256 * 1024;
	c->lim.sendq_soft = 64 * 1024;
	c->lim.sendq_soft_ms = 10000;
	c->lim.worker_budget = 64ull << 20;
	c->lim.flood_rate = 20;
	c->lim.flood_burst = 200;
	c->lim.flood_bytes = 32 * 1024;
	c->lim.flood_bytes_burst = 128 * 1024;
	c->lim.flood_max_queued = 1000;
	c->lim.room_linger_ms = 60000;
	c->lim.max_rooms_per_user = 16;
	c->lim.keepalive_ms = 60000;
	c->lim.coalesce_ms = 4;
	c->max_key_size = 4096;
	c->lim.log_level = 2;
	c->lim.irc_join_all = 1;
	if (gethostname(c->lim.server_name, sizeof(c->lim.server_name) - 1) <
		    0 ||
	    !config_valid_server_name(c->lim.server_name))
		snprintf(c->lim.server_name, sizeof(c->lim.server_name),
			 "forkchat");
	c->cluster_ttl_ms = 5000;
}

/* "okfail=HOST:PORT", "numeric+tls=[::1]:2929", "okfail=:1337" */
int
config_parse_listen(const char *spec, struct fc_listen *out)
{
	const char *eq = strchr(spec, '=');
	char proto[32];

	memset(out, 0, sizeof(*out));
	if (eq == NULL || (size_t)(eq - spec) >= sizeof(proto))
		return -1;
	memcpy(proto, spec, eq - spec);
	proto[eq - spec] = '\0';
	char *plus = strchr(proto, '+');
	if (plus) {
		if (strcmp(plus, "+tls") != 0)
			return -1;
		*plus = '\0';
		out->tls = true;
	}
	if (strcmp(proto, "okfail") == 0)
		out->dialect = 0;
	else if (strcmp(proto, "numeric") == 0)
		out->dialect = 1;
	else if (strcmp(proto, "irc") == 0)
		out->dialect = 2;
	else
		return -1;
	const char *addr = eq + 1;
	const char *colon = strrchr(addr, ':');
	if (colon == NULL)
		return -1;
	size_t hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(out->host) || strlen(colon + 1) >= sizeof(out->port))
		return -1;
	memcpy(out->host, addr, hl);
	out->host[hl] = '\0';
	snprintf(out->port, sizeof(out->port), "%s", colon + 1);
	uint64_t port;
	if (parse_u64(out->port, &port) < 0 || port > 65535)
		return -1;
	return 0;
}

static const struct key_def *
config_key(const char *name)
{
	char norm[64];
	size_t i;

	for (i = 0; i < sizeof(norm) - 1 && name[i]; i++)
		norm[i] = name[i] == '_' ? '-' : name[i];
	norm[i] = '\0';
	for (i = 0; i < FC_ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].name, norm) == 0)
			return &keys[i];
	return NULL;
}

static int
parse_level(const char *v, int *out)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	uint64_t n;

	for (int i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	if (parse_u64(v, &n) < 0 || n > 3)
		return -1;
	*out = (int)n;
	return 0;
}

static int
config_set_num(struct fc_config *c, const struct key_def *k, const char *v)
{
	char *base = (char *)c;
	uint64_t n;
	int64_t ms;

	switch (k->type) {
	case K_SECS:
		if (parse_seconds_ms(v, &ms) < 0 || (uint64_t)ms < k->min ||
		    (uint64_t)ms > k->max)
			return -1;
		memcpy(base + k->off, &ms, sizeof(ms));
		return 0;
	case K_LEVEL:
		return parse_level(v, (int *)(base + k->off));
	default:
		break;
	}
	if (parse_u64(v, &n) < 0 || n < k->min || n > k->max)
		return -1;
	if (k->type == K_U64)
		memcpy(base + k->off, &n, sizeof(n));
	else if (k->type == K_WORKERS)
		*(int *)(base + k->off) = (int)n;
	else
		*(uint32_t *)(base + k->off) = (uint32_t)n;
	return 0;
}

/* A relative path is taken relative to `base` (the config file's folder)
 * or, on the command line, to the working directory: the daemon chdirs to
 * / when it detaches and re-opens these files later (SIGHUP, SIGUSR1). */
static int
config_abs_path(const char *value, const char *base, char *out, size_t size)
{
	char cwd[FC_PATH_SZ];

	if (value[0] == '\0' || value[0] == '/') {
		if (strlen(value) >= size)
			return -1;
		memcpy(out, value, strlen(value) + 1);
		return 0;
	}
	if (base == NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -1;
		base = cwd;
	}
	int n = snprintf(out, size, "%s%s%s", base,
			 base[0] && base[strlen(base) - 1] == '/' ? "" : "/",
			 value);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
config_set_in(struct fc_config *c, const char *key, const char *value,
	      const char *base, char *err, size_t errlen)
{
	const struct key_def *k = config_key(key);

	if (k == NULL) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return -1;
	}
	if (k->type == K_LISTEN) {
		if (c->nlisten >= FC_MAX_LISTEN ||
		    config_parse_listen(value, &c->listen[c->nlisten]) < 0) {
			snprintf(
				err, errlen,
				"bad listen '%s' (want DIALECT=HOST:PORT, "
				"DIALECT okfail, numeric or irc, +tls allowed)",
				value);
			return -1;
		}
		c->nlisten++;
		return 0;
	}
	if (k->type == K_TEXT) {
		if (strlen(value) >= k->size ||
		    (k->off == L(server_name) &&
		     !config_valid_server_name(value)) ||
		    (k->off == L(irc_oper) && value[0] &&
		     !strstr(value, ":pbkdf2-sha256$"))) {
			snprintf(err, errlen, "%s: bad value '%s'", key, value);
			return -1;
		}
		memcpy((char *)c + k->off, value, strlen(value) + 1);
		return 0;
	}
	if (k->type == K_STR) {
		if (k->off != C(user)) {
			if (config_abs_path(value, base, (char *)c + k->off,
					    k->size) < 0) {
				snprintf(err, errlen, "%s: path too long", key);
				return -1;
			}
			return 0;
		}
		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value too long", key);
			return -1;
		}
		memcpy((char *)c + k->off, value, strlen(value) + 1);
		return 0;
	}
	if (config_set_num(c, k, value) < 0) {
		if (k->type == K_SECS)
			snprintf(err, errlen,
				 "%s: bad value '%s' (seconds, %.3g to %.0f)",
				 key, value, k->min / 1000.0, k->max / 1000.0);
		else
			snprintf(err, errlen,
				 "%s: bad value '%s' (whole number, %llu to "
				 "%llu)",
				 key, value, (unsigned long long)k->min,
				 (unsigned long long)k->max);
		return -1;
	}
	return 0;
}

int
config_set(struct fc_config *c, const char *key, const char *value, char *err,
	   size_t errlen)
{
	return config_set_in(c, key, value, NULL, err, errlen);
}

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* key = value lines; '#' starts a comment; errors name file:line. */
int
config_load_file(struct fc_config *c, const char *path, char *err,
		 size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096], msg[512], base[FC_PATH_SZ];
	int lineno = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* relative paths inside the file: relative to the file's folder */
	char *real = realpath(path, NULL);
	base[0] = '\0';
	if (real) {
		char *slash = strrchr(real, '/');
		snprintf(base, sizeof(base), "%.*s",
			 slash == real ? 1 : (int)(slash - real), real);
		free(real);
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (*s == '\0')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'",
				 path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		if (config_set_in(c, trim(s), trim(eq + 1),
				  base[0] ? base : NULL, msg,
				  sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int
config_validate(struct fc_config *c, char *err, size_t errlen)
{
	if (c->nlisten == 0) {
		config_parse_listen("okfail=0.0.0.0:1337", &c->listen[0]);
		config_parse_listen("numeric=0.0.0.0:2929", &c->listen[1]);
		config_parse_listen("irc=0.0.0.0:6667", &c->listen[2]);
		c->nlisten = 3;
	}
	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls && (!c->tls_cert[0] || !c->tls_key[0])) {
			snprintf(err, errlen,
				 "a +tls listener needs tls-cert and tls-key");
			return -1;
		}
	if (c->lim.sendq_soft > c->lim.sendq_hard) {
		snprintf(err, errlen, "sendq-soft must not exceed sendq-hard");
		return -1;
	}
	c->max_users = c->lim.max_clients;
	return 0;
}

uint32_t
config_fd_reserve(int nlisten, int workers)
{
	return (uint32_t)nlisten + 2u * (uint32_t)workers + 96u;
}
