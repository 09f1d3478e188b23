/* The rootfs executor (rootfs.c): builds the container's root filesystem as tsrunc's rootfs plan
 * says, inside the container's namespaces, and makes it the process' "/". */
#ifndef TSRUNC_ROOTFS_H
#define TSRUNC_ROOTFS_H

#include <stddef.h>

/* Performs every operation of the plan (len bytes at data), in order; dies on the first failure,
 * naming it, on the sync socket. */
void run_rootfs_plan(const unsigned char *data, size_t len);

#endif
