/* Everything the user sees and types. Interactive (stdin a terminal):
 * libedit's callback interface, deliveries printed above the prompt with
 * the typed line redrawn after them, colours, progress bars in the prompt.
 * Script mode: one plain line per reply or delivery. All text from the wire
 * passes ui_sanitize() here, the one place that writes to the terminal. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <editline/readline.h>

#include "../common/util.h"
#include "client.h"

static struct client *ui_client; /* libedit's callback takes no argument */
static char prompt_buf[512];

/* Code points shown as \uNNNN instead of themselves: C1 controls, and the
 * invisible format characters that reorder or hide text (bidi marks,
 * embeddings, overrides and isolates, line/paragraph separators, BOM). */
static bool
escaped_code_point(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C ||
	       (cp >= 0x200B && cp <= 0x200F) ||
	       (cp >= 0x2028 && cp <= 0x202E) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

/* The length of the valid UTF-8 sequence at in[0..n) and its code point,
 * or 0 when the bytes are not UTF-8 (bad lead or continuation bytes,
 * overlong forms, surrogates, beyond U+10FFFF). Done here, not with
 * wire_check_text, whose verdict on some valid characters is "refused". */
static size_t
utf8_decode(const char *in, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned char ch = (unsigned char)in[0];
	size_t k = ch >= 0xF8 ? 0 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;
	if (ch < 0xC2 || k == 0 || k > n)
		return 0;
	uint32_t v = ch & (0x7F >> k);
	for (size_t i = 1; i < k; i++) {
		unsigned char cc = (unsigned char)in[i];
		if ((cc & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (cc & 0x3F);
	}
	if (v < min[k] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return k;
}

size_t
ui_sanitize(const char *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 7 < cap;) {
		unsigned char ch = (unsigned char)in[i];
		uint32_t cp = ch;
		size_t k = ch >= 0x80 ? utf8_decode(in + i, n - i, &cp) : 1;
		if (k == 0 || (k == 1 && (ch < 0x20 || ch == 0x7F))) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02X", ch);
			i++;
			continue;
		}
		if (escaped_code_point(cp)) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x",
					      (unsigned)cp);
			i += k;
			continue;
		}
		if (o + k >= cap)
			break;
		memcpy(out + o, in + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return o;
}

static const char *
style_color(enum style st)
{
	static const char *col[] = {
		[S_PLAIN] = "",
		[S_REPLY] = "\033[2m",
		[S_ERROR] = "\033[1;31m",
		[S_INFO] = "\033[36m",
		[S_CHAT] = "",
		[S_PRIV] = "\033[35m",
		[S_E2E] = "\033[32m",
		[S_PRESENCE] = "\033[33m",
	};
	return col[st];
}

/* libedit's refresh starts where the cursor is: go back to column 0 and
 * clear first, so a changed prompt never leaves the old one behind. */
static void
redraw(void)
{
	fputs("\r\033[K", stdout);
	fflush(stdout);
	rl_forced_update_display();
}

static void
on_typed_line(char *line)
{
	struct client *c = ui_client;
	if (line == NULL) { /* ^D */
		c->stdin_eof = true;
		rl_callback_handler_remove();
		putchar('\n');
		session_end(c, 0, NULL);
		return;
	}
	if (*line)
		add_history(line);
	if (!inq_push(c, line, strlen(line)))
		session_end(c, 1, "out of memory");
	free(line);
	/* libedit leaves the terminal cooked and the old line in its buffer
	 * until the next key; installing again starts a fresh raw line now */
	rl_callback_handler_install(prompt_buf, on_typed_line);
}

void
ui_init(struct client *c)
{
	const char *nc = getenv("NO_COLOR");

	ui_client = c;
	c->interactive = isatty(STDIN_FILENO);
	c->color = c->interactive && isatty(STDOUT_FILENO) &&
		   !(nc != NULL && *nc != '\0');
	if (!c->interactive) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return;
	}
	rl_readline_name = "forkchat";
	ui_set_prompt(c);
	rl_callback_handler_install(prompt_buf, on_typed_line);
}

void
ui_close(struct client *c)
{
	if (c->interactive && !c->stdin_eof)
		rl_callback_handler_remove();
	fflush(stdout);
}

static void
progress_text(const struct progress *pg, char *out, size_t cap)
{
	double secs = (double)(now_ms() - pg->start_ms) / 1000.0;
	double rate = secs > 0.05 ? (double)pg->done / secs : 0;
	double mib = 1024.0 * 1024.0;
	int pct = pg->total ? (int)(pg->done * 100 / pg->total) : 100;
	char bar[21];
	for (int i = 0; i < 20; i++)
		bar[i] = i < pct / 5 ? '#' : '.';
	bar[20] = '\0';
	long eta =
		rate > 0 ? (long)((double)(pg->total - pg->done) / rate) : -1;
	snprintf(out, cap, "[%s %s %3d%% %.1f/%.1f MiB %.1f MiB/s ETA %lds] ",
		 pg->label, bar, pct, (double)pg->done / mib,
		 (double)pg->total / mib, rate / mib, eta < 0 ? 0 : eta);
}

/* The prompt carries the progress bars of running transfers, so they
 * update in place without disturbing what is being typed. */
void
ui_set_prompt(struct client *c)
{
	char bars[400] = "";
	size_t o = 0;
	if (c->up.pg.shown)
		progress_text(&c->up.pg, bars, sizeof(bars));
	o = strlen(bars);
	if (c->down.pg.shown)
		progress_text(&c->down.pg, bars + o, sizeof(bars) - o);
	snprintf(prompt_buf, sizeof(prompt_buf), "%s%s> ", bars,
		 c->logged_in ? c->name : "name");
	if (!c->interactive || c->stdin_eof)
		return;
	rl_set_prompt(prompt_buf);
	redraw();
}

void
ui_show(struct client *c, enum style st, const char *script, const char *human)
{
	char buf[CL_MAX_LINE * 4 + 64];
	const char *text = c->interactive && human ? human : script;

	ui_sanitize(text, strlen(text), buf, sizeof(buf));
	if (!c->interactive) {
		printf("%s\n", buf);
		return;
	}
	/* clear the prompt line, print above it, then redraw prompt + typing */
	const char *on = c->color ? style_color(st) : "";
	printf("\r\033[K%s%s%s\n", on, buf, *on ? "\033[0m" : "");
	fflush(stdout);
	if (!c->stdin_eof)
		redraw();
}

/* A decrypted message: shown, then every copy of the plaintext is wiped and
 * pt (the decrypter's allocation) freed. */
void
ui_show_decrypted(struct client *c, const char *code, const char *tag,
		  const char *user, char *pt, size_t n)
{
	char script[CL_MAX_LINE * 2], human[CL_MAX_LINE * 2];

	snprintf(script, sizeof(script), "%s %s %s", code, user, pt);
	snprintf(human, sizeof(human), "[%s from %s] %s", tag, user, pt);
	ui_show(c, S_E2E, script, human);
	OPENSSL_cleanse(script, sizeof(script));
	OPENSSL_cleanse(human, sizeof(human));
	OPENSSL_cleanse(pt, n);
	free(pt);
}

/* Client-side errors are lines of their own starting with "! ". */
void
ui_error(struct client *c, const char *fmt, ...)
{
	char buf[CL_MAX_LINE * 2];
	va_list ap;
	buf[0] = '!';
	buf[1] = ' ';
	va_start(ap, fmt);
	vsnprintf(buf + 2, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	ui_show(c, S_ERROR, buf, NULL);
}

void
ui_progress(struct client *c, struct progress *pg, bool force)
{
	int64_t now = now_ms();
	if (!c->interactive)
		return;
	if (!pg->shown) {
		pg->shown = true;
		force = true;
	}
	if (!force && now - pg->drawn_ms < 100)
		return;
	pg->drawn_ms = now;
	ui_set_prompt(c);
}

void
ui_progress_end(struct client *c, struct progress *pg)
{
	if (!pg->shown)
		return;
	pg->shown = false;
	ui_set_prompt(c);
}

static void
script_read(struct client *c)
{
	char buf[65536];
	const char *line;
	size_t n;
	ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		c->stdin_eof = true;
		if (c->inlb.len > 0 && /* a last line without newline */
		    !inq_push(c, c->inlb.data, c->inlb.len))
			session_end(c, 1, "out of memory");
		return;
	}
	linebuf_feed(&c->inlb, buf, (size_t)r);
	enum line_status st;
	while ((st = linebuf_next(&c->inlb, &line, &n)) != LINE_NONE)
		if (st == LINE_OK && !inq_push(c, line, n))
			session_end(c, 1, "out of memory");
	linebuf_keep(&c->inlb);
}

void
ui_read_stdin(struct client *c)
{
	if (c->interactive)
		rl_callback_read_char();
	else
		script_read(c);
}

static const char *help_okfail[] = {
	"Commands (any case):",
	"  BCST <text>              send to everyone",
	"  USERS                    list who is logged in",
	"  PM <user> <text>         private message, NOT encrypted",
	"  PRIVATE_MESSAGE <user> <text>  end-to-end encrypted message",
	"  KEYS                     fingerprints: yours and your peers'",
	"  QUIT                     leave",
	"  HELP                     this list",
	NULL,
};

static const char *help_numeric[] = {
	"Commands (any case):",
	"  LIRO / LIME <room>       list rooms / a room's members",
	"  ROOM <room>              create a room",
	"  JOIN <room> / LEVE <room>  join / leave a room",
	"  SEND <room> <text>       send to a room",
	"  PRIV <user> <text>       private message, NOT encrypted",
	"  USEK <keyword>           set the key for SECU (never sent)",
	"  SECU <user> <text>       message encrypted with the USEK key",
	"  FILE <user> <path>       send a file",
	"  QUIT                     leave",
	"  HELP                     this list",
	NULL,
};

void
ui_help(struct client *c)
{
	const char **h = c->dialect == D_OKFAIL ? help_okfail : help_numeric;
	for (; *h; h++)
		ui_show(c, S_INFO, *h, NULL);
}
