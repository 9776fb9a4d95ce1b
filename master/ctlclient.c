/* `forkchatd status`: the client side of the control socket. It trusts an
 * answer only from a daemon run by root, by us or by the configured user
 * (SO_PEERCRED), so a socket squatted by another local user is refused
 * instead of printed. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/config.h"
#include "../common/util.h"
#include "master.h"

#define CTLC_TIMEOUT_MS 5000

struct ctlc_args {
	struct fc_config cfg;
	const char *req;
	const char *output; /* --output FILE: written whole, then renamed */
};

static int
ctlc_usage(void)
{
	fprintf(stderr, "usage: forkchatd status [--json] [--users] "
			"[--prometheus [--output FILE]] [--check] [-S SOCKET] "
			"[-c FILE]\n");
	return 2;
}

static int
ctlc_load(struct ctlc_args *a, const char *file)
{
	char err[512];

	if (config_load_file(&a->cfg, file, err, sizeof(err)) < 0) {
		fprintf(stderr, "forkchatd: %s\n", err);
		return 2;
	}
	return 0;
}

/* -1 to go on, else an exit status. */
static int
ctlc_parse(int argc, char **argv, struct ctlc_args *a)
{
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		bool has = i + 1 < argc;
		if (strcmp(o, "--json") == 0)
			a->req = strcmp(a->req, "users json") ? "status json"
							      : a->req;
		else if (strcmp(o, "--users") == 0)
			a->req = "users json";
		else if (strcmp(o, "--prometheus") == 0)
			a->req = "metrics";
		else if (strcmp(o, "--check") == 0)
			a->req = "check";
		else if (strcmp(o, "--request") == 0 && has)
			a->req = argv[++i];
		else if ((strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) &&
			 has)
			a->output = argv[++i];
		else if ((strcmp(o, "-S") == 0 ||
			  strcmp(o, "--control-socket") == 0) &&
			 has)
			snprintf(a->cfg.ctl_socket, sizeof(a->cfg.ctl_socket),
				 "%s", argv[++i]);
		else if ((strcmp(o, "-c") == 0 || strcmp(o, "--config") == 0) &&
			 has) {
			if (ctlc_load(a, argv[++i]))
				return 2;
		} else
			return ctlc_usage();
	}
	return -1;
}

/* root, ourselves, or the user the configuration drops to */
static bool
ctlc_trusted(uid_t uid, const struct fc_config *cfg)
{
	if (uid == 0 || uid == geteuid())
		return true;
	struct passwd *pw = cfg->user[0] ? getpwnam(cfg->user) : NULL;
	return pw && pw->pw_uid == uid;
}

static int
ctlc_connect(const struct fc_config *cfg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = cfg->ctl_socket;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "forkchatd: socket path too long\n");
		return -2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "forkchatd: cannot reach %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    !ctlc_trusted(cr.uid, cfg)) {
		fprintf(stderr,
			"forkchatd: refusing %s: it is served by uid %ld, "
			"not by root or by forkchatd's user (squatted by "
			"another user?)\n",
			path, (long)cr.uid);
		close(fd);
		return -1;
	}
	return fd;
}

/* The whole answer, read with a deadline; NULL on a timeout. */
static char *
ctlc_read_all(int fd, size_t *len)
{
	char *buf = NULL;
	FILE *o = open_memstream(&buf, len);
	int64_t deadline = now_ms() + CTLC_TIMEOUT_MS;
	char chunk[8192];
	ssize_t r = 1;

	while (o && r > 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		r = read(fd, chunk, sizeof(chunk));
		if (r > 0)
			fwrite(chunk, 1, (size_t)r, o);
	}
	if (o)
		fclose(o);
	if (r > 0) {
		fprintf(stderr, "forkchatd: no answer within %d s\n",
			CTLC_TIMEOUT_MS / 1000);
		free(buf);
		return NULL;
	}
	return buf;
}

/* FILE.tmp then rename: a reader (node exporter) never sees half a file */
static int
ctlc_write_file(const char *path, const char *buf, size_t len)
{
	char tmp[FC_PATH_SZ + 16];

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	FILE *f = fopen(tmp, "wx");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0 ||
	    rename(tmp, path) < 0) {
		fprintf(stderr, "forkchatd: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	return 0;
}

int
control_client_main(int argc, char **argv)
{
	static struct ctlc_args a;
	char err[512];

	config_defaults(&a.cfg);
	a.req = "status";
	int rc = ctlc_parse(argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (control_default_path(&a.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "forkchatd: %s\n", err);
		return 1;
	}
	int fd = ctlc_connect(&a.cfg);
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	dprintf(fd, "%s\n", a.req);
	size_t len = 0;
	char *buf = ctlc_read_all(fd, &len);
	close(fd);
	if (buf == NULL)
		return 1;
	rc = a.output ? ctlc_write_file(a.output, buf, len)
		      : (fwrite(buf, 1, len, stdout) == len ? 0 : 1);
	free(buf);
	return rc;
}
