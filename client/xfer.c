/* numeric file transfer. Upload: FILE <user> <base> <size>, wait for 100,
 * then sendfile() the bytes (over TLS, which sendfile cannot do: pread()
 * chunks passed through the output buffer to SSL_write). Download: after "102
 * name size sender" exactly size raw bytes follow in the stream; they go to a
 * hidden temporary file in the download folder, which gets a safe base name
 * (never overwriting anything) only once complete, and is removed when the
 * transfer is cut off. --no-files and the per-connection quota refuse. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "../proto/crypto.h"
#include "client.h"

#define SEND_CHUNK (4u << 20)
#define TLS_CHUNK (64u << 10) /* a few TLS records per chunk */

static void
progress_start(struct progress *pg, const char *verb, const char *name,
	       uint64_t total)
{
	memset(pg, 0, sizeof(*pg));
	snprintf(pg->label, sizeof(pg->label), "%s %.40s", verb, name);
	pg->total = total;
	pg->start_ms = now_ms();
}

/* ---- upload ---- */

/* The wire name is the base name with spaces made '_' (the server splits
 * FILE's arguments on spaces). */
static bool
wire_file_name(const char *path, char *out, size_t cap)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n == 0 || n >= cap || strcmp(base, "..") == 0 ||
	    strcmp(base, ".") == 0 || wire_check_text(base, n) != TEXT_OK)
		return false;
	for (size_t i = 0; i <= n; i++)
		out[i] = base[i] == ' ' || base[i] == '\t' ? '_' : base[i];
	return strstr(out, "..") == NULL;
}

bool
xfer_start_upload(struct client *c, const char *peer, const char *path)
{
	struct upload *up = &c->up;
	struct stat st;
	if (!wire_file_name(path, up->name, sizeof(up->name))) {
		ui_error(c, "%s: not a usable file name", path);
		return false;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ui_error(c, "%s: %s", path,
			 fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return false;
	}
	up->fd = fd;
	up->open = true;
	up->streaming = up->replied = false;
	up->off = 0;
	up->size = (uint64_t)st.st_size;
	net_sendf(c, "FILE %s %s %" PRIu64, peer, up->name, up->size);
	fifo_push(c, P_FILE, peer, NULL);
	return true;
}

static void
upload_close(struct client *c)
{
	struct upload *up = &c->up;
	if (up->fd >= 0)
		close(up->fd);
	up->fd = -1;
	up->open = up->streaming = false;
	ui_progress_end(c, &up->pg);
}

/* 100: the server is ready for the bytes. */
void
xfer_on_ready(struct client *c)
{
	struct upload *up = &c->up;
	if (!up->open || up->streaming)
		return;
	progress_start(&up->pg, "send", up->name, up->size);
	up->streaming = up->size > 0;
	if (up->streaming)
		ui_progress(c, &up->pg, true);
}

/* One chunk of the file into the (empty) output buffer, whose flush then
 * handles TLS's partial writes and retries. Returns bytes read, or -1. */
static ssize_t
tls_load_chunk(struct client *c)
{
	struct upload *up = &c->up;
	uint64_t left = up->size - (uint64_t)up->off;
	size_t want = left < TLS_CHUNK ? (size_t)left : TLS_CHUNK;
	if (out_reserve(&c->out, want) < 0) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t r = pread(up->fd, c->out.buf + c->out.len, want, up->off);
	if (r > 0) {
		c->out.len += (size_t)r;
		up->off += r;
	}
	return r;
}

static void
upload_broken(struct client *c, const char *why)
{
	/* the file shrank or the socket broke: the declared size can no
	 * longer be honoured, so the stream is lost */
	ui_error(c, "sending %s failed: %s", c->up.name, why);
	session_end(c, 1, NULL);
}

/* Stop once the socket is full (bytes left in the output buffer). */
static int
pump_tls(struct client *c)
{
	struct upload *up = &c->up;
	while (up->streaming && c->out.len == 0) {
		ssize_t r = tls_load_chunk(c);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			upload_broken(c,
				      r < 0 ? strerror(errno) : "file shrank");
			return -1;
		}
		if ((uint64_t)up->off == up->size)
			up->streaming = false;
		enum io_result fr = net_flush(c);
		if (fr == IO_CLOSED || fr == IO_ERROR) {
			upload_broken(c, tls_strerror(c));
			return -1;
		}
	}
	up->pg.done = (uint64_t)up->off - c->out.len;
	return 0;
}

