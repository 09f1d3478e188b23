/*
 * The rootfs executor: builds a container's root filesystem inside its new namespaces, as the
 * rootfs plan made by tsrunc says (src/rootfs/native-plan.ts writes it; the tags are listed
 * there and below), then pivots into it. It decides nothing: which mounts, in which order, with
 * which flags, which paths a mount may land on, which devices and links: all of it comes in the
 * plan. What it does on its own is how: every path below the rootfs is resolved with
 * openat2(RESOLVE_IN_ROOT) and mounted on through /proc/self/fd, so that a symlink in the rootfs
 * cannot point a mount at the host (CVE-2024-21626 and its relatives).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fail.h"
#include "plan.h"
#include "process.h"
#include "procfs.h"
#include "rootfs.h"

/* Record tags; keep in step with OP in src/rootfs/native-plan.ts. */
enum op {
	OP_KEYRING = 1, OP_MOUNT_SOURCES, OP_PREPARE, OP_PROC_ALLOWED, OP_MOUNT, OP_MOUNT_ATTRS,
	OP_REMOUNT, OP_DEVICE, OP_SYMLINK, OP_MKDIR, OP_PRE_PIVOT, OP_CREATE_HOOK, OP_JAIL,
	OP_ROOT_PROPAGATION, OP_CONSOLE, OP_SYSCTL, OP_HOSTNAME, OP_DOMAINNAME, OP_READONLY_PATH,
	OP_MASK_PATH,
};

/* OP_MOUNT's kinds and option bits. */
enum mount_kind { KIND_BIND = 0, KIND_FILESYSTEM = 1, KIND_TMPFS = 2 };
enum mount_option {
	OPT_COPY_UP = 1,        /* tmpfs: starts with the image's content at its destination */
	OPT_READONLY_LAST = 2,  /* mounted writable; OP_REMOUNT makes it read-only at the end */
	OPT_SYSFS_FALLBACK = 4, /* sysfs refused (EPERM, a user namespace): the host's /sys bound read-only */
	OPT_MAY_BE_PROC = 8,    /* a proc filesystem: may land on /proc itself */
	OPT_EXACT = 16,         /* proc, sysfs: never where a symlink of the image would move it */
};

enum jail { JAIL_PIVOT_ROOT = 0, JAIL_MOVE = 1, JAIL_CHROOT = 2 };

#define MAX_SYMLINKS 40 /* the kernel's limit on symlinks followed in one lookup */
#define MAX_SOURCES 256
#define MAX_PROC_ALLOWED 64

#ifndef MOUNT_ATTR_RDONLY
struct mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static struct {
	const char *rootfs;
	int root_fd; /* O_PATH of the rootfs; of "/" once it is the container's */
	int source_index[MAX_SOURCES], source_fd[MAX_SOURCES];
	size_t nsources;
	const char *proc_allowed[MAX_PROC_ALLOWED];
	size_t nproc_allowed;
	size_t nhooks;
} ctx = { .root_fd = -1 };

/* ---- paths inside the root ---- */

struct fd_path {
	char text[32];
};

static struct fd_path fd_path(int fd)
{
	struct fd_path p;
	snprintf(p.text, sizeof(p.text), "/proc/self/fd/%d", fd);
	return p;
}

/* openat2 below the root: absolute paths are taken relative to it, symlinks never lead out. */
static int open_in_root(const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = mode,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, ctx.root_fd, path, &how, sizeof(how));
}

static int must_open_in_root(const char *path, int flags)
{
	int fd = open_in_root(path, flags, 0);
	if (fd < 0)
		die("open %s in the container's root", path);
	return fd;
}

/* mkdir -p below the root; an O_PATH fd of the directory. Each prefix is resolved from the root
 * again, so that a symlink met on the way is followed as the container would see it. */
static int mkdir_all_in_root(const char *path)
{
	char prefix[PATH_MAX];
	size_t len = 0;
	int dir = must_open_in_root(".", O_PATH | O_DIRECTORY);
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (len + n + 2 >= sizeof(prefix))
			errno = ENAMETOOLONG, die("mkdir %s in the container's root", path);
		prefix[len++] = '/';
		memcpy(prefix + len, p, n);
		len += n;
		prefix[len] = '\0';
		int next = open_in_root(prefix, O_PATH | O_DIRECTORY, 0);
		if (next < 0 && errno == ENOENT) {
			char name[NAME_MAX + 1];
			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
				die("mkdir %s in the container's root", prefix);
			next = open_in_root(prefix, O_PATH | O_DIRECTORY, 0);
		}
		if (next < 0)
			die("open %s in the container's root", prefix);
		close(dir);
		dir = next;
		p = end;
	}
	return dir;
}

