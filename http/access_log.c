/* The access log: one line per request in combined, common or an
 * aiohttp-style format, buffered and written at most once a second (or when
 * the buffer fills), so logging costs no system call per request. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "http_int.h"
#include "runtime.h"

#define AW__ALOG_BUF (64 * 1024)
#define AW__FMT_COMBINED "%a - - [%t] \"%r\" %s %b \"%{Referer}i\" \"%{User-Agent}i\""
#define AW__FMT_COMMON "%a - - [%t] \"%r\" %s %b"

static void aw__alog_timer_cb(uv_timer_t *t) { aw__access_log_flush(t->data); }

int aw__access_log_open(aw__server *srv)
{
    const char *where = srv->cfg->access_log;
    if (!where || !strcmp(where, "off") || !*where) {
        srv->alog_fd = -1;
        return 0;
    }
    srv->alog_fd = !strcmp(where, "-") ? 1 : open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (srv->alog_fd < 0)
        return AW_EPERM;
    if (!(srv->alog_buf = malloc(AW__ALOG_BUF)))
        return AW_ENOMEM;
    uv_timer_init(aw_loop(), &srv->alog_timer);
    srv->alog_timer.data = srv;
    uv_timer_start(&srv->alog_timer, aw__alog_timer_cb, 1000, 1000);
    uv_unref((uv_handle_t *)&srv->alog_timer);
    srv->alog_kind = 1;
    return 0;
}

void aw__access_log_flush(aw__server *srv)
{
    if (srv->alog_len && srv->alog_fd >= 0) {
        ssize_t w = write(srv->alog_fd, srv->alog_buf, srv->alog_len);
        (void)w;
    }
    srv->alog_len = 0;
}

void aw__access_log_close(aw__server *srv)
{
    if (!srv->alog_kind)
        return;
    aw__access_log_flush(srv);
    uv_close((uv_handle_t *)&srv->alog_timer, NULL);
    if (srv->alog_fd > 2)
        close(srv->alog_fd);
    free(srv->alog_buf);
    srv->alog_buf = NULL;
    srv->alog_kind = 0;
}

/* Copies s into the line, replacing what a log reader could misread. */
static size_t aw__put(char *p, size_t room, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 4 < room; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            n += (size_t)snprintf(p + n, room - n, "\\x%02x", c);
        else
            p[n++] = (char)c;
    }
    return n;
}

static size_t aw__field(char *p, size_t room, aw_request *req, const char **fmt)
{
    const char *f = *fmt;
    aw_response *r = req->resp;
    double secs = (double)(uv_hrtime() - req->start_ns) / 1e9;
    char name[128] = "";
    if (*f == '{') {
        const char *end = strchr(f, '}');
        if (end && (size_t)(end - f) < sizeof name) {
            memcpy(name, f + 1, (size_t)(end - f - 1));
            name[end - f - 1] = 0;
            f = end + 1;
        }
    }
    size_t n = 0;
    switch (*f) {
    case 'a': n = aw__put(p, room, aw_request_remote(req)); break;
    case 't': {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        n = strftime(p, room, "%d/%b/%Y:%H:%M:%S +0000", &tm);
        break;
    }
    case 'r': {
        char line[8300];
        snprintf(line, sizeof line, "%s %s HTTP/%d.%d", req->method ? req->method : "-",
                 req->target ? req->target : "-", req->version / 10, req->version % 10);
        n = aw__put(p, room, line);
        break;
    }
    case 's': n = (size_t)snprintf(p, room, "%d", r ? r->status : 0); break;
    case 'b': n = (size_t)snprintf(p, room, "%llu", (unsigned long long)(r ? r->bytes_sent : 0)); break;
    case 'T':
        if (f[1] == 'f') {
            f++;
            n = (size_t)snprintf(p, room, "%.6f", secs);
        } else
            n = (size_t)snprintf(p, room, "%d", (int)secs);
        break;
    case 'D': n = (size_t)snprintf(p, room, "%llu", (unsigned long long)(secs * 1e6)); break;
    case 'P': n = (size_t)snprintf(p, room, "%d", (int)getpid()); break;
    case 'i': n = aw__put(p, room, aw_headers_get(&req->headers, name)); if (!n) n = aw__put(p, room, "-"); break;
    case 'o': n = r ? aw__put(p, room, aw_headers_get(&r->headers, name)) : 0; if (!n) n = aw__put(p, room, "-"); break;
    case '%': p[0] = '%'; n = 1; break;
    default: n = 0;
    }
    *fmt = f + (*f ? 1 : 0);
    return n < room ? n : room;
}

void aw__access_log(aw__server *srv, aw_request *req)
{
    if (!srv->alog_kind)
        return;
    const char *fmt = srv->cfg->access_log_format;
    if (!strcmp(fmt, "combined"))
        fmt = AW__FMT_COMBINED;
    else if (!strcmp(fmt, "common"))
        fmt = AW__FMT_COMMON;
    if (AW__ALOG_BUF - srv->alog_len < 12 * 1024)
        aw__access_log_flush(srv);
    char *p = srv->alog_buf + srv->alog_len;
    size_t room = AW__ALOG_BUF - srv->alog_len - 2, n = 0;
    while (*fmt && n < room) {
        if (*fmt == '%') {
            fmt++;
            n += aw__field(p + n, room - n, req, &fmt);
        } else
            p[n++] = *fmt++;
    }
    p[n++] = '\n';
    srv->alog_len += n;
}
