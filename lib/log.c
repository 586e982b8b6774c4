/* The error log; see log.h. Lines are written with one write(2) each, so
 * lines of several processes (workers) never interleave mid-line. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

aw_ctxvar aw_log_request_id = AW_CTXVAR_INIT("aw_log_request_id", NULL);

static int aw__log_level = AW_LOG_INFO;
static int aw__log_fd = 2;

void aw_log_set_level(int level) { aw__log_level = level; }
int aw_log_level(void) { return aw__log_level; }

int aw_log_set_file(const char *path)
{
    if (!path || (path[0] == '-' && !path[1])) {
        aw__log_fd = 2;
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (aw__log_fd > 2)
        close(aw__log_fd);
    aw__log_fd = fd;
    return 0;
}

void aw_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    if (level < aw__log_level)
        return;
    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    const char *id = aw_ctxvar_get(&aw_log_request_id);
    int k = id ? snprintf(line + n, sizeof line - n, "%s [req %s] ", names[level & 3], id)
               : snprintf(line + n, sizeof line - n, "%s ", names[level & 3]);
    n += (size_t)k;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    n = k < 0 ? n : n + (size_t)k < sizeof line - 1 ? n + (size_t)k : sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(aw__log_fd, line, n);
    (void)w;
}
