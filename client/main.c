/* forkchat: the terminal client. Options, the poll loop over standard input
 * and the server socket, protocol detection, login, and the dispatcher that
 * sends typed commands one at a time (each waits for its reply, so output
 * stays in the order of the input). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"
#include "client.h"

#define FORKCHAT_VERSION "forkchat 1.0"

/* SIGINT/SIGTERM/SIGHUP end the loop, so cleanup (a partial download's
 * temporary file) runs; the exit status is 128 + the signal. */
static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
usage(FILE *f)
{
	fputs("usage: forkchat [options] HOST PORT\n"
	      "  -P, --protocol okfail|numeric  default: detected from the "
	      "server's first bytes\n"
	      "  -n, --name NAME                log in as NAME (else ask)\n"
	      "      --download-dir DIR         where received files go "
	      "(default: .)\n"
	      "      --download-quota SIZE      at most SIZE bytes of files per "
	      "connection\n"
	      "                                 (K, M, G suffixes; 0: no "
	      "limit; default 1G)\n"
	      "      --no-files                 refuse every file offered\n"
	      "      --tls                      connect with TLS (1.2 or later), "
	      "verifying the\n"
	      "                                 server against the system CA "
	      "store and HOST\n"
	      "      --tls-ca FILE              trust the CA or certificate(s) "
	      "in FILE instead\n"
	      "                                 (implies --tls)\n"
	      "      --insecure                 TLS without any verification "
	      "(implies --tls)\n"
	      "  -h, --help                     this text\n"
	      "  -V, --version                  print the version\n",
	      f);
}

/* long-only options: values outside the range of short ones */
enum { OPT_TLS = 256, OPT_TLS_CA, OPT_INSECURE, OPT_QUOTA, OPT_NO_FILES };

#define DEFAULT_QUOTA (1ull << 30)

/* "1000", "64K", "10M", "2G" (powers of 1024); -1 when not a size. */
static int
parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	unsigned shift = 0;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	const char *units = "KMG", *u = strchr(units, num[n - 1] & ~0x20);
	if (u != NULL && *u != '\0') {
		shift = 10 * (unsigned)(u - units + 1);
		num[n - 1] = '\0';
	}
	uint64_t v;
	if (parse_u64(num, &v) < 0 || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static int
download_option(struct client *c, int ch)
{
	if (ch == OPT_NO_FILES) {
		c->no_files = true;
		return 0;
	}
	if (parse_size(optarg, &c->dl_quota) == 0)
		return 0;
	fprintf(stderr, "forkchat: --download-quota: not a size: '%s'\n",
		optarg);
	return 2;
}

static void
tls_option(struct client *c, int ch)
{
	c->tls = true;
	if (ch == OPT_TLS_CA)
		c->tls_ca = optarg;
	else if (ch == OPT_INSECURE)
		c->tls_insecure = true;
}

static int
protocol_option(struct client *c, const char *name)
{
	if (strcmp(name, "okfail") == 0)
		c->dialect = D_OKFAIL;
	else if (strcmp(name, "numeric") == 0)
		c->dialect = D_NUMERIC;
	else {
		fprintf(stderr,
			"forkchat: unknown protocol '%s' (okfail or numeric)\n",
			name);
		return 2;
	}
	return 0;
}

/* One option; 2 for a usage error. -h and -V exit here. */
static int
one_option(struct client *c, int ch)
{
	if (ch == 'P')
		return protocol_option(c, optarg);
	if (ch == 'n')
		c->opt_name = optarg;
	else if (ch == 'd')
		c->dldir = optarg;
	else if (ch >= OPT_TLS && ch <= OPT_INSECURE)
		tls_option(c, ch);
	else if (ch == OPT_QUOTA || ch == OPT_NO_FILES)
		return download_option(c, ch);
	else if (ch == 'h') {
		usage(stdout);
		exit(0);
	} else if (ch == 'V') {
		puts(FORKCHAT_VERSION);
		exit(0);
	} else {
		usage(stderr);
		return 2;
	}
	return 0;
}

static int
parse_args(struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"protocol", required_argument, NULL, 'P'},
		{"name", required_argument, NULL, 'n'},
		{"download-dir", required_argument, NULL, 'd'},
		{"tls", no_argument, NULL, OPT_TLS},
		{"tls-ca", required_argument, NULL, OPT_TLS_CA},
		{"insecure", no_argument, NULL, OPT_INSECURE},
		{"download-quota", required_argument, NULL, OPT_QUOTA},
		{"no-files", no_argument, NULL, OPT_NO_FILES},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "P:n:hV", opts, NULL)) != -1)
		if (one_option(c, ch) != 0)
			return 2;
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if (c->tls_ca && c->tls_insecure) {
		/* asking for a trust anchor and for no checks is a mistake */
		fprintf(stderr, "forkchat: --tls-ca and --insecure exclude "
				"each other\n");
		return 2;
	}
	c->host = argv[optind];
	c->port = argv[optind + 1];
	return 0;
}