/* The parent made as mkdir_all_in_root does, then an empty file (if missing); its O_PATH fd. */
static int create_file_in_root(const char *path)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	close(mkdir_all_in_root(parent));
	int fd = open_in_root(path, O_CREAT | O_RDONLY | O_NOCTTY, 0644);
	if (fd < 0)
		die("create %s in the container's root", path);
	close(fd);
	return must_open_in_root(path, O_PATH);
}

/* ---- mounts ---- */

static void do_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
		     const char *data, const char *what)
{
	if (mount(source, target, fstype, flags, data && *data ? data : NULL) < 0)
		die("%s", what);
}

/* The flags a mount in a user namespace cannot lose on remount (the kernel "locks" them). */
#define LOCKABLE (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME)

/* Remounts the bind mount at path with flags, keeping the flags the kernel would refuse to drop. */
static void remount_bind(const char *path, const char *shown, unsigned long flags)
{
	struct statvfs st;
	if (statvfs(path, &st) < 0)
		die("statvfs %s", shown);
	/* ST_* values equal MS_* values for these flags. */
	unsigned long locked = st.f_flag & LOCKABLE & ~(unsigned long)MS_RDONLY;
	if (mount("", path, "", MS_BIND | MS_REMOUNT | flags | locked, NULL) < 0)
		die("remount %s (flags 0x%lx)", shown, flags);
}

/* Remounts what is now mounted at `destination`, through a fresh fd: an fd opened before the mount
 * names the directory under it. */
static void remount_in_root(const char *destination, unsigned long flags)
{
	int fd = must_open_in_root(destination, O_PATH);
	remount_bind(fd_path(fd).text, destination, flags);
	close(fd);
}

static int proc_allowed(const char *path)
{
	for (size_t i = 0; i < ctx.nproc_allowed; i++)
		if (strcmp(ctx.proc_allowed[i], path) == 0)
			return 1;
	return 0;
}

static int is_missing(int err)
{
	return err == ENOENT || err == ENOTDIR;
}

/* The target of `name` in `parent` below the root (a path free of symlinks), into buf; 0 if it is
 * no symlink or does not exist. */
static int symlink_target(const char *parent, const char *name, char *buf, size_t size)
{
	int dir = open_in_root(*parent ? parent : ".", O_PATH | O_DIRECTORY, 0);
	if (dir < 0) {
		if (is_missing(errno))
			return 0;
		die("open %s in the container's root", parent);
	}
	ssize_t n = readlinkat(dir, name, buf, size - 1);
	int err = errno;
	close(dir);
	if (n < 0) {
		if (is_missing(err) || err == EINVAL)
			return 0;
		errno = err;
		die("readlink %s/%s in the container's root", parent, name);
	}
	buf[n] = '\0';
	return 1;
}

static int below_proc(const char *resolved)
{
	return strncmp(resolved, "/proc", 5) == 0 && (resolved[5] == '\0' || resolved[5] == '/');
}

/*
 * Where `destination` lands in the container: every symlink on it resolved one component at a time
 * as the kernel does below the rootfs ("/" and ".." stop at the root). A dangling symlink is
 * followed to where the mount would create its target; what does not exist is taken as written.
 * Below /proc nothing more is followed: procfs' own links stay inside it, and its magic links
 * name things of another root. `resolved` gets "" for the root itself.
 */
static void resolve_destination(const char *destination, char *resolved, size_t size)
{
	char pending[2 * PATH_MAX], target[PATH_MAX], name[NAME_MAX + 1];
	snprintf(pending, sizeof(pending), "%s", destination);
	size_t len = 0;
	resolved[0] = '\0';
	int followed = 0;
	for (char *p = pending; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
		p = end;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			char *slash = strrchr(resolved, '/');
			len = slash ? (size_t)(slash - resolved) : 0;
			resolved[len] = '\0';
			continue;
		}
		if (below_proc(resolved) || !symlink_target(resolved, name, target, sizeof(target))) {
			if (len + strlen(name) + 2 >= size)
				errno = ENAMETOOLONG, die("mount on %s", destination);
			len += (size_t)snprintf(resolved + len, size - len, "/%s", name);
			continue;
		}
		if (++followed > MAX_SYMLINKS) {
			errno = 0;
			die("mount on %s: too many levels of symlinks in the rootfs", destination);
		}
		if (target[0] == '/')
			len = 0, resolved[0] = '\0';
		char rest[2 * PATH_MAX];
		snprintf(rest, sizeof(rest), "%s/%s", target, p);
		snprintf(pending, sizeof(pending), "%s", rest);
		p = pending;
	}
	if (len == 0)
		snprintf(resolved, size, "/");
}

