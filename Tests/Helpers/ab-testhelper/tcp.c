/* TCP trouble of a known number, for the TCP probe's tests. Two processes: the target (`tcp-trouble`,
 * the one probed) and its peer (`tcp-resetter`, not probed), so that a test can tell the target's
 * events from those of the sockets it talks to. Every reset here comes from a close with SO_LINGER
 * {on, 0}: exactly one RST per connection, whatever was in flight. Retransmits and drops have no
 * count known in advance: each is checked against the socket's own TCP_INFO or the kernel's own
 * counters. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tcp.h"

static void fail(const char *what)
{
	fprintf(stderr, "ab-testhelper: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_on_loopback(int backlog, unsigned *port)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t length = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1 || bind(fd, (struct sockaddr *)&address, sizeof(address)) == -1 || listen(fd, backlog) == -1 ||
	    getsockname(fd, (struct sockaddr *)&address, &length) == -1)
		fail("listen");
	*port = ntohs(address.sin_port);
	return fd;
}

/* Connects; -1 when the connection was reset before connect() returned (the peer accepted and reset
 * it first), which is a reset received all the same. */
static int connect_to_loopback(unsigned port, int nonblocking)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);

	if (fd == -1)
		fail("socket");
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == -1 && !(nonblocking && errno == EINPROGRESS)) {
		if (errno != ECONNRESET)
			fail("connect");
		close(fd);
		return -1;
	}
	return fd;
}

static unsigned total_retransmits(int fd)
{
	struct tcp_info info;
	socklen_t length = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) == -1)
		fail("TCP_INFO");
	return info.tcpi_total_retrans;
}

/* Every retransmit of every connection of the target's, read from each socket before it closes
 * (an accepted one's count includes its listener's SYN-ACKs sent again): what the probe must count
 * for it, whatever else the machine retransmits meanwhile. */
static unsigned own_retransmits;

static unsigned close_counted(int fd)
{
	unsigned retransmits = total_retransmits(fd);

	own_retransmits += retransmits;
	close(fd);
	return retransmits;
}

static void close_with_reset(int fd)
{
	struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close)) == -1)
		fail("SO_LINGER");
	close_counted(fd);
}

static void accept_and_reset(int listener, long count)
{
	for (long i = 0; i < count; i++) {
		int fd = accept(listener, NULL, NULL);

		if (fd == -1)
			fail("accept");
		close_with_reset(fd);
	}
}

/* Connects `count` times and reads each connection until the peer's reset ends it. */
static void connect_until_reset(unsigned port, long count)
{
	for (long i = 0; i < count; i++) {
		int fd = connect_to_loopback(port, 0);
		char byte;

		if (fd == -1)
			continue;
		if (read(fd, &byte, 1) != -1 || errno != ECONNRESET)
			fail("expected a reset");
		close_counted(fd);
	}
}

static unsigned read_port(void)
{
	char line[64];

	if (!fgets(line, sizeof(line), stdin))
		fail("no port on stdin");
	return (unsigned)strtoul(line, NULL, 10);
}

/* A /proc/net/{snmp,netstat} counter: the line after "PREFIX: names" holds the values. */
static long long net_counter(const char *file, const char *prefix, const char *name)
{
	char names[4096], values[4096], *name_save, *value_save;
	size_t prefix_length = strlen(prefix);
	FILE *stream = fopen(file, "r");
	long long found = -1;

	if (!stream)
		fail(file);
	while (fgets(names, sizeof(names), stream) && fgets(values, sizeof(values), stream)) {
		if (strncmp(names, prefix, prefix_length) != 0 || names[prefix_length] != ':')
			continue;
		for (char *n = strtok_r(names, " \n", &name_save), *v = strtok_r(values, " \n", &value_save); n && v;
		     n = strtok_r(NULL, " \n", &name_save), v = strtok_r(NULL, " \n", &value_save))
			if (strcmp(n, name) == 0)
				found = atoll(v);
	}
	fclose(stream);
	return found;
}

/* The kernel's drops of segments a socket could not queue: its receive queue, out-of-order queue
 * or backlog full. */
static long long receive_drops(void)
{
	return net_counter("/proc/net/netstat", "TcpExt", "TCPRcvQDrop") +
	       net_counter("/proc/net/netstat", "TcpExt", "TCPOFODrop") +
	       net_counter("/proc/net/netstat", "TcpExt", "TCPBacklogDrop");
}

static uint64_t monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

