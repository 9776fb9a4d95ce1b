/* forkchatd's flags. Every long option that names a setting goes through
 * the same table as the config file (config_set), so the two never differ;
 * flags are applied after the file, so they win. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cluster/nodeid.h"
#include "../cluster/url.h"
#include "../common/config.h"
#include "options.h"

#define FC_VERSION "1.0.0"

static const struct option longopts[] = {
	{"foreground", no_argument, NULL, 'f'},
	{"config", required_argument, NULL, 'c'},
	{"listen", required_argument, NULL, 'l'},
	{"workers", required_argument, NULL, 'w'},
	{"user", required_argument, NULL, 'u'},
	{"pidfile", required_argument, NULL, 'p'},
	{"check-config", no_argument, NULL, 't'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"max-clients", required_argument, NULL, 1},
	{"max-per-ip", required_argument, NULL, 1},
	{"max-line", required_argument, NULL, 1},
	{"ping-interval", required_argument, NULL, 1},
	{"pong-timeout", required_argument, NULL, 1},
	{"login-timeout", required_argument, NULL, 1},
	{"tls-handshake-timeout", required_argument, NULL, 1},
	{"line-timeout", required_argument, NULL, 1},
	{"max-file-size", required_argument, NULL, 1},
	{"upload-timeout", required_argument, NULL, 1},
	{"spool-dir", required_argument, NULL, 1},
	{"spool-max", required_argument, NULL, 1},
	{"max-rooms", required_argument, NULL, 1},
	{"sendq-hard", required_argument, NULL, 1},
	{"sendq-soft", required_argument, NULL, 1},
	{"sendq-soft-seconds", required_argument, NULL, 1},
	{"worker-budget", required_argument, NULL, 1},
	{"flood-rate", required_argument, NULL, 1},
	{"flood-burst", required_argument, NULL, 1},
	{"flood-bytes", required_argument, NULL, 1},
	{"flood-bytes-burst", required_argument, NULL, 1},
	{"flood-max-queued", required_argument, NULL, 1},
	{"room-linger", required_argument, NULL, 1},
	{"max-rooms-per-user", required_argument, NULL, 1},
	{"max-key-size", required_argument, NULL, 1},
	{"tcp-keepalive", required_argument, NULL, 1},
	{"coalesce-ms", required_argument, NULL, 1},
	{"log-file", required_argument, NULL, 1},
	{"log-level", required_argument, NULL, 1},
	{"control-socket", required_argument, NULL, 1},
	{"tls-cert", required_argument, NULL, 1},
	{"tls-key", required_argument, NULL, 1},
	{"server-name", required_argument, NULL, 1},
	{"motd", required_argument, NULL, 1},
	{"irc-password", required_argument, NULL, 1},
	{"irc-join-all", required_argument, NULL, 1},
	{"irc-oper", required_argument, NULL, 1},
	{"cluster", required_argument, NULL, 1},
	{"node-id", required_argument, NULL, 1},
	{"cluster-ttl", required_argument, NULL, 1},
	{NULL, 0, NULL, 0},
};

void
options_usage(FILE *out)
{
	fprintf(out,
		"usage: forkchatd [options]\n"
		"       forkchatd status [--json|--users|--prometheus [-o FILE]|--check]\n"
		"                        [-S SOCKET] [-c FILE]\n"
		"\n"
		"A chat daemon serving the okfail, numeric and irc line protocols.\n"
		"\n"
		"  -f, --foreground              stay in the foreground, log to stderr\n"
		"  -c, --config FILE             read settings from FILE (flags win over it)\n"
		"  -t, --check-config            check the settings, print them, exit 0 or 2\n"
		"  -l, --listen DIALECT=HOST:PORT  repeatable; DIALECT is okfail, numeric or\n"
		"                                irc (okfail+tls ...); port 0 picks one\n"
		"  -w, --workers N               worker processes (default: one per CPU)\n"
		"      --max-clients N           connections across all workers (10000)\n"
		"      --max-per-ip N            connections from one address (64; 0: no limit)\n"
		"      --max-line BYTES          longest line with its \\r\\n (8192)\n"
		"      --ping-interval SECONDS   okfail heartbeat (10; fractions allowed)\n"
		"      --pong-timeout SECONDS    (3; fractions allowed)\n"
		"      --login-timeout SECONDS   close connections not logged in (60; 0: off)\n"
		"      --tls-handshake-timeout S close a TLS handshake not done (10; 0: off)\n"
		"      --line-timeout SECONDS    close a client whose line never ends (60)\n"
		"      --max-file-size BYTES     largest FILE transfer (4 GiB)\n"
		"      --upload-timeout SECONDS  FILE upload without progress: 101 (60)\n"
		"      --spool-dir DIR           where uploads wait for their receiver\n"
		"                                (/var/spool/forkchat; $TMPDIR/forkchatd-UID)\n"
		"      --spool-max BYTES         all spooled files together (8 GiB)\n"
		"      --max-rooms N             room table size (4096)\n"
		"      --max-rooms-per-user N    live rooms one user may create (16)\n"
		"      --room-linger SECONDS     an empty room is deleted after (60)\n"
		"      --max-key-size BYTES      longest PM_PUBKEY key (4096)\n"
		"      --tcp-keepalive SECONDS   idle time before keepalive probes (60; 0: off)\n"
		"      --sendq-hard BYTES        output queue limit: close at once (256 KiB)\n"
		"      --sendq-soft BYTES        output queue limit held for\n"
		"      --sendq-soft-seconds S    this long: close (64 KiB, 10 s)\n"
		"      --worker-budget BYTES     all output queued in one worker (64 MiB)\n"
		"      --coalesce-ms MS          small pushes to a client written to less than\n"
		"                                MS ago wait to go out in one write (4; 0: off)\n"
		"      --flood-rate N            commands per second per client (20; 0: off)\n"
		"      --flood-burst N           burst above the rate (200)\n"
		"      --flood-bytes BYTES       input bytes per second per client (32 KiB; 0: off)\n"
		"      --flood-bytes-burst BYTES burst above the byte rate (128 KiB)\n"
		"      --flood-max-queued N      lines waiting before a flooder is closed (1000)\n"
		"      --tls-cert FILE, --tls-key FILE   for +tls listeners\n"
		"      --server-name NAME        irc: the server's name (the host name)\n"
		"      --motd FILE               irc: message of the day (none: 422)\n"
		"      --irc-password PASS       irc: PASS needed to register (none)\n"
		"      --irc-join-all 0|1        irc: join &all at registration (1)\n"
		"      --irc-oper NAME:HASH      irc: the operator block for OPER; HASH is\n"
		"                                pbkdf2-sha256$ITER$SALTHEX$KEYHEX (none)\n"
		"      --control-socket PATH     status socket, mode 0600 (as root\n"
		"                                /run/forkchatd/forkchatd.sock, else\n"
		"                                $XDG_RUNTIME_DIR/forkchatd.sock)\n"
		"      --cluster URL             redis://HOST:PORT or redis+unix:///PATH: join a\n"
		"                                cluster of nodes over Redis (see docs/CLUSTER.md)\n"
		"      --node-id NAME            this node's unique name in the cluster\n"
		"                                (default: host name and first listener's port)\n"
		"      --cluster-ttl SECONDS     a node silent this long is dead (5)\n"
		"      --log-file FILE           log here (reopened on SIGUSR1)\n"
		"      --log-level LEVEL         error, warn, info or debug (info)\n"
		"  -v, --verbose                 log-level debug\n"
		"  -u, --user NAME               drop privileges to NAME after binding\n"
		"  -p, --pidfile FILE            write (and lock) a pidfile once serving\n"
		"  -h, --help, -V, --version\n"
		"\n"
		"Without --listen: okfail on port 1337, numeric on 2929 and irc on 6667.\n"
		"Signals: TERM/INT stop cleanly, HUP reloads the config, USR1 reopens the\n"
		"log. See forkchatd(8) and forkchatd.conf(5).\n");
}

/* First pass: the config file, so that flags can override it. getopt
 * itself finds -c (also inside "-fc FILE", as "-cFILE" or "--config=FILE"),
 * so an option's value that happens to read "-c" is never taken for it.
 * Errors are left to the second pass. The path is made absolute: the
 * daemon chdirs to / and re-reads the file on SIGHUP. */
