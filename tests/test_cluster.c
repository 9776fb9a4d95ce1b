/* Proves cluster/ against a real redis-server (own port, no persistence):
 * exactly one of two nodes wins a name claimed at the same instant; a node
 * killed with SIGKILL is declared dead within its TTL and its names freed;
 * a node stopped past its TTL learns it was declared dead; Redis killed
 * and restarted empty is survived by a resync; frames cross the bus in
 * order, to one user's node, and a bounded queue's loss is seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cluster/link.h"
#include "../ipc/frame.h"
#include "../common/util.h"
#include "unit_quiet.h"

#define TTL_MS 1000

static int redis_port;
static pid_t redis_pid;

static int
free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* A synchronous connection for the test's own checks. */
static redisContext *
redis_sync(void)
{
	struct timeval tv = {1, 0};
	redisContext *rc = redisConnectWithTimeout("127.0.0.1", redis_port, tv);

	if (rc && rc->err) {
		redisFree(rc);
		return NULL;
	}
	return rc;
}

static void
redis_start(void)
{
	char port[16];

	snprintf(port, sizeof(port), "%d", redis_port);
	redis_pid = fork();
	assert_true(redis_pid >= 0);
	if (redis_pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execlp("redis-server", "redis-server", "--port", port, "--bind",
		       "127.0.0.1", "--save", "", "--appendonly", "no",
		       "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	for (int64_t d = now_ms() + 5000; now_ms() < d; usleep(20000)) {
		redisContext *rc = redis_sync();
		if (rc == NULL)
			continue;
		redisReply *r = redisCommand(rc, "PING");
		bool ok = r && r->type == REDIS_REPLY_STATUS;
		freeReplyObject(r);
		redisFree(rc);
		if (ok)
			return;
	}
	fail_msg("redis-server did not start on port %d", redis_port);
}

static void
redis_kill(void)
{
	kill(redis_pid, SIGKILL);
	waitpid(redis_pid, NULL, 0);
	redis_pid = 0;
}

static int
setup_redis(void **state)
{
	(void)state;
	redis_port = free_port();
	redis_start();
	return 0;
}

static int
teardown_redis(void **state)
{
	(void)state;
	if (redis_pid > 0)
		redis_kill();
	return 0;
}

/* One loop for every test: a process has one loop for its life. */
static struct loop *
test_loop(void)
{
	static struct loop *the_loop;

	if (the_loop == NULL)
		the_loop = loop_new();
	assert_non_null(the_loop);
	return the_loop;
}

/* ---- a node as the tests see it ---- */

struct node {
	struct loop *loop;
	struct clink *l;
	int ups, downs, deads, losses, node_downs, msgs;
	bool resync;
	long long claim;
	int claims;
	char down_users[512];
	char msg[4][128];
};

static void
on_up(void *arg, bool resync)
{
	struct node *n = arg;
	n->ups++;
	n->resync = n->resync || resync;
}

static void
on_down(void *arg)
{
	((struct node *)arg)->downs++;
}

static void
on_dead(void *arg)
{
	((struct node *)arg)->deads++;
}

static void
on_msg(void *arg, const char *src, const char *data, size_t len)
{
	struct node *n = arg;
	(void)src;
	if (n->msgs < 4)
		snprintf(n->msg[n->msgs], sizeof(n->msg[0]), "%.*s", (int)len,
			 data);
	n->msgs++;
}

static void
on_node_down(void *arg, const char *node, const char *users)
{
	struct node *n = arg;
	(void)node;
	n->node_downs++;
	snprintf(n->down_users, sizeof(n->down_users), "%s", users);
}

static void
on_loss(void *arg, const char *src, uint64_t missed)
{
	(void)src;
	((struct node *)arg)->losses += (int)missed;
}

static const struct clink_hooks hooks = {on_up,  on_down,      on_dead,
					 on_msg, on_node_down, on_loss};

static void
on_claim(void *arg, long long res, const struct redisReply *r)
{
	struct node *n = arg;
	(void)r;
	n->claim = res;
	n->claims++;
}

static void
node_open(struct node *n, struct loop *l, const char *id, size_t max_queue)
{
	struct clink_opts o = {.ttl_ms = TTL_MS, .max_queue = max_queue};
	char err[128];

	memset(n, 0, sizeof(*n));
	n->loop = l;
	assert_int_equal(cluster_url_parse("redis://127.0.0.1:0", &o.url, err,
					   sizeof(err)),
			 -1); /* port 0 is refused */
	snprintf(o.url.host, sizeof(o.url.host), "127.0.0.1");
	o.url.port = redis_port;
	snprintf(o.node, sizeof(o.node), "%s", id);
	snprintf(o.incarnation, sizeof(o.incarnation), "%d.%lld", getpid(),
		 (long long)now_ms());
	n->l = clink_new(l, &o, &hooks, n);
	assert_non_null(n->l);
}

#define RUN_UNTIL(l, cond, ms)                                                 \
	do {                                                                   \
		int64_t d_ = now_ms() + (ms);                                  \
		while (!(cond) && now_ms() < d_)                               \
			loop_run_once(l);                                      \
		assert_true(cond);                                             \
	} while (0)

/* Links na (a) and nb (b) up, and name claimed by owner (a or b). */
static void
nodes_up_claimed(struct loop *l, struct node *a, struct node *b,
		 struct node *owner, const char *name)
{
	node_open(a, l, "na", 0);
	node_open(b, l, "nb", 0);
	RUN_UNTIL(l, a->ups == 1 && b->ups == 1, 3000);
	clink_claim(owner->l, name, owner == a ? 0 : 1, NULL, 0, on_claim,
		    owner);
	RUN_UNTIL(l, owner->claims == 1, 2000);
}

/* Free the links and, once their timers have run out, the loop. */
static void
node_close(struct loop *l, struct node *a, struct node *b)
{
	int want = clink_live_count() - (b ? 2 : 1);

	clink_free(a->l);
	if (b)
		clink_free(b->l);
	assert_int_equal(clink_live_count(), want);
	RUN_UNTIL(l, true, 0); /* the loop goes on without them */
}

static char *
redis_get(const char *fmt, const char *arg)
{
	redisContext *rc = redis_sync();
	assert_non_null(rc);
	redisReply *r = redisCommand(rc, fmt, arg);
	char *s = r && r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
	freeReplyObject(r);
	redisFree(rc);
	return s;
}

/* ---- tests ---- */

static void
test_claim_race_one_wins(void **state)
{
	struct loop *l = test_loop();
	struct node a, b;
	char name[16];

	(void)state;
	node_open(&a, l, "na", 0);
	node_open(&b, l, "nb", 0);
	RUN_UNTIL(l, a.ups == 1 && b.ups == 1, 3000);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		a.claims = b.claims = 0;
		/* both in flight before either answer is read */
		assert_int_equal(
			clink_claim(a.l, name, 0, NULL, 0, on_claim, &a), 0);
		assert_int_equal(
			clink_claim(b.l, name, 0, NULL, 0, on_claim, &b), 0);
		RUN_UNTIL(l, a.claims == 1 && b.claims == 1, 2000);
		assert_true((a.claim > 0) != (b.claim > 0));
		assert_int_equal(a.claim > 0 ? b.claim : a.claim, CLR_TAKEN);
	}
	/* freed at logout: then the other node may have it */
	char *holder = redis_get("GET fc:name:%s", "u0");
	struct node *h = strcmp(holder, "na") == 0 ? &a : &b;
	struct node *o = h == &a ? &b : &a;
	free(holder);
	h->claims = 0;
	assert_int_equal(clink_release(h->l, "u0", on_claim, h), 0);
	RUN_UNTIL(l, h->claims == 1, 2000);
	assert_int_equal(h->claim, 1);
	o->claims = 0;
	clink_claim(o->l, "u0", 0, NULL, 0, on_claim, o);
	RUN_UNTIL(l, o->claims == 1, 2000);
	assert_true(o->claim > 0);
	node_close(l, &a, &b);
}

