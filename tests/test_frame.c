/* Proves ipc/frame.c and ipc/chan.c: frame_validate accepts every good frame
 * type and refuses each malformation (length, type, fd, unterminated strings,
 * event kind and text_len, USER_GONE room count, FR_EVENTS records, read
 * back one by one); frames cross a real
 * SEQPACKET socketpair whole, queue in order when the kernel is full, and an
 * fd travels with FR_PEER_UP (also from the queue). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/log.h"
#include "unit_quiet.h"
#include "../ipc/chan.h"
#include "../ipc/frame.h"

static char pkt[sizeof(struct frame_hdr) + FRAME_MAX_PAYLOAD];

/* Build header + payload in pkt; returns the packet length. */
static size_t
mk(uint16_t type, const void *p, size_t len)
{
	struct frame_hdr h = {.type = type, .len = (uint32_t)len};

	memcpy(pkt, &h, sizeof(h));
	if (len)
		memcpy(pkt + sizeof(h), p, len);
	return sizeof(h) + len;
}

static int
validate(size_t got, bool fd)
{
	struct frame_hdr h;

	memcpy(&h, pkt, sizeof(h));
	return frame_validate(&h, pkt + sizeof(h), got, fd);
}

static struct ev_body
ev_ok(uint32_t text_len)
{
	struct ev_body ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_BCST;
	ev.target_slot = -1;
	ev.text_len = text_len;
	strcpy(ev.sender, "alice");
	return ev;
}

static void
test_validate_good(void **state)
{
	struct peer_body pb = {1, 2};
	struct probe_body pr = {1, 2, 0};
	struct file_credit_body cr = {4};
	struct file_end_body fe;
	struct file_offer_body fo;
	char buf[512];

	(void)state;
	assert_int_equal(validate(mk(FR_PEER_UP, &pb, sizeof(pb)), true), 0);
	assert_int_equal(validate(mk(FR_PEER_DOWN, &pb, sizeof(pb)), false), 0);
	assert_int_equal(validate(mk(FR_START, NULL, 0), false), 0);
	assert_int_equal(validate(mk(FR_READY, NULL, 0), false), 0);
	assert_int_equal(validate(mk(FR_SHUTDOWN, "bye", 3), false), 0);
	assert_int_equal(validate(mk(FR_SHUTDOWN, NULL, 0), false), 0);
	assert_int_equal(validate(mk(FR_RELOAD, buf, 100), false), 0);
	assert_int_equal(validate(mk(FR_PROBE, &pr, sizeof(pr)), false), 0);
	assert_int_equal(validate(mk(FR_PROBE_REPLY, &pr, sizeof(pr)), false),
			 0);
	assert_int_equal(validate(mk(FR_FILE_CREDIT, &cr, sizeof(cr)), false),
			 0);
	assert_int_equal(validate(mk(FR_FILE_DATA, "x", 1), false), 0);
	memset(&fe, 0, sizeof(fe));
	fe.ok = 1;
	strcpy(fe.why, "done");
	assert_int_equal(validate(mk(FR_FILE_END, &fe, sizeof(fe)), false), 0);
	assert_int_equal(validate(mk(FR_FILE_RESULT, &fe, sizeof(fe)), false),
			 0);
	memset(&fo, 0, sizeof(fo));
	strcpy(fo.sender, "bob");
	strcpy(fo.filename, "notes.txt");
	assert_int_equal(validate(mk(FR_FILE_OFFER, &fo, sizeof(fo)), true), 0);
	/* the spool file's descriptor must come with it */
	assert_int_equal(validate(mk(FR_FILE_OFFER, &fo, sizeof(fo)), false),
			 -1);
	/* an event with and without text */
	struct ev_body ev = ev_ok(5);
	memcpy(buf, &ev, sizeof(ev));
	memcpy(buf + sizeof(ev), "hello", 5);
	assert_int_equal(validate(mk(FR_EVENT, buf, sizeof(ev) + 5), false), 0);
	ev = ev_ok(0);
	ev.kind = EV_KIND_MAX - 1;
	assert_int_equal(validate(mk(FR_EVENT, &ev, sizeof(ev)), false), 0);
	/* a user gone with two rooms and with none */
	struct gone_body g;
	memset(&g, 0, sizeof(g));
	strcpy(g.name, "carol");
	g.nrooms = 2;
	memcpy(buf, &g, sizeof(g));
	memset(buf + sizeof(g), 0, 8);
	assert_int_equal(validate(mk(FR_USER_GONE, buf, sizeof(g) + 8), false),
			 0);
	g.nrooms = 0;
	assert_int_equal(validate(mk(FR_USER_GONE, &g, sizeof(g)), false), 0);
	/* the biggest payload */
	static char big[FRAME_MAX_PAYLOAD];
	assert_int_equal(validate(mk(FR_FILE_DATA, big, sizeof(big)), false),
			 0);
	assert_string_equal(frame_type_name(FR_EVENT), "EVENT");
	assert_string_equal(frame_type_name(0), "UNKNOWN");
	assert_string_equal(frame_type_name(FR_TYPE_MAX), "UNKNOWN");
}

