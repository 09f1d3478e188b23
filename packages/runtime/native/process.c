#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fail.h"
#include "plan.h"
#include "process.h"
#include "procfs.h"

/* Record tags; keep in step with RECORD in src/process/native-plan.ts. */
enum tag {
	T_ARG = 1, T_ENV, T_CWD, T_USER, T_GROUPS, T_UMASK, T_RLIMIT, T_CAPS, T_NO_NEW_PRIVS,
	T_OOM_SCORE_ADJ, T_SCHED, T_IOPRIO, T_PERSONALITY, T_SECCOMP, T_APPARMOR, T_SELINUX,
	T_CONSOLE, T_PRESERVE_FDS, T_EXEC_FIFO, T_START_HOOK, T_MEMPOLICY,
};

#define MAX_RLIMITS 16
#define MAX_HOOKS 32

struct plan {
	char **argv, **envp;
	size_t argc, envc;
	const char *cwd;
	uint32_t uid, gid, umask;
	const uint32_t *groups;
	size_t ngroups;
	struct { uint32_t resource; uint64_t soft, hard; } rlimits[MAX_RLIMITS];
	size_t nrlimits;
	int has_caps;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	uint32_t last_cap;
	int no_new_privs;
	const char *oom_score_adj;
	const unsigned char *sched_attr; /* 48 bytes: struct sched_attr, version 0 */
	int has_ioprio;
	uint32_t ioprio;
	int has_personality;
	uint32_t persona;
	uint32_t seccomp_flags;
	const unsigned char *seccomp_bpf;
	size_t seccomp_len;
	const char *apparmor, *selinux;
	int console_fd;
	uint16_t rows, cols;
	uint32_t preserve_fds, preserved_base;
	int fifo_fd;
	struct hook hooks[MAX_HOOKS];
	size_t nhooks;
	int has_mempolicy;
	uint32_t mempolicy_mode; /* the mode or'ed with its flags */
	const unsigned char *mempolicy_mask; /* u64 words, lowest nodes first */
	size_t mempolicy_words;
};

/* A memory policy record: u32 mode (with flags), then the node mask as u64 words. */
static void parse_mempolicy(struct plan *plan, const unsigned char *data, uint32_t len)
{
	need(len, 4, "memory policy");
	plan->has_mempolicy = 1;
	plan->mempolicy_mode = u32_at(data);
	plan->mempolicy_mask = data + 4;
	plan->mempolicy_words = (len - 4) / sizeof(uint64_t);
}

/* linux.memoryPolicy: inherited by the program across execve and by every child it makes. */
static void apply_mempolicy(const struct plan *plan)
{
	/* Copied to an aligned buffer (the plan's bytes have no alignment guarantee); the kernel
	 * reads maxnode - 1 bits, so one more than the mask holds. */
	unsigned long *mask = xmalloc(plan->mempolicy_words * sizeof(uint64_t));
	memcpy(mask, plan->mempolicy_mask, plan->mempolicy_words * sizeof(uint64_t));
	unsigned long maxnode = plan->mempolicy_words ? plan->mempolicy_words * 64 + 1 : 0;
	if (syscall(SYS_set_mempolicy, (int)plan->mempolicy_mode, plan->mempolicy_words ? mask : NULL, maxnode) < 0)
		die("set_mempolicy (linux.memoryPolicy)");
	free(mask);
}

static void append(char ***list, size_t *count, char *item)
{
	char **grown = realloc(*list, sizeof(char *) * (*count + 2));
	if (!grown)
		die("out of memory");
	grown[(*count)++] = item;
	grown[*count] = NULL;
	*list = grown;
}

