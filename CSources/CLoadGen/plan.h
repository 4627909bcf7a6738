/* What every worker reads from the run: the target's address, the request bytes (built once per
 * endpoint), the weights of the mix and the run's times. Built before the threads start and
 * constant after, but for stop_requested. */
#ifndef AB_PLAN_H
#define AB_PLAN_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ab_load.h"

struct request_template {
	char *bytes;
	size_t length;
	int is_head;	/* a HEAD request: its response has no body */
};

struct load_plan {
	struct ab_load_config config;	/* with no pointers into the caller's memory */
	struct sockaddr_storage address;
	socklen_t address_length;
	struct request_template templates[AB_LOAD_MAX_ENDPOINTS];
	uint32_t cumulative_weight[AB_LOAD_MAX_ENDPOINTS];
	uint32_t weight_total;
	char *ws_handshake_prefix;	/* the upgrade request up to the key header */
	uint64_t start_ns, deadline_ns, timeout_ns, window_ns;
	int stop_requested;		/* set by ab_load_run__stop; read with __atomic */
};

/* Resolves `host` once (numeric or a name); 0 or -errno (-EHOSTUNREACH: no such host). */
int plan_resolve(const char *host, uint16_t port, struct sockaddr_storage *address, socklen_t *length);
/* Checks `config`, resolves the target and builds the requests; 0 or -errno. The caller sets the
 * times (start_ns, deadline_ns) and calls plan_free whatever this returned. */
int plan_build(struct load_plan *plan, const struct ab_load_config *config);
void plan_free(struct load_plan *plan);

#endif