/* A node in a child process: claims `name` in `room`, says 'C' on the
 * pipe, and 'X' if it is ever declared dead. */
static pid_t
node_child(const char *id, const char *name, int *rd)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(p[1]);
		*rd = p[0];
		return pid;
	}
	close(p[0]);
	struct loop *l = loop_new(); /* its own: epoll is shared over fork */
	struct node n;
	node_open(&n, l, id, 0);
	while (n.ups == 0)
		loop_run_once(l);
	clink_claim(n.l, name, 0, NULL, 0, on_claim, &n);
	while (n.claims == 0)
		loop_run_once(l);
	long long claimed = n.claim;
	clink_room_join(n.l, "lobby", name);
	/* one connection keeps order: the PING answers after the join */
	n.claims = 0;
	clink_query(n.l, on_claim, &n, "PING");
	while (n.claims == 0)
		loop_run_once(l);
	if (claimed <= 0 || write(p[1], "C", 1) != 1)
		_exit(1);
	for (int deads = 0;; loop_run_once(l))
		if (n.deads > deads && write(p[1], "X", 1) == 1)
			deads = n.deads;
}

static int
pipe_read(int fd, int ms)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	char ch;

	if (poll(&pf, 1, ms) != 1 || read(fd, &ch, 1) != 1)
		return -1;
	return ch;
}

