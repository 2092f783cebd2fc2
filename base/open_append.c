/* Append-only opens with a fixed mode for newly created files. */
#include "open_append.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int hg_open_append_0640(const char *path)
{
	const int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
	/* O_EXCL tells whether this call made the file: only then is its mode
	 * ours to set (the umask may have widened or narrowed 0640). */
	for (int tries = 0; tries < 2; tries++) {
		int fd = open(path, flags | O_CREAT | O_EXCL, 0640);
		if (fd >= 0) {
			if (fchmod(fd, 0640) != 0) {
				int e = errno;
				close(fd);
				errno = e;
				return -1;
			}
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		fd = open(path, flags);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		/* removed between the two opens: create it after all */
	}
	errno = ENOENT;
	return -1;
}
