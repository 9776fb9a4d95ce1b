/* A node's name in the cluster: what it may contain, and the default
 * (host name and first listener's port) when --node-id is not given. */
#ifndef FC_CLUSTER_NODEID_H
#define FC_CLUSTER_NODEID_H

#include <stdbool.h>
#include <stddef.h>

/* 1 to 63 of [A-Za-z0-9._-]: it is part of Redis key and channel names. */
bool cluster_valid_node_id(const char *s);
/* "HOST-PORT" from the host name (cut at the first dot) and port. */
void cluster_default_node_id(char *out, size_t size, int port);

#endif
