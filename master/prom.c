/* `forkchatd status --prometheus`: the server's state in the Prometheus
 * text exposition format (version 0.0.4). Counters come from the metrics
 * slots (ipc/metrics.h), which outlive workers, so they never go down;
 * gauges from the master's own state and the registry. Names follow
 * Prometheus' rules: forkchat_ prefix, base units, _total on counters. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../common/util.h"
#include "../ipc/metrics.h"
#include "master.h"

static const char *const dialects[] = {"okfail", "numeric", "irc"};
static const char *const kinds[] = {"broadcast", "private", "room", "secure"};
static const char *const reasons[] = {
	"client",       "error",         "sendq",
	"pong_timeout", "login_timeout", "line_timeout",
	"flood_limit",  "shutdown",      "other"};
static const char *const file_results[] = {"completed", "failed"};
static const char *const tls_results[] = {"ok", "failed"};

/* One metric family kept in the worker slots: BASE .. BASE+N-1, one
 * value of LABEL each (N = 1 and LABEL NULL for an unlabelled one). */
struct family {
	const char *name, *type, *help, *label;
	enum metric base;
	int n;
	const char *const *values;
};

#define FAM(nm, ty, hl, lb, b, vals)                                           \
	{                                                                      \
		nm, ty, hl, lb, b, (int)FC_ARRAY_LEN(vals), vals               \
	}
#define FAM1(nm, ty, hl, b)                                                    \
	{                                                                      \
		nm, ty, hl, NULL, b, 1, NULL                                   \
	}

static const struct family families[] = {
	FAM("forkchat_connections", "gauge",
	    "Open client connections, logged in or not.", "dialect",
	    M_CONNECTIONS, dialects),
	FAM("forkchat_connections_accepted_total", "counter",
	    "Client connections accepted.", "dialect", M_ACCEPTED, dialects),
	FAM("forkchat_logins_total", "counter", "Successful logins.", "dialect",
	    M_LOGINS, dialects),
	FAM("forkchat_messages_total", "counter",
	    "Messages sent by clients, by kind.", "kind", M_MSG_BROADCAST,
	    kinds),
	FAM("forkchat_deliveries_total", "counter",
	    "Messages delivered to a recipient, by kind.", "kind",
	    M_DELIVER_BROADCAST, kinds),
	FAM1("forkchat_received_bytes_total", "counter",
	     "Bytes read from clients (after TLS).", M_BYTES_IN),
	FAM1("forkchat_sent_bytes_total", "counter",
	     "Bytes written to clients (before TLS).", M_BYTES_OUT),
	FAM("forkchat_disconnects_total", "counter",
	    "Client connections closed, by reason.", "reason", M_DISC_CLIENT,
	    reasons),
	FAM1("forkchat_flood_delays_total", "counter",
	     "Lines held back by flood control.", M_FLOOD_DELAYS),
	FAM1("forkchat_registry_lock_waits_total", "counter",
	     "Times the registry lock was found taken and had to be waited "
	     "for.",
	     M_LOCK_WAITS),
	FAM1("forkchat_file_transfers_started_total", "counter",
	     "FILE transfers accepted.", M_FILES_STARTED),
	FAM("forkchat_file_transfers_finished_total", "counter",
	    "FILE transfers finished, by result.", "result", M_FILES_DONE,
	    file_results),
	FAM1("forkchat_file_transferred_bytes_total", "counter",
	     "File payload bytes relayed.", M_FILE_BYTES),
	FAM("forkchat_tls_handshakes_total", "counter",
	    "TLS handshakes, by result.", "result", M_TLS_OK, tls_results),
};

static void
prom_head(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_family(FILE *o, const struct master *m, const struct family *f)
{
	prom_head(o, f->name, f->type, f->help);
	for (int k = 0; k < m->nworkers; k++) {
		const uint64_t *v = metrics_slot((unsigned)k);
		for (int i = 0; v && i < f->n; i++) {
			uint64_t x = __atomic_load_n(&v[f->base + i],
						     __ATOMIC_RELAXED);
			if (f->label)
				fprintf(o, "%s{%s=\"%s\",worker=\"%d\"} %llu\n",
					f->name, f->label, f->values[i], k,
					(unsigned long long)x);
			else
				fprintf(o, "%s{worker=\"%d\"} %llu\n", f->name,
					k, (unsigned long long)x);
		}
	}
}

/* Per-worker values the master keeps or reads from the registry. */
static void
prom_workers(FILE *o, struct master *m)
{
	static const char *const names[] = {
		"forkchat_worker_up", "forkchat_worker_restarts_total",
		"forkchat_sendq_bytes", "forkchat_file_transfers_active"};
	static const char *const types[] = {"gauge", "counter", "gauge",
					    "gauge"};
	static const char *const helps[] = {
		"1 if the worker process of this slot runs.",
		"Times the worker of this slot was replaced after dying.",
		"Bytes queued for clients in this worker.",
		"FILE transfers in progress."};

	for (int f = 0; f < 4; f++) {
		prom_head(o, names[f], types[f], helps[f]);
		for (int k = 0; k < m->nworkers; k++) {
			const struct wslot *s = &m->w[k];
			struct reg_worker *b =
				registry_worker(m->reg, (unsigned)k);
			uint64_t v[] = {s->alive, s->restarts,
					s->alive ? b->sendq_bytes : 0,
					s->alive ? b->files_active : 0};
			fprintf(o, "%s{worker=\"%d\"} %llu\n", names[f], k,
				(unsigned long long)v[f]);
		}
	}
}

static void
prom_users(FILE *o, struct master *m)
{
	uint32_t cap = registry_limits(m->reg)->max_users;
	struct reg_user_view *v = calloc(cap, sizeof(*v));
	size_t n = v ? registry_users_snapshot(m->reg, v, cap) : 0;
	unsigned long long by[METRICS_DIALECTS] = {0};

	for (size_t i = 0; i < n; i++)
		if (v[i].dialect < METRICS_DIALECTS)
			by[v[i].dialect]++;
	free(v);
	prom_head(o, "forkchat_users", "gauge", "Logged-in users.");
	for (int d = 0; d < METRICS_DIALECTS; d++)
		fprintf(o, "forkchat_users{dialect=\"%s\"} %llu\n", dialects[d],
			by[d]);
}

void
prom_render(struct master *m, FILE *o)
{
	double start = (double)time(NULL) -
		       (double)(now_ms() - m->started_ms) / 1000.0;

	prom_head(o, "forkchat_start_time_seconds", "gauge",
		  "When the daemon started, in seconds since the epoch.");
	fprintf(o, "forkchat_start_time_seconds %.3f\n", start);
	prom_users(o, m);
	prom_head(o, "forkchat_rooms", "gauge", "Rooms that exist.");
	fprintf(o, "forkchat_rooms %u\n", registry_room_count(m->reg));
	prom_head(o, "forkchat_registry_lock_takeovers_total", "counter",
		  "Registry locks taken over from a dead holder.");
	fprintf(o, "forkchat_registry_lock_takeovers_total %llu\n",
		(unsigned long long)registry_takeovers(m->reg));
	prom_workers(o, m);
	for (size_t i = 0; i < FC_ARRAY_LEN(families); i++)
		prom_family(o, m, &families[i]);
}
