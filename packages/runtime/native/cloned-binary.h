/* CVE-2019-5736: while this program runs inside a container's namespaces, the container's
 * processes can reach it through /proc/PID/exe and, once it execs their program, reopen that
 * link for writing. So it never runs from the host's file: it re-executes itself from a sealed
 * memfd copy first, and what they can reach is that copy, which nobody can write. */
#ifndef TSRUNC_CLONED_BINARY_H
#define TSRUNC_CLONED_BINARY_H

/* Returns when running from a sealed copy; otherwise makes one and execs it with the same argv. */
void ensure_cloned_binary(char **argv, char **envp);

#endif
