/* The daemon's own files (pidfile, log file, control socket) opened as root
 * without trusting the file system: never through a symbolic link, only in
 * folders nobody else can change, only files that belong to us. */
#ifndef FC_SAFEFILE_H
#define FC_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

/* 0 if every folder from / down to PATH's folder belongs to root or to us
 * and is writable by nobody else (a sticky folder such as /tmp is allowed);
 * else -1, errno set and a one-line reason in ERR. */
int safefile_dir_ok(const char *path, char *err, size_t errlen);

/* open(2) of PATH with O_NOFOLLOW and O_CLOEXEC added, in a folder that
 * passes safefile_dir_ok; the file must be a regular file (or a character
 * device) with one link that belongs to root or to us. -1, errno and ERR on any
 * failure. */
int safefile_open(const char *path, int flags, mode_t mode, char *err,
		  size_t errlen);

#endif
