/* Proves ipc/userinfo.c: an entry is seen only under the connection id and
 * name that wrote it, is shared with a forked process, and a reader never
 * sees a torn entry while the writer rewrites it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../ipc/userinfo.h"

static void
fill(struct uinfo *v, uint32_t conn, char c)
{
	memset(v, 0, sizeof(*v));
	v->conn_id = conn;
	snprintf(v->nick, sizeof(v->nick), "nick");
	memset(v->user, c, 8);
	memset(v->host, c, 40);
	memset(v->real, c, 50);
	memset(v->away, c, 150);
	v->signon = c;
}

static void
test_put_get_clear(void **state)
{
	struct userinfo *u = userinfo_create(4);
	struct uinfo in, out;

	(void)state;
	assert_non_null(u);
	/* never written */
	assert_int_equal(userinfo_get(u, 1, 0, "", &out), -1);
	fill(&in, 7, 'a');
	userinfo_put(u, 1, &in);
	assert_int_equal(userinfo_get(u, 1, 7, "nick", &out), 0);
	assert_memory_equal(&out, &in, sizeof(in));
	/* another connection, another name (case counts), out of range */
	assert_int_equal(userinfo_get(u, 1, 8, "nick", &out), -1);
	assert_int_equal(userinfo_get(u, 1, 7, "Nick", &out), -1);
	assert_int_equal(userinfo_get(u, 9, 7, "nick", &out), -1);
	/* after a rename, the old name finds it too */
	snprintf(in.prev, sizeof(in.prev), "old");
	userinfo_put(u, 1, &in);
	assert_int_equal(userinfo_get(u, 1, 7, "old", &out), 0);
	assert_int_equal(userinfo_get(u, 1, 7, "nick", &out), 0);
	assert_int_equal(userinfo_get(u, 1, 7, "older", &out), -1);
	/* the slot's next writer replaces it */
	fill(&in, 9, 'b');
	userinfo_put(u, 1, &in);
	assert_int_equal(userinfo_get(u, 1, 7, "nick", &out), -1);
	assert_int_equal(userinfo_get(u, 1, 9, "nick", &out), 0);
	/* the peak only rises */
	assert_int_equal(userinfo_peak(u, 3), 3);
	assert_int_equal(userinfo_peak(u, 1), 3);
	assert_int_equal(userinfo_peak(u, 5), 5);
	userinfo_destroy(u);
}

/* A forked writer rewrites one entry with whole patterns; every read in the
 * parent is one pattern, never a mix. */
static void
test_no_torn_reads(void **state)
{
	struct userinfo *u = userinfo_create(2);
	struct uinfo in, out;

	(void)state;
	fill(&in, 1, 'a');
	userinfo_put(u, 0, &in);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 200000; i++) {
			fill(&in, 1, (char)('a' + i % 26));
			userinfo_put(u, 0, &in);
		}
		_exit(0);
	}
	int seen = 0;
	for (int i = 0; i < 200000; i++) {
		if (userinfo_get(u, 0, 1, "nick", &out) < 0)
			continue;
		char c = out.user[0];
		for (int k = 0; k < 150; k++)
			assert_int_equal(out.away[k], c);
		assert_int_equal(out.signon, c);
		seen++;
	}
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(seen > 0);
	assert_int_equal(userinfo_get(u, 0, 1, "nick", &out), 0);
	assert_int_equal(out.user[0], 'a' + 199999 % 26);
	userinfo_destroy(u);
}

static void
gone(struct userinfo *u, const char *nick, const char *user)
{
	struct uinfo g;

	memset(&g, 0, sizeof(g));
	snprintf(g.nick, sizeof(g.nick), "%s", nick);
	snprintf(g.user, sizeof(g.user), "%s", user);
	userinfo_whowas_add(u, &g);
}

/* WHOWAS: the most recent first, case ignored, at most max, and only the
 * last WHOWAS_MAX records kept */
static void
test_whowas_ring(void **state)
{
	struct userinfo *u = userinfo_create(4);
	struct uinfo out[4];

	(void)state;
	assert_non_null(u);
	assert_int_equal(userinfo_whowas_find(u, "bob", out, 4), 0);
	gone(u, "bob", "first");
	gone(u, "alice", "x");
	gone(u, "Bob", "second");
	assert_int_equal(userinfo_whowas_find(u, "BOB", out, 4), 2);
	assert_string_equal(out[0].user, "second");
	assert_string_equal(out[1].user, "first");
	assert_int_equal(userinfo_whowas_find(u, "bob", out, 1), 1);
	assert_string_equal(out[0].user, "second");
	for (int i = 0; i < WHOWAS_MAX; i++)
		gone(u, "filler", "f");
	assert_int_equal(userinfo_whowas_find(u, "bob", out, 4), 0);
	assert_int_equal(userinfo_whowas_find(u, "filler", out, 4), 4);
	userinfo_destroy(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_clear),
		cmocka_unit_test(test_no_torn_reads),
		cmocka_unit_test(test_whowas_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