/* ---- login and dispatch ---- */

static void
send_login(struct client *c, const char *name)
{
	snprintf(c->name, sizeof(c->name), "%.*s", FC_NAME_MAX, name);
	if (c->dialect == D_OKFAIL)
		ok_send_login(c, name);
	else
		num_send_login(c, name);
}

/* okfail logs in after INIT; numeric at once. A name given with -n is
 * tried first; after a refusal the name is asked for (read from the input
 * in script mode, where a failed -n name ends the session). */
static void
login_step(struct client *c)
{
	if (c->logged_in || c->detecting || fifo_has_user_command(c) ||
	    (c->dialect == D_OKFAIL && !c->greeted))
		return;
	if (c->opt_name) {
		send_login(c, c->opt_name);
		c->opt_name = NULL;
		c->name_from_opt = true;
		return;
	}
	if (c->name_from_opt && !c->interactive) {
		ui_error(c, "login as %s refused", c->name);
		session_end(c, 1, NULL);
		return;
	}
	char *line = inq_pop(c);
	if (line == NULL)
		return;
	c->name_from_opt = false;
	send_login(c, line);
	free(line);
}

static void
user_command(struct client *c, char *line)
{
	size_t n = strlen(line);
	struct cmdline cl;

	wire_split(line, n, &cl);
	if (n == 0)
		return;
	if (wire_word_is(&cl, "HELP") &&
	    (c->interactive || c->dialect == D_OKFAIL)) {
		ui_help(c);
		return;
	}
	bool handled = c->dialect == D_OKFAIL ? ok_command(c, line, n)
					      : num_command(c, line, n);
	if (!handled) {
		net_sendf(c, "%s", line);
		fifo_push(c, P_USER, NULL, NULL);
	}
}

static bool
can_dispatch(struct client *c)
{
	return c->logged_in && !c->quit_sent && !c->closed && !c->done &&
	       c->held_text == NULL && !c->up.open && !fifo_has_user_command(c);
}

static void
dispatch(struct client *c)
{
	login_step(c);
	while (can_dispatch(c)) {
		char *line = inq_pop(c);
		if (line == NULL)
			break;
		user_command(c, line);
		free(line);
	}
}

/* Script mode ends once the input is over and nothing is outstanding. */
static bool
script_finished(struct client *c)
{
	if (c->interactive || !c->stdin_eof || !inq_empty(c))
		return false;
	if (c->detecting)
		return false; /* the greeting decides what is owed (a -n login)
			       */
	if (!c->logged_in && c->fcount == 0) {
		if (c->dialect == D_NUMERIC || c->greeted) {
			ui_error(c, "input ended before a login succeeded");
			c->status = 1;
			return true;
		}
		return false;
	}
	return c->fcount == 0 && c->held_text == NULL && !c->up.open &&
	       !c->down.active && !c->quit_sent && c->files_owed == 0;
}

/* ---- server input ---- */

/* Without -P the dialect comes from the server's first bytes. An okfail
 * server greets at once (INIT, or a FAIL instead of it); a numeric one has
 * no greeting, so when nothing came within CL_PROBE_MS the client asks a
 * harmless HELP (allowed before login in numeric, FAIL00 in okfail) whose
 * reply is swallowed, and waits up to CL_DETECT_MS for the first line:
 * the decision is always made by bytes, never by a timeout's guess, however
 * loaded the server. */
