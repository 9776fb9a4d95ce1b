/* Node ids: checked once at start-up, derived from the machine when the
 * operator gave none, so that two nodes on one host differ by port. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "nodeid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool
node_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
}

bool
cluster_valid_node_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!node_char((unsigned char)s[i]))
			return false;
	return true;
}

void
cluster_default_node_id(char *out, size_t size, int port)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "node");
	host[strcspn(host, ".")] = '\0';
	for (char *p = host; *p; p++)
		if (!node_char((unsigned char)*p))
			*p = '_';
	snprintf(out, size, "%.40s-%d", host, port);
}