static int
options_config_file(int argc, char **argv, struct fc_config *cfg)
{
	int ch, idx;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":fc:l:w:u:p:tvhV", longopts,
				 &idx)) != -1) {
		if (ch != 'c')
			continue;
		char err[1024];
		char *abs = realpath(optarg, NULL);
		snprintf(cfg->config_file, sizeof(cfg->config_file), "%s",
			 abs ? abs : optarg);
		free(abs);
		if (config_load_file(cfg, cfg->config_file, err, sizeof(err)) <
		    0) {
			/* name the file as the user spelled it */
			if (strncmp(err, cfg->config_file,
				    strlen(cfg->config_file)) == 0)
				fprintf(stderr, "forkchatd: %s%s\n", optarg,
					err + strlen(cfg->config_file));
			else
				fprintf(stderr, "forkchatd: %s\n", err);
			return 2;
		}
	}
	optind = 0; /* full reset for the second pass */
	return 0;
}

static int
options_set(struct fc_config *cfg, const char *key, const char *val)
{
	char err[512];

	if (config_set(cfg, key, val, err, sizeof(err)) < 0) {
		fprintf(stderr, "forkchatd: --%s\n", err);
		return 2;
	}
	return 0;
}

/* --cluster and --node-id are checked here, while stderr still works. */
static int
options_check_cluster(const struct fc_config *cfg)
{
	struct cluster_url u;
	char err[512];

	if (cfg->node_id[0] && !cluster_valid_node_id(cfg->node_id)) {
		fprintf(stderr,
			"forkchatd: --node-id '%s': 1 to 63 letters, digits, "
			"'.', '_' or '-'\n",
			cfg->node_id);
		return 2;
	}
	if (cfg->cluster[0] &&
	    cluster_url_parse(cfg->cluster, &u, err, sizeof(err)) < 0) {
		fprintf(stderr, "forkchatd: --cluster %s\n", err);
		return 2;
	}
	return 0;
}