static void
start_detection(struct client *c)
{
	c->detecting = true;
	c->probe_sent = false;
	c->detect_deadline = now_ms() + CL_PROBE_MS;
}

static void
detection_timer(struct client *c, int64_t now)
{
	if (!c->detecting || now < c->detect_deadline)
		return;
	if (!c->probe_sent) {
		c->probe_sent = true;
		c->detect_deadline = now + CL_DETECT_MS;
		net_sendf(c, "HELP");
		fifo_push(c, P_PROBE, NULL, NULL);
		return;
	}
	c->detecting = false;
	c->dialect = D_NUMERIC;
	ui_error(c,
		 "no answer from the server within %d s; assuming the "
		 "numeric dialect",
		 CL_DETECT_MS / 1000);
	ui_set_prompt(c);
}

static void
choose_dialect(struct client *c, const char *line, size_t n)
{
	c->detecting = false;
	bool ok = (n >= 4 && strncmp(line, "INIT", 4) == 0) ||
		  (n >= 4 && strncmp(line, "FAIL", 4) == 0);
	c->dialect = ok ? D_OKFAIL : D_NUMERIC;
	ui_set_prompt(c);
}

static void
route_line(struct client *c, const char *line, size_t n)
{
	if (c->detecting)
		choose_dialect(c, line, n);
	if (c->dialect == D_OKFAIL)
		ok_on_line(c, line, n);
	else
		num_on_line(c, line, n);
}

static void
process_lines(struct client *c)
{
	const char *line;
	size_t n;
	enum line_status st;

	while (!c->done &&
	       (st = linebuf_next(&c->lb, &line, &n)) != LINE_NONE) {
		if (st == LINE_TOOLONG) {
			ui_error(c, "over-long line from the server skipped");
			continue;
		}
		route_line(c, line, n);
		if (c->down.active) {
			/* the raw file bytes follow the 102 line directly */
			size_t k = xfer_take(c, c->lb.data, c->lb.len);
			c->lb.data += k;
			c->lb.len -= k;
			c->lb.skip_lf = false;
		}
	}
}

static void
on_server_closed(struct client *c)
{
	bool cut = c->down.active;
	c->closed = true;
	xfer_abort(c);
	if (c->quit_sent && !c->dscn && !cut) {
		session_end(c, 0, NULL);
		return;
	}
	if (!c->dscn)
		ui_error(c, "connection closed by the server");
	session_end(c, 1, NULL);
}

static void
on_readable(struct client *c)
{
	char buf[65536];
	size_t r;
	enum io_result res = tls_read(c, buf, sizeof(buf), &r);

	if (res == IO_AGAIN)
		return;
	if (res != IO_DONE) {
		if (res == IO_ERROR)
			ui_error(c, "connection lost: %s", tls_strerror(c));
		on_server_closed(c);
		return;
	}
	size_t off = c->down.active ? xfer_take(c, buf, r) : 0;
	if (off < r && linebuf_feed(&c->lb, buf + off, r - off)) {
		session_end(c, 1, "out of memory");
		return;
	}
	process_lines(c);
	linebuf_keep(&c->lb);
}

/* ---- the loop ---- */

static int
poll_timeout(struct client *c, int64_t now)
{
	int64_t t = 1000;
	if (tls_pending(c))
		return 0; /* buffered in OpenSSL: no poll event will come */
	if (c->detecting)
		t = c->detect_deadline - now;
	if (c->held_text && c->held_deadline - now < t)
		t = c->held_deadline - now;
	if ((c->up.streaming || c->down.active) && c->interactive && t > 100)
		t = 100;
	return t < 0 ? 0 : (int)t;
}

static void
on_timers(struct client *c)
{
	int64_t now = now_ms();
	detection_timer(c, now);
	if (c->dialect == D_OKFAIL)
		ok_timers(c, now);
	xfer_tick(c);
}

/* TLS may need to write to go on reading, or read to go on writing: a
 * socket event then serves the other direction. */
