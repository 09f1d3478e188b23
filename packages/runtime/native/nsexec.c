/*
 * tsrunc-nsexec: the native stage. It does what a multi-threaded JS engine cannot, or must not:
 * join namespaces (a user namespace above all), create new ones, fork into a new PID namespace,
 * and become the container's process: for create, it builds the root filesystem (rootfs.c) and
 * applies the process' settings (process.c) as tsrunc's plans say. Single-threaded and
 * non-dumpable from its first instruction, it runs from a sealed memfd copy of itself
 * (cloned-binary.c); nothing of a JS engine ever runs inside a container's namespaces.
 *
 * Invocations (by tsrunc only):
 *   tsrunc-nsexec --create   create: enter the namespaces, then read a rootfs plan and a process
 *                            plan from the sync socket, build the rootfs, report ready, wait on the
 *                            exec fifo and exec the program
 *   tsrunc-nsexec --exec     exec: join every namespace of a running container, the mount
 *                            namespace included, then read a process plan and become that process
 * Inputs (environment, removed before exec):
 *   _TSRUNC_SYNC_FD   fd of a socket to the tsrunc parent
 *   _TSRUNC_JOIN      "type:path,type:path..." namespaces to join, in this order
 *   _TSRUNC_CLONE     clone flags (hex) of the namespaces to create
 *   _TSRUNC_TIMENS    "monotonic S N,boottime S N": offsets of a new time namespace
 * Protocol on the sync socket (parent -> us: single bytes or plans; us -> parent: lines):
 *   parent -> 'G'      the parent placed this process in the container's cgroups; go on
 *   us     -> "U\n"    a new user namespace exists; the parent writes uid_map/gid_map
 *   parent -> 'M'      maps written
 *   us     -> "P<pid>\n" the pid of the process that becomes the container's
 *   us     -> "E<message>\n" a failure, before exiting with status 1
 *   then, from the process that becomes the container's, JSON lines: {"type":"error",...} on a
 *   failure; create: parent -> the rootfs plan and the process plan (each a u32 length, then the
 *   plan); us -> {"type":"mountSources"} (the parent sends the sources' fds), {"type":"prePivot"}
 *   (parent -> 'C' after its hooks), {"type":"ready"}; exec: parent -> a process plan, and the
 *   socket closes on a successful execve (close-on-exec)
 *   seccomp notify (exec, and create's executor): us -> {"type":"seccompListener","fd":N};
 *          parent -> 'L' once the listener is with the agent (process.c)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloned-binary.h"
#include "fail.h"
#include "plan.h"
#include "process.h"
#include "rootfs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MAX_JOIN 16

static void expect(char wanted)
{
	char got;
	ssize_t n;
	do
		n = read(sync_fd, &got, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		die("sync socket closed while waiting for '%c'", wanted);
	if (got != wanted)
		die("sync: expected '%c', got '%c'", wanted, got);
}

struct ns_type {
	const char *name;
	int flag;
};

static const struct ns_type ns_types[] = {
	{ "user", CLONE_NEWUSER }, { "pid", CLONE_NEWPID },	  { "network", CLONE_NEWNET },
	{ "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS },	  { "mount", CLONE_NEWNS },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int ns_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++)
		if (strlen(ns_types[i].name) == len && strncmp(ns_types[i].name, name, len) == 0)
			return ns_types[i].flag;
	return 0;
}

struct join {
	int fd;
	int flag;
	const char *path;
};

/* Opens every namespace path before joining any: after joining a mount namespace the
 * others' paths may no longer resolve. */
