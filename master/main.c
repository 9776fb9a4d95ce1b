/* forkchatd's master: reads its settings, binds every listener, creates the
 * shared registry, forks and supervises the workers, and shuts everything
 * down cleanly on SIGTERM/SIGINT (or `q` on a terminal in the foreground). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../ipc/metrics.h"
#include "../worker/spool.h"
#include "../ipc/userinfo.h"
#include "master.h"
#include "options.h"

static const char *dialect_names[] = {"okfail", "numeric", "irc"};

/* ---- signals and stdin ---- */

static void master_on_signal(struct handler *h, uint32_t events);

static int
master_signals(struct master *m)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	m->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sig_fd < 0)
		return -1;
	m->sig_h.fn = master_on_signal;
	return loop_add(m->loop, m->sig_fd, EPOLLIN, &m->sig_h);
}

static struct master *the_master;

static bool
master_wants_tls(const struct fc_config *c)
{
	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls)
			return true;
	return false;
}

static bool
same_listeners(const struct fc_config *a, const struct fc_config *b)
{
	if (a->nlisten != b->nlisten)
		return false;
	for (int i = 0; i < a->nlisten; i++) {
		const struct fc_listen *x = &a->listen[i], *y = &b->listen[i];
		if (x->dialect != y->dialect || x->tls != y->tls ||
		    strcmp(x->host, y->host) != 0 ||
		    strcmp(x->port, y->port) != 0)
			return false;
	}
	return true;
}

/* Re-read the certificate and key; on failure the old ones stay. */
static void
master_reload_tls(struct master *m, const struct fc_config *next)
{
	struct tls_pem pem;
	char err[512];

	if (!master_wants_tls(&m->cfg))
		return;
	if (tls_pem_load(&pem, next->tls_cert, next->tls_key, err,
			 sizeof(err)) < 0) {
		log_warnx("TLS reload: %s; keeping the old certificate", err);
		return;
	}
	SSL_CTX *probe = tls_ctx_new(&pem, err, sizeof(err));
	if (probe == NULL) {
		log_warnx("TLS reload: %s; keeping the old certificate", err);
		tls_pem_free(&pem);
		return;
	}
	SSL_CTX_free(probe);
	tls_pem_free(&m->pem);
	m->pem = pem;
}

/* Limits, then the PEM when TLS is on (see worker_reload). */
static void
master_send_reload(struct master *m)
{
	size_t n = sizeof(m->cfg.lim);
	uint32_t lens[2] = {(uint32_t)m->pem.cert_len,
			    (uint32_t)m->pem.key_len};
	size_t total = n + (m->pem.cert ? sizeof(lens) + lens[0] + lens[1] : 0);
	char *buf = malloc(total);

	if (buf == NULL || total > FRAME_MAX_PAYLOAD) {
		free(buf);
		supervise_broadcast(m, FR_RELOAD, &m->cfg.lim, n);
		return;
	}
	memcpy(buf, &m->cfg.lim, n);
	if (m->pem.cert) {
		memcpy(buf + n, lens, sizeof(lens));
		memcpy(buf + n + sizeof(lens), m->pem.cert, lens[0]);
		memcpy(buf + n + sizeof(lens) + lens[0], m->pem.key, lens[1]);
	}
	supervise_broadcast(m, FR_RELOAD, buf, total);
	OPENSSL_cleanse(buf, total);
	free(buf);
}