/* Node nb here, node na in a child holding alice in lobby. */
static pid_t
pair_open(struct loop *l, struct node *b, int *rd)
{
	node_open(b, l, "nb", 0);
	RUN_UNTIL(l, b->ups == 1, 3000);
	pid_t child = node_child("na", "alice", rd);
	assert_int_equal(pipe_read(*rd, 3000), 'C');
	return child;
}

static void
test_sigkill_declared_dead_within_ttl(void **state)
{
	struct loop *l = test_loop();
	struct node b;
	int rd;

	(void)state;
	pid_t child = pair_open(l, &b, &rd);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	int64_t t0 = now_ms();
	/* within the TTL, plus a little for a loaded machine */
	RUN_UNTIL(l, b.node_downs == 1, TTL_MS + 300);
	int64_t took = now_ms() - t0;
	print_message("node declared dead %lld ms after SIGKILL (TTL %d)\n",
		      (long long)took, TTL_MS);
	assert_string_equal(b.down_users, "alice\tlobby");
	b.claims = 0;
	clink_claim(b.l, "alice", 0, NULL, 0, on_claim, &b);
	RUN_UNTIL(l, b.claims == 1, 2000);
	assert_true(b.claim > 0);
	close(rd);
	node_close(l, &b, NULL);
}

static void
test_sigstop_past_ttl_learns_it_is_dead(void **state)
{
	struct loop *l = test_loop();
	struct node b;
	int rd;

	(void)state;
	pid_t child = pair_open(l, &b, &rd);
	kill(child, SIGSTOP);
	RUN_UNTIL(l, b.node_downs == 1, TTL_MS + 300);
	/* the name is free for others while the stopped node sleeps */
	clink_claim(b.l, "alice", 0, NULL, 0, on_claim, &b);
	RUN_UNTIL(l, b.claims == 1, 2000);
	assert_true(b.claim > 0);
	kill(child, SIGCONT);
	assert_int_equal(pipe_read(rd, 3000), 'X');
	char *holder = redis_get("GET fc:name:%s", "alice");
	assert_string_equal(holder, "nb");
	free(holder);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(rd);
	node_close(l, &b, NULL);
}

