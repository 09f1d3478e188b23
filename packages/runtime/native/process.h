/* The process executor: turns the calling (single-threaded, non-dumpable) process into the
 * container's process as a plan made by tsrunc says, then execs the program. It decides nothing:
 * every value was checked by tsrunc (packages/runtime/src/process/native-plan.ts writes the plan,
 * whose record layout is described there and in process.c). */
#ifndef TSRUNC_PROCESS_H
#define TSRUNC_PROCESS_H

#include <stddef.h>
#include <stdint.h>

/* Applies the plan (len bytes at data) and execs; never returns. Failures are reported on the
 * sync socket as JSON error messages. */
void run_process_plan(const unsigned char *data, size_t len) __attribute__((noreturn));

/* process.terminal: makes a pty in the container's devpts, sends its master to socket_fd and
 * makes its slave the controlling terminal and stdio; before_send, if any, gets the slave first. */
void attach_console(int socket_fd, uint16_t rows, uint16_t cols, void (*before_send)(int slave_fd));

#endif
