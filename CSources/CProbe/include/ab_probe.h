/* The libbpf loader behind archbench's probes.
 *
 * A probe session holds several probe families (one BPF object each, from bpf/NAME.bpf.c). The first
 * family added owns the maps every family shares (`targets`); later families reuse them, so one
 * target set drives them all. Library code: it never prints, exits or aborts. Constructors return
 * NULL and set errno; int functions return 0 or -errno. */
#ifndef ARCHBENCH_AB_PROBE_H
#define ARCHBENCH_AB_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* From CCommon, re-exported to Swift with this module: ab_monotonic_ns (the clock the probes' times
 * are on) and the bucketing of syscall_latency's slots (ab_log_linear_*, with AB_LATENCY_BITS). */
#include <ab_clock.h>
#include <ab_log_linear.h>

/* The structs the kernel side and Swift both read, imported into Swift from here. */
#include "../../../bpf/targets.h"
#include "../../../bpf/syscalls.h"
#include "../../../bpf/sched.h"
#include "../../../bpf/memory.h"
#include "../../../bpf/tcp.h"
#include "../../../bpf/gc.h"
#include "../../../bpf/alloc.h"

struct ab_probe;

/* 0 when this process may call bpf(), else the errno: a one-entry map created and closed at once,
 * so that a policy refusing bpf() outright (seccomp, a security module, lockdown) shows before a run
 * has started anything. */
int ab_probe__bpf_errno(void);
struct ab_probe *ab_probe__new(void);
/* Opens one family from its object bytes (which must outlive the session); nothing is loaded yet.
 * `btf_path` names a BTF file to relocate against instead of the running kernel's (NULL: the kernel's). */
int ab_probe__add_family(struct ab_probe *probe, const char *name, const void *object, size_t size,
			 const char *btf_path);
/* Loads every family into the kernel in the order added, sharing same-named maps. */
int ab_probe__load(struct ab_probe *probe);
int ab_probe__attach(struct ab_probe *probe);
/* USDT programs (SEC("usdt")) are not attached by ab_probe__attach: this attaches one, by program
 * name, to a probe of `binary` in process `pid`. */
int ab_probe__attach_usdt(struct ab_probe *probe, const char *program, int pid, const char *binary,
			  const char *provider, const char *name);
/* Uprobe programs (SEC("uprobe"), SEC("uretprobe")) are not attached by ab_probe__attach either:
 * this attaches one, by program name, to `function` + `offset` (a return probe, `retprobe` != 0, at
 * offset 0) in `binary` for process `pid` (which the uprobe does not follow into its forks). */
int ab_probe__attach_uprobe(struct ab_probe *probe, const char *program, int pid, const char *binary,
			    const char *function, size_t offset, int retprobe);
/* Destroys every link; safe to call twice. */
void ab_probe__detach(struct ab_probe *probe);
void ab_probe__destroy(struct ab_probe *probe);

/* Sizes of one lookup of a map's key and value; a per-CPU map's value holds one slot (rounded up to
 * 8 bytes) per possible CPU. */
int ab_probe__map_sizes(struct ab_probe *probe, const char *map, size_t *key_size, size_t *value_size);
int ab_probe__map_update(struct ab_probe *probe, const char *map, const void *key, const void *value);
/* Copies up to `capacity` entries into `keys` and `values`; returns how many the map holds, which can
 * exceed `capacity` (call again with more room), or -errno. */
long ab_probe__map_dump(struct ab_probe *probe, const char *map, void *keys, void *values, size_t capacity);

/* Sets a map's size (for a ring buffer, its bytes: a power of two, a multiple of the page size)
 * before load. */
int ab_probe__set_map_size(struct ab_probe *probe, const char *map, uint32_t max_entries);

/* Sets a `const volatile` tunable of a family before load (found by name in its .rodata). */
int ab_probe__set_rodata(struct ab_probe *probe, const char *family, const char *variable, const void *value,
			 size_t size);

/* Ring buffers: after load, `collect` starts gathering a ring buffer map's records (each
 * `record_size` bytes) into memory; `poll` moves what the kernel wrote there without blocking and
 * returns how many records it added; `take` copies up to `capacity` gathered records out and forgets
 * them, returning how many it copied. Records beyond `AB_COLLECT_LIMIT` per map waiting to be taken
 * are counted by `collect_dropped`, not kept. */
#define AB_COLLECT_LIMIT (1u << 20)
int ab_probe__collect(struct ab_probe *probe, const char *map, size_t record_size);
long ab_probe__poll(struct ab_probe *probe);
long ab_probe__take(struct ab_probe *probe, const char *map, void *out, size_t capacity);
uint64_t ab_probe__collect_dropped(struct ab_probe *probe, const char *map);

/* The last warnings libbpf printed (it explains verifier and CO-RE failures), for error messages. */
const char *ab_probe__libbpf_log(void);

#endif