int tcp_resetter(long count)
{
	unsigned port;
	int listener = listen_on_loopback(128, &port);
	pid_t server;
	int status;

	printf("port %u\n", port);
	fflush(stdout);
	unsigned target_port = read_port();
	server = fork();
	if (server == -1)
		fail("fork");
	if (server == 0) {
		/* Never outlives a parent that failed, holding the test's pipes open. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		accept_and_reset(listener, count);
		_exit(0);
	}
	connect_until_reset(target_port, count);
	if (waitpid(server, &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	printf("done\n");
	return 0;
}

/* One SYN to a listener whose accept queue is full: dropped there (a listen overflow) and sent again
 * after the initial RTO (a retransmit). Both listener and sender are the target's, so both count for
 * it. Returns the sender's own count of retransmits. The listener stays open until the process
 * exits, so that its drop count can still be read. */
static unsigned overflow_own_listener(void)
{
	unsigned port;
	int listener = listen_on_loopback(0, &port), queued, accepted, dropped;
	struct tcp_info info;
	socklen_t length = sizeof(info);
	uint64_t waited_ms = 0;
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	/* A backlog of 0 holds one connection: the next SYN finds the queue full. */
	queued = connect_to_loopback(port, 0);
	dropped = connect_to_loopback(port, 1);
	if (queued == -1 || dropped == -1)
		fail("connect to a full queue");
	do {
		if (getsockopt(dropped, IPPROTO_TCP, TCP_INFO, &info, &length) == -1)
			fail("TCP_INFO");
		if (info.tcpi_total_retrans >= 1)
			break;
		nanosleep(&tick, NULL);
		waited_ms += 10;
	} while (waited_ms < 10000);
	unsigned retransmits = close_counted(dropped);
	/* Taken off the queue and closed in order, so that nothing is reset. */
	accepted = accept(listener, NULL, NULL);
	if (accepted == -1)
		fail("accept");
	close_counted(queued);
	close_counted(accepted);
	return retransmits;
}

/* A connection to itself whose receiving end shrinks its buffer to the minimum after the handshake
 * advertised a larger window: the burst sent into that window does not fit, and the kernel drops
 * what it cannot queue (receive-queue drops), which the sender retransmits. */
static void receive_buffer_drops(void)
{
	enum { TOTAL = 64 << 10 };
	static char data[TOTAL];
	unsigned port;
	int listener = listen_on_loopback(1, &port), sender = connect_to_loopback(port, 0), receiver, smallest = 1, roomy = 1 << 20;
	long sent = 0, received = 0;
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	receiver = accept(listener, NULL, NULL);
	if (sender == -1 || receiver == -1)
		fail("connect to itself");
	if (setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &smallest, sizeof(smallest)) == -1 ||
	    fcntl(sender, F_SETFL, O_NONBLOCK) == -1)
		fail("SO_RCVBUF");
	for (uint64_t deadline = monotonic_ms() + 20000; received < TOTAL;) {
		struct pollfd readable = { .fd = receiver, .events = POLLIN };
		ssize_t wrote = sent < TOTAL ? write(sender, data + sent, (size_t)(TOTAL - sent)) : 0;
		ssize_t got;

		if (wrote > 0)
			sent += wrote;
		/* Lets the first burst reach the full receiver before anything is read, then gives it room
		 * again, so the rest is not dropped in turn, backing off the sender's timer each time. */
		if (received == 0) {
			nanosleep(&pause, NULL);
			if (setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &roomy, sizeof(roomy)) == -1)
				fail("SO_RCVBUF");
		}
		poll(&readable, 1, 10);
		while ((got = recv(receiver, data, 4096, MSG_DONTWAIT)) > 0)
			received += got;
		if (got == 0 || monotonic_ms() > deadline)
			fail("the connection to itself ended early or stalled");
	}
	close_counted(sender);
	close_counted(receiver);
	close(listener);
}

int tcp_trouble(long count)
{
	unsigned port;
	int listener = listen_on_loopback(128, &port);
	long long overflows, out_resets, retransmitted, drops;

	printf("port %u\n", port);
	fflush(stdout);
	unsigned peer_port = read_port();
	overflows = net_counter("/proc/net/netstat", "TcpExt", "ListenOverflows");
	out_resets = net_counter("/proc/net/snmp", "Tcp", "OutRsts");
	retransmitted = net_counter("/proc/net/snmp", "Tcp", "RetransSegs");
	drops = receive_drops();
	accept_and_reset(listener, count);
	connect_until_reset(peer_port, count);
	unsigned syn_retransmits = overflow_own_listener();
	receive_buffer_drops();
	/* Kernel-wide counts over the same stretch, the peer's resets included. */
	printf("tcp retransmits %u syn_retransmits %u system_retransmits %lld system_overflows %lld system_resets %lld"
	       " system_drops %lld\n", own_retransmits, syn_retransmits,
	       net_counter("/proc/net/snmp", "Tcp", "RetransSegs") - retransmitted,
	       net_counter("/proc/net/netstat", "TcpExt", "ListenOverflows") - overflows,
	       net_counter("/proc/net/snmp", "Tcp", "OutRsts") - out_resets, receive_drops() - drops);
	fflush(stdout);
	/* Stay alive until told, so the probe reads this process's counts while it lives. */
	char line[16];
	while (fgets(line, sizeof(line), stdin))
		;
	return 0;
}
