/* Daemon life: detaching (double fork, setsid, stdio to /dev/null), a
 * locked pidfile that keeps a second instance out, and the privilege drop
 * after binding. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/safefile.h"
#include "master.h"

/* The parent waits on a pipe until the daemon says it serves (or failed),
 * so that `forkchatd` returns the daemon's start-up status. Returns 0 in the
 * daemon, never returns in the parent. */
int
daemon_detach(int *ready_fd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char st = 1;
		close(p[1]);
		if (read(p[0], &st, 1) != 1)
			st = 1;
		_exit(st);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	umask(027);
	if (chdir("/") < 0)
		return -1;
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	*ready_fd = p[1];
	return 0;
}

void
daemon_ready(int ready_fd, int status)
{
	char st = (char)status;

	if (ready_fd < 0)
		return;
	(void)!write(ready_fd, &st, 1);
	close(ready_fd);
}

/* Open and lock the pidfile, never through a symbolic link or in a folder
 * others can write (it is opened as root); -1 with errno EWOULDBLOCK when
 * another instance holds it. */
int
pidfile_lock(const char *path, char *err, size_t errlen)
{
	int fd = safefile_open(path, O_RDWR | O_CREAT, 0644, err, errlen);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path,
			 e == EWOULDBLOCK ? "another forkchatd holds it"
					  : strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
pidfile_write(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

/* setgroups, setgid, setuid, then check that root cannot be regained. */
int
privdrop(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		log_warnx("no such user '%s'", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		log_warnx("--user %s needs to start as root", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_warn("dropping privileges to %s", user);
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_warnx("privilege drop did not stick");
		return -1;
	}
	return 0;
}
