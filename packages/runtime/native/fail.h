/* How the native stage fails (one line on the sync socket to tsrunc, then exit 1), and the writes
 * that die that way when they fail. */
#ifndef TSRUNC_FAIL_H
#define TSRUNC_FAIL_H

/* The sync socket to tsrunc, or -1 when there is none (the message then goes to stderr). */
extern int sync_fd;

/* Failure lines are "E<message>" while the namespace stage speaks, JSON
 * {"type":"error","message":...} once the process executor does (tsrunc reads its JSON messages). */
extern int fail_as_json;

/* Formats the message, appends strerror(errno) when errno is set, reports it and exits 1. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Writes all of buf to the sync socket, or dies. */
void send_all(const char *buf, unsigned long len);

/* Writes content to the (proc) file at path in one write, or dies naming it. */
void write_file(const char *path, const char *content);

#endif
