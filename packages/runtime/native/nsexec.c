/*
 * tsrunc-nsexec: the native stage. It does what a multi-threaded Node process cannot, or must not:
 * join namespaces (a user namespace above all), create new ones, fork into a new PID namespace,
 * and turn itself into the container's process (process.c). Single-threaded and non-dumpable
 * from its first instruction, it runs from a sealed memfd copy of itself (cloned-binary.c).
 *
 * Invocations (by tsrunc only):
 *   tsrunc-nsexec NODE SCRIPT [ARGS...]  create: enter the namespaces, exec the init stage (Node),
 *                                        which builds the root filesystem
 *   tsrunc-nsexec --exec                 exec: join every namespace of a running container, the
 *                                        mount namespace included, then read a process plan from
 *                                        the sync socket and become that process
 *   tsrunc-nsexec --process FD           the init stage hands over: the process plan is in FD
 * Inputs (environment, removed before exec):
 *   _TSRUNC_SYNC_FD   fd of a socket to the tsrunc parent
 *   _TSRUNC_JOIN      "type:path,type:path..." namespaces to join, in this order
 *   _TSRUNC_CLONE     clone flags (hex) of the namespaces to create
 *   _TSRUNC_TIMENS    "monotonic S N,boottime S N": offsets of a new time namespace
 * Protocol on the sync socket (parent -> us: single bytes; us -> parent: lines):
 *   parent -> 'G'      the parent placed this process in the container's cgroups; go on
 *   us     -> "U\n"    a new user namespace exists; the parent writes uid_map/gid_map
 *   parent -> 'M'      maps written
 *   us     -> "P<pid>\n" the pid of the process that becomes the init stage (or, for exec, the process)
 *   us     -> "E<message>\n" a failure, before exiting with status 1
 *   exec:  parent -> a process plan (u32 length, then the plan); us -> a JSON error line, or
 *          nothing: the socket closes on a successful execve (close-on-exec)
 *   seccomp notify (exec, and create's executor): us -> {"type":"seccompListener","fd":N};
 *          parent -> 'L' once the listener is with the agent (process.c)
 *
 * Why the read-only bind of NODE: the init stage runs Node inside the container's namespaces
 * until it hands over to the process executor; /proc/PID/exe would let a hostile process write
 * the host's node binary (CVE-2019-5736). In the new mount namespace, NODE is remounted read-only
 * over itself first, so such a write fails with EROFS.
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
#include "process.h"

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

/* Makes NODE read-only in this (private) mount namespace; see the header comment. */
static void protect_node_binary(const char *node)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		die("make / a slave mount");
	if (mount(node, node, NULL, MS_BIND, NULL) < 0)
		die("bind %s", node);
	if (mount(NULL, node, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		die("remount %s read-only", node);
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

/* The init stage hands over to the process executor (this program) through an fd of our sealed
 * copy: it cannot exec a path once the container's root is its own, and a path of the host
 * would be the writable file CVE-2019-5736 is about. */
static void pass_executor_to_init(void)
{
	int self = open("/proc/self/exe", O_RDONLY); /* inherited by the init stage */
	if (self < 0)
		die("open /proc/self/exe");
	char text[16];
	snprintf(text, sizeof(text), "%d", self);
	if (setenv("_TSRUNC_EXECUTOR_FD", text, 1) < 0)
		die("setenv");
}

/* exec: the process that becomes the container's, once every namespace is joined. */
static void become_exec_process(void)
{
	size_t len;
	unsigned char *plan = read_plan(sync_fd, &len);
	run_process_plan(plan, len);
}

int main(int argc, char **argv)
{
	ensure_cloned_binary(argv, environ);
	/* Nothing in the container may ptrace us or open our /proc files while we hold the host's
	 * privileges; execve of the container's program resets this as it should. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_DUMPABLE)");
	int exec_mode = argc == 2 && strcmp(argv[1], "--exec") == 0;
	int process_mode = argc == 3 && strcmp(argv[1], "--process") == 0;
	/* The init stage's command: an engine and its script, or tsrunc's single binary alone. */
	if (argc < 2) {
		fprintf(stderr, "usage: tsrunc-nsexec ENGINE [SCRIPT ARGS...] | --exec | --process FD (started by tsrunc only)\n");
		return 2;
	}
	const char *fd_text = take_env("_TSRUNC_SYNC_FD");
	if (!fd_text)
		die("_TSRUNC_SYNC_FD is not set");
	sync_fd = atoi(fd_text);
	if (process_mode) {
		int plan_fd = atoi(argv[2]);
		if (lseek(plan_fd, 0, SEEK_SET) < 0)
			die("rewind the process plan");
		size_t len;
		unsigned char *plan = read_plan(plan_fd, &len);
		close(plan_fd);
		run_process_plan(plan, len);
	}
	if (!exec_mode)
		pass_executor_to_init();
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
	if (rest & CLONE_NEWNS)
		protect_node_binary(argv[1]);
	if (timens && (rest & CLONE_NEWTIME))
		set_time_offsets(timens);

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		if (exec_mode)
			become_exec_process();
		execv(argv[1], argv + 1);
		die("exec %s", argv[1]);
	}
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "P%d\n", child);
	send_all(msg, (size_t)len);
	return 0;
}
