#include "ab_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AB_MAX_FAMILIES 16
#define AB_MAX_COLLECTORS 8

/* The records of one ring buffer map, gathered by libbpf's callback until Swift takes them. */
struct collector {
	char map[32];
	size_t record_size;
	char *records;
	size_t count, capacity;
	uint64_t dropped;
};

struct ab_probe {
	struct bpf_object *objects[AB_MAX_FAMILIES];
	size_t object_count;
	struct ring_buffer *ring;
	struct collector collectors[AB_MAX_COLLECTORS];
	size_t collector_count;
	struct bpf_link **links;
	size_t link_count;
	size_t link_capacity;
	int loaded;
};

void ab_libbpf_log_install(void);

int ab_probe__bpf_errno(void)
{
	int fd;

	ab_libbpf_log_install();
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(uint32_t), sizeof(uint32_t), 1, NULL);
	if (fd < 0)
		return errno ? errno : -fd;
	close(fd);
	return 0;
}

struct ab_probe *ab_probe__new(void)
{
	ab_libbpf_log_install();
	return calloc(1, sizeof(struct ab_probe));
}

int ab_probe__add_family(struct ab_probe *probe, const char *name, const void *object, size_t size,
			 const char *btf_path)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name, .btf_custom_path = btf_path);
	struct bpf_object *obj;

	if (probe->loaded)
		return -EBUSY;
	if (probe->object_count == AB_MAX_FAMILIES)
		return -E2BIG;
	obj = bpf_object__open_mem(object, size, &opts);
	if (!obj)
		return -errno;
	probe->objects[probe->object_count++] = obj;
	return 0;
}

static struct bpf_map *find_map(struct ab_probe *probe, size_t object_limit, const char *name)
{
	for (size_t i = 0; i < object_limit; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(probe->objects[i], name);

		if (map)
			return map;
	}
	return NULL;
}

/* A map a later family declares under the name of an earlier family's map is the same map: reuse
 * its fd. Internal maps (.rodata, .bss) are private to each object. */
static int share_maps(struct ab_probe *probe, size_t object_index)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, probe->objects[object_index]) {
		struct bpf_map *owner;
		int err;

		if (bpf_map__is_internal(map))
			continue;
		owner = find_map(probe, object_index, bpf_map__name(map));
		if (!owner)
			continue;
		err = bpf_map__reuse_fd(map, bpf_map__fd(owner));
		if (err)
			return err;
	}
	return 0;
}

int ab_probe__load(struct ab_probe *probe)
{
	for (size_t i = 0; i < probe->object_count; i++) {
		int err = share_maps(probe, i);

		if (!err)
			err = bpf_object__load(probe->objects[i]);
		if (err)
			return err < 0 ? err : -err;
	}
	probe->loaded = 1;
	return 0;
}

static int keep_link(struct ab_probe *probe, struct bpf_link *link)
{
	if (probe->link_count == probe->link_capacity) {
		size_t capacity = probe->link_capacity ? probe->link_capacity * 2 : 16;
		struct bpf_link **links = realloc(probe->links, capacity * sizeof(*links));

		if (!links)
			return -ENOMEM;
		probe->links = links;
		probe->link_capacity = capacity;
	}
	probe->links[probe->link_count++] = link;
	return 0;
}

static int needs_target_process(const struct bpf_program *prog)
{
	const char *section = bpf_program__section_name(prog);

	return strncmp(section, "usdt", 4) == 0 || strncmp(section, "uprobe", 6) == 0 ||
	       strncmp(section, "uretprobe", 9) == 0;
}

int ab_probe__attach(struct ab_probe *probe)
{
	if (!probe->loaded)
		return -EINVAL;
	for (size_t i = 0; i < probe->object_count; i++) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, probe->objects[i]) {
			struct bpf_link *link;
			int err;

			/* USDT and uprobe programs need a binary and a pid: ab_probe__attach_usdt and
			 * ab_probe__attach_uprobe. */
			if (needs_target_process(prog))
				continue;
			link = bpf_program__attach(prog);
			if (!link) {
				err = -errno;
				ab_probe__detach(probe);
				return err;
			}
			err = keep_link(probe, link);
			if (err) {
				bpf_link__destroy(link);
				ab_probe__detach(probe);
				return err;
			}
		}
	}
	return 0;
}

/* The program named `name` in any family, once the session is loaded: 0, -ENOENT or -EINVAL. */
static int loaded_program(struct ab_probe *probe, const char *name, struct bpf_program **out)
{
	for (size_t i = 0; i < probe->object_count; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(probe->objects[i], name);

		if (!prog)
			continue;
		if (!probe->loaded)
			return -EINVAL;
		*out = prog;
		return 0;
	}
	return -ENOENT;
}

