/* libFuzzer harness for ipc/frame.c (and the receive path of ipc/chan.c):
 * arbitrary bytes are checked by frame_validate() directly from an exactly
 * sized heap copy (ASan sees any read past the packet), every accepted frame
 * is re-checked against the size rules independently, and the same bytes are
 * sent as one SEQPACKET packet (with an fd when asked) through chan_recv(),
 * which must agree and must not leak the descriptor.
 *
 * Input: byte 0 bit 0 = attach an fd, the rest = the packet. */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../ipc/chan.h"
#include "../ipc/frame.h"

static int sv[2] = {-1, -1};
static struct chan rx;
static int devnull = -1;
static int fd_base;
static unsigned long runs;

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
setup(void)
{
	if (sv[0] >= 0)
		return;
	log_init(0, "/dev/null", LOG_LVL_ERR);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	if (chan_open(&rx, sv[0]) < 0)
		abort();
	devnull = open("/dev/null", O_RDONLY);
	fd_base = count_fds();
}

static bool
nul_in(const char *p, size_t n)
{
	return memchr(p, 0, n) != NULL;
}

/* What every accepted frame must satisfy, written out longhand. */
static void
recheck(const struct frame_hdr *h, const char *p, size_t got, bool fd)
{
	if (got != sizeof(*h) + h->len || h->type == 0 ||
	    h->type >= FR_TYPE_MAX)
		abort();
	if (fd != (h->type == FR_PEER_UP))
		abort();
	if (h->len > FRAME_MAX_PAYLOAD)
		abort();
	switch (h->type) {
	case FR_PEER_UP:
	case FR_PEER_DOWN:
		if (h->len != sizeof(struct peer_body))
			abort();
		break;
	case FR_START:
	case FR_READY:
		if (h->len != 0)
			abort();
		break;
	case FR_EVENT: {
		struct ev_body ev;
		if (h->len < sizeof(ev))
			abort();
		memcpy(&ev, p, sizeof(ev));
		if (ev.kind == 0 || ev.kind >= EV_KIND_MAX ||
		    sizeof(ev) + ev.text_len != h->len ||
		    strlen(ev.sender) >= sizeof(ev.sender))
			abort();
		break;
	}
	case FR_USER_GONE: {
		struct gone_body g;
		if (h->len < sizeof(g))
			abort();
		memcpy(&g, p, sizeof(g));
		if (sizeof(g) + (size_t)g.nrooms * 4 != h->len ||
		    !nul_in(g.name, sizeof(g.name)))
			abort();
		break;
	}
	case FR_FILE_OFFER: {
		struct file_offer_body o;
		if (h->len != sizeof(o))
			abort();
		memcpy(&o, p, sizeof(o));
		if (!nul_in(o.sender, sizeof(o.sender)) ||
		    !nul_in(o.filename, sizeof(o.filename)))
			abort();
		break;
	}
	case FR_FILE_END:
	case FR_FILE_RESULT: {
		struct file_end_body e;
		if (h->len != sizeof(e))
			abort();
		memcpy(&e, p, sizeof(e));
		if (!nul_in(e.why, sizeof(e.why)))
			abort();
		break;
	}
	case FR_PROBE:
	case FR_PROBE_REPLY:
		if (h->len != sizeof(struct probe_body))
			abort();
		break;
	case FR_FILE_CREDIT:
		if (h->len != sizeof(struct file_credit_body))
			abort();
		break;
	case FR_FILE_DATA:
		if (h->len == 0)
			abort();
		break;
	default:
		break;
	}
	(void)frame_type_name(h->type);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	bool with_fd = data[0] & 1;
	size_t n = size - 1;
	if (n > sizeof(struct frame_hdr) + FRAME_MAX_PAYLOAD)
		return 0;

	/* 1. directly: header copied out as chan_recv does, payload in place */
	char *pkt = malloc(n ? n : 1);
	if (pkt == NULL)
		abort();
	memcpy(pkt, data + 1, n);
	struct frame_hdr h;
	memset(&h, 0, sizeof(h));
	memcpy(&h, pkt, n < sizeof(h) ? n : sizeof(h));
	const char *payload = pkt + (n < sizeof(h) ? n : sizeof(h));
	int direct = frame_validate(&h, payload, n, with_fd);
	if (direct == 0)
		recheck(&h, payload, n, with_fd);
	(void)frame_type_name(h.type);

	/* 2. through a real channel (a zero-length packet reads as EOF) */
	if (n > 0) {
		struct iovec iov = {pkt, n};
		if (chan_sendmsg(sv[1], &iov, 1, with_fd ? devnull : -1) !=
		    IO_DONE)
			abort();
		struct frame f;
		memset(&f, 0, sizeof(f));
		int rc = chan_recv(&rx, &f);
		if (rc != (direct == 0 ? IO_DONE : IO_ERROR))
			abort();
		if (rc == IO_DONE) {
			if (memcmp(&f.hdr, &h, sizeof(h)) != 0)
				abort();
			if ((f.fd >= 0) != with_fd)
				abort();
			if (f.fd >= 0)
				close(f.fd);
		}
		/* no descriptor may be left behind (checked now and then:
		 * libFuzzer's own threads open files at times) */
		if (++runs % 4096 == 0 && count_fds() > fd_base + 16)
			abort();
	}
	free(pkt);
	return 0;
}
