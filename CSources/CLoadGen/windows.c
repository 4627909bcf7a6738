#include "windows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Windows kept: an hour of the default 100 ms windows, so the memory a run holds stays bounded
 * however long it lasts; later windows are counted as dropped. */
#define WINDOWS_LIMIT 36000u
#define LOG2_SLOTS (sizeof(((struct ab_load_window *)0)->log2_counts) / sizeof(uint32_t))

void windows_init(struct windows *windows, uint32_t reporters, uint64_t start_ns, uint64_t window_ns)
{
	memset(windows, 0, sizeof(*windows));
	windows->reporters = reporters;
	windows->start_ns = start_ns;
	windows->window_ns = window_ns;
}

void windows_free(struct windows *windows)
{
	for (size_t i = 0; windows->merging && i < windows->count; i++)
		ab_histogram__free(windows->merging[i]);
	free(windows->merging);
	free(windows->reports);
	free(windows->list);
	memset(windows, 0, sizeof(*windows));
}

static void finish(struct windows *windows, size_t index)
{
	struct ab_load_window *window = &windows->list[index];
	struct ab_histogram *h = windows->merging[index];

	if (!h)
		return;
	window->start_ns = windows->start_ns + index * windows->window_ns;
	window->p50_ns = ab_histogram__percentile(h, 50);
	window->p90_ns = ab_histogram__percentile(h, 90);
	window->p99_ns = ab_histogram__percentile(h, 99);
	window->max_ns = h->max;
	for (uint32_t b = 0; b < h->bucket_count; b++) {
		uint64_t micros;
		uint32_t slot;

		if (!h->counts[b])
			continue;
		micros = ab_histogram__lowest(h->bits, b) / 1000;
		slot = micros < 2 ? 0 : ab_log_linear_log2(micros);
		if (slot > LOG2_SLOTS - 1)
			slot = LOG2_SLOTS - 1;
		window->log2_counts[slot] += (uint32_t)h->counts[b];
	}
	ab_histogram__free(h);
	windows->merging[index] = NULL;
}

static int ensure(struct windows *windows, size_t index)
{
	if (index >= WINDOWS_LIMIT)
		return -E2BIG;
	if (index >= windows->capacity) {
		size_t capacity = windows->capacity ? windows->capacity * 2 : 256, old = windows->capacity;
		void *list, *merging, *reports;

		while (capacity <= index)
			capacity *= 2;
		list = realloc(windows->list, capacity * sizeof(*windows->list));
		if (list)
			windows->list = list;
		merging = realloc(windows->merging, capacity * sizeof(*windows->merging));
		if (merging)
			windows->merging = merging;
		reports = realloc(windows->reports, capacity * sizeof(*windows->reports));
		if (reports)
			windows->reports = reports;
		if (!list || !merging || !reports)
			return -ENOMEM;
		memset(windows->list + old, 0, (capacity - old) * sizeof(*windows->list));
		memset(windows->merging + old, 0, (capacity - old) * sizeof(*windows->merging));
		memset(windows->reports + old, 0, (capacity - old) * sizeof(*windows->reports));
		windows->capacity = capacity;
	}
	if (index >= windows->count)
		windows->count = index + 1;
	return 0;
}

void windows_add(struct windows *windows, const struct window_record *record, int counts_drops)
{
	size_t index = record->index;

	if (ensure(windows, index) != 0) {
		if (counts_drops)
			windows->dropped++;
		return;
	}
	if (!windows->merging[index] && windows->reports[index] < windows->reporters)
		windows->merging[index] = ab_histogram__new(AB_HISTOGRAM_COARSE_BITS);
	if (windows->merging[index])
		ab_histogram__merge(windows->merging[index], record->histogram);
	windows->list[index].responses += record->responses;
	windows->list[index].errors += record->errors;
	if (++windows->reports[index] == windows->reporters)
		finish(windows, index);
}

void windows_finish(struct windows *windows)
{
	for (size_t i = 0; i < windows->count; i++)
		finish(windows, i);
}

size_t windows_copy(const struct windows *windows, struct ab_load_window *out, size_t capacity)
{
	size_t count = windows->count < capacity ? windows->count : capacity;

	for (size_t i = 0; i < count; i++) {
		out[i] = windows->list[i];
		out[i].start_ns = windows->start_ns + i * windows->window_ns;
	}
	return count;
}
