/* The process executor: turns the calling (single-threaded, non-dumpable) process into the
 * container's process as a plan made by tsrunc says, then execs the program. It decides nothing:
 * every value was checked by tsrunc (packages/runtime/src/process/native-plan.ts writes the plan,
 * whose record layout is described there and in process.c). */
#ifndef TSRUNC_PROCESS_H
#define TSRUNC_PROCESS_H

#include <stddef.h>

/* Applies the plan (len bytes at data) and execs; never returns. Failures are reported on the
 * sync socket as JSON error messages. */
void run_process_plan(const unsigned char *data, size_t len) __attribute__((noreturn));

/* Reads a whole plan from fd: a u32 length (host order) then that many bytes. */
unsigned char *read_plan(int fd, size_t *len);

#endif