/* Returns -1 to go on, or an exit status (0 after --help/--version). */
int
options_parse(int argc, char **argv, struct fc_config *cfg)
{
	int ch, idx, rc;
	bool listen_seen = false;

	config_defaults(cfg);
	if ((rc = options_config_file(argc, argv, cfg)) != 0)
		return rc;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":fc:l:w:u:p:tvhV", longopts,
				 &idx)) != -1) {
		rc = 0;
		switch (ch) {
		case 'f':
			cfg->foreground = true;
			break;
		case 'c':
			break; /* read in the first pass */
		case 'l':
			if (!listen_seen)
				cfg->nlisten = 0; /* flags replace the file's */
			listen_seen = true;
			rc = options_set(cfg, "listen", optarg);
			break;
		case 'w':
			rc = options_set(cfg, "workers", optarg);
			break;
		case 'u':
			rc = options_set(cfg, "user", optarg);
			break;
		case 'p':
			rc = options_set(cfg, "pidfile", optarg);
			break;
		case 't':
			cfg->check_only = true;
			break;
		case 'v':
			cfg->lim.log_level = 3;
			break;
		case 'h':
			options_usage(stdout);
			return 0;
		case 'V':
			printf("forkchatd %s\n", FC_VERSION);
			return 0;
		case 1:
			rc = options_set(cfg, longopts[idx].name, optarg);
			break;
		case ':':
			fprintf(stderr,
				"forkchatd: option %s needs a value; "
				"see --help\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"forkchatd: unknown option %s; see "
				"--help\n",
				argv[optind - 1]);
			return 2;
		}
		if (rc)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr,
			"forkchatd: unexpected argument '%s'; see "
			"--help\n",
			argv[optind]);
		return 2;
	}
	if ((rc = options_check_cluster(cfg)) != 0)
		return rc;
	/* The privilege drop happens after detaching, where an error only
	 * reaches the log: check the user while stderr still works. */
	if (cfg->user[0]) {
		struct passwd *pw = getpwnam(cfg->user);
		if (pw == NULL) {
			fprintf(stderr, "forkchatd: no such user '%s'\n",
				cfg->user);
			return 2;
		}
		if (!cfg->check_only && geteuid() != 0 &&
		    geteuid() != pw->pw_uid) {
			fprintf(stderr,
				"forkchatd: --user %s needs to start "
				"as root\n",
				cfg->user);
			return 1;
		}
	}
	return -1;
}