struct mount_op {
	uint32_t kind, flags, remount_flags, options;
	int32_t source_index;
	const char *source, *destination, *fstype, *data;
};

/* runc's rules for /proc: the runtime writes settings through it, so a file bound over one of them
 * would take the write in its place. The plan says what this mount may land on. */
static void check_destination(const struct mount_op *m)
{
	char resolved[PATH_MAX];
	resolve_destination(m->destination, resolved, sizeof(resolved));
	char via[PATH_MAX + 64] = "";
	if (strcmp(resolved, m->destination) != 0)
		snprintf(via, sizeof(via), " (through a symlink in the rootfs, at %s)", resolved);
	errno = 0;
	if (strcmp(resolved, "/proc") == 0) {
		if (!(m->options & OPT_MAY_BE_PROC))
			die("mount on %s%s: only a proc filesystem may be mounted on /proc", m->destination, via);
	} else if (strncmp(resolved, "/proc/", 6) == 0 && !proc_allowed(resolved)) {
		die("mount on %s%s: a destination inside /proc is refused", m->destination, via);
	}
	if ((m->options & OPT_EXACT) && strcmp(resolved, m->destination) != 0)
		die("mount %s on %s: the rootfs has a symlink there (to %s); %s is mounted only on an ordinary directory",
		    m->fstype, m->destination, resolved, m->fstype);
}

static int take_source(int32_t index)
{
	for (size_t i = 0; i < ctx.nsources; i++)
		if (ctx.source_index[i] == index && ctx.source_fd[i] >= 0) {
			int fd = ctx.source_fd[i];
			ctx.source_fd[i] = -1;
			return fd;
		}
	die("mount source #%d was not received", index);
}

static void bind_mount(const struct mount_op *m)
{
	int source_fd = m->source_index >= 0 ? take_source(m->source_index) : -1;
	struct stat st;
	if ((source_fd >= 0 ? fstat(source_fd, &st) : stat(m->source, &st)) < 0) {
		errno = 0;
		die("mount %s: bind source %s does not exist", m->destination, m->source);
	}
	int target = S_ISDIR(st.st_mode) ? mkdir_all_in_root(m->destination) : create_file_in_root(m->destination);
	char what[2 * PATH_MAX];
	snprintf(what, sizeof(what), "bind mount %s on %s", m->source, m->destination);
	do_mount(source_fd >= 0 ? fd_path(source_fd).text : m->source, fd_path(target).text, "",
		 MS_BIND | (m->flags & MS_REC), NULL, what);
	close(target);
	if (source_fd >= 0)
		close(source_fd);
	if (m->remount_flags)
		remount_in_root(m->destination, m->remount_flags);
}

/* Copies the entries of the directory `from` into the directory `to`, recursively, keeping modes,
 * owners and symlinks, never following a symlink of the image. */