static void
test_validate_length_and_type(void **state)
{
	struct peer_body pb = {1, 2};
	struct probe_body pr = {0};
	size_t n;

	(void)state;
	/* got disagrees with the header's len, both ways */
	n = mk(FR_PEER_DOWN, &pb, sizeof(pb));
	assert_int_equal(validate(n - 1, false), -1);
	assert_int_equal(validate(n + 1, false), -1);
	/* shorter than a header */
	assert_int_equal(validate(sizeof(struct frame_hdr) - 1, false), -1);
	assert_int_equal(validate(0, false), -1);
	/* per-type sizes */
	assert_int_equal(validate(mk(FR_PEER_DOWN, &pb, 3), false), -1);
	assert_int_equal(validate(mk(FR_PEER_DOWN, &pr, sizeof(pr)), false),
			 -1);
	assert_int_equal(validate(mk(FR_START, "x", 1), false), -1);
	assert_int_equal(validate(mk(FR_READY, "x", 1), false), -1);
	assert_int_equal(validate(mk(FR_PROBE, &pr, sizeof(pr) - 1), false),
			 -1);
	assert_int_equal(validate(mk(FR_FILE_DATA, NULL, 0), false), -1);
	assert_int_equal(validate(mk(FR_FILE_CREDIT, &pr, 8), false), -1);
	assert_int_equal(validate(mk(FR_EVENT, &pr, 8), false), -1);
	assert_int_equal(validate(mk(FR_USER_GONE, &pr, 8), false), -1);
	static char big[FRAME_MAX_PAYLOAD + 1];
	struct frame_hdr h = {.type = FR_FILE_DATA, .len = sizeof(big)};
	assert_int_equal(
		frame_validate(&h, big, sizeof(h) + sizeof(big), false), -1);
	static char shutdown[300];
	assert_int_equal(validate(mk(FR_SHUTDOWN, shutdown, 257), false), -1);
	/* unknown types */
	assert_int_equal(validate(mk(0, NULL, 0), false), -1);
	assert_int_equal(validate(mk(FR_TYPE_MAX, NULL, 0), false), -1);
	assert_int_equal(validate(mk(0xffff, NULL, 0), false), -1);
}

static void
test_validate_fd(void **state)
{
	struct peer_body pb = {1, 2};

	(void)state;
	/* PEER_UP must carry one, nothing else may */
	assert_int_equal(validate(mk(FR_PEER_UP, &pb, sizeof(pb)), false), -1);
	assert_int_equal(validate(mk(FR_PEER_DOWN, &pb, sizeof(pb)), true), -1);
	assert_int_equal(validate(mk(FR_START, NULL, 0), true), -1);
	assert_int_equal(validate(mk(FR_FILE_DATA, "x", 1), true), -1);
}

static void
test_validate_strings(void **state)
{
	char buf[512];

	(void)state;
	/* event sender filling its field */
	struct ev_body ev = ev_ok(0);
	memset(ev.sender, 'a', sizeof(ev.sender));
	assert_int_equal(validate(mk(FR_EVENT, &ev, sizeof(ev)), false), -1);
	/* gone name */
	struct gone_body g;
	memset(&g, 0, sizeof(g));
	memset(g.name, 'b', sizeof(g.name));
	assert_int_equal(validate(mk(FR_USER_GONE, &g, sizeof(g)), false), -1);
	/* offer: sender, then filename */
	struct file_offer_body fo;
	memset(&fo, 0, sizeof(fo));
	memset(fo.sender, 'c', sizeof(fo.sender));
	assert_int_equal(validate(mk(FR_FILE_OFFER, &fo, sizeof(fo)), true),
			 -1);
	memset(&fo, 0, sizeof(fo));
	memset(fo.filename, 'd', sizeof(fo.filename));
	assert_int_equal(validate(mk(FR_FILE_OFFER, &fo, sizeof(fo)), true),
			 -1);
	/* file end / result why */
	struct file_end_body fe;
	memset(&fe, 'e', sizeof(fe));
	assert_int_equal(validate(mk(FR_FILE_END, &fe, sizeof(fe)), false), -1);
	assert_int_equal(validate(mk(FR_FILE_RESULT, &fe, sizeof(fe)), false),
			 -1);
	/* the NUL in the last byte of the field is enough */
	fe.why[sizeof(fe.why) - 1] = '\0';
	assert_int_equal(validate(mk(FR_FILE_END, &fe, sizeof(fe)), false), 0);
	(void)buf;
}