int
xfer_pump_upload(struct client *c)
{
	struct upload *up = &c->up;
	if (c->ssl != NULL && pump_tls(c) < 0)
		return -1;
	while (up->streaming && c->ssl == NULL) {
		uint64_t left = up->size - (uint64_t)up->off;
		size_t put;
		enum io_result r = net_sendfile(
			c, up->fd, &up->off,
			left < SEND_CHUNK ? left : SEND_CHUNK, &put);
		if (r == IO_AGAIN)
			break;
		if (r != IO_DONE) {
			upload_broken(c, c->io_err ? strerror(c->io_err)
						   : "file shrank");
			return -1;
		}
		up->pg.done = (uint64_t)up->off;
		if ((uint64_t)up->off == up->size)
			up->streaming = false;
	}
	ui_progress(c, &up->pg, !up->streaming);
	if (!up->streaming && up->replied)
		upload_close(c);
	return 0;
}

/* The final reply (200, 101, or an error instead of 100) has come. A 101
 * can arrive mid-file: the declared bytes are still owed, so keep going. */
void
xfer_finish_upload(struct client *c)
{
	c->up.replied = true;
	if (!c->up.streaming)
		upload_close(c);
}

/* ---- download ---- */

/* A received name becomes a plain base name inside the download folder:
 * '/', "..", and anything ui_sanitize would escape (controls, C1, bidi
 * overrides and isolates, invisible format characters, non-UTF-8) are
 * refused; leading dots become '_' so nothing hidden (.bashrc, .ssh) is
 * ever created. */
bool
xfer_safe_name(const char *in, char *out, size_t cap, const char **why)
{
	size_t n = strlen(in);
	char shown[256 * 7 + 8];
	*why = NULL;
	if (n == 0 || n + 8 > cap || n > 200)
		*why = "empty or too long name";
	else if (strchr(in, '/') || strchr(in, '\\'))
		*why = "name contains a slash";
	else if (strstr(in, ".."))
		*why = "name contains ..";
	else if (ui_sanitize(in, n, shown, sizeof(shown)) != n ||
		 memcmp(shown, in, n) != 0)
		*why = "name contains control, bidi or invisible characters "
		       "or is not UTF-8";
	if (*why)
		return false;
	size_t i = 0;
	for (; in[i] == '.'; i++)
		out[i] = '_';
	memcpy(out + i, in + i, n - i + 1);
	return true;
}

/* The bytes go to a hidden temporary file first; it gets its name only
 * once complete. */