static int open_joins(char *spec, struct join *joins)
{
	int count = 0;
	for (char *item = strtok(spec, ","); item; item = strtok(NULL, ",")) {
		char *colon = strchr(item, ':');
		if (!colon)
			die("bad namespace entry \"%s\"", item);
		int flag = ns_flag(item, (size_t)(colon - item));
		if (!flag)
			die("unknown namespace type in \"%s\"", item);
		if (count == MAX_JOIN)
			die("too many namespaces to join");
		int fd = open(colon + 1, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open namespace %s", colon + 1);
		joins[count++] = (struct join){ .fd = fd, .flag = flag, .path = colon + 1 };
	}
	return count;
}

static void join_namespaces(struct join *joins, int count)
{
	for (int i = 0; i < count; i++) {
		if (setns(joins[i].fd, joins[i].flag) < 0)
			die("setns %s", joins[i].path);
		close(joins[i].fd);
	}
}

/* "monotonic 5 0,boottime 7 0" -> one offset per line, as /proc/self/timens_offsets wants. */
static void set_time_offsets(const char *spec)
{
	char buf[256];
	size_t len = strlen(spec);
	if (len >= sizeof(buf))
		die("time offsets too long");
	memcpy(buf, spec, len + 1);
	for (char *p = buf; *p; p++)
		if (*p == ',')
			*p = '\n';
	write_file("/proc/self/timens_offsets", buf);
}

static const char *take_env(const char *name)
{
	const char *value = getenv(name);
	if (!value)
		return NULL;
	char *copy = strdup(value);
	if (!copy)
		die("out of memory");
	unsetenv(name);
	return copy;
}

/* The process that becomes the container's, once every namespace is entered: for create, the
 * rootfs is built first. Failures from here on are JSON lines, as tsrunc reads them. */
static void become_container_process(int create)
{
	fail_as_json = 1;
	size_t rootfs_len = 0, process_len;
	/* Both plans are read before anything else comes on the socket (the reply to prePivot). */
	unsigned char *rootfs = create ? read_plan(sync_fd, &rootfs_len) : NULL;
	unsigned char *process = read_plan(sync_fd, &process_len);
	if (rootfs) {
		run_rootfs_plan(rootfs, rootfs_len);
		free(rootfs);
	}
	run_process_plan(process, process_len);
}

int main(int argc, char **argv)
{
	ensure_cloned_binary(argv, environ);
	/* Nothing in the container may ptrace us or open our /proc files while we hold the host's
	 * privileges; execve of the container's program resets this as it should. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_DUMPABLE)");
	int create = argc == 2 && strcmp(argv[1], "--create") == 0;
	if (!create && !(argc == 2 && strcmp(argv[1], "--exec") == 0)) {
		fprintf(stderr, "usage: tsrunc-nsexec --create | --exec (started by tsrunc only)\n");
		return 2;
	}
	const char *fd_text = take_env("_TSRUNC_SYNC_FD");
	if (!fd_text)
		die("_TSRUNC_SYNC_FD is not set");
	sync_fd = atoi(fd_text);
	const char *join_spec = take_env("_TSRUNC_JOIN");
	const char *clone_text = take_env("_TSRUNC_CLONE");
	const char *timens = take_env("_TSRUNC_TIMENS");
	int clone_flags = clone_text ? (int)strtol(clone_text, NULL, 16) : 0;

	expect('G');

	struct join joins[MAX_JOIN];
	int njoin = join_spec && *join_spec ? open_joins((char *)join_spec, joins) : 0;
	join_namespaces(joins, njoin);

	if (clone_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			die("unshare user namespace");
		send_all("U\n", 2);
		expect('M');
	}
	/* Root of the user namespace we are now in (joined or new); also drops supplementary
	 * groups that belong to the host. Skipped when no user namespace is involved. */
	if (clone_flags & CLONE_NEWUSER || (njoin > 0 && joins[0].flag == CLONE_NEWUSER)) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			die("become root in the user namespace (is uid/gid 0 mapped?)");
	}

	int rest = clone_flags & ~CLONE_NEWUSER;
	if (rest && unshare(rest) < 0)
		die("unshare namespaces 0x%x", rest);
	if (timens && (rest & CLONE_NEWTIME))
		set_time_offsets(timens);

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0)
		become_container_process(create);
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "P%d\n", child);
	send_all(msg, (size_t)len);
	return 0;
}