static void
test_validate_event(void **state)
{
	char buf[512];
	struct ev_body ev;

	(void)state;
	ev = ev_ok(0);
	ev.kind = 0;
	assert_int_equal(validate(mk(FR_EVENT, &ev, sizeof(ev)), false), -1);
	ev.kind = EV_KIND_MAX;
	assert_int_equal(validate(mk(FR_EVENT, &ev, sizeof(ev)), false), -1);
	ev.kind = 0xffff;
	assert_int_equal(validate(mk(FR_EVENT, &ev, sizeof(ev)), false), -1);
	/* text_len more, less, and absurdly more than what follows */
	uint32_t lens[] = {6, 4, 0, UINT32_MAX, UINT32_MAX - sizeof(ev) + 6};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ev = ev_ok(lens[i]);
		memcpy(buf, &ev, sizeof(ev));
		memcpy(buf + sizeof(ev), "hello", 5);
		assert_int_equal(
			validate(mk(FR_EVENT, buf, sizeof(ev) + 5), false), -1);
	}
	/* USER_GONE: nrooms must match the bytes that follow */
	struct gone_body g;
	memset(&g, 0, sizeof(g));
	strcpy(g.name, "x");
	uint32_t counts[] = {1, 3, UINT32_MAX, 0x40000000u};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		g.nrooms = counts[i];
		memcpy(buf, &g, sizeof(g));
		memset(buf + sizeof(g), 0, 8);
		assert_int_equal(
			validate(mk(FR_USER_GONE, buf, sizeof(g) + 8), false),
			-1);
	}
}

/* ---- channels ---- */

/* Append one FR_EVENTS record (event ev, then text) at buf + *len. */
static void
rec_add(char *buf, size_t *len, const struct ev_body *ev, const char *text)
{
	struct ev_rec rec = {.len = (uint32_t)(sizeof(*ev) + ev->text_len)};

	memset(buf + *len, 0, EV_REC_SIZE(rec.len));
	memcpy(buf + *len, &rec, sizeof(rec));
	memcpy(buf + *len + sizeof(rec), ev, sizeof(*ev));
	memcpy(buf + *len + sizeof(rec) + sizeof(*ev), text, ev->text_len);
	*len += EV_REC_SIZE(rec.len);
}

static void
test_validate_events(void **state)
{
	static char buf[1024];
	size_t len = 0;
	struct ev_body e1 = ev_ok(5), e2 = ev_ok(0);

	(void)state;
	e2.kind = EV_PM;
	rec_add(buf, &len, &e1, "hello");
	rec_add(buf, &len, &e2, "");
	assert_int_equal(len % EV_REC_ALIGN, 0);
	assert_int_equal(validate(mk(FR_EVENTS, buf, len), false), 0);
	assert_string_equal(frame_type_name(FR_EVENTS), "EVENTS");
	/* the events come back one by one, in order, as FR_EVENT frames */
	struct frame f = {.payload = pkt + sizeof(struct frame_hdr), .fd = -1};
	struct frame ev;
	size_t off = 0;
	memcpy(&f.hdr, pkt, sizeof(f.hdr));
	assert_true(frame_events_next(&f, &off, &ev));
	assert_int_equal(ev.hdr.type, FR_EVENT);
	assert_int_equal(ev.hdr.len, sizeof(e1) + 5);
	assert_memory_equal(ev.payload, &e1, sizeof(e1));
	assert_memory_equal(ev.payload + sizeof(e1), "hello", 5);
	assert_int_equal((ev.payload - f.payload) % EV_REC_ALIGN, 0);
	assert_true(frame_events_next(&f, &off, &ev));
	assert_int_equal(ev.hdr.len, sizeof(e2));
	assert_memory_equal(ev.payload, &e2, sizeof(e2));
	assert_false(frame_events_next(&f, &off, &ev));
	/* a cut record, a record past the end, a bad event inside, no padding
	 */
	assert_int_equal(validate(mk(FR_EVENTS, buf, len - 8), false), -1);
	assert_int_equal(validate(mk(FR_EVENTS, buf, len + 4), false), -1);
	struct ev_rec rec = {.len = 4096};
	memcpy(buf, &rec, sizeof(rec));
	assert_int_equal(validate(mk(FR_EVENTS, buf, len), false), -1);
	rec.len = 8;
	memcpy(buf, &rec, sizeof(rec));
	assert_int_equal(validate(mk(FR_EVENTS, buf, len), false), -1);
	len = 0;
	e1.kind = 0;
	rec_add(buf, &len, &e1, "hello");
	assert_int_equal(validate(mk(FR_EVENTS, buf, len), false), -1);
	len = 0;
	e1 = ev_ok(3);
	rec_add(buf, &len, &e1, "abc");
	assert_int_equal(validate(mk(FR_EVENTS, buf, len - 1), false), -1);
}