/* Keeps a link just made (NULL: the attach failed, errno says why) for detach. */
static int keep_new_link(struct ab_probe *probe, struct bpf_link *link)
{
	int err;

	if (!link)
		return -errno;
	err = keep_link(probe, link);
	if (err)
		bpf_link__destroy(link);
	return err;
}

int ab_probe__attach_usdt(struct ab_probe *probe, const char *program, int pid, const char *binary,
			  const char *provider, const char *name)
{
	struct bpf_program *prog;
	int err = loaded_program(probe, program, &prog);

	if (err)
		return err;
	return keep_new_link(probe, bpf_program__attach_usdt(prog, pid, binary, provider, name, NULL));
}

int ab_probe__attach_uprobe(struct ab_probe *probe, const char *program, int pid, const char *binary,
			    const char *function, size_t offset, int retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = function, .retprobe = retprobe != 0);
	struct bpf_program *prog;
	int err = loaded_program(probe, program, &prog);

	if (err)
		return err;
	/* libbpf finds the function in the binary's symbol table by name and adds `offset`. */
	return keep_new_link(probe, bpf_program__attach_uprobe_opts(prog, pid, binary, offset, &opts));
}

void ab_probe__detach(struct ab_probe *probe)
{
	for (size_t i = 0; i < probe->link_count; i++)
		bpf_link__destroy(probe->links[i]);
	probe->link_count = 0;
}

void ab_probe__destroy(struct ab_probe *probe)
{
	if (!probe)
		return;
	ab_probe__detach(probe);
	ring_buffer__free(probe->ring);
	for (size_t i = 0; i < probe->collector_count; i++)
		free(probe->collectors[i].records);
	free(probe->links);
	for (size_t i = 0; i < probe->object_count; i++)
		bpf_object__close(probe->objects[i]);
	free(probe);
}

static size_t lookup_value_size(const struct bpf_map *map)
{
	size_t value_size = bpf_map__value_size(map);

	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return ((value_size + 7) & ~(size_t)7) * (size_t)libbpf_num_possible_cpus();
	default:
		return value_size;
	}
}

int ab_probe__map_sizes(struct ab_probe *probe, const char *name, size_t *key_size, size_t *value_size)
{
	struct bpf_map *map = find_map(probe, probe->object_count, name);

	if (!map)
		return -ENOENT;
	*key_size = bpf_map__key_size(map);
	*value_size = lookup_value_size(map);
	return 0;
}

int ab_probe__map_update(struct ab_probe *probe, const char *name, const void *key, const void *value)
{
	struct bpf_map *map = find_map(probe, probe->object_count, name);

	if (!map)
		return -ENOENT;
	if (!probe->loaded)
		return -EINVAL;
	return bpf_map_update_elem(bpf_map__fd(map), key, value, BPF_ANY) ? -errno : 0;
}

long ab_probe__map_dump(struct ab_probe *probe, const char *name, void *keys, void *values, size_t capacity)
{
	struct bpf_map *map = find_map(probe, probe->object_count, name);
	size_t key_size, value_size, found = 0;
	char *key, *next;
	void *previous = NULL;
	int fd;

	if (!map)
		return -ENOENT;
	if (!probe->loaded)
		return -EINVAL;
	fd = bpf_map__fd(map);
	key_size = bpf_map__key_size(map);
	value_size = lookup_value_size(map);
	key = malloc(key_size * 2);
	if (!key)
		return -ENOMEM;
	next = key + key_size;
	/* Keys added while we walk may be missed and deleted ones skipped: the callers read maps that
	 * only grow, or read them after detaching. */
	while (bpf_map_get_next_key(fd, previous, next) == 0) {
		if (found < capacity) {
			char *key_slot = (char *)keys + found * key_size;
			char *value_slot = (char *)values + found * value_size;

			memcpy(key_slot, next, key_size);
			if (bpf_map_lookup_elem(fd, next, value_slot) == -1)
				memset(value_slot, 0, value_size);
		}
		found++;
		memcpy(key, next, key_size);
		previous = key;
	}
	free(key);
	if (errno != ENOENT)
		return -errno;
	return (long)found;
}

int ab_probe__set_map_size(struct ab_probe *probe, const char *map, uint32_t max_entries)
{
	struct bpf_map *found;

	if (probe->loaded)
		return -EBUSY;
	found = find_map(probe, probe->object_count, map);
	return found ? bpf_map__set_max_entries(found, max_entries) : -ENOENT;
}