static void copy_tree(int from, int to, const char *where)
{
	int dir_fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dir_fd < 0 ? NULL : fdopendir(dir_fd);
	if (!dir)
		die("tmpcopyup: read %s", where);
	for (struct dirent *e; (e = readdir(dir));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("tmpcopyup: stat %s/%s", where, e->d_name);
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dir_fd, e->d_name, target, sizeof(target) - 1);
			if (n < 0)
				die("tmpcopyup: readlink %s/%s", where, e->d_name);
			target[n] = '\0';
			if (symlinkat(target, to, e->d_name) < 0)
				die("tmpcopyup: symlink %s/%s", where, e->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, e->d_name, 0700) < 0)
				die("tmpcopyup: mkdir %s/%s", where, e->d_name);
			int sub_from = openat(dir_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int sub_to = openat(to, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub_from < 0 || sub_to < 0)
				die("tmpcopyup: open %s/%s", where, e->d_name);
			char sub[PATH_MAX];
			snprintf(sub, sizeof(sub), "%s/%s", where, e->d_name);
			copy_tree(sub_from, sub_to, sub);
			close(sub_from);
			close(sub_to);
		} else if (S_ISREG(st.st_mode)) {
			int in = openat(dir_fd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int out = openat(to, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (in < 0 || out < 0)
				die("tmpcopyup: open %s/%s", where, e->d_name);
			char buf[65536];
			for (ssize_t n; (n = read(in, buf, sizeof(buf))) != 0;) {
				if (n < 0)
					die("tmpcopyup: read %s/%s", where, e->d_name);
				for (ssize_t done = 0; done < n;) {
					ssize_t w = write(out, buf + done, (size_t)(n - done));
					if (w < 0)
						die("tmpcopyup: write %s/%s", where, e->d_name);
					done += w;
				}
			}
			close(in);
			close(out);
		} else {
			errno = 0;
			die("tmpcopyup %s/%s: only directories, regular files and symlinks are copied", where, e->d_name);
		}
		/* Owner before mode: chown clears the set-id bits. */
		if (fchownat(to, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			die("tmpcopyup: chown %s/%s", where, e->d_name);
		if (!S_ISLNK(st.st_mode) && fchmodat(to, e->d_name, st.st_mode & 07777, 0) < 0)
			die("tmpcopyup: chmod %s/%s", where, e->d_name);
	}
	closedir(dir);
}

/* A tmpfs as runc makes one: on a directory the image has, it takes that directory's mode (and,
 * with tmpcopyup, its content). */
static void tmpfs_mount(const struct mount_op *m)
{
	int image_mode = -1;
	int existing = open_in_root(m->destination, O_PATH | O_DIRECTORY, 0);
	if (existing >= 0) {
		struct stat st;
		if (fstat(existing, &st) == 0)
			image_mode = (int)(st.st_mode & 07777);
		close(existing);
	}
	int under = mkdir_all_in_root(m->destination);
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "mount tmpfs on %s", m->destination);
	do_mount(m->source, fd_path(under).text, "tmpfs", m->flags & ~(unsigned long)MS_RDONLY, m->data, what);
	int tmpfs = must_open_in_root(m->destination, O_DIRECTORY | O_RDONLY);
	if (m->options & OPT_COPY_UP) {
		/* The image's directory, under the tmpfs now, is reached through the fd opened before. */
		int from = open(fd_path(under).text, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (from < 0)
			die("tmpcopyup: open the image's %s", m->destination);
		copy_tree(from, tmpfs, m->destination);
		close(from);
	}
	if (image_mode >= 0 && fchmod(tmpfs, (mode_t)image_mode) < 0)
		die("chmod the tmpfs on %s", m->destination);
	close(tmpfs);
	close(under);
}

static void filesystem_mount(const struct mount_op *m)
{
	int target = mkdir_all_in_root(m->destination);
	unsigned long flags = m->options & OPT_READONLY_LAST ? m->flags & ~(unsigned long)MS_RDONLY : m->flags;
	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "mount %s on %s", m->fstype, m->destination);
	if (mount(m->source, fd_path(target).text, m->fstype, flags, *m->data ? m->data : NULL) < 0) {
		/* sysfs cannot be mounted in a user namespace that does not own the network namespace:
		 * runc binds the host's /sys read-only instead, and so do we. */
		if (!(m->options & OPT_SYSFS_FALLBACK) || errno != EPERM)
			die("%s", what);
		snprintf(what, sizeof(what), "bind /sys on %s", m->destination);
		do_mount("/sys", fd_path(target).text, "", MS_BIND | MS_REC, NULL, what);
		close(target);
		remount_in_root(m->destination, MS_RDONLY | m->remount_flags);
		return;
	}
	close(target);
}

static void parse_mount(struct mount_op *m, const unsigned char *v, uint32_t size)
{
	need(size, 20, "mount");
	m->kind = u32_at(v);
	m->flags = u32_at(v + 4);
	m->remount_flags = u32_at(v + 8);
	m->options = u32_at(v + 12);
	m->source_index = (int32_t)u32_at(v + 16);
	char *strings = string_of(v + 20, size - 20);
	const char *p = strings, *end = strings + (size - 20) + 1;
	char **s = split_strings(&p, end, 4);
	m->source = s[0], m->destination = s[1], m->fstype = s[2], m->data = s[3];
}

static void mount_one(const unsigned char *v, uint32_t size)
{
	struct mount_op m;
	parse_mount(&m, v, size);
	check_destination(&m);
	switch (m.kind) {
	case KIND_BIND: bind_mount(&m); break;
	case KIND_TMPFS: tmpfs_mount(&m); break;
	case KIND_FILESYSTEM: filesystem_mount(&m); break;
	default: die("rootfs plan: unknown mount kind %u", m.kind);
	}
}

/* u32 nprop, u32 attr_set, u32 attr_clear, u32 propagation[nprop], then the destination. */
static void mount_attrs(const unsigned char *v, uint32_t size)
{
	need(size, 12, "mount attributes");
	uint32_t nprop = u32_at(v), set = u32_at(v + 4), clear = u32_at(v + 8);
	need(size, 12 + 4 * nprop, "mount attributes");
	char *destination = string_of(v + 12 + 4 * nprop, size - 12 - 4 * nprop);
	int fd = must_open_in_root(destination, O_PATH);
	for (uint32_t i = 0; i < nprop; i++) {
		char what[PATH_MAX + 32];
		snprintf(what, sizeof(what), "set propagation of %s", destination);
		do_mount("", fd_path(fd).text, "", u32_at(v + 12 + 4 * i), NULL, what);
	}
	if (set || clear) {
		struct mount_attr attr = { .attr_set = set, .attr_clr = clear };
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
			die("mount_setattr %s", destination);
	}
	close(fd);
}

/* ---- devices ---- */

/* u32 mode (type and permissions), u64 dev, u32 uid, u32 gid, then the path. */
static void make_device(const unsigned char *v, uint32_t size)
{
	need(size, 20, "device");
	mode_t mode = u32_at(v);
	dev_t dev = u64_at(v + 4);
	uid_t uid = u32_at(v + 12);
	gid_t gid = u32_at(v + 16);
	char *path = string_of(v + 20, size - 20);
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *name = strrchr(parent, '/');
	*name++ = '\0';
	int dir = mkdir_all_in_root(parent);
	if (mknodat(dir, name, mode, dev) < 0) {
		if (errno == EEXIST) {
			close(dir);
			return;
		}
		if (errno != EPERM)
			die("mknod %s", path);
		/* In a user namespace mknod is refused: the host's node is bound on an empty file, as runc does. */
		int target = create_file_in_root(path);
		char what[PATH_MAX + 32];
		snprintf(what, sizeof(what), "bind %s from the host", path);
		do_mount(path, fd_path(target).text, "", MS_BIND, NULL, what);
		close(target);
	} else if (fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		die("chown %s", path);
	}
	close(dir);
}

/* u32 replace, then the target and the link's path: made unless a link is there, or replacing it. */
static void make_symlink(const unsigned char *v, uint32_t size)
{
	need(size, 4, "symlink");
	uint32_t replace = u32_at(v);
	char *strings = string_of(v + 4, size - 4);
	const char *p = strings, *end = strings + (size - 4) + 1;
	char **s = split_strings(&p, end, 2);
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", s[1]);
	char *name = strrchr(parent, '/');
	*name++ = '\0';
	int dir = mkdir_all_in_root(parent);
	if (replace && unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		die("remove %s", s[1]);
	if (symlinkat(s[0], dir, name) < 0 && errno != EEXIST)
		die("symlink %s -> %s", s[1], s[0]);
	close(dir);
}

/* ---- the host's mount table, as this mount namespace sees it ---- */

struct mount_entry {
	char mountpoint[PATH_MAX];
	char fstype[64];
	int shared;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;
	for (char *in = s; *in; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)(((in[1] - '0') << 6) | ((in[2] - '0') << 3) | (in[3] - '0'));
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

/* Every mount of /proc/self/mountinfo, in its order; the count in *count. */
static struct mount_entry *read_mounts(size_t *count)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		die("open /proc/self/mountinfo");
	struct mount_entry *mounts = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t line_cap = 0;
	while (getline(&line, &line_cap, f) > 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			mounts = realloc(mounts, cap * sizeof(*mounts));
			if (!mounts)
				die("out of memory");
		}
		struct mount_entry *m = &mounts[n];
		memset(m, 0, sizeof(*m));
		char *save = NULL;
		int field = 0, after_dash = 0;
		for (char *tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
			if (field == 4) {
				snprintf(m->mountpoint, sizeof(m->mountpoint), "%s", tok);
				unescape(m->mountpoint);
			} else if (field > 5 && !after_dash) {
				if (strcmp(tok, "-") == 0)
					after_dash = field;
				else if (strncmp(tok, "shared:", 7) == 0)
					m->shared = 1;
			} else if (after_dash && field == after_dash + 1) {
				snprintf(m->fstype, sizeof(m->fstype), "%s", tok);
			}
		}
		n++;
	}
	free(line);
	fclose(f);
	*count = n;
	return mounts;
}

/* pivot_root refuses a new root whose parent mount is shared (EINVAL), and a bind of the rootfs on a
 * shared mount would propagate to the host's namespace: the mount holding the rootfs (the deepest
 * mount point at or above it, the last mounted if stacked) is made private if it is shared. */
static void make_rootfs_parent_private(const char *rootfs)
{
	size_t n;
	struct mount_entry *mounts = read_mounts(&n), *holder = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *mp = mounts[i].mountpoint;
		size_t len = strlen(mp);
		int above = strcmp(mp, "/") == 0 || (strncmp(rootfs, mp, len) == 0 && (rootfs[len] == '\0' || rootfs[len] == '/'));
		if (above && (!holder || len >= strlen(holder->mountpoint)))
			holder = &mounts[i];
	}
	if (!holder) {
		errno = 0;
		die("no mount holds the rootfs %s", rootfs);
	}
	if (holder->shared) {
		char what[PATH_MAX + 64];
		snprintf(what, sizeof(what), "make %s, which holds the rootfs, private", holder->mountpoint);
		do_mount("", holder->mountpoint, "", MS_PRIVATE, NULL, what);
	}
	free(mounts);
}

