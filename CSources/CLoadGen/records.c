#include "records.h"

#include <errno.h>

int records_init(struct records *records)
{
	for (int i = 0; i < RECORDS_WINDOW_RING; i++)
		if (!(records->windows[i].histogram = ab_histogram__new(AB_HISTOGRAM_COARSE_BITS)))
			return -ENOMEM;
	return 0;
}

void records_free(struct records *records)
{
	for (int i = 0; i < RECORDS_WINDOW_RING; i++) {
		ab_histogram__free(records->windows[i].histogram);
		records->windows[i].histogram = NULL;
	}
}

void records_push_window(struct records *records, uint64_t index, uint64_t responses, uint64_t errors,
			 const struct ab_histogram *histogram)
{
	struct window_record *record;

	if (records->window_head - __atomic_load_n(&records->window_tail, __ATOMIC_ACQUIRE) >= RECORDS_WINDOW_RING) {
		records->windows_dropped++;
		return;
	}
	record = &records->windows[records->window_head % RECORDS_WINDOW_RING];
	record->index = index;
	record->responses = responses;
	record->errors = errors;
	ab_histogram__copy(record->histogram, histogram);
	__atomic_store_n(&records->window_head, records->window_head + 1, __ATOMIC_RELEASE);
}

void records_push_slow(struct records *records, const struct ab_slow_request *request)
{
	if (records->slow_head - __atomic_load_n(&records->slow_tail, __ATOMIC_ACQUIRE) >= RECORDS_SLOW_RING) {
		records->slow_dropped++;
		return;
	}
	records->slow[records->slow_head % RECORDS_SLOW_RING] = *request;
	__atomic_store_n(&records->slow_head, records->slow_head + 1, __ATOMIC_RELEASE);
}

void records_drain(struct records *records, const struct records_sink *sink)
{
	uint64_t head = __atomic_load_n(&records->window_head, __ATOMIC_ACQUIRE);

	for (uint64_t tail = records->window_tail; tail < head; tail++)
		sink->window(sink->context, &records->windows[tail % RECORDS_WINDOW_RING]);
	__atomic_store_n(&records->window_tail, head, __ATOMIC_RELEASE);

	head = __atomic_load_n(&records->slow_head, __ATOMIC_ACQUIRE);
	for (uint64_t tail = records->slow_tail; tail < head; tail++)
		sink->slow(sink->context, &records->slow[tail % RECORDS_SLOW_RING]);
	__atomic_store_n(&records->slow_tail, head, __ATOMIC_RELEASE);
}

uint64_t records_windows_dropped(const struct records *records)
{
	return records->windows_dropped;
}

uint64_t records_slow_dropped(const struct records *records)
{
	return records->slow_dropped;
}
