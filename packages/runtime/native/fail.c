#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail.h"

int sync_fd = -1;
int fail_as_json;

/* Appends text to out as the inside of a JSON string; returns the new length. */
static size_t json_escape(char *out, size_t len, size_t cap, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p && len + 7 < cap; p++) {
		if (*p == '"' || *p == '\\')
			len += (size_t)snprintf(out + len, cap - len, "\\%c", *p);
		else if (*p < 0x20)
			len += (size_t)snprintf(out + len, cap - len, "\\u%04x", *p);
		else
			out[len++] = (char)*p;
	}
	out[len] = '\0';
	return len;
}

void die(const char *fmt, ...)
{
	int saved = errno;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0 && saved && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(saved));

	char line[2200];
	size_t len;
	if (fail_as_json) {
		len = (size_t)snprintf(line, sizeof(line), "{\"type\":\"error\",\"message\":\"");
		len = json_escape(line, len, sizeof(line) - 3, msg);
		len += (size_t)snprintf(line + len, sizeof(line) - len, "\"}\n");
	} else {
		len = (size_t)snprintf(line, sizeof(line), "E%s\n", msg);
	}
	if (sync_fd < 0 || write(sync_fd, line, len) < 0)
		fprintf(stderr, "tsrunc: %s\n", msg);
	_exit(1);
}

void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	size_t len = strlen(content);
	if (write(fd, content, len) != (ssize_t)len)
		die("write %s", path);
	close(fd);
}

void send_all(const char *buf, unsigned long len)
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
