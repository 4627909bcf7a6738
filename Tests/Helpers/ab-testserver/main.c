/* A loopback HTTP/1.1 and WebSocket server with known, misbehaving-on-request answers, for the load
 * generator's tests. One thread per connection; blocking I/O; counts what it receives and prints
 * the counts on SIGTERM or SIGINT.
 *
 *   ab-testserver [--ping-every N] [--every garbage|reset|drip|silent]
 *                                     prints "port=P" once listening on 127.0.0.1
 *
 * The request path chooses the answer:
 *   /status/NNN   status NNN, body "ok"          /chunked   a chunked body in three chunks
 *   /slow/MS      200 after MS milliseconds      /close     200 with Connection: close
 *   /garbage      bytes that are not HTTP        /cut       half a response, then close
 *   /silent       no answer at all               /ws        WebSocket echo (pings every N messages)
 *   /reset        close with the request body unread, so the kernel resets the connection
 *   anything else 200 "ok" (HEAD: headers only)
 *
 * --every makes every request, the WebSocket upgrade included, misbehave one way whatever its path,
 * while connections are still accepted (a server that is up but broken): `garbage` answers bytes
 * that are not HTTP, `reset` resets the connection once the request head is in, `drip` answers one
 * byte every 100 ms of a response that never ends, `silent` reads every request and never answers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sha1.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static long ping_every;
static enum { EVERY_NONE, EVERY_GARBAGE, EVERY_RESET, EVERY_DRIP, EVERY_SILENT } every;
static uint64_t requests, by_kind[8], ws_messages, pongs;
enum { K_OK, K_STATUS, K_CHUNKED, K_SLOW, K_CLOSE, K_GARBAGE, K_CUT, K_SILENT };

static int write_all(int fd, const void *data, size_t length)
{
	const char *p = data;

	while (length) {
		ssize_t n = write(fd, p, length);

		if (n <= 0)
			return -1;
		p += n;
		length -= (size_t)n;
	}
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void accept_key(const char *key, char out[29])
{
	uint8_t d[20];
	SHA1_CTX sha;
	int o = 0;

	SHA1Init(&sha);
	SHA1Update(&sha, (const uint8_t *)key, strlen(key));
	SHA1Update(&sha, (const uint8_t *)"258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
	SHA1Final(d, &sha);
	for (int i = 0; i < 21; i += 3) {
		uint32_t c = (uint32_t)d[i] << 16 | (i + 1 < 20 ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < 20 ? d[i + 2] : 0);

		out[o++] = b64[c >> 18 & 63];
		out[o++] = b64[c >> 12 & 63];
		out[o++] = i + 1 < 20 ? b64[c >> 6 & 63] : '=';
		out[o++] = i + 2 < 20 ? b64[c & 63] : '=';
	}
	out[28] = '\0';
}

static int read_exact(int fd, uint8_t *out, size_t length)
{
	while (length) {
		ssize_t n = read(fd, out, length);

		if (n <= 0)
			return -1;
		out += n;
		length -= (size_t)n;
	}
	return 0;
}

static void send_frame(int fd, int opcode, const uint8_t *payload, size_t length)
{
	uint8_t header[10];
	size_t h = 2;

	header[0] = 0x80 | (uint8_t)opcode;
	if (length < 126) {
		header[1] = (uint8_t)length;
	} else {
		header[1] = 126;
		header[2] = (uint8_t)(length >> 8);
		header[3] = (uint8_t)length;
		h = 4;
	}
	write_all(fd, header, h);
	write_all(fd, payload, length);
}

static void websocket_echo(int fd, const char *key)
{
	char accept[29], response[256];
	uint8_t payload[65536];
	long messages = 0;

	accept_key(key, accept);
	snprintf(response, sizeof(response),
		 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	write_all(fd, response, strlen(response));
	for (;;) {
		uint8_t h[2], mask[4];
		uint64_t length;

		if (read_exact(fd, h, 2))
			return;
		length = h[1] & 0x7f;
		if (length == 126) {
			uint8_t l[2];

			if (read_exact(fd, l, 2))
				return;
			length = (uint64_t)l[0] << 8 | l[1];
		} else if (length == 127) {
			return;
		}
		if (!(h[1] & 0x80) || length > sizeof(payload) || read_exact(fd, mask, 4) ||
		    read_exact(fd, payload, length))
			return;	/* clients must mask */
		for (uint64_t i = 0; i < length; i++)
			payload[i] ^= mask[i & 3];
		switch (h[0] & 0x0f) {
		case 0x1:
		case 0x2:
			__atomic_add_fetch(&ws_messages, 1, __ATOMIC_RELAXED);
			if (ping_every && ++messages % ping_every == 0)
				send_frame(fd, 0x9, (const uint8_t *)"ping", 4);
			send_frame(fd, h[0] & 0x0f, payload, length);
			break;
		case 0xA:
			if (length == 4 && memcmp(payload, "ping", 4) == 0)
				__atomic_add_fetch(&pongs, 1, __ATOMIC_RELAXED);
			break;
		case 0x8:
			send_frame(fd, 0x8, payload, length > 2 ? 2 : length);
			return;
		}
	}
}