/* ---- the jail ---- */

/* With --no-pivot the host's mounts stay in the container's mount namespace, out of sight but
 * there: a fully visible proc or sysfs among them lets the container mount a fresh one, so they
 * are detached, or covered with an empty tmpfs where the kernel keeps them locked, as runc does. */
static void hide_host_proc_and_sys(const char *rootfs)
{
	size_t n, len = strlen(rootfs);
	struct mount_entry *mounts = read_mounts(&n);
	for (size_t i = n; i-- > 0;) {
		const struct mount_entry *m = &mounts[i];
		if (strcmp(m->fstype, "proc") != 0 && strcmp(m->fstype, "sysfs") != 0)
			continue;
		if (strncmp(m->mountpoint, rootfs, len) == 0 && (m->mountpoint[len] == '\0' || m->mountpoint[len] == '/'))
			continue;
		if (umount2(m->mountpoint, MNT_DETACH) < 0) {
			char what[PATH_MAX + 16];
			snprintf(what, sizeof(what), "cover %s", m->mountpoint);
			do_mount("tmpfs", m->mountpoint, "tmpfs", MS_RDONLY, "size=0", what);
		}
	}
	free(mounts);
}

static void chdir_or_die(const char *path)
{
	if (chdir(path) < 0)
		die("chdir %s", path);
}

