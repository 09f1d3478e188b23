/* Writes to the container's /proc (oom_score_adj, LSM labels, sysctls) that cannot be redirected.
 * A process that can mount in the container's mount namespace (a racing one of a shared
 * namespace, or the container's own when tsrunc execs into it) could put a file, a link or a
 * whole fake /proc where the write goes, and have a privileged write land in another file of the
 * kernel's (/proc/sys/kernel/core_pattern): the CVE-2025-52881 class. */
#ifndef TSRUNC_PROCFS_H
#define TSRUNC_PROCFS_H

/* Writes content to `relative` below /proc ("sys/net/ipv4/ip_forward", "self/oom_score_adj"):
 * /proc must be a proc filesystem, and the path is resolved from it without following a link or
 * crossing a mount ("self/" is taken as this process' pid). Dies naming the file on a failure. */
void write_proc_file(const char *relative, const char *content);

/* Whether `relative` below /proc exists, resolved as write_proc_file resolves it. */
int proc_file_exists(const char *relative);

#endif
