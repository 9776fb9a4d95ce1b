/* The --cluster address: redis://HOST:PORT (HOST may be [v6]) or
 * redis+unix:///PATH. Parsed once, by the master at start-up. */
#ifndef FC_CLUSTER_URL_H
#define FC_CLUSTER_URL_H

#include <stddef.h>

struct cluster_url {
	char host[256]; /* empty for unix */
	int port;
	char path[108]; /* sun_path size */
};

/* 0 and *out filled, or -1 with a reason in err. */
int cluster_url_parse(const char *s, struct cluster_url *out, char *err,
		      size_t errlen);

#endif