static void
master_reload(struct master *m)
{
	struct fc_config next;
	char err[1024];

	if (m->cfg.config_file[0] == '\0') {
		log_info("SIGHUP: no config file to reload");
		return;
	}
	/* defaults, the file, then the command line again: flags still win;
	 * relative paths on the command line mean what they meant at start */
	config_defaults(&next);
	if (config_load_file(&next, m->cfg.config_file, err, sizeof(err)) < 0) {
		log_warnx("reload failed, keeping the running settings: %s",
			  err);
		return;
	}
	if (chdir(m->start_cwd) < 0)
		log_warn("reload: chdir %s", m->start_cwd);
	int rc = options_parse(m->argc, m->argv, &next);
	if (!m->cfg.foreground && chdir("/") < 0)
		log_warn("reload: chdir /");
	if (rc >= 0) {
		log_warnx("reload failed, keeping the running settings: bad "
			  "configuration (check it with forkchatd -t -c %s)",
			  m->cfg.config_file);
		return;
	}
	if (config_validate(&next, err, sizeof(err)) < 0) {
		log_warnx("reload failed, keeping the running settings: %s",
			  err);
		return;
	}
	if (next.workers != m->cfg.workers || !same_listeners(&next, &m->cfg))
		log_warnx("reload: listeners and worker count need a restart");
	m->cfg.lim = next.lim;
	log_setlevel(m->cfg.lim.log_level);
	master_reload_tls(m, &next);
	master_send_reload(m);
	log_info("configuration reloaded from %s", m->cfg.config_file);
}

static void
master_on_signal(struct handler *h, uint32_t events)
{
	struct master *m = the_master;
	struct signalfd_siginfo si;

	(void)h;
	(void)events;
	while (read(m->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			supervise_reap(m);
			break;
		case SIGTERM:
		case SIGINT:
			supervise_shutdown(m, "Server shutting down");
			break;
		case SIGHUP:
			master_reload(m);
			break;
		case SIGUSR1:
			log_reopen();
			supervise_broadcast(m, FR_RELOAD, &m->cfg.lim,
					    sizeof(m->cfg.lim));
			log_info("log reopened");
			break;
		}
	}
}

/* Seed 001: `q` and Enter on the server's terminal stops it. */
static void
master_on_stdin(struct handler *h, uint32_t events)
{
	struct master *m = the_master;
	char buf[256];

	(void)h;
	(void)events;
	ssize_t n = read(0, buf, sizeof(buf) - 1);
	if (n <= 0) {
		loop_del(m->loop, 0);
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strcmp(buf, "q") == 0 || strcmp(buf, "quit") == 0)
		supervise_shutdown(m, "Server shutting down");
	else if (buf[0])
		fprintf(stderr, "type q and Enter to stop the server\n");
}

static void
master_tick(void *arg)
{
	struct master *m = arg;

	supervise_reap(m);
	supervise_tick(m);
	registry_rooms_sweep(m->reg, now_ms(), m->cfg.lim.room_linger_ms);
	loop_timer_add(m->loop, now_ms() + 200, master_tick, m);
}

/* ---- start-up ---- */

static void
master_log_listeners(struct master *m)
{
	for (int i = 0; i < m->cfg.nlisten; i++) {
		const struct fc_listen *l = &m->cfg.listen[i];
		log_info("listening dialect=%s%s addr=%s:%d workers=%d",
			 dialect_names[l->dialect], l->tls ? "+tls" : "",
			 l->host[0] ? l->host : "*", m->ls.port[i],
			 m->nworkers);
	}
}

static int
master_check_only(struct master *m)
{
	printf("configuration OK\n");
	for (int i = 0; i < m->cfg.nlisten; i++)
		printf("listen = %s%s=%s:%s\n",
		       dialect_names[m->cfg.listen[i].dialect],
		       m->cfg.listen[i].tls ? "+tls" : "",
		       m->cfg.listen[i].host, m->cfg.listen[i].port);
	printf("workers = %d\nmax-clients = %u\nmax-line = %u\n",
	       m->cfg.workers, m->cfg.lim.max_clients, m->cfg.lim.max_line);
	printf("server-name = %s\nmotd = %s\n", m->cfg.lim.server_name,
	       m->cfg.lim.motd);
	return 0;
}

