/* Binding. Before a reuseport group is bound, a plain socket probes the
 * address: SO_REUSEPORT would otherwise let a second daemon of the same user
 * silently share the port instead of failing with "address in use". */
#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"

static int
listen_resolve(const struct fc_listen *l, const char *port,
	       struct sockaddr_storage *ss, socklen_t *len, char *err,
	       size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	const char *host =
		l->host[0] && strcmp(l->host, "*") != 0 ? l->host : NULL;

	if (host == NULL)
		hints.ai_family = AF_INET;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", l->host,
			 gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
listen_socket(const struct sockaddr_storage *ss, socklen_t len, bool reuse)
{
	int one = 1;
	int fd = socket(ss->ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
listen_port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int
listen_one(struct listen_set *ls, int i, const struct fc_listen *l, char *err,
	   size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char port[16];

	snprintf(port, sizeof(port), "%s", l->port);
	if (listen_resolve(l, port, &ss, &len, err, errlen) < 0)
		return -1;
	if (strcmp(port, "0") != 0) {
		int probe = listen_socket(&ss, len, false);
		if (probe < 0)
			goto fail;
		close(probe);
	}
	for (int k = 0; k < ls->nworkers; k++) {
		int fd = listen_socket(&ss, len, true);
		if (fd < 0 || listen(fd, 4096) < 0)
			goto fail;
		ls->fd[k][i] = fd;
		if (k == 0) {
			/* port 0: the others join the port the first got */
			ls->port[i] = listen_port_of(fd);
			snprintf(port, sizeof(port), "%d", ls->port[i]);
			if (listen_resolve(l, port, &ss, &len, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s:%s: %s",
		 l->host[0] ? l->host : "*", l->port, strerror(errno));
	return -1;
}

int
listen_open(struct listen_set *ls, const struct fc_config *cfg, char *err,
	    size_t errlen)
{
	memset(ls, 0, sizeof(*ls));
	for (int k = 0; k < LISTEN_MAX_WORKERS; k++)
		for (int i = 0; i < FC_MAX_LISTEN; i++)
			ls->fd[k][i] = -1;
	ls->nlisten = cfg->nlisten;
	ls->nworkers = cfg->workers;
	for (int i = 0; i < cfg->nlisten; i++) {
		if (listen_one(ls, i, &cfg->listen[i], err, errlen) < 0) {
			listen_close_all(ls);
			return -1;
		}
	}
	return 0;
}

void
listen_close_except(struct listen_set *ls, int worker)
{
	for (int k = 0; k < ls->nworkers; k++) {
		if (k == worker)
			continue;
		for (int i = 0; i < ls->nlisten; i++)
			if (ls->fd[k][i] >= 0) {
				close(ls->fd[k][i]);
				ls->fd[k][i] = -1;
			}
	}
}

void
listen_close_all(struct listen_set *ls)
{
	listen_close_except(ls, -1);
}
