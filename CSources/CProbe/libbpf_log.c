/* libbpf explains its failures (verifier logs, CO-RE relocation errors) only through its print
 * callback. We keep the tail of what it says instead of printing it, so the Swift side can put the
 * reason into the error it throws. */
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AB_LOG_BYTES 4096

static char log_text[AB_LOG_BYTES];
static char log_copy[AB_LOG_BYTES];
static size_t log_length;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static int keep_libbpf_message(enum libbpf_print_level level, const char *format, va_list args)
{
	char line[1024];
	size_t length;

	if (level == LIBBPF_DEBUG)
		return 0;
	length = (size_t)vsnprintf(line, sizeof(line), format, args);
	if (length >= sizeof(line))
		length = sizeof(line) - 1;
	pthread_mutex_lock(&log_lock);
	if (log_length + length >= AB_LOG_BYTES) {
		/* Keep the newest text: the cause usually comes last. */
		size_t keep = AB_LOG_BYTES / 2 > length ? AB_LOG_BYTES / 2 - length : 0;

		memmove(log_text, log_text + log_length - keep, keep);
		log_length = keep;
	}
	memcpy(log_text + log_length, line, length);
	log_length += length;
	log_text[log_length] = '\0';
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void ab_libbpf_log_install(void)
{
	libbpf_set_print(keep_libbpf_message);
}

const char *ab_probe__libbpf_log(void)
{
	pthread_mutex_lock(&log_lock);
	memcpy(log_copy, log_text, log_length + 1);
	log_length = 0;
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	return log_copy;
}