static void chroot_here(const char *what)
{
	if (chroot(".") < 0)
		die("chroot %s", what);
	chdir_or_die("/");
}

/* pivot_root(".", "."): the old root ends up stacked under the new one and is detached from there. */
static void pivot_into(const char *rootfs)
{
	int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int new_root = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (old_root < 0 || new_root < 0)
		die("open the old and new roots");
	if (fchdir(new_root) < 0)
		die("chdir %s", rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root .");
	if (fchdir(old_root) < 0)
		die("chdir to the old root");
	/* Unmounting the old root must not propagate to the host's mounts. */
	do_mount("", ".", "", MS_SLAVE | MS_REC, NULL, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		die("umount the old root");
	close(old_root);
	close(new_root);
	chdir_or_die("/");
}

static void enter_jail(uint32_t kind)
{
	const char *rootfs = ctx.rootfs;
	switch (kind) {
	case JAIL_PIVOT_ROOT:
		pivot_into(rootfs);
		break;
	case JAIL_MOVE: {
		hide_host_proc_and_sys(rootfs);
		chdir_or_die(rootfs);
		char what[PATH_MAX + 16];
		snprintf(what, sizeof(what), "move %s to /", rootfs);
		do_mount(rootfs, "/", "", MS_MOVE, NULL, what);
		chroot_here(rootfs);
		break;
	}
	case JAIL_CHROOT:
		/* The host's mounts stay where they are, beyond the new "/", as runc leaves them. */
		chdir_or_die(rootfs);
		chroot_here(rootfs);
		break;
	default:
		die("rootfs plan: unknown jail %u", kind);
	}
	close(ctx.root_fd);
	ctx.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx.root_fd < 0)
		die("open the container's /");
}

/* ---- the start: keyring, mount sources, the rootfs' own mount ---- */

static void join_session_keyring(const char *name)
{
	/* Kernels built without keys have nothing to share: as runc, carry on. */
	if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name) < 0 && errno != ENOSYS)
		die("join a new session keyring \"%s\"", name);
}

/* Bind mount sources tsrunc opened for a user namespace's init, received as fds, each named by its
 * mount's index. Asked for only now, so that nothing else is in flight on the socket. */
