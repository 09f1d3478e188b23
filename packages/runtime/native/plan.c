#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fail.h"
#include "plan.h"

uint32_t u32_at(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

uint64_t u64_at(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

void *xmalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

char *string_of(const unsigned char *data, uint32_t len)
{
	char *s = xmalloc((size_t)len + 1);
	memcpy(s, data, len);
	return s;
}

void need(uint32_t len, uint32_t wanted, const char *what)
{
	if (len < wanted)
		die("plan: %s record too short", what);
}

char **split_strings(const char **p, const char *end, uint32_t count)
{
	char **list = xmalloc(sizeof(char *) * ((size_t)count + 1));
	for (uint32_t i = 0; i < count; i++) {
		const char *nul = memchr(*p, '\0', (size_t)(end - *p));
		if (!nul)
			die("plan: strings not terminated");
		list[i] = (char *)*p;
		*p = nul + 1;
	}
	return list;
}

unsigned char *read_plan(int fd, size_t *len)
{
	uint32_t size;
	unsigned char *buf = NULL;
	size_t want = sizeof(size), got = 0;
	unsigned char *dst = (unsigned char *)&size;
	for (int header = 1;; header = 0) {
		while (got < want) {
			ssize_t n = read(fd, dst + got, want - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die("read the plan");
			got += (size_t)n;
		}
		if (!header)
			break;
		buf = xmalloc(size);
		dst = buf;
		want = size;
		got = 0;
	}
	*len = size;
	return buf;
}

void for_each_record(const unsigned char *data, size_t len, const char *plan_name,
		     void (*visit)(void *ctx, uint32_t tag, const unsigned char *value, uint32_t size), void *ctx)
{
	size_t off = 0;
	while (off + 8 <= len) {
		uint32_t tag = u32_at(data + off), size = u32_at(data + off + 4);
		if (size > len - off - 8)
			die("%s plan: record %u overruns the plan", plan_name, tag);
		visit(ctx, tag, data + off + 8, size);
		off += 8 + (size_t)size;
	}
	if (off != len)
		die("%s plan: trailing bytes", plan_name);
}

void parse_hook(struct hook *h, const char *phase, size_t index, const unsigned char *data, uint32_t len)
{
	need(len, 12, "hook");
	h->phase = phase;
	h->index = index;
	char *copy = string_of(data + 12, len - 12);
	const char *p = copy, *end = copy + (len - 12) + 1;
	h->timeout = u32_at(data);
	char **path = split_strings(&p, end, 1);
	h->path = path[0];
	h->argv = split_strings(&p, end, u32_at(data + 4));
	h->envp = split_strings(&p, end, u32_at(data + 8));
	h->state = split_strings(&p, end, 1)[0];
}

/* A signal as runc words a hook killed by it (Go's "bad system call"): strsignal's description
 * with its first letter lowered, as Go's table has it. Hook failures read as hooks/run.ts words them. */
static const char *signal_words(int sig)
{
	static char text[64];
	snprintf(text, sizeof(text), "%s", strsignal(sig));
	text[0] = (char)tolower((unsigned char)text[0]);
	return text;
}

/* What a hook printed, as runc keeps it: up to HOOK_OUTPUT_MAX bytes of each stream. */
#define HOOK_OUTPUT_MAX (1 << 20)

struct output {
	int fd;
	char *text;
	size_t len;
};

/* Reads what is there; closes the fd at end of file. */
static void drain(struct output *o)
{
	char buf[4096];
	ssize_t n = read(o->fd, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(o->fd);
		o->fd = -1;
		return;
	}
	size_t keep = o->len + (size_t)n > HOOK_OUTPUT_MAX ? HOOK_OUTPUT_MAX - o->len : (size_t)n;
	if (keep == 0)
		return;
	char *grown = realloc(o->text, o->len + keep + 1);
	if (!grown)
		die("out of memory");
	memcpy(grown + o->len, buf, keep);
	o->len += keep;
	grown[o->len] = '\0';
	o->text = grown;
}

/* ", stdout: ..., stderr: ...", each part only when there is one, its whitespace runs made one
 * space, as hooks/run.ts (and runc) word it. */
static const char *describe_output(struct output *outs)
{
	static char text[2048];
	size_t len = 0;
	text[0] = '\0';
	const char *names[] = { "stdout", "stderr" };
	for (int i = 0; i < 2; i++) {
		const char *p = outs[i].text ? outs[i].text : "";
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		len += (size_t)snprintf(text + len, sizeof(text) - len, ", %s: ", names[i]);
		for (int space = 0; *p && len + 2 < sizeof(text); p++) {
			if (isspace((unsigned char)*p)) {
				space = 1;
				continue;
			}
			if (space)
				text[len++] = ' ';
			space = 0;
			text[len++] = *p;
		}
		text[len] = '\0';
	}
	return text;
}

void run_hook(const struct hook *h, const char *cwd)
{
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		die("pipe for hook %s", h->path);
	pid_t pid = fork();
	if (pid < 0)
		die("fork hook %s", h->path);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (cwd && chdir(cwd) < 0)
			_exit(127);
		execve(h->path, h->argv, h->envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	size_t len = strlen(h->state);
	signal(SIGPIPE, SIG_IGN);
	if (write(in[1], h->state, len) < 0 && errno != EPIPE)
		die("write the state to hook %s", h->path);
	close(in[1]);
	struct output outs[2] = { { .fd = out[0] }, { .fd = err[0] } };
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int status;;) {
		struct pollfd fds[2] = { { .fd = outs[0].fd, .events = POLLIN }, { .fd = outs[1].fd, .events = POLLIN } };
		if (outs[0].fd >= 0 || outs[1].fd >= 0) {
			if (poll(fds, 2, 10) > 0)
				for (int i = 0; i < 2; i++)
					if (fds[i].revents)
						drain(&outs[i]);
		} else {
			pid_t done = waitpid(pid, &status, h->timeout ? WNOHANG : 0);
			if (done == pid) {
				errno = 0;
				if (WIFSIGNALED(status))
					die("%s hook #%zu (%s): error running hook: signal: %s%s", h->phase, h->index, h->path,
					    signal_words(WTERMSIG(status)), describe_output(outs));
				if (WEXITSTATUS(status) != 0)
					die("%s hook #%zu (%s): error running hook: exit status %d%s", h->phase, h->index, h->path,
					    WEXITSTATUS(status), describe_output(outs));
				free(outs[0].text);
				free(outs[1].text);
				return;
			}
			poll(NULL, 0, 10);
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (h->timeout && now.tv_sec - start.tv_sec >= (time_t)h->timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			errno = 0;
			die("%s hook #%zu (%s): hook ran past specified timeout of %u.0s", h->phase, h->index, h->path, h->timeout);
		}
	}
}