static void
test_redis_restart_empty_resync(void **state)
{
	struct loop *l = test_loop();
	struct node a, b;

	(void)state;
	nodes_up_claimed(l, &a, &b, &a, "carol");
	long long seq = a.claim;
	assert_true(seq > 0);
	clink_sub_room(a.l, "lobby");
	redis_kill();
	RUN_UNTIL(l, a.downs == 1 && b.downs == 1, 3000);
	assert_int_equal(clink_claim(a.l, "dave", 0, NULL, 0, on_claim, &a),
			 CLR_DOWN);
	redis_start();
	RUN_UNTIL(l, a.ups == 2 && b.ups == 2, 8000);
	assert_true(a.resync && b.resync);
	struct clink_stats st;
	clink_get_stats(a.l, &st);
	RUN_UNTIL(l, (clink_get_stats(a.l, &st), st.subscribed == 3), 2000);
	/* what the owner does on a resync: re-assert its users */
	a.claims = 0;
	clink_assert(a.l, "carol", 0, (uint64_t)seq, NULL, 0, on_claim, &a);
	RUN_UNTIL(l, a.claims == 1, 2000);
	assert_int_equal(a.claim, seq);
	b.claims = 0;
	clink_claim(b.l, "carol", 0, NULL, 0, on_claim, &b);
	RUN_UNTIL(l, b.claims == 1, 2000);
	assert_int_equal(b.claim, CLR_TAKEN);
	/* and the room channel was subscribed again */
	int before = a.msgs;
	assert_int_equal(clink_publish_room(b.l, "lobby", "hi", 2), 0);
	RUN_UNTIL(l, a.msgs == before + 1, 2000);
	assert_string_equal(a.msg[before < 4 ? before : 3], "hi");
	node_close(l, &a, &b);
}

static void
test_bus_order_and_unicast(void **state)
{
	struct loop *l = test_loop();
	struct node a, b;
	char m[16];

	(void)state;
	node_open(&a, l, "na", 0);
	node_open(&b, l, "nb", 0);
	RUN_UNTIL(l, a.ups == 1 && b.ups == 1, 3000);
	clink_claim(b.l, "erin", 1, "hello ", 6, on_claim, &b);
	RUN_UNTIL(l, b.claims == 1, 2000);
	for (int i = 0; i < 1000; i++) {
		snprintf(m, sizeof(m), "%d", i);
		assert_int_equal(clink_publish_all(a.l, m, strlen(m)), 0);
	}
	RUN_UNTIL(l, b.msgs == 1000 && a.msgs == 1, 5000);
	assert_int_equal(b.losses, 0);
	/* the claim announced the login with its sequence; a node does not
	 * hear its own messages */
	char want[32];
	snprintf(want, sizeof(want), "hello %lld", b.claim);
	assert_string_equal(a.msg[0], want);
	assert_string_equal(b.msg[0], "0");
	assert_string_equal(b.msg[3], "3");
	a.claims = 0;
	clink_send_user(a.l, "erin", "pm", 2, on_claim, &a);
	RUN_UNTIL(l, a.claims == 1 && b.msgs == 1001, 2000);
	assert_int_equal(a.claim, 1);
	a.claims = 0;
	clink_send_user(a.l, "nobody", "pm", 2, on_claim, &a);
	RUN_UNTIL(l, a.claims == 1, 2000);
	assert_int_equal(a.claim, 0);
	node_close(l, &a, &b);
}

static void
test_bounded_queue_loss_is_seen(void **state)
{
	struct loop *l = test_loop();
	struct node a, b;
	static char big[4000];
	int full = 0;

	(void)state;
	node_open(&a, l, "na", 16384);
	node_open(&b, l, "nb", 0);
	RUN_UNTIL(l, a.ups == 1 && b.ups == 1, 3000);
	memset(big, 'x', sizeof(big));
	/* all in one loop pass: nothing is answered meanwhile */
	for (int i = 0; i < 20; i++)
		full += clink_publish_all(a.l, big, sizeof(big)) == CLR_FULL;
	assert_true(full > 0);
	clink_publish_all(a.l, "end", 3); /* a gap before it is seen */
	struct clink_stats st;
	RUN_UNTIL(l, b.losses > 0, 3000);
	clink_get_stats(a.l, &st);
	assert_int_equal(st.dropped, (uint64_t)full);
	assert_int_equal(b.losses, full);
	node_close(l, &a, &b);
}

