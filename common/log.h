/* Logging for every forkchatd process: one line per event, tagged with the
 * process ("master", "worker[2]"), to stderr, a file or syslog. */
#ifndef FC_LOG_H
#define FC_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

int log_init(int to_syslog, const char *file, int level);
void log_settag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_setlevel(int level);
int log_reopen(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
