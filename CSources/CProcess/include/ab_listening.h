/* The TCP sockets listening on this machine, from the kernel's sock_diag netlink interface (as
 * `ss -lt` asks). Reading /proc/net/tcp instead makes the kernel walk every bucket of the
 * established-connection hash table on each read, and archbench rescans the targets' ports every
 * second, so on a busy host the walk is a large part of the probe's own CPU (docs/benchmarks.md).
 * Asking for LISTEN sockets only walks the listening table. Library code: never prints or exits. */
#ifndef ARCHBENCH_AB_LISTENING_H
#define ARCHBENCH_AB_LISTENING_H

#include <stddef.h>
#include <stdint.h>

struct ab_listening_socket {
	uint64_t inode;		/* as in /proc/PID/fd's "socket:[INODE]" */
	uint16_t port;		/* host byte order */
	uint8_t ipv6;
	uint8_t has_drops;	/* 0 when the kernel did not report its memory info */
	uint32_t drops;		/* the socket's sk_drops: for a listener, the SYNs and handshakes it
				 * dropped (a full accept or SYN queue); the kernel has no event for the
				 * first, so this count is the only way to see it */
};

/* Copies up to `capacity` listening TCP sockets (IPv4, then IPv6) into `out`. Returns how many there
 * are, which may exceed `capacity` (call again with more room), or -errno. */
long ab_listening_sockets(struct ab_listening_socket *out, size_t capacity);

#endif
