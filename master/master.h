/* The master process: its state and what its files share. The master binds,
 * creates the registry, forks and supervises workers, and answers the
 * control socket; it is never on the data path. */
#ifndef FC_MASTER_H
#define FC_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "../common/config.h"
#include "../common/loop.h"
#include "../common/tlsctx.h"
#include "../ipc/chan.h"
#include "../ipc/registry.h"
#include "listen.h"

#define WATCHDOG_MS 5000
#define BACKOFF_MAX_MS 30000

struct wslot {
	struct handler h;
	int idx;
	pid_t pid;
	uint16_t gen;
	bool alive;
	bool started;
	bool fatal;
	bool ctl_dead_logged;
	struct chan ctl;
	int64_t started_ms;
	int64_t respawn_at;
	int64_t backoff_ms;
	uint32_t restarts;
};

struct master {
	struct fc_config cfg;
	struct registry *reg;
	struct userinfo *uinfo; /* irc users' details, see ipc/userinfo.h */
	struct listen_set ls;
	struct loop *loop;
	int nworkers;
	int nslots;    /* supervised processes: workers, then the link */
	int link_slot; /* the cluster link's slot, -1 without --cluster */
	char incarnation[32]; /* this run of the node, for the cluster */
	struct cluster_board *cboard; /* the link's status, shared */
	struct wslot w[REG_MAX_WORKERS];
	bool stopping;
	int exit_code;
	int64_t stop_deadline;
	int64_t started_ms;
	int pidfile_fd;
	int ctl_listen_fd;
	struct handler ctl_listen_h;
	int sig_fd;
	struct handler sig_h;
	struct handler stdin_h;
	char shutdown_why[128];
	struct tls_pem pem;
	int argc; /* kept for SIGHUP: the command line is applied again */
	char **argv;
	char start_cwd[1024];
};

/* supervise.c */
int supervise_start(struct master *m);
void supervise_reap(struct master *m);
void supervise_tick(struct master *m);
void supervise_shutdown(struct master *m, const char *why);
void supervise_broadcast(struct master *m, uint16_t type, const void *p,
			 size_t len);
bool supervise_all_dead(const struct master *m);
void supervise_check_registry(struct master *m);

/* cluster.c */
void master_cluster_setup(struct master *m);
int master_cluster_child(struct master *m, uint16_t gen, int ctl_fd);

/* control.c */
#define CTL_ROOT_DIR "/run/forkchatd"
/* Fill in the default control-socket path; -1 and ERR when there is none. */
int control_default_path(struct fc_config *cfg, char *err, size_t errlen);
/* Bind the control socket (refusing a squatted or unsafe path); -1, ERR. */
int control_open(struct master *m, char *err, size_t errlen);
/* Serve it in the master's loop (once the loop exists). */
void control_start(struct master *m);
void control_close(struct master *m);
void control_chown(struct master *m, const char *user);
void control_forget_in_child(void);

/* prom.c: every metric in the Prometheus text format */
void prom_render(struct master *m, FILE *o);

/* ctlclient.c: `forkchatd status ...`, returns the exit status */
int control_client_main(int argc, char **argv);

/* fdlimit.c: raise RLIMIT_NOFILE to its hard limit, warn when max-clients
 * does not fit; -1 (logged) when not even the first client would. */
int fdlimit_raise(const struct fc_config *cfg);

/* daemon.c */
int daemon_detach(int *ready_fd);
void daemon_ready(int ready_fd, int status);
/* Open (O_NOFOLLOW, safe folder) and lock the pidfile; -1, errno, ERR. */
int pidfile_lock(const char *path, char *err, size_t errlen);
int pidfile_write(int fd);
int privdrop(const char *user);

#endif
