/* Proves worker/spool.c: spool files have no name (nothing to leave behind),
 * the folder is created private and a foreign one is refused, the quota is
 * never exceeded by concurrent processes and a dead worker's share is given
 * back by a slot reset, bytes written come back unchanged through
 * spool_read and spool_sendfile, and spool_close closes (through the
 * closer thread once it runs). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../worker/spool.h"
#include "unit_quiet.h"

struct fixture {
	char dir[256];
	struct spool *s;
};

static int
entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256], tmpl[] = "/tmp/test_spool.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	snprintf(f->dir, sizeof(f->dir), "%s/spool", tmpl);
	assert_int_equal(
		spool_prepare_dir(f->dir, geteuid(), getegid(), err, 256), 0);
	f->s = spool_create(f->dir, 1000, 4, err, sizeof(err));
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char parent[256];

	spool_destroy(f->s);
	rmdir(f->dir);
	snprintf(parent, sizeof(parent), "%s", f->dir);
	*strrchr(parent, '/') = '\0';
	rmdir(parent);
	free(f);
	return 0;
}

static void
test_default_dir(void **state)
{
	char d[256];

	(void)state;
	assert_int_equal(spool_default_dir(d, sizeof(d), 0), 0);
	assert_string_equal(d, "/var/spool/forkchat");
	setenv("TMPDIR", "/scratch", 1);
	assert_int_equal(spool_default_dir(d, sizeof(d), 1000), 0);
	assert_string_equal(d, "/scratch/forkchatd-1000");
	setenv("TMPDIR", "relative", 1);
	assert_int_equal(spool_default_dir(d, sizeof(d), 1000), 0);
	assert_string_equal(d, "/tmp/forkchatd-1000");
	unsetenv("TMPDIR");
	assert_int_equal(spool_default_dir(d, 8, 1000), -1);
}

static void
test_dir_private_and_checked(void **state)
{
	struct fixture *f = *state;
	char err[256], other[300], link[300];
	struct stat st;

	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* a second start finds it and accepts it */
	assert_int_equal(spool_prepare_dir(f->dir, geteuid(), getegid(), err,
					   sizeof(err)),
			 0);
	/* a folder others can write to, a symlink, a relative path: refused */
	snprintf(other, sizeof(other), "%s/open", f->dir);
	assert_int_equal(mkdir(other, 0777), 0);
	assert_int_equal(chmod(other, 0777), 0);
	assert_int_equal(spool_prepare_dir(other, geteuid(), getegid(), err,
					   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "mode 0700"));
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink("/tmp", link), 0);
	assert_int_equal(
		spool_prepare_dir(link, geteuid(), getegid(), err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "symlink"));
	assert_int_equal(spool_prepare_dir("rel/dir", geteuid(), getegid(), err,
					   sizeof(err)),
			 -1);
	unlink(link);
	rmdir(other);
}

static void
test_create_needs_a_usable_dir(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(
		spool_create("/nonexistent/forkchat", 10, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create a file"));
}

static void
test_files_have_no_name(void **state)
{
	struct fixture *f = *state;
	uint64_t off = 0;
	char back[6] = "";

	int fd = spool_open(f->s, 5);
	assert_true(fd >= 0);
	assert_int_equal(entries_in(f->dir), 0);
	assert_int_equal(spool_append(fd, &off, "hello", 5), 5);
	assert_int_equal(off, 5);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_nlink, 0);
	off = 0;
	assert_int_equal(spool_read(fd, &off, back, 5), 5);
	assert_string_equal(back, "hello");
	assert_int_equal(entries_in(f->dir), 0);
	close(fd);
}

static void
test_full_disk_refused_at_open(void **state)
{
	struct fixture *f = *state;

	/* far more than any disk: refused before a byte is written */
	errno = 0;
	assert_int_equal(spool_open(f->s, 1ull << 60), -1);
	assert_true(errno == ENOSPC || errno == EFBIG);
	assert_int_equal(entries_in(f->dir), 0);
}

static void
test_quota(void **state)
{
	struct fixture *f = *state;

	assert_true(spool_reserve(f->s, 0, 600));
	assert_false(spool_reserve(f->s, 1, 401)); /* 1001 > 1000 */
	assert_true(spool_reserve(f->s, 1, 400));  /* exactly the quota */
	assert_int_equal(spool_used(f->s), 1000);
	assert_false(spool_reserve(f->s, 2, 1));
	spool_release(f->s, 0, 600);
	assert_int_equal(spool_used(f->s), 400);
	/* a hand-over: slot 1 releases, slot 2 is charged, the total holds */
	spool_release(f->s, 1, 400);
	spool_charge(f->s, 2, 400);
	assert_int_equal(spool_used(f->s), 400);
	spool_release(f->s, 2, 9999); /* never below zero */
	assert_int_equal(spool_used(f->s), 0);
	assert_false(spool_reserve(f->s, 0, 1001));
	assert_false(spool_reserve(f->s, 4, 1)); /* no such slot */
	assert_int_equal(spool_used(f->s), 0);
	assert_int_equal(spool_quota(f->s), 1000);
	assert_string_equal(spool_dir(f->s), f->dir);
}

/* Four processes race for one-byte reservations: what they hold together
 * never exceeds the quota, and the shared total is exactly that. */
static void
test_quota_across_processes(void **state)
{
	struct fixture *f = *state;
	pid_t pids[4];
	int held = 0;
	char err[256];

	/* a quota whose shares fit an exit status */
	spool_destroy(f->s);
	f->s = spool_create(f->dir, 200, 4, err, sizeof(err));
	assert_non_null(f->s);

	for (unsigned k = 0; k < 4; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			int got = 0;
			for (int i = 0; i < 2000; i++)
				got += spool_reserve(f->s, k, 1);
			_exit(got);
		}
	}
	for (unsigned k = 0; k < 4; k++) {
		int st;
		assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
		assert_true(WIFEXITED(st));
		held += WEXITSTATUS(st);
	}
	assert_true(held <= 200);
	assert_true(held > 0);
	assert_int_equal(spool_used(f->s), (uint64_t)held);
	for (unsigned k = 0; k < 4; k++)
		spool_slot_reset(f->s, k);
	assert_int_equal(spool_used(f->s), 0);
}

