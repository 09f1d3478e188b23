/*
 * tsrunc-nsexec: the native stage. It only does what a multi-threaded Node process cannot:
 * join namespaces (a user namespace above all), create new ones, and fork into a new PID
 * namespace. Everything else (mounts, pivot_root, capabilities, seccomp...) is TypeScript.
 *
 * Invocation: tsrunc-nsexec NODE SCRIPT [ARGS...]
 * Inputs (environment, removed before exec):
 *   _TSRUNC_SYNC_FD   fd of a socket to the tsrunc parent
 *   _TSRUNC_JOIN      "type:path,type:path..." namespaces to join, in this order
 *   _TSRUNC_CLONE     clone flags (hex) of the namespaces to create
 *   _TSRUNC_TIMENS    "monotonic S N,boottime S N": offsets of a new time namespace
 *   _TSRUNC_KEEP_MNT  when set: keep the mount namespace (the exec stage joins the
 *                     container's later, from TypeScript, after loading everything it needs)
 * Protocol on the sync socket (parent -> us: single bytes; us -> parent: lines):
 *   parent -> 'G'      the parent placed this process in the container's cgroups; go on
 *   us     -> "U\n"    a new user namespace exists; the parent writes uid_map/gid_map
 *   parent -> 'M'      maps written
 *   us     -> "P<pid>\n" the pid of the process that becomes the init (or exec) stage
 *   us     -> "E<message>\n" a failure, before exiting with status 1
 *
 * Why the read-only bind of NODE: the stage that runs Node inside the container's namespaces
 * is visible to the container's processes for a moment; /proc/PID/exe would let a hostile
 * one write the host's node binary (CVE-2019-5736). In a mount namespace of our own, NODE is
 * remounted read-only over itself first, so such a write fails with EROFS.
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

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MAX_JOIN 16

static int sync_fd = -1;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	char line[1200];
	int len = snprintf(line, sizeof(line), "E%.*s%s%s\n", n, msg, saved ? ": " : "",
			   saved ? strerror(saved) : "");
	if (sync_fd >= 0 && len > 0 && write(sync_fd, line, (size_t)len) < 0)
		fprintf(stderr, "nsexec: %s", line + 1);
	else if (sync_fd < 0)
		fprintf(stderr, "nsexec: %s", line + 1);
	_exit(1);
}

static void send_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(sync_fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write to sync socket");
		buf += n;
		len -= (size_t)n;
	}
}

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

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	size_t len = strlen(content);
	if (write(fd, content, len) != (ssize_t)len)
		die("write %s", path);
	close(fd);
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

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tsrunc-nsexec NODE SCRIPT [ARGS...] (started by tsrunc only)\n");
		return 2;
	}
	const char *fd_text = take_env("_TSRUNC_SYNC_FD");
	if (!fd_text)
		die("_TSRUNC_SYNC_FD is not set");
	sync_fd = atoi(fd_text);
	const char *join_spec = take_env("_TSRUNC_JOIN");
	const char *clone_text = take_env("_TSRUNC_CLONE");
	const char *timens = take_env("_TSRUNC_TIMENS");
	const char *keep_mnt = take_env("_TSRUNC_KEEP_MNT");
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
	if (keep_mnt)
		rest |= CLONE_NEWNS; /* a private namespace for the read-only node bind only */
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
		execv(argv[1], argv + 1);
		die("exec %s", argv[1]);
	}
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "P%d\n", child);
	send_all(msg, (size_t)len);
	return 0;
}