static int
create_temp(struct client *c, char *tmp, size_t cap)
{
	for (int k = 0; k < 100; k++) {
		unsigned char r[6];
		if (fc_random(r, sizeof(r)) != 0)
			break;
		snprintf(tmp, cap, ".forkchat-%02x%02x%02x%02x%02x%02x.part",
			 r[0], r[1], r[2], r[3], r[4], r[5]);
		int fd = openat(c->dirfd, tmp,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					O_CLOEXEC,
				0644);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/* Give the complete temporary file its name without ever overwriting:
 * name, name.1, name.2 ... (renameat2 NOREPLACE; a hard link where the
 * file system lacks it). */
static int
name_unique(struct client *c, const char *tmp, const char *base, char *saved,
	    size_t cap)
{
	for (int k = 0; k < 10000; k++) {
		if (k == 0)
			snprintf(saved, cap, "%s", base);
		else
			snprintf(saved, cap, "%s.%d", base, k);
		int rc = renameat2(c->dirfd, tmp, c->dirfd, saved,
				   RENAME_NOREPLACE);
		if (rc < 0 && errno == EINVAL) {
			rc = linkat(c->dirfd, tmp, c->dirfd, saved, 0);
			if (rc == 0)
				unlinkat(c->dirfd, tmp, 0);
		}
		if (rc == 0 || errno != EEXIST)
			return rc;
	}
	errno = EEXIST;
	return -1;
}

static void
drop_temp(struct client *c)
{
	struct download *d = &c->down;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (d->tmp[0])
		unlinkat(c->dirfd, d->tmp, 0);
	d->tmp[0] = '\0';
}

static void
download_done(struct client *c)
{
	struct download *d = &c->down;
	char buf[CL_MAX_LINE], human[CL_MAX_LINE];
	const char *dir = c->dldir ? c->dldir : ".";

	d->active = false;
	ui_progress_end(c, &d->pg);
	if (d->fd >= 0 && close(d->fd) < 0 && d->why[0] == '\0')
		snprintf(d->why, sizeof(d->why), "%s", strerror(errno));
	d->fd = -1;
	if (d->why[0] == '\0' &&
	    name_unique(c, d->tmp, d->base, d->saved, sizeof(d->saved)) < 0)
		snprintf(d->why, sizeof(d->why), "%s", strerror(errno));
	if (d->why[0]) {
		drop_temp(c);
		ui_error(c, "file %s (%" PRIu64 " bytes) from %s refused: %s",
			 d->name, d->size, d->sender, d->why);
		return;
	}
	d->tmp[0] = '\0';
	snprintf(buf, sizeof(buf), "102 %s %" PRIu64 " %s saved %s/%s", d->name,
		 d->size, d->sender, dir, d->saved);
	snprintf(human, sizeof(human),
		 "* file %s (%" PRIu64 " bytes) from %s saved as %s/%s",
		 d->name, d->size, d->sender, dir, d->saved);
	ui_show(c, S_INFO, buf, human);
}

/* Why an offered file is not taken, or NULL: --no-files, the quota, an
 * unsafe name. */
static const char *
refusal(struct client *c, const char *name, uint64_t size, char *safe,
	size_t cap)
{
	const char *why;
	if (c->no_files)
		return "files are refused (--no-files)";
	if (c->dl_quota && size > c->dl_quota - c->dl_used)
		return "over this connection's download quota "
		       "(--download-quota)";
	return xfer_safe_name(name, safe, cap, &why) ? NULL : why;
}

void
xfer_start_download(struct client *c, const char *name, uint64_t size,
		    const char *sender)
{
	struct download *d = &c->down;
	const char *why;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->active = true;
	d->size = d->left = size;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->sender, sizeof(d->sender), "%s", sender);
	progress_start(&d->pg, "recv", name, size);
	if ((why = refusal(c, name, size, d->base, sizeof(d->base))) != NULL)
		snprintf(d->why, sizeof(d->why), "%s", why);
	else if ((d->fd = create_temp(c, d->tmp, sizeof(d->tmp))) < 0)
		snprintf(d->why, sizeof(d->why), "%s", strerror(errno));
	else
		c->dl_used += size;
	if (size == 0)
		download_done(c);
	else
		ui_progress(c, &d->pg, true);
}

static void
write_all(struct client *c, const char *p, size_t n)
{
	struct download *d = &c->down;
	while (n > 0 && d->fd >= 0) {
		ssize_t w = write(d->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			/* keep consuming the stream, but drop the partial file
			 */
			snprintf(d->why, sizeof(d->why), "%s", strerror(errno));
			drop_temp(c);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

size_t
xfer_take(struct client *c, const char *p, size_t n)
{
	struct download *d = &c->down;
	if (!d->active)
		return 0;
	size_t k = n < d->left ? n : (size_t)d->left;
	write_all(c, p, k);
	d->left -= k;
	d->pg.done = d->size - d->left;
	if (d->left == 0)
		download_done(c);
	else
		ui_progress(c, &d->pg, false);
	return k;
}

void
xfer_abort(struct client *c)
{
	struct download *d = &c->down;
	if (!d->active)
		return;
	d->active = false;
	ui_progress_end(c, &d->pg);
	drop_temp(c);
	ui_error(c,
		 "file %s from %s cut off after %" PRIu64 " of %" PRIu64
		 " bytes; nothing saved",
		 d->name, d->sender, d->size - d->left, d->size);
}

void
xfer_tick(struct client *c)
{
	if (c->up.streaming)
		ui_progress(c, &c->up.pg, false);
	if (c->down.active)
		ui_progress(c, &c->down.pg, false);
}
