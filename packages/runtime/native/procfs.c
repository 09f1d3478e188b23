#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fail.h"
#include "procfs.h"

/* An fd of the process' /proc, checked to be a proc filesystem, not a tmpfs laid over it. */
static int open_proc_root(void)
{
	int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		die("open /proc");
	struct statfs st;
	if (fstatfs(proc, &st) < 0)
		die("statfs /proc");
	if (st.f_type != PROC_SUPER_MAGIC) {
		errno = 0;
		die("/proc is not a proc filesystem: no setting is written through it");
	}
	return proc;
}

/* `relative` with "self/" replaced by this process' pid: "self" is a link, which is not followed. */
static void own_path(const char *relative, char *out, size_t size)
{
	if (strncmp(relative, "self/", 5) == 0)
		snprintf(out, size, "%d/%s", getpid(), relative + 5);
	else
		snprintf(out, size, "%s", relative);
}

static int open_below_proc(const char *relative, int flags)
{
	char path[4096];
	own_path(relative, path, sizeof(path));
	int proc = open_proc_root();
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, proc, path, &how, sizeof(how));
	int saved = errno;
	close(proc);
	errno = saved;
	return fd;
}

void write_proc_file(const char *relative, const char *content)
{
	int fd = open_below_proc(relative, O_WRONLY);
	if (fd < 0) {
		if (errno == EXDEV || errno == ELOOP)
			die("open /proc/%s: a mount or a link is in the way", relative);
		die("open /proc/%s", relative);
	}
	size_t len = strlen(content);
	if (write(fd, content, len) != (ssize_t)len)
		die("write /proc/%s", relative);
	close(fd);
}

int proc_file_exists(const char *relative)
{
	int fd = open_below_proc(relative, O_PATH);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}
