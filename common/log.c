/* OpenBSD-style logging: log_warn appends strerror(errno), log_warnx does
 * not. Lines carry the process tag
 * so that interleaved output from the master and its workers stays readable. */
#include "log.h"
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
	int syslog;
	int level;
	int fd;
	char file[4096];
	char tag[32];
} lg = {0, LOG_LVL_INFO, 2, "", "forkchatd"};

int
log_init(int to_syslog, const char *file, int level)
{
	int rc = 0;

	lg.syslog = to_syslog;
	lg.level = level;
	lg.fd = 2;
	lg.file[0] = '\0';
	if (file && *file) {
		snprintf(lg.file, sizeof(lg.file), "%s", file);
		rc = log_reopen();
	}
	if (to_syslog)
		openlog("forkchatd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return rc;
}

/* Reopen the log file (SIGUSR1 after logrotate moved it): never through a
 * symbolic link or in a folder others can write (see safefile.h). A
 * failure is logged where the log goes now and the old file stays. */
int
log_reopen(void)
{
	char err[512];

	if (lg.file[0] == '\0')
		return 0;
	int fd = safefile_open(lg.file, O_WRONLY | O_APPEND | O_CREAT, 0640,
			       err, sizeof(err));
	if (fd < 0) {
		log_warnx("log file: %s", err);
		return -1;
	}
	if (lg.fd > 2)
		close(lg.fd);
	lg.fd = fd;
	return 0;
}

void
log_settag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lg.tag, sizeof(lg.tag), fmt, ap);
	va_end(ap);
}

void
log_setlevel(int level)
{
	lg.level = level;
}

static void
log_vemit(int level, const char *fmt, va_list ap, const char *err)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *name[] = {"error", "warn", "info", "debug"};
	char msg[2048];
	int saved = errno;

	if (level > lg.level)
		return;
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (err && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", err);
	if (lg.syslog && lg.file[0] == '\0') {
		syslog(prio[level], "%s: %s", lg.tag, msg);
		errno = saved;
		return;
	}
	char line[2300];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	int len = snprintf(line, sizeof(line),
			   "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s %s: %s\n",
			   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			   tm.tm_hour, tm.tm_min, tm.tm_sec,
			   ts.tv_nsec / 1000000, lg.tag, name[level], msg);
	if (len > (int)sizeof(line))
		len = sizeof(line);
	if (write(lg.fd, line, len) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

#define LOG_FN(fn, lvl, witherr)                                               \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		va_list ap;                                                    \
		const char *e = (witherr) ? strerror(errno) : NULL;            \
		va_start(ap, fmt);                                             \
		log_vemit(lvl, fmt, ap, e);                                    \
		va_end(ap);                                                    \
	}

LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