static void answer(int fd, const char *method, const char *path, int *keep_open)
{
	char response[512];
	int is_head = strcmp(method, "HEAD") == 0;

	if (strncmp(path, "/status/", 8) == 0) {
		int status = atoi(path + 8);

		__atomic_add_fetch(&by_kind[K_STATUS], 1, __ATOMIC_RELAXED);
		snprintf(response, sizeof(response), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok", status);
	} else if (strcmp(path, "/chunked") == 0) {
		__atomic_add_fetch(&by_kind[K_CHUNKED], 1, __ATOMIC_RELAXED);
		snprintf(response, sizeof(response),
			 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
	} else if (strncmp(path, "/slow/", 6) == 0) {
		__atomic_add_fetch(&by_kind[K_SLOW], 1, __ATOMIC_RELAXED);
		usleep((useconds_t)atoi(path + 6) * 1000);
		snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	} else if (strcmp(path, "/close") == 0) {
		__atomic_add_fetch(&by_kind[K_CLOSE], 1, __ATOMIC_RELAXED);
		snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
		*keep_open = 0;
	} else if (strcmp(path, "/garbage") == 0) {
		__atomic_add_fetch(&by_kind[K_GARBAGE], 1, __ATOMIC_RELAXED);
		snprintf(response, sizeof(response), "NOT HTTP AT ALL\r\n\r\n");
	} else if (strcmp(path, "/cut") == 0) {
		__atomic_add_fetch(&by_kind[K_CUT], 1, __ATOMIC_RELAXED);
		snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
		*keep_open = 0;
	} else if (strcmp(path, "/silent") == 0) {
		__atomic_add_fetch(&by_kind[K_SILENT], 1, __ATOMIC_RELAXED);
		return;
	} else {
		__atomic_add_fetch(&by_kind[K_OK], 1, __ATOMIC_RELAXED);
		snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n%s", is_head ? "" : "ok");
	}
	write_all(fd, response, strlen(response));
}

/* A response that never ends, one byte at a time, until the client gives up and the write fails. */
static void drip(int fd)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nX-Drip: ";

	for (size_t i = 0;; i++) {
		char byte = i < sizeof(head) - 1 ? head[i] : 'a';

		if (write(fd, &byte, 1) != 1)
			return;
		usleep(100 * 1000);
	}
}

/* Reads requests one after another from the same buffer, so pipelined requests are answered in order. */
static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg, keep_open = 1;
	char buffer[65536];
	size_t have = 0;

	while (keep_open) {
		char *end = memmem(buffer, have, "\r\n\r\n", 4);
		char method[16], path[256], *length_header;
		size_t head, body = 0;

		if (!end) {
			ssize_t n;

			if (have == sizeof(buffer))
				break;
			n = read(fd, buffer + have, sizeof(buffer) - have);
			if (n <= 0)
				break;
			have += (size_t)n;
			continue;
		}
		head = (size_t)(end - buffer) + 4;
		*end = '\0';
		if (sscanf(buffer, "%15s %255s", method, path) != 2)
			break;
		length_header = strcasestr(buffer, "\r\nContent-Length:");
		if (length_header)
			body = strtoul(length_header + 17, NULL, 10);
		if (every == EVERY_RESET) {
			/* A zero linger turns the close into a reset whatever is left unread. */
			struct linger reset = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
			__atomic_add_fetch(&requests, 1, __ATOMIC_RELAXED);
			break;
		}
		if (strcmp(path, "/reset") == 0) {
			/* Closing with the body unread makes the kernel answer with a reset: the client's
			 * next write fails. */
			__atomic_add_fetch(&requests, 1, __ATOMIC_RELAXED);
			break;
		}
		while (have < head + body) {
			ssize_t n = read(fd, buffer + have, sizeof(buffer) - have);

			if (n <= 0)
				goto done;
			have += (size_t)n;
		}
		__atomic_add_fetch(&requests, 1, __ATOMIC_RELAXED);
		if (every == EVERY_DRIP) {
			drip(fd);
			break;
		}
		if (every == EVERY_GARBAGE) {
			static const char garbage[] = "NOT HTTP AT ALL\r\n\r\n";

			write_all(fd, garbage, sizeof(garbage) - 1);
		}
		if (every != EVERY_NONE) {
			memmove(buffer, buffer + head + body, have - head - body);
			have -= head + body;
			continue;
		}
		if (strcmp(path, "/ws") == 0) {
			char *key = strcasestr(buffer, "\r\nSec-WebSocket-Key:");
			char value[64] = "";

			if (key)
				sscanf(key + 20, " %63s", value);
			websocket_echo(fd, value);
			break;
		}
		if (strcasestr(buffer, "\r\nConnection: close"))
			keep_open = 0;
		answer(fd, method, path, &keep_open);
		memmove(buffer, buffer + head + body, have - head - body);
		have -= head + body;
	}
done:
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	int listener = (int)(intptr_t)arg, one = 1;

	for (;;) {
		int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		pthread_t thread;

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_create(&thread, NULL, serve, (void *)(intptr_t)fd);
		pthread_detach(thread);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t length = sizeof(address);
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, sig;
	pthread_t acceptor;
	sigset_t stop;

	for (int i = 1; i + 1 < argc; i += 2) {
		static const char *const kinds[] = { "garbage", "reset", "drip", "silent" };

		if (strcmp(argv[i], "--ping-every") == 0) {
			ping_every = atol(argv[i + 1]);
			continue;
		}
		for (int k = 0; strcmp(argv[i], "--every") == 0 && k < 4; k++)
			if (strcmp(argv[i + 1], kinds[k]) == 0)
				every = EVERY_GARBAGE + k;
		if (strcmp(argv[i], "--every") != 0 || every == EVERY_NONE) {
			fprintf(stderr, "ab-testserver: unknown option %s %s\n", argv[i], argv[i + 1]);
			return 2;
		}
	}
	/* Blocked in every thread, so only sigwait below sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listener, (struct sockaddr *)&address, sizeof(address)) || listen(listener, 4096) ||
	    getsockname(listener, (struct sockaddr *)&address, &length)) {
		perror("ab-testserver");
		return 1;
	}
	pthread_create(&acceptor, NULL, accept_loop, (void *)(intptr_t)listener);
	printf("port=%d\n", ntohs(address.sin_port));
	fflush(stdout);
	sigwait(&stop, &sig);
	printf("requests=%llu\nok=%llu\nstatus=%llu\nchunked=%llu\nslow=%llu\nclose=%llu\ngarbage=%llu\ncut=%llu\n"
	       "silent=%llu\nws_messages=%llu\npongs=%llu\n",
	       (unsigned long long)requests, (unsigned long long)by_kind[K_OK], (unsigned long long)by_kind[K_STATUS],
	       (unsigned long long)by_kind[K_CHUNKED], (unsigned long long)by_kind[K_SLOW],
	       (unsigned long long)by_kind[K_CLOSE], (unsigned long long)by_kind[K_GARBAGE],
	       (unsigned long long)by_kind[K_CUT], (unsigned long long)by_kind[K_SILENT],
	       (unsigned long long)ws_messages, (unsigned long long)pongs);
	fflush(stdout);
	return 0;
}
