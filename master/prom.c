/* `forkchatd status --prometheus`: the server's state in the Prometheus
 * text exposition format (version 0.0.4). Counters come from the metrics
 * slots (ipc/metrics.h), which outlive workers, so they never go down;
 * gauges from the master's own state and the registry. Names follow
 * Prometheus' rules: forkchat_ prefix, base units, _total on counters. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../common/util.h"
#include "../ipc/frame.h"
#include "../ipc/metrics.h"
#include "../worker/conn.h"
#include "master.h"

static const char *const dialects[] = {"okfail", "numeric", "irc"};
static const char *const tls_results[] = {"ok", "failed"};
static const char *const file_results[] = {"completed", "failed"};

/* The label of each event kind; messages_total leaves out the
 * notifications (logins, logouts, joins), which no client sends. */
static const struct {
	const char *name;
	bool message;
} kinds[METRICS_KINDS] = {
	[EV_LOGIN] = {"login", false},
	[EV_LOGOUT] = {"logout", false},
	[EV_BCST] = {"broadcast", true},
	[EV_PM] = {"private", true},
	[EV_SECU] = {"secure", true},
	[EV_PUBKEY] = {"public_key", true},
	[EV_SESSKEY] = {"session_key", true},
	[EV_EPM] = {"encrypted_private", true},
	[EV_ROOM_MSG] = {"room", true},
	[EV_ROOM_JOIN] = {"room_join", false},
	[EV_ROOM_LEFT] = {"room_leave", false},
};

_Static_assert(EV_KIND_MAX <= METRICS_KINDS, "event kinds outgrow metrics");
_Static_assert(CR_MAX <= METRICS_REASONS, "close reasons outgrow metrics");

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
	FAM1("forkchat_received_bytes_total", "counter",
	     "Bytes read from clients (after TLS).", M_BYTES_IN),
	FAM1("forkchat_sent_bytes_total", "counter",
	     "Bytes written to clients (before TLS).", M_BYTES_OUT),
	FAM1("forkchat_flood_delays_total", "counter",
	     "Lines held back by flood control.", M_FLOOD_DELAYS),
	FAM1("forkchat_registry_lock_waits_total", "counter",
	     "Times the registry lock was found taken and had to be waited "
	     "for.",
	     M_LOCK_WAITS),
	FAM1("forkchat_file_transfers_started_total", "counter",
	     "FILE transfers accepted.", M_FILES_STARTED),
	FAM("forkchat_file_transfers_finished_total", "counter",
	    "FILE transfers finished, by result: delivered whole, or failed (upload cut off, receiver gone, ...).",
	    "result", M_FILES_DONE, file_results),
	FAM1("forkchat_file_transferred_bytes_total", "counter",
	     "File bytes received from senders (into the spool).",
	     M_FILE_BYTES),
	FAM("forkchat_tls_handshakes_total", "counter",
	    "TLS handshakes, by result.", "result", M_TLS_OK, tls_results),
};

static uint64_t
slot_value(int k, int m)
{
	const uint64_t *v = metrics_slot((unsigned)k);

	return v ? __atomic_load_n(&v[m], __ATOMIC_RELAXED) : 0;
}

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
		for (int i = 0; i < f->n; i++) {
			uint64_t x = slot_value(k, (int)f->base + i);
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

/* messages_total (MESSAGES: only what clients send) or deliveries_total */
static void
prom_kinds(FILE *o, const struct master *m, bool messages)
{
	const char *name = messages ? "forkchat_messages_total"
				    : "forkchat_deliveries_total";

	prom_head(o, name, "counter",
		  messages ? "Messages sent by clients, by kind."
			   : "Lines delivered to a recipient, by kind.");
	for (int k = 0; k < m->nworkers; k++)
		for (int i = 0; i < METRICS_KINDS; i++)
			if (kinds[i].name && (kinds[i].message || !messages))
				fprintf(o,
					"%s{kind=\"%s\",worker=\"%d\"} %llu\n",
					name, kinds[i].name, k,
					(unsigned long long)slot_value(
						k, (messages ? M_MESSAGES
							     : M_DELIVERIES) +
							   i));
}

/* A close reason's log name as a label value: "sendq-hard" sendq_hard. */
static void
reason_label(enum close_reason r, char *out, size_t n)
{
	snprintf(out, n, "%s", close_reason_name(r));
	for (char *p = out; *p; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
}

static void
prom_disconnects(FILE *o, const struct master *m)
{
	char label[64];

	prom_head(o, "forkchat_disconnects_total", "counter",
		  "Client connections closed or refused, by reason.");
	for (int k = 0; k < m->nworkers; k++)
		for (int r = CR_NONE + 1; r < CR_MAX; r++) {
			reason_label((enum close_reason)r, label,
				     sizeof(label));
			fprintf(o,
				"forkchat_disconnects_total{reason=\"%s\","
				"worker=\"%d\"} %llu\n",
				label, k,
				(unsigned long long)slot_value(
					k, M_DISCONNECTS + r));
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
	prom_kinds(o, m, true);
	prom_kinds(o, m, false);
	prom_disconnects(o, m);
}