static int
master_setup(struct master *m, int *ready_fd)
{
	char err[1024];

	if (m->cfg.pidfile[0]) {
		m->pidfile_fd = pidfile_lock(m->cfg.pidfile, err, sizeof(err));
		if (m->pidfile_fd < 0) {
			fprintf(stderr, "forkchatd: %s\n", err);
			return 1;
		}
	}
	if (master_wants_tls(&m->cfg)) {
		SSL_CTX *probe = NULL;
		if (tls_pem_load(&m->pem, m->cfg.tls_cert, m->cfg.tls_key, err,
				 sizeof(err)) < 0 ||
		    (probe = tls_ctx_new(&m->pem, err, sizeof(err))) == NULL) {
			fprintf(stderr, "forkchatd: %s\n", err);
			return 2;
		}
		SSL_CTX_free(probe);
	}
	if (fdlimit_raise(&m->cfg) < 0)
		return 1;
	if (listen_open(&m->ls, &m->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "forkchatd: %s\n", err);
		return 1;
	}
	struct reg_limits lim = {m->cfg.max_users, m->cfg.max_rooms,
				 m->cfg.max_key_size};
	m->reg = registry_create(&lim);
	m->uinfo = m->reg ? userinfo_create(m->cfg.max_users) : NULL;
	if (m->reg == NULL || m->uinfo == NULL ||
	    metrics_create(REG_MAX_WORKERS) < 0) {
		fprintf(stderr, "forkchatd: shared memory: %s\n",
			strerror(errno));
		return 1;
	}
	if (spool_setup_daemon(&m->cfg, REG_MAX_WORKERS, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "forkchatd: %s\n", err);
		return 1;
	}
	/* bound while stderr still works and while still root (its folder
	 * may be /run), then handed to the user the daemon runs as */
	if (control_open(m, err, sizeof(err)) < 0) {
		fprintf(stderr, "forkchatd: %s\n", err);
		return 1;
	}
	if (!m->cfg.foreground && daemon_detach(ready_fd) < 0) {
		fprintf(stderr, "forkchatd: detach: %s\n", strerror(errno));
		return 1;
	}
	if (!m->cfg.foreground && m->cfg.log_file[0] == '\0')
		log_init(1, NULL, m->cfg.lim.log_level);
	m->loop = loop_new();
	if (m->loop == NULL || master_signals(m) < 0)
		return 1;
	control_start(m);
	if (m->cfg.user[0] && m->ctl_listen_fd >= 0)
		control_chown(m, m->cfg.user);
	if (m->cfg.user[0] && privdrop(m->cfg.user) < 0)
		return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct master m;
	int ready_fd = -1;

	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return control_client_main(argc, argv);
	int rc = options_parse(argc, argv, &m.cfg);
	if (rc >= 0)
		return rc;
	m.argc = argc;
	m.argv = argv;
	if (getcwd(m.start_cwd, sizeof(m.start_cwd)) == NULL)
		strcpy(m.start_cwd, "/");
	char err[1024];
	if (config_validate(&m.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "forkchatd: %s\n", err);
		return 2;
	}
	if (m.cfg.check_only)
		return master_check_only(&m);
	if (log_init(0, m.cfg.log_file, m.cfg.lim.log_level) < 0)
		return 1;
	log_settag("master");
	the_master = &m;
	m.pidfile_fd = -1;
	m.ctl_listen_fd = -1;
	m.sig_fd = -1;
	m.nworkers = m.cfg.workers;
	m.started_ms = now_ms();
	if (control_default_path(&m.cfg, err, sizeof(err)) < 0)
		log_warnx("%s", err);
	if ((rc = master_setup(&m, &ready_fd)) != 0) {
		daemon_ready(ready_fd, rc);
		return rc;
	}
	if (supervise_start(&m) < 0) {
		daemon_ready(ready_fd, 1);
		return 1;
	}
	if (m.cfg.foreground && isatty(0)) {
		m.stdin_h.fn = master_on_stdin;
		loop_add(m.loop, 0, EPOLLIN, &m.stdin_h);
	}
	master_log_listeners(&m);
	if (m.pidfile_fd >= 0 && pidfile_write(m.pidfile_fd) < 0)
		log_warn("pidfile %s", m.cfg.pidfile);
	daemon_ready(ready_fd, 0);
	loop_timer_add(m.loop, now_ms() + 200, master_tick, &m);
	while (!(m.stopping && supervise_all_dead(&m)))
		if (loop_run_once(m.loop) < 0 && errno != EINTR)
			break;
	control_close(&m);
	if (m.pidfile_fd >= 0)
		unlink(m.cfg.pidfile);
	listen_close_all(&m.ls);
	registry_destroy(m.reg);
	spool_destroy(spool_daemon());
	log_info("stopped");
	return 0;
}