static void parse_record(void *ctx, uint32_t tag, const unsigned char *v, uint32_t size)
{
	struct plan *plan = ctx;
	switch (tag) {
	case T_ARG: append(&plan->argv, &plan->argc, string_of(v, size)); break;
	case T_ENV: append(&plan->envp, &plan->envc, string_of(v, size)); break;
	case T_CWD: plan->cwd = string_of(v, size); break;
	case T_USER: need(size, 8, "user"); plan->uid = u32_at(v); plan->gid = u32_at(v + 4); break;
	case T_GROUPS:
		plan->ngroups = size / 4;
		plan->groups = xmalloc(size);
		memcpy((void *)plan->groups, v, plan->ngroups * 4);
		break;
	case T_UMASK: need(size, 4, "umask"); plan->umask = u32_at(v); break;
	case T_RLIMIT:
		need(size, 20, "rlimit");
		if (plan->nrlimits == MAX_RLIMITS)
			die("process plan: too many rlimits");
		plan->rlimits[plan->nrlimits].resource = u32_at(v);
		plan->rlimits[plan->nrlimits].soft = u64_at(v + 4);
		plan->rlimits[plan->nrlimits++].hard = u64_at(v + 12);
		break;
	case T_CAPS:
		need(size, 44, "capabilities");
		plan->has_caps = 1;
		plan->bounding = u64_at(v);
		plan->effective = u64_at(v + 8);
		plan->permitted = u64_at(v + 16);
		plan->inheritable = u64_at(v + 24);
		plan->ambient = u64_at(v + 32);
		plan->last_cap = u32_at(v + 40);
		break;
	case T_NO_NEW_PRIVS: plan->no_new_privs = 1; break;
	case T_OOM_SCORE_ADJ: plan->oom_score_adj = string_of(v, size); break;
	case T_SCHED: need(size, 48, "scheduler"); plan->sched_attr = v; break;
	case T_IOPRIO: need(size, 4, "ioPriority"); plan->has_ioprio = 1; plan->ioprio = u32_at(v); break;
	case T_PERSONALITY: need(size, 4, "personality"); plan->has_personality = 1; plan->persona = u32_at(v); break;
	case T_SECCOMP:
		need(size, 4, "seccomp");
		plan->seccomp_flags = u32_at(v);
		plan->seccomp_bpf = v + 4;
		plan->seccomp_len = (size - 4) / sizeof(struct sock_filter);
		break;
	case T_APPARMOR: plan->apparmor = string_of(v, size); break;
	case T_SELINUX: plan->selinux = string_of(v, size); break;
	case T_CONSOLE:
		need(size, 8, "console");
		plan->console_fd = (int)u32_at(v);
		memcpy(&plan->rows, v + 4, 2);
		memcpy(&plan->cols, v + 6, 2);
		break;
	case T_PRESERVE_FDS: need(size, 8, "preserve-fds"); plan->preserve_fds = u32_at(v); plan->preserved_base = u32_at(v + 4); break;
	case T_EXEC_FIFO: need(size, 4, "exec fifo"); plan->fifo_fd = (int)u32_at(v); break;
	case T_START_HOOK:
		if (plan->nhooks == MAX_HOOKS)
			die("process plan: too many startContainer hooks");
		parse_hook(&plan->hooks[plan->nhooks], "startContainer", plan->nhooks, v, size);
		plan->nhooks++;
		break;
	case T_MEMPOLICY: parse_mempolicy(plan, v, size); break;
	default: die("process plan: unknown record %u", tag);
	}
}

static void parse_plan(struct plan *plan, const unsigned char *data, size_t len)
{
	memset(plan, 0, sizeof(*plan));
	plan->console_fd = -1;
	plan->fifo_fd = -1;
	plan->umask = 022;
	plan->cwd = "/";
	for_each_record(data, len, "process", parse_record, plan);
	if (plan->argc == 0)
		die("process plan: no arguments");
	if (!plan->envp)
		plan->envp = xmalloc(sizeof(char *));
}

static void apply_security_modules(const struct plan *plan)
{
	char text[4200];
	if (plan->apparmor) {
		snprintf(text, sizeof(text), "exec %s", plan->apparmor);
		write_proc_file(proc_file_exists("self/attr/apparmor/exec") ? "self/attr/apparmor/exec" : "self/attr/exec", text);
	}
	if (plan->selinux)
		write_proc_file("self/attr/exec", plan->selinux);
}

/*
 * SCMP_ACT_NOTIFY: the filter's listener goes to the agent at listenerPath, through tsrunc. We
 * only name its fd, with write(2) (which tsrunc refuses to notify), and tsrunc takes it with
 * pidfd_getfd; then we wait for tsrunc's 'L', so that the agent holds the listener before anything
 * runs that it may have to answer (our own read of 'L' included, which it may be asked to). Our
 * copy goes: the program and the hooks never see it.
 */