int ab_probe__set_rodata(struct ab_probe *probe, const char *family, const char *variable, const void *value,
			 size_t size)
{
	for (size_t i = 0; i < probe->object_count; i++) {
		struct bpf_object *obj = probe->objects[i];
		struct bpf_map *rodata;
		const struct btf_type *section;
		const struct btf_var_secinfo *var;
		struct btf *btf;
		size_t data_size;
		char *data;

		if (strcmp(bpf_object__name(obj), family) != 0)
			continue;
		if (probe->loaded)
			return -EBUSY;
		btf = bpf_object__btf(obj);
		bpf_object__for_each_map(rodata, obj) {
			const char *name = bpf_map__name(rodata);
			size_t length = strlen(name);

			if (bpf_map__is_internal(rodata) && length >= 7 && strcmp(name + length - 7, ".rodata") == 0)
				break;
		}
		if (!rodata || !btf)
			return -ENOENT;
		/* The .rodata DATASEC in the object's BTF lists each variable with its offset. */
		section = btf__type_by_id(btf, btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC));
		/* Writable until load: libbpf skeletons set their rodata through the same pointer. */
		data = (char *)bpf_map__initial_value(rodata, &data_size);
		if (!section || !data)
			return -ENOENT;
		var = btf_var_secinfos(section);
		for (unsigned int v = 0; v < btf_vlen(section); v++, var++) {
			const struct btf_type *type = btf__type_by_id(btf, var->type);

			if (strcmp(btf__name_by_offset(btf, type->name_off), variable) != 0)
				continue;
			if (var->size != size || var->offset + size > data_size)
				return -EINVAL;
			memcpy(data + var->offset, value, size);
			return 0;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

static int gather_record(void *context, void *data, size_t size)
{
	struct collector *collector = context;

	if (size < collector->record_size || collector->count >= AB_COLLECT_LIMIT) {
		collector->dropped++;
		return 0;
	}
	if (collector->count == collector->capacity) {
		size_t capacity = collector->capacity ? collector->capacity * 2 : 1024;
		char *records = realloc(collector->records, capacity * collector->record_size);

		if (!records) {
			collector->dropped++;
			return 0;
		}
		collector->records = records;
		collector->capacity = capacity;
	}
	memcpy(collector->records + collector->count * collector->record_size, data, collector->record_size);
	collector->count++;
	return 0;
}

static struct collector *find_collector(struct ab_probe *probe, const char *map)
{
	for (size_t i = 0; i < probe->collector_count; i++)
		if (strcmp(probe->collectors[i].map, map) == 0)
			return &probe->collectors[i];
	return NULL;
}

int ab_probe__collect(struct ab_probe *probe, const char *name, size_t record_size)
{
	struct bpf_map *map = find_map(probe, probe->object_count, name);
	struct collector *collector;
	int err;

	if (!map || bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF)
		return -ENOENT;
	if (!probe->loaded)
		return -EINVAL;
	if (probe->collector_count == AB_MAX_COLLECTORS || strlen(name) >= sizeof(collector->map))
		return -E2BIG;
	collector = &probe->collectors[probe->collector_count];
	memset(collector, 0, sizeof(*collector));
	strcpy(collector->map, name);
	collector->record_size = record_size;
	if (!probe->ring) {
		probe->ring = ring_buffer__new(bpf_map__fd(map), gather_record, collector, NULL);
		if (!probe->ring)
			return -errno;
	} else {
		err = ring_buffer__add(probe->ring, bpf_map__fd(map), gather_record, collector);
		if (err)
			return err;
	}
	probe->collector_count++;
	return 0;
}

long ab_probe__poll(struct ab_probe *probe)
{
	return probe->ring ? ring_buffer__consume(probe->ring) : 0;
}

long ab_probe__take(struct ab_probe *probe, const char *map, void *out, size_t capacity)
{
	struct collector *collector = find_collector(probe, map);
	size_t count;

	if (!collector)
		return -ENOENT;
	count = collector->count < capacity ? collector->count : capacity;
	memcpy(out, collector->records, count * collector->record_size);
	memmove(collector->records, collector->records + count * collector->record_size,
		(collector->count - count) * collector->record_size);
	collector->count -= count;
	return (long)count;
}

uint64_t ab_probe__collect_dropped(struct ab_probe *probe, const char *map)
{
	struct collector *collector = find_collector(probe, map);

	return collector ? collector->dropped : 0;
}
