/* The plans tsrunc writes for the native stage (src/launch/plan-records.ts): a u32 length, then
 * records of [u32 tag][u32 length][value], little-endian as the host (x86_64) is. Shared here: the
 * record reading, and the hooks both executors run inside the container. */
#ifndef TSRUNC_PLAN_H
#define TSRUNC_PLAN_H

#include <stddef.h>
#include <stdint.h>

uint32_t u32_at(const unsigned char *p);
uint64_t u64_at(const unsigned char *p);
void *xmalloc(size_t size);
/* A record's bytes as a C string (tsrunc refuses NUL in every string it sends). */
char *string_of(const unsigned char *data, uint32_t len);
/* Dies unless a record of `what` has at least `wanted` bytes. */
void need(uint32_t len, uint32_t wanted, const char *what);
/* "a\0b\0c\0" -> NULL-terminated array of count strings, starting at *p, advancing it. */
char **split_strings(const char **p, const char *end, uint32_t count);
/* Reads a whole plan from fd: a u32 length (host order) then that many bytes. */
unsigned char *read_plan(int fd, size_t *len);

/* Calls visit for each record of the plan; dies on a record that overruns it. */
void for_each_record(const unsigned char *data, size_t len, const char *plan_name,
		     void (*visit)(void *ctx, uint32_t tag, const unsigned char *value, uint32_t size), void *ctx);

struct hook {
	const char *phase; /* "createContainer", "startContainer": how failures name it */
	size_t index;
	const char *path;
	char **argv;
	char **envp;
	const char *state;
	uint32_t timeout;
};

/* A hook record: u32 timeout, u32 argc, u32 envc, then NUL-terminated path, args, env, state. */
void parse_hook(struct hook *h, const char *phase, size_t index, const unsigned char *data, uint32_t len);

/* Runs the hook with the state on its stdin, in `cwd` (NULL: ours); dies, naming it, on a failure. */
void run_hook(const struct hook *h, const char *cwd);

#endif