/* A worker killed while it holds a reservation: the share stays counted
 * until its slot's next worker resets it, then the quota is whole again. */
static void
test_dead_worker_share_reset(void **state)
{
	struct fixture *f = *state;
	int pipefd[2];
	char ok;

	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = spool_open(f->s, 900);
		bool r = fd >= 0 && spool_reserve(f->s, 3, 900);
		(void)!write(pipefd[1], r ? "y" : "n", 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(pipefd[0], &ok, 1), 1);
	assert_int_equal(ok, 'y');
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(entries_in(f->dir), 0);
	assert_false(spool_reserve(f->s, 0, 200));
	spool_slot_reset(f->s, 3);
	assert_true(spool_reserve(f->s, 0, 1000));
	spool_release(f->s, 0, 1000);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void
fill_pattern(char *p, size_t n, size_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)((start + i) * 2654435761u >> 24);
}

/* 20 MiB across several writeback steps, read back unchanged */
static void
test_append_across_flush_steps(void **state)
{
	struct fixture *f = *state;
	size_t chunk = 1u << 20, total = 20u << 20;
	char *buf = malloc(chunk), *want = malloc(chunk);
	uint64_t off = 0;

	int fd = spool_open(f->s, total);
	assert_true(fd >= 0);
	for (size_t done = 0; done < total; done += chunk) {
		fill_pattern(buf, chunk, done);
		assert_int_equal(spool_append(fd, &off, buf, chunk), chunk);
	}
	assert_int_equal(off, total);
	off = 0;
	for (size_t done = 0; done < total; done += chunk) {
		fill_pattern(want, chunk, done);
		assert_int_equal(spool_read(fd, &off, buf, chunk), chunk);
		assert_memory_equal(buf, want, chunk);
	}
	assert_int_equal(spool_read(fd, &off, buf, chunk), 0);
	close(fd);
	free(buf);
	free(want);
}

/* sendfile to a non-blocking socket: all bytes in order, 0 when full */
static void
test_sendfile_to_socket(void **state)
{
	struct fixture *f = *state;
	size_t total = 3u << 20;
	char *src = malloc(total), *got = malloc(total);
	uint64_t woff = 0, soff = 0;
	size_t have = 0;
	int sv[2];
	bool saw_full = false;

	fill_pattern(src, total, 7);
	int fd = spool_open(f->s, total);
	assert_int_equal(spool_append(fd, &woff, src, total), total);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	while (spool_sendfile(sv[0], fd, &soff, total - soff) > 0)
		;
	saw_full = soff < total; /* the socket took part, then said "full" */
	while (have < total) {
		if (soff < total) {
			ssize_t k =
				spool_sendfile(sv[0], fd, &soff, total - soff);
			assert_true(k >= 0);
		}
		if (soff > have) {
			ssize_t r = read(sv[1], got + have, soff - have);
			assert_true(r > 0);
			have += (size_t)r;
		}
	}
	assert_true(saw_full);
	assert_memory_equal(got, src, total);
	close(sv[0]);
	close(sv[1]);
	close(fd);
	free(src);
	free(got);
}

/* No closer thread yet: spool_close closes at once. */
static void
test_close_without_closer(void **state)
{
	struct fixture *f = *state;
	int fd = spool_open(f->s, 0);

	assert_true(fd >= 0);
	spool_close(fd);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	spool_close(-1); /* nothing */
}

/* With the closer thread, a spool file is closed soon, off the caller. */
static void
test_closer_closes(void **state)
{
	struct fixture *f = *state;
	size_t chunk = 1u << 20;
	char *buf = calloc(1, chunk);
	uint64_t off = 0;

	assert_int_equal(spool_closer_start(), 0);
	assert_int_equal(spool_closer_start(), 0); /* once is enough */
	int fd = spool_open(f->s, 16 * chunk);
	assert_true(fd >= 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(spool_append(fd, &off, buf, chunk), chunk);
	spool_close(fd);
	struct timespec ms = {0, 1000000};
	int tries = 0;
	while (fcntl(fd, F_GETFD) != -1 && tries++ < 5000)
		nanosleep(&ms, NULL);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(entries_in(f->dir), 0);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_dir),
		cmocka_unit_test_setup_teardown(test_dir_private_and_checked,
						setup, teardown),
		cmocka_unit_test(test_create_needs_a_usable_dir),
		cmocka_unit_test_setup_teardown(test_files_have_no_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_refused_at_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_across_processes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_worker_share_reset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_across_flush_steps,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sendfile_to_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_without_closer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_closer_closes, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, setup_quiet, NULL);
}