static bool
can_read(struct client *c, short rev)
{
	return (rev & (POLLIN | POLLHUP | POLLERR)) || tls_pending(c) ||
	       (c->tls_rd_wants_out && (rev & POLLOUT));
}

static bool
can_write(struct client *c, short rev)
{
	return (rev & (POLLOUT | POLLERR)) ||
	       (c->tls_wr_wants_in && (rev & (POLLIN | POLLHUP)));
}

static void
loop_once(struct client *c)
{
	struct pollfd p[2] = {
		{.fd = c->stdin_eof ? -1 : STDIN_FILENO, .events = POLLIN},
		{.fd = c->fd, .events = POLLIN},
	};
	bool writing = c->out.len > 0 || c->up.streaming;
	if ((writing && !c->tls_wr_wants_in) || c->tls_rd_wants_out)
		p[1].events |= POLLOUT;
	if (poll(p, 2, poll_timeout(c, now_ms())) < 0 && errno != EINTR) {
		ui_error(c, "poll: %s", strerror(errno));
		session_end(c, 1, NULL);
		return;
	}
	if (can_read(c, p[1].revents))
		on_readable(c);
	if (!c->done && writing && can_write(c, p[1].revents)) {
		if (net_flush(c) == IO_DONE && c->up.streaming)
			xfer_pump_upload(c);
	}
	if (!c->done && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
		ui_read_stdin(c);
	if (!c->done)
		on_timers(c);
}

static void
run(struct client *c)
{
	while (!c->done) {
		if (got_signal) {
			session_end(c, 128 + got_signal, NULL);
			break;
		}
		dispatch(c);
		if (c->done)
			break;
		if (script_finished(c))
			break;
		loop_once(c);
	}
	if (c->end_why)
		ui_error(c, "%s", c->end_why);
	net_flush(c);
}

static int
open_download_dir(struct client *c)
{
	c->dirfd = open(c->dldir ? c->dldir : ".",
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		fprintf(stderr, "forkchat: download dir %s: %s\n",
			c->dldir ? c->dldir : ".", strerror(errno));
		return -1;
	}
	return 0;
}

/* Download folder, key pair, connection and TLS; -1 after an error on
 * standard error (whatever was opened is closed by client_close). */
static int
client_open(struct client *c)
{
	char err[300];
	if (open_download_dir(c) < 0)
		return -1;
	if (fc_identity_new(&c->id) != 0) {
		fprintf(stderr, "forkchat: cannot create a key pair\n");
		return -1;
	}
	c->fd = net_connect(c->host, c->port, err, sizeof(err));
	if (c->fd < 0) {
		fprintf(stderr, "forkchat: %s\n", err);
		return -1;
	}
	if (c->tls_insecure)
		fprintf(stderr, "forkchat: warning: --insecure: the server's "
				"certificate is NOT verified\n");
	if (c->tls && tls_start(c) < 0) {
		fprintf(stderr, "forkchat: %s\n", c->tls_err);
		return -1;
	}
	return 0;
}

static void
client_close(struct client *c)
{
	tls_end(c);
	if (c->fd >= 0)
		close(c->fd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	ok_free(c);
	fc_secu_clear(&c->secu);
	fc_identity_free(&c->id);
	linebuf_free(&c->lb);
	linebuf_free(&c->inlb);
	free(c->out.buf);
	inq_free(c);
}

int
main(int argc, char **argv)
{
	static struct client cl = {
		.fd = -1, .dirfd = -1, .dl_quota = DEFAULT_QUOTA};
	struct client *c = &cl;

	int rc = parse_args(c, argc, argv);
	if (rc != 0)
		return rc;
	catch_signals();
	linebuf_init(&c->lb, CL_MAX_LINE);
	linebuf_init(&c->inlb, 1 << 20);
	c->down.fd = -1;
	c->up.fd = -1;
	if (client_open(c) < 0) {
		client_close(c);
		return 1;
	}
	ui_init(c);
	if (c->dialect == D_AUTO)
		start_detection(c);
	run(c);
	xfer_abort(c);
	ui_close(c);
	client_close(c);
	return c->status;
}
