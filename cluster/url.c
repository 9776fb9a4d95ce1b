/* Parse redis://HOST:PORT and redis+unix:///PATH into host, port or path.
 * No user, password or database part: the link uses database 0. */
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
url_unix(const char *path, struct cluster_url *out, char *err, size_t errlen)
{
	if (path[0] != '/' || strlen(path) >= sizeof(out->path)) {
		snprintf(err, errlen,
			 "redis+unix:// needs an absolute path shorter "
			 "than %zu bytes",
			 sizeof(out->path));
		return -1;
	}
	snprintf(out->path, sizeof(out->path), "%s", path);
	return 0;
}

static int
url_tcp(const char *a, struct cluster_url *out, char *err, size_t errlen)
{
	const char *colon = strrchr(a, ':');
	size_t hl = colon ? (size_t)(colon - a) : 0;
	char *end;

	if (colon == NULL || hl == 0) {
		snprintf(err, errlen, "want redis://HOST:PORT");
		return -1;
	}
	if (hl >= 2 && a[0] == '[' && a[hl - 1] == ']') {
		a++;
		hl -= 2;
	}
	long port = strtol(colon + 1, &end, 10);
	if (hl >= sizeof(out->host) || *end != '\0' || end == colon + 1 ||
	    port < 1 || port > 65535) {
		snprintf(err, errlen, "bad host or port in redis://HOST:PORT");
		return -1;
	}
	memcpy(out->host, a, hl);
	out->host[hl] = '\0';
	out->port = (int)port;
	return 0;
}

int
cluster_url_parse(const char *s, struct cluster_url *out, char *err,
		  size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(s, "redis+unix://", 13) == 0)
		return url_unix(s + 13, out, err, errlen);
	if (strncmp(s, "redis://", 8) == 0)
		return url_tcp(s + 8, out, err, errlen);
	snprintf(err, errlen,
		 "'%s': want redis://HOST:PORT or "
		 "redis+unix:///PATH",
		 s);
	return -1;
}
