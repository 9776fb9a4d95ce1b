/* Safe opening of the daemon's own files: the folder walk (owner and mode
 * of every ancestor) and an O_NOFOLLOW open checked with fstat. Used for the
 * pidfile, the log file and the control socket's folder. */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fill ERR, set errno to E, return -1. */
static int __attribute__((format(printf, 4, 5)))
refuse(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

/* One folder: a directory of root or of us, not writable by group or
 * others unless sticky (then nobody can replace what we create in it). */
static int
dir_check_one(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return refuse(err, errlen, errno, "folder %s: %s", dir,
			      strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return refuse(err, errlen, ENOTDIR, "%s is not a folder", dir);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return refuse(err, errlen, EPERM,
			      "folder %s belongs to another user (uid %ld)",
			      dir, (long)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return refuse(err, errlen, EPERM,
			      "folder %s is writable by others (mode %03o)",
			      dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

int
safefile_dir_ok(const char *path, char *err, size_t errlen)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	char *real = realpath(dirname(copy), NULL);
	if (real == NULL)
		return refuse(err, errlen, errno, "folder of %s: %s", path,
			      strerror(errno));
	int rc = dir_check_one("/", err, errlen);
	for (char *p = real + 1; rc == 0 && *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		rc = dir_check_one(real, err, errlen);
		*p = '/';
	}
	if (rc == 0 && strcmp(real, "/") != 0)
		rc = dir_check_one(real, err, errlen);
	free(real);
	return rc;
}

static int
file_check(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return refuse(err, errlen, errno, "%s: %s", path,
			      strerror(errno));
	/* a character device is for log-file = /dev/null and the like */
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return refuse(err, errlen, EINVAL, "%s is not a regular file",
			      path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return refuse(err, errlen, EPERM,
			      "%s belongs to another user (uid %ld)", path,
			      (long)st.st_uid);
	if (st.st_nlink != 1)
		return refuse(err, errlen, EPERM, "%s has %ld hard links", path,
			      (long)st.st_nlink);
	return 0;
}

int
safefile_open(const char *path, int flags, mode_t mode, char *err,
	      size_t errlen)
{
	if (safefile_dir_ok(path, err, errlen) < 0)
		return -1;
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0 && errno == ELOOP)
		return refuse(err, errlen, ELOOP,
			      "%s is a symbolic link: refused", path);
	if (fd < 0)
		return refuse(err, errlen, errno, "%s: %s", path,
			      strerror(errno));
	if (file_check(fd, path, err, errlen) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
