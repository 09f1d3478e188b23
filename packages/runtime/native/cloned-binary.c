#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloned-binary.h"
#include "fail.h"

#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

void ensure_cloned_binary(char **argv, char **envp)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		die("open /proc/self/exe");
	int seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & ALL_SEALS) == ALL_SEALS) {
		close(self);
		return;
	}
	struct stat st;
	if (fstat(self, &st) < 0)
		die("stat /proc/self/exe");
	int copy = memfd_create("tsrunc-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (copy < 0)
		die("memfd_create");
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(copy, self, NULL, (size_t)(st.st_size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("copy /proc/self/exe into a memfd");
		done += n;
	}
	close(self);
	if (fcntl(copy, F_ADD_SEALS, ALL_SEALS) < 0)
		die("seal the memfd copy of tsrunc-nsexec");
	fexecve(copy, argv, envp);
	die("exec the memfd copy of tsrunc-nsexec");
}