/* Deliveries to one user are numbered per sender and receiving node: two
 * that Redis counted and never published are a gap of two. */
static void
test_unicast_gap_is_seen(void **state)
{
	struct loop *l = test_loop();
	struct node a, b;

	(void)state;
	nodes_up_claimed(l, &a, &b, &b, "erin");
	clink_send_user(a.l, "erin", "pm1", 3, NULL, NULL);
	RUN_UNTIL(l, b.msgs == 1, 2000);
	redisContext *rc = redis_sync();
	assert_non_null(rc);
	freeReplyObject(
		redisCommand(rc, "HINCRBY fc:useq:nb %s 2", clink_self(a.l)));
	redisFree(rc);
	clink_send_user(a.l, "erin", "pm4", 3, NULL, NULL);
	RUN_UNTIL(l, b.msgs == 2, 2000);
	assert_string_equal(b.msg[1], "pm4");
	assert_int_equal(b.losses, 2);
	node_close(l, &a, &b);
}

/* FR_CLAIM, FR_CLAIM_REPLY, FR_KICK are checked like every frame. */
static void
test_claim_frames_validated(void **state)
{
	char buf[sizeof(struct frame_hdr) + sizeof(struct claim_body) + 8];
	struct frame_hdr *h = (struct frame_hdr *)buf;
	struct claim_body cb = {.slot = 1, .conn_id = 2};
	const char *p = buf + sizeof(*h);

	(void)state;
	memset(buf, 0, sizeof(buf));
	snprintf(cb.name, sizeof(cb.name), "alice");
	*h = (struct frame_hdr){.type = FR_CLAIM, .len = sizeof(cb)};
	memcpy(buf + sizeof(*h), &cb, sizeof(cb));
	assert_int_equal(frame_validate(h, p, sizeof(*h) + sizeof(cb), false),
			 0);
	assert_int_equal(frame_validate(h, p, sizeof(*h) + sizeof(cb), true),
			 -1); /* no descriptor belongs to it */
	memset(buf + sizeof(*h) + offsetof(struct claim_body, name), 'x',
	       REG_NAME_SZ);
	assert_int_equal(frame_validate(h, p, sizeof(*h) + sizeof(cb), false),
			 -1); /* the name must end inside its field */
	h->len = sizeof(cb) - 1;
	assert_int_equal(frame_validate(h, p, sizeof(*h) + h->len, false), -1);
	*h = (struct frame_hdr){.type = FR_CLAIM_REPLY,
				.len = sizeof(struct claim_reply_body)};
	assert_int_equal(frame_validate(h, p, sizeof(*h) + h->len, false), 0);
	*h = (struct frame_hdr){.type = FR_KICK, .len = 300};
	assert_int_equal(frame_validate(h, p, sizeof(*h) + h->len, false), -1);
	assert_string_equal(frame_type_name(FR_KICK), "KICK");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_frames_validated),
		cmocka_unit_test_setup_teardown(test_claim_race_one_wins,
						setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(
			test_sigkill_declared_dead_within_ttl, setup_redis,
			teardown_redis),
		cmocka_unit_test_setup_teardown(
			test_sigstop_past_ttl_learns_it_is_dead, setup_redis,
			teardown_redis),
		cmocka_unit_test_setup_teardown(test_redis_restart_empty_resync,
						setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_bus_order_and_unicast,
						setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_bounded_queue_loss_is_seen,
						setup_redis, teardown_redis),
		cmocka_unit_test_setup_teardown(test_unicast_gap_is_seen,
						setup_redis, teardown_redis),
	};
	signal(SIGPIPE, SIG_IGN);
	if (getenv("FC_TEST_LOG")) /* FC_TEST_LOG=1: the link's log on stderr */
		return cmocka_run_group_tests(tests, NULL, NULL);
	return cmocka_run_group_tests(tests, setup_quiet, NULL);
}