static void
pair(struct chan *a, struct chan *b)
{
	int sv[2];

	assert_int_equal(
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(chan_open(a, sv[0]), 0);
	assert_int_equal(chan_open(b, sv[1]), 0);
}

static void
test_chan_round_trip(void **state)
{
	struct chan a, b;
	struct frame f;
	struct ev_body ev = ev_ok(5);

	(void)state;
	pair(&a, &b);
	chan_self(3, 7);
	assert_int_equal(chan_recv(&b, &f), IO_AGAIN);
	assert_int_equal(
		chan_send(&a, FR_EVENT, 42, &ev, sizeof(ev), "hello", 5, -1),
		IO_DONE);
	assert_false(chan_pending(&a));
	assert_int_equal(chan_recv(&b, &f), IO_DONE);
	assert_int_equal(f.hdr.type, FR_EVENT);
	assert_int_equal(f.hdr.id, 42);
	assert_int_equal(f.hdr.src_worker, 3);
	assert_int_equal(f.hdr.src_gen, 7);
	assert_int_equal(f.hdr.len, sizeof(ev) + 5);
	assert_int_equal(f.fd, -1);
	assert_memory_equal(f.payload, &ev, sizeof(ev));
	assert_memory_equal(f.payload + sizeof(ev), "hello", 5);
	/* the other way, empty payload */
	assert_int_equal(chan_send(&b, FR_READY, 0, NULL, 0, NULL, 0, -1),
			 IO_DONE);
	assert_int_equal(chan_recv(&a, &f), IO_DONE);
	assert_int_equal(f.hdr.type, FR_READY);
	assert_int_equal(f.hdr.len, 0);
	/* too big to send */
	static char big[FRAME_MAX_PAYLOAD];
	assert_int_equal(
		chan_send(&a, FR_FILE_DATA, 0, big, sizeof(big), "x", 1, -1),
		IO_CLOSED);
	assert_int_equal(
		chan_send(&a, FR_FILE_DATA, 0, big, sizeof(big), NULL, 0, -1),
		IO_DONE);
	assert_int_equal(chan_recv(&b, &f), IO_DONE);
	assert_int_equal(f.hdr.len, FRAME_MAX_PAYLOAD);
	/* a malformed frame is dropped and counted */
	assert_int_equal(chan_send(&a, FR_START, 0, "x", 1, NULL, 0, -1),
			 IO_DONE);
	assert_int_equal(chan_recv(&b, &f), IO_ERROR);
	assert_int_equal(b.bad_frames, 1);
	/* the peer closes: dead */
	chan_close(&a);
	assert_int_equal(a.fd, -1);
	assert_int_equal(chan_recv(&b, &f), IO_CLOSED);
	chan_close(&b);
	chan_self(0, 0);
}

static void
test_chan_queue_when_full(void **state)
{
	struct chan a, b;
	struct frame f;
	static char data[8192];
	uint32_t sent = 0, got = 0;

	(void)state;
	pair(&a, &b);
	/* fill the kernel until frames start to wait in our queue */
	while (!chan_pending(&a)) {
		memcpy(data, &sent, sizeof(sent));
		assert_int_equal(chan_send(&a, FR_FILE_DATA, sent, data,
					   sizeof(data), NULL, 0, -1),
				 IO_DONE);
		sent++;
		assert_true(sent < 100000);
	}
	/* more behind them, queued in order even if the kernel had room */
	for (int i = 0; i < 20; i++, sent++) {
		memcpy(data, &sent, sizeof(sent));
		assert_int_equal(chan_send(&a, FR_FILE_DATA, sent, data,
					   sizeof(data), NULL, 0, -1),
				 IO_DONE);
	}
	assert_true(a.queued_msgs >= 21);
	assert_int_equal(a.queued_bytes,
			 a.queued_msgs *
				 (sizeof(struct frame_hdr) + sizeof(data)));
	assert_int_equal(chan_flush(&a), IO_AGAIN);
	/* drain: read what is there, push more, until all arrived in order */
	int rounds = 0;
	while (got < sent) {
		int rc;
		while ((rc = chan_recv(&b, &f)) == IO_DONE) {
			uint32_t seq;
			memcpy(&seq, f.payload, sizeof(seq));
			assert_int_equal(f.hdr.id, got);
			assert_int_equal(seq, got);
			got++;
		}
		assert_int_equal(rc, IO_AGAIN);
		rc = chan_flush(&a);
		assert_true(rc == IO_DONE || rc == IO_AGAIN);
		assert_true(++rounds < 100000);
	}
	assert_false(chan_pending(&a));
	assert_int_equal(a.queued_msgs, 0);
	assert_int_equal(a.queued_bytes, 0);
	assert_int_equal(chan_flush(&a), IO_DONE);
	/* closing with a queue frees it (ASan/LSan would tell) */
	memset(data, 0, sizeof(data));
	while (!chan_pending(&a))
		chan_send(&a, FR_FILE_DATA, 0, data, sizeof(data), NULL, 0, -1);
	chan_close(&a);
	chan_close(&b);
}

static void
check_fd_is_pipe(int fd, int wr)
{
	char c = 0;

	assert_true(fd >= 0);
	assert_int_equal(write(wr, "z", 1), 1);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'z');
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void
test_chan_fd_passing(void **state)
{
	struct chan a, b;
	struct frame f;
	struct peer_body pb = {2, 9};
	int p[2];

	(void)state;
	pair(&a, &b);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(
		chan_send(&a, FR_PEER_UP, 0, &pb, sizeof(pb), NULL, 0, p[0]),
		IO_DONE);
	assert_int_equal(chan_recv(&b, &f), IO_DONE);
	assert_int_equal(f.hdr.type, FR_PEER_UP);
	assert_int_not_equal(f.fd, p[0]);
	check_fd_is_pipe(f.fd, p[1]);
	close(f.fd);

	/* an fd on a frame type that carries none: refused and closed */
	assert_int_equal(
		chan_send(&a, FR_PEER_DOWN, 0, &pb, sizeof(pb), NULL, 0, p[0]),
		IO_DONE);
	int probe = dup(0);
	close(probe);
	assert_int_equal(chan_recv(&b, &f), IO_ERROR);
	int probe2 = dup(0);
	assert_int_equal(probe2, probe); /* nothing leaked */
	close(probe2);
	/* PEER_UP without its fd: refused */
	assert_int_equal(
		chan_send(&a, FR_PEER_UP, 0, &pb, sizeof(pb), NULL, 0, -1),
		IO_DONE);
	assert_int_equal(chan_recv(&b, &f), IO_ERROR);

	/* from the queue: the sender may close its fd right after sending */
	static char data[8192];
	while (!chan_pending(&a))
		chan_send(&a, FR_FILE_DATA, 0, data, sizeof(data), NULL, 0, -1);
	int q[2];
	assert_int_equal(pipe(q), 0);
	assert_int_equal(
		chan_send(&a, FR_PEER_UP, 77, &pb, sizeof(pb), NULL, 0, q[0]),
		IO_DONE);
	close(q[0]);
	int seen = 0;
	for (int rounds = 0; !seen && rounds < 100000; rounds++) {
		while (chan_recv(&b, &f) == IO_DONE) {
			if (f.hdr.type == FR_PEER_UP) {
				assert_int_equal(f.hdr.id, 77);
				check_fd_is_pipe(f.fd, q[1]);
				close(f.fd);
				seen = 1;
			}
		}
		chan_flush(&a);
	}
	assert_true(seen);
	close(q[1]);
	close(p[0]);
	close(p[1]);
	chan_close(&a);
	chan_close(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_good),
		cmocka_unit_test(test_validate_length_and_type),
		cmocka_unit_test(test_validate_fd),
		cmocka_unit_test(test_validate_strings),
		cmocka_unit_test(test_validate_event),
		cmocka_unit_test(test_validate_events),
		cmocka_unit_test(test_chan_round_trip),
		cmocka_unit_test(test_chan_queue_when_full),
		cmocka_unit_test(test_chan_fd_passing),
	};
	return cmocka_run_group_tests(tests, setup_quiet, NULL);
}