static void receive_mount_sources(const unsigned char *v, uint32_t size)
{
	uint32_t count = size / 4;
	if (count > MAX_SOURCES)
		die("rootfs plan: too many mount sources");
	send_all("{\"type\":\"mountSources\"}\n", 24);
	for (uint32_t i = 0; i < count; i++) {
		char name[32] = "";
		char control[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
		ssize_t n = recvmsg(sync_fd, &msg, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			die("receive mount source #%u", u32_at(v + 4 * i));
		name[n] = '\0';
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) {
			errno = 0;
			die("mount source #%u came without an fd", u32_at(v + 4 * i));
		}
		int fd;
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
		if ((uint32_t)atoi(name) != u32_at(v + 4 * i)) {
			errno = 0;
			die("init: expected the source of mount #%u, got \"%s\"", u32_at(v + 4 * i), name);
		}
		ctx.source_index[ctx.nsources] = (int)u32_at(v + 4 * i);
		ctx.source_fd[ctx.nsources++] = fd;
	}
}

/* u32 propagation of "/", u32 host mount namespace, then the rootfs (a real path). */
static void prepare_rootfs(const unsigned char *v, uint32_t size)
{
	need(size, 8, "prepare");
	uint32_t propagation = u32_at(v), host_mount_namespace = u32_at(v + 4);
	ctx.rootfs = string_of(v + 8, size - 8);
	char what[PATH_MAX + 64];
	/* Device nodes and mount points get exactly the modes of the spec. */
	umask(0);
	if (!host_mount_namespace) {
		/* Nothing mounted from here on reaches the host (slave), unless rootfsPropagation says otherwise. */
		do_mount("", "/", "", propagation, NULL, "set the propagation of /");
		make_rootfs_parent_private(ctx.rootfs);
	}
	/* The rootfs becomes a mount of its own, which pivot_root requires. */
	snprintf(what, sizeof(what), "bind the rootfs %s on itself", ctx.rootfs);
	do_mount(ctx.rootfs, ctx.rootfs, "", MS_BIND | MS_REC, NULL, what);
	if (host_mount_namespace) {
		/* In the host's mount namespace only the rootfs' own bind, a new mount, is made private,
		 * so that the mounts below it go nowhere else and come off with it. */
		snprintf(what, sizeof(what), "make the rootfs' bind %s private", ctx.rootfs);
		do_mount("", ctx.rootfs, "", MS_PRIVATE | MS_REC, NULL, what);
	}
	ctx.root_fd = open(ctx.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx.root_fd < 0)
		die("open the rootfs %s", ctx.rootfs);
}

/* The mounts are made, "/" is still the host's: tsrunc runs the prestart and createRuntime hooks. */
static void pause_before_pivot(void)
{
	send_all("{\"type\":\"prePivot\"}\n", 20);
	char reply;
	ssize_t n;
	do
		n = read(sync_fd, &reply, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || reply != 'C') {
		errno = 0;
		die("init: tsrunc did not let the container go on after its hooks");
	}
}

/* ---- after the jail ---- */

/* /dev/console: the pty's slave bound on it from fd to fd, so that an image whose /dev/console
 * points at a host file cannot have the pty mounted over that file (CVE-2025-52565). */
static void mount_console(int slave)
{
	close(mkdir_all_in_root("/dev"));
	/* O_EXCL: a dangling symlink at the name is not followed to create its target. */
	int made = open_in_root("dev/console", O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_NOCTTY, 0666);
	if (made < 0 && errno != EEXIST)
		die("create /dev/console");
	if (made >= 0)
		close(made);
	int target = must_open_in_root("dev/console", O_PATH | O_NOFOLLOW);
	struct stat st;
	if (fstat(target, &st) < 0)
		die("stat /dev/console");
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		errno = 0;
		die("/dev/console in the rootfs is %s: the console is not mounted there",
		    S_ISLNK(st.st_mode) ? "a symlink" : "neither a file nor a device");
	}
	int tree = (int)syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		die("open_tree to bind the console on /dev/console");
	if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die("bind the console on /dev/console");
	close(tree);
	close(target);
}

/* maskedPaths: an empty read-only tmpfs over a directory, the null device over anything else. The
 * container's /dev/null is opened without following a symlink and checked to be the null device
 * (1:3), then bound from its fd: an image (or a process of a shared mount namespace) that made
 * /dev/null a link to a file of the kernel's (/proc/sys/...) cannot have that file bound over the
 * masked path, writable (the CVE-2025-31133 class). */