static void hand_over_listener(int listener)
{
	char msg[64];
	int len = snprintf(msg, sizeof(msg), "{\"type\":\"seccompListener\",\"fd\":%d}\n", listener);
	send_all(msg, (size_t)len);
	char reply;
	ssize_t n;
	do
		n = read(sync_fd, &reply, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || reply != 'L')
		die("tsrunc did not take the seccomp listener");
	close(listener);
}

static void load_seccomp(const struct plan *plan)
{
	struct sock_fprog prog = { .len = (unsigned short)plan->seccomp_len };
	/* The BPF is copied to an aligned buffer: the plan's bytes have no alignment guarantee. */
	struct sock_filter *aligned = xmalloc(plan->seccomp_len * sizeof(struct sock_filter));
	memcpy(aligned, plan->seccomp_bpf, plan->seccomp_len * sizeof(struct sock_filter));
	prog.filter = aligned;
	long ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan->seccomp_flags, &prog);
	if (ret < 0)
		die("load the seccomp filter");
	free(aligned);
	/* The plan asks for a listener only when a rule notifies; seccomp(2) then returns its fd. */
	if (plan->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
		hand_over_listener((int)ret);
}

static void drop_bounding_set(const struct plan *plan)
{
	for (uint32_t cap = 0; cap <= plan->last_cap; cap++)
		if (!(plan->bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die("drop capability %u from the bounding set", cap);
}

static void switch_user(const struct plan *plan)
{
	/* Keep the permitted set across the uid change; the wanted sets are applied right after. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die("prctl(PR_SET_KEEPCAPS)");
	if (setgroups(plan->ngroups, plan->groups) < 0)
		die("setgroups");
	if (setresgid(plan->gid, plan->gid, plan->gid) < 0)
		die("setgid %u", plan->gid);
	if (setresuid(plan->uid, plan->uid, plan->uid) < 0)
		die("setuid %u", plan->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_KEEPCAPS)");
}

static void apply_capability_sets(const struct plan *plan)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(plan->effective >> (32 * i));
		data[i].permitted = (uint32_t)(plan->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(plan->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &header, data) < 0)
		die("unable to apply caps: capset");
	/* The kernel raises an ambient capability only if it is permitted and inheritable; runc's
	 * default spec asks for ambient ones without inheritable ones, and runc skips them. */
	uint64_t raisable = plan->ambient & plan->permitted & plan->inheritable;
	for (uint32_t cap = 0; cap <= plan->last_cap; cap++)
		if ((raisable & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			die("raise ambient capability %u", cap);
}

/* process.terminal: a pty from the container's /dev/ptmx, its master sent to the console socket
 * with the pty's name (runc's protocol), its slave the controlling terminal and stdio.
 * before_send (a container's init: binding the slave on /dev/console) sees the slave first. */
void attach_console(int socket_fd, uint16_t rows, uint16_t cols, void (*before_send)(int slave_fd))
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die("open /dev/ptmx");
	int number, unlock = 0;
	if (ioctl(master, TIOCGPTN, &number) < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die("set up the pty");
	char name[64];
	snprintf(name, sizeof(name), "/dev/pts/%d", number);
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		die("open %s", name);
	if (rows || cols) {
		struct winsize size = { .ws_row = rows, .ws_col = cols };
		if (ioctl(slave, TIOCSWINSZ, &size) < 0)
			die("set the console size");
	}
	if (before_send)
		before_send(slave);
	char control[CMSG_SPACE(sizeof(int))];
	memset(control, 0, sizeof(control));
	struct iovec iov = { .iov_base = name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
	if (sendmsg(socket_fd, &msg, 0) < 0)
		die("send the pty to the console socket");
	close(master);
	close(socket_fd);
	if (setsid() < 0)
		die("setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die("make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			die("dup2 pty -> %d", fd);
	close(slave);
}

/* As runc (fixStdioPermissions): the process' stdio, its pty or what the caller gave it, becomes
 * its user's, so that a user other than root can use its terminal and reopen /proc/self/fd/N. The
 * group stays (a devpts mount chooses it), /dev/null and what the user owns already are left alone,
 * and so is an inode the user namespace cannot chown (EINVAL: unmapped, EPERM: owner unmapped). */
static void give_stdio_to_user(const struct plan *plan)
{
	struct stat null;
	if (stat("/dev/null", &null) < 0)
		die("stat /dev/null");
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			die("fstat fd %d", fd);
		if (st.st_uid == plan->uid || st.st_rdev == null.st_rdev)
			continue;
		if (fchown(fd, plan->uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM)
			die("chown fd %d to uid %u", fd, plan->uid);
	}
}

/* Signals ignored by the engine that spawned us (Node and Bun ignore SIGPIPE and SIGXFSZ) or by this
 * executor (SIGPIPE, for hooks) would stay ignored across execve: the program starts with every
 * disposition at its default, as under runc (whose Go runtime handles every signal, even one the
 * caller ignored). */
static void default_signal_dispositions(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* fails, harmlessly, for SIGKILL, SIGSTOP and glibc's own numbers */
}

static int is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* process.args[0] found with the container's PATH, as runc finds it (Go's exec.LookPath);
 * relative entries are relative to the cwd, which is already the process' own. */
static const char *find_executable(const struct plan *plan)
{
	const char *command = plan->argv[0];
	if (strchr(command, '/')) {
		struct stat st;
		if (stat(command, &st) < 0) {
			if (errno == ENOENT)
				errno = 0, die("exec: \"%s\": stat %s: no such file or directory", command, command);
			die("exec: \"%s\": stat %s", command, command);
		}
		return command;
	}
	const char *path = "";
	for (size_t i = 0; i < plan->envc; i++)
		if (strncmp(plan->envp[i], "PATH=", 5) == 0)
			path = plan->envp[i] + 5;
	static char candidate[4096];
	for (const char *dir = path;; ) {
		const char *colon = strchrnul(dir, ':');
		int dirlen = (int)(colon - dir);
		snprintf(candidate, sizeof(candidate), "%.*s/%s", dirlen ? dirlen : 1, dirlen ? dir : ".", command);
		if (is_executable_file(candidate))
			return candidate;
		if (!*colon)
			break;
		dir = colon + 1;
	}
	errno = 0;
	die("exec: \"%s\": executable file not found in $PATH", command);
}

/*
 * Blocks until `tsrunc start` opens the fifo for reading; the byte tells it we are released. Our
 * end stays open, close-on-exec, so that start sees the fifo end when the program is exec'd (or we
 * die) and runs the poststart hooks only then, as runc's init does.
 */
static void wait_for_start(int fifo_fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fifo_fd);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open the exec fifo");
	if (write(fd, "0", 1) != 1)
		die("write to the exec fifo");
	close(fifo_fd);
}

/* Marks every fd from `first` on close-on-exec: close_range(2) where the kernel has it and the
 * container's seccomp profile (loaded first when no_new_privs is off) allows it, else fd by fd
 * from /proc/self/fd with fcntl, which every profile allows, as runc does. */
static void close_on_exec_from(int first)
{
	if (syscall(SYS_close_range, first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
		return;
	DIR *fds = opendir("/proc/self/fd");
	if (!fds)
		die("mark fds close-on-exec: open /proc/self/fd");
	int own = dirfd(fds);
	for (struct dirent *entry; (entry = readdir(fds));) {
		int fd = atoi(entry->d_name);
		if (entry->d_name[0] == '.' || fd < first || fd == own)
			continue;
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
			die("mark fd %d close-on-exec", fd);
	}
	closedir(fds);
}

/* --preserve-fds: the caller's fds become 3, 4, ...; everything else above is closed at execve,
 * and stdio is made blocking and inheritable whatever the stage before us did with it. */
static void arrange_fds(const struct plan *plan)
{
	for (uint32_t i = 0; i < plan->preserve_fds; i++) {
		int from = (int)(plan->preserved_base + i), to = 3 + (int)i;
		if (from != to && dup2(from, to) < 0)
			die("move preserved fd %d to %d", from, to);
		fcntl(to, F_SETFD, 0);
	}
	close_on_exec_from(3 + (int)plan->preserve_fds);
	for (int fd = 0; fd < 3; fd++) {
		int flags = fcntl(fd, F_GETFL);
		if (flags >= 0) {
			fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
			fcntl(fd, F_SETFD, 0);
		}
	}
}

/* fd, duplicated close-on-exec at or above `above` (and 16), the original closed. */
static int move_fd_above(int fd, uint32_t above, const char *what)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, above > 16 ? above : 16);
	if (moved < 0)
		die("move %s", what);
	close(fd);
	return moved;
}

void run_process_plan(const unsigned char *data, size_t len)
{
	struct plan plan;
	fail_as_json = 1;
	parse_plan(&plan, data, len);
	/* Out of the way of the fds that become 3, 4, ... and closed by a successful execve. */
	uint32_t above = plan.preserved_base + plan.preserve_fds;
	sync_fd = move_fd_above(sync_fd, above, "the sync socket");
	if (plan.fifo_fd >= 0)
		plan.fifo_fd = move_fd_above(plan.fifo_fd, above, "the exec fifo");

	/* A session of its own, as runc's nsexec gives every container process: criu will not dump a
	 * tree whose session leader is outside the container's pid namespace. With a terminal,
	 * attach_console does it before taking the pty as its controlling terminal; a container's init
	 * whose rootfs executor took the pty already leads its session (setsid would fail EPERM). */
	if (plan.console_fd >= 0)
		attach_console(plan.console_fd, plan.rows, plan.cols, NULL);
	else if (getsid(0) != getpid() && setsid() < 0)
		die("setsid");
	if (plan.oom_score_adj)
		write_proc_file("self/oom_score_adj", plan.oom_score_adj);
	for (size_t i = 0; i < plan.nrlimits; i++) {
		struct rlimit limit = { .rlim_cur = plan.rlimits[i].soft, .rlim_max = plan.rlimits[i].hard };
		if (prlimit(0, plan.rlimits[i].resource, &limit, NULL) < 0)
			die("setrlimit %u", plan.rlimits[i].resource);
	}
	/* Before the capabilities are dropped: a real-time policy or a higher priority needs CAP_SYS_NICE. */
	if (plan.sched_attr && syscall(SYS_sched_setattr, 0, plan.sched_attr, 0) < 0)
		die("sched_setattr");
	if (plan.has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, plan.ioprio) < 0)
		die("ioprio_set");
	if (plan.has_personality && personality(plan.persona) < 0)
		die("personality");
	if (plan.has_mempolicy)
		apply_mempolicy(&plan);
	apply_security_modules(&plan);
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we still have it. */
	if (plan.seccomp_bpf && !plan.no_new_privs)
		load_seccomp(&plan);
	/* As root first: a cwd the user may use but not reach through its parents still works (as in runc). */
	int cwd_denied = chdir(plan.cwd) < 0;
	if (cwd_denied && errno != EACCES)
		die("chdir to cwd (\"%s\") set in config.json failed", plan.cwd);
	if (plan.has_caps)
		drop_bounding_set(&plan);
	give_stdio_to_user(&plan);
	switch_user(&plan);
	if (plan.has_caps)
		apply_capability_sets(&plan);
	umask(plan.umask);
	if (cwd_denied && chdir(plan.cwd) < 0)
		die("chdir to cwd (\"%s\") set in config.json failed", plan.cwd);
	const char *executable = find_executable(&plan);
	if (plan.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)");

	arrange_fds(&plan);

	/* With no_new_privs the filter comes as late as it can, so that as few system calls as
	 * possible run under it: right before execve, or for create right before `ready`, as runc
	 * 1.1.5 orders it, since its listener goes over the sync socket, which closes at `ready`
	 * (startContainer hooks then run under it, as under runc). */
	int late_filter = plan.seccomp_bpf && plan.no_new_privs;
	if (plan.fifo_fd >= 0) {
		if (late_filter)
			load_seccomp(&plan);
		/* create's part ends here: every setting that can fail has been applied. */
		send_all("{\"type\":\"ready\"}\n", 17);
		close(sync_fd);
		sync_fd = -1;
		wait_for_start(plan.fifo_fd);
		for (size_t i = 0; i < plan.nhooks; i++)
			run_hook(&plan.hooks[i], NULL);
	}
	default_signal_dispositions();
	if (late_filter && plan.fifo_fd < 0)
		load_seccomp(&plan);
	execve(executable, plan.argv, plan.envp);
	die("exec %s", plan.argv[0]);
}