static void mask_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return;
	char what[PATH_MAX + 8];
	snprintf(what, sizeof(what), "mask %s", path);
	if (S_ISDIR(st.st_mode)) {
		do_mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL, what);
		return;
	}
	int null = must_open_in_root("/dev/null", O_PATH | O_NOFOLLOW);
	struct stat null_st;
	if (fstat(null, &null_st) < 0)
		die("stat /dev/null");
	if (!S_ISCHR(null_st.st_mode) || null_st.st_rdev != makedev(1, 3)) {
		errno = 0;
		die("mask %s: /dev/null in the container is not the null device (1:3)", path);
	}
	do_mount(fd_path(null).text, path, "", MS_BIND, NULL, what);
	close(null);
}

static void readonly_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return;
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "bind %s for readonlyPaths", path);
	do_mount(path, path, "", MS_BIND | MS_REC, NULL, what);
	remount_bind(path, path, MS_RDONLY | MS_REC);
}

/* ---- the plan ---- */

static void run_op(void *unused, uint32_t op, const unsigned char *v, uint32_t size)
{
	(void)unused;
	switch (op) {
	case OP_KEYRING: join_session_keyring(string_of(v, size)); break;
	case OP_MOUNT_SOURCES: receive_mount_sources(v, size); break;
	case OP_PREPARE: prepare_rootfs(v, size); break;
	case OP_PROC_ALLOWED:
		if (ctx.nproc_allowed == MAX_PROC_ALLOWED)
			die("rootfs plan: too many paths allowed below /proc");
		ctx.proc_allowed[ctx.nproc_allowed++] = string_of(v, size);
		break;
	case OP_MOUNT: mount_one(v, size); break;
	case OP_MOUNT_ATTRS: mount_attrs(v, size); break;
	case OP_REMOUNT: {
		/* u32 flags, u32 below the root (before the jail), then the path */
		need(size, 8, "remount");
		char *path = string_of(v + 8, size - 8);
		if (u32_at(v + 4))
			remount_in_root(path, u32_at(v));
		else
			remount_bind(path, path, u32_at(v));
		break;
	}
	case OP_DEVICE: make_device(v, size); break;
	case OP_SYMLINK: make_symlink(v, size); break;
	case OP_MKDIR: close(mkdir_all_in_root(string_of(v, size))); break;
	case OP_PRE_PIVOT: pause_before_pivot(); break;
	case OP_CREATE_HOOK: {
		/* In the container's namespaces, before pivot_root, from the rootfs: runc chdirs there
		 * first, and hooks written for it use relative paths (./lib/...). */
		struct hook h;
		parse_hook(&h, "createContainer", ctx.nhooks++, v, size);
		run_hook(&h, ctx.rootfs);
		break;
	}
	case OP_JAIL: need(size, 4, "jail"); enter_jail(u32_at(v)); break;
	case OP_ROOT_PROPAGATION:
		need(size, 4, "propagation");
		do_mount("", "/", "", u32_at(v), NULL, "set the propagation of /");
		break;
	case OP_CONSOLE: {
		/* u32 the console socket's fd, u16 rows, u16 columns */
		need(size, 8, "console");
		uint16_t rows, cols;
		memcpy(&rows, v + 4, 2);
		memcpy(&cols, v + 6, 2);
		attach_console((int)u32_at(v), rows, cols, mount_console);
		break;
	}
	case OP_SYSCTL: {
		/* the file below /proc/sys, then the value */
		char *strings = string_of(v, size);
		const char *p = strings, *end = strings + size + 1;
		char **s = split_strings(&p, end, 2);
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "sys/%s", s[0]);
		write_proc_file(path, s[1]);
		break;
	}
	case OP_HOSTNAME:
		if (sethostname((const char *)v, size) < 0)
			die("sethostname");
		break;
	case OP_DOMAINNAME:
		if (setdomainname((const char *)v, size) < 0)
			die("setdomainname");
		break;
	case OP_READONLY_PATH: readonly_path(string_of(v, size)); break;
	case OP_MASK_PATH: mask_path(string_of(v, size)); break;
	default: die("rootfs plan: unknown operation %u", op);
	}
}

void run_rootfs_plan(const unsigned char *data, size_t len)
{
	for_each_record(data, len, "rootfs", run_op, NULL);
	for (size_t i = 0; i < ctx.nsources; i++)
		if (ctx.source_fd[i] >= 0)
			close(ctx.source_fd[i]);
	if (ctx.root_fd >= 0)
		close(ctx.root_fd);
}
