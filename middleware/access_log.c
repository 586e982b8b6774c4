/* The access log; see access_log.h. The format is compiled once into a list
 * of fields, so a line costs no parsing, and the time is formatted once a
 * second. */
#include "access_log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "basic_auth.h"
#include "error.h"
#include "request_id.h"
#include "response.h"
#include "runtime.h"

#define AW__FMT_COMBINED "%a - %u %t \"%r\" %s %b \"%{Referer}i\" \"%{User-Agent}i\""
#define AW__FMT_COMMON "%a - %u %t \"%r\" %s %b"
#define AW__LINE_MAX (16 * 1024) /* a longer line is cut */

typedef struct aw__alog_field {
    char kind;        /* 0 literal, or the field letter ('F' for %Tf) */
    const char *text; /* the literal, or the header name */
    size_t len;
} aw__alog_field;

struct aw_access_log {
    uv_timer_t timer; /* first: its close callback frees the log */
    int fd;
    char *buf;
    size_t len, cap;
    aw__alog_field *fields;
    size_t nfields;
    char *strings; /* the format's copy, which fields point into */
    int pid;
    time_t when; /* the second `stamp` shows */
    char stamp[32];
    size_t stamp_len;
};

void aw_access_log_opts_default(aw_access_log_opts *o)
{
    *o = (aw_access_log_opts){.path = "-", .format = "combined", .buffer_size = 64 * 1024,
                              .flush_ms = 1000};
}

/* Splits the format into literals and fields; refuses unknown fields. */
static int aw__alog_compile(aw_access_log *l, const char *fmt, char *err, size_t errlen)
{
    if (!strcmp(fmt, "combined"))
        fmt = AW__FMT_COMBINED;
    else if (!strcmp(fmt, "common"))
        fmt = AW__FMT_COMMON;
    size_t n = strlen(fmt);
    if (!(l->strings = strdup(fmt)) || !(l->fields = calloc(n + 1, sizeof *l->fields)))
        return AW_ENOMEM;
    char *p = l->strings;
    while (*p) {
        aw__alog_field *f = &l->fields[l->nfields++];
        if (*p != '%') {
            f->text = p;
            while (*p && *p != '%')
                p++;
            f->len = (size_t)(p - f->text);
            continue;
        }
        p++;
        if (*p == '{') {
            char *end = strchr(p, '}');
            if (!end || (end[1] != 'i' && end[1] != 'o')) {
                snprintf(err, errlen, "access_log_format: %%{Name} takes i or o after it");
                return AW_EINVAL;
            }
            f->text = p + 1;
            f->len = (size_t)(end - p - 1);
            *end = 0; /* the name, NUL-terminated for the header lookup */
            f->kind = end[1];
            p = end + 2;
            continue;
        }
        if (!*p || !strchr("atPrsbTDLu%", *p)) {
            snprintf(err, errlen, "access_log_format: unknown field %%%c", *p ? *p : ' ');
            return AW_EINVAL;
        }
        f->kind = *p++;
        if (f->kind == 'T' && *p == 'f') {
            f->kind = 'F';
            p++;
        }
    }
    return 0;
}

static void aw__alog_timer_cb(uv_timer_t *t) { aw_access_log_flush((aw_access_log *)t); }

static void aw__alog_free(aw_access_log *l)
{
    if (l->fd > 2)
        close(l->fd);
    free(l->buf);
    free(l->fields);
    free(l->strings);
    free(l);
}

int aw_access_log_open(const aw_access_log_opts *o, aw_access_log **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    if (!o->path || !*o->path || !strcmp(o->path, "off"))
        return 0;
    aw_access_log *l = calloc(1, sizeof *l);
    if (!l)
        return AW_ENOMEM;
    l->fd = -1;
    l->cap = o->buffer_size > 2 * AW__LINE_MAX ? o->buffer_size : 2 * AW__LINE_MAX;
    int rc = aw__alog_compile(l, o->format ? o->format : "combined", err, errlen);
    if (!rc && !(l->buf = malloc(l->cap)))
        rc = AW_ENOMEM;
    if (!rc) {
        l->fd = !strcmp(o->path, "-") ? 1
                                      : open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (l->fd < 0) {
            rc = -errno;
            snprintf(err, errlen, "%s", aw_strerror(rc));
        }
    }
    if (rc) {
        if (rc == AW_ENOMEM)
            snprintf(err, errlen, "%s", aw_strerror(rc));
        aw__alog_free(l);
        return rc;
    }
    l->pid = (int)getpid();
    uint64_t every = o->flush_ms > 0 ? (uint64_t)o->flush_ms : 1000;
    uv_timer_init(aw_loop(), &l->timer);
    uv_timer_start(&l->timer, aw__alog_timer_cb, every, every);
    uv_unref((uv_handle_t *)&l->timer);
    *out = l;
    return 0;
}

void aw_access_log_flush(aw_access_log *l)
{
    if (l->len) {
        ssize_t w = write(l->fd, l->buf, l->len);
        (void)w; /* a log that cannot be written must not stop the server */
    }
    l->len = 0;
}

static void aw__alog_closed(uv_handle_t *h) { aw__alog_free((aw_access_log *)h); }

void aw_access_log_close(aw_access_log *l)
{
    if (!l)
        return;
    aw_access_log_flush(l);
    uv_close((uv_handle_t *)&l->timer, aw__alog_closed);
}

/* --- a line ---------------------------------------------------------------- */

typedef struct aw__line {
    char *p;
    size_t n, room;
} aw__line;

static void aw__raw(aw__line *o, const char *s, size_t len)
{
    if (len > o->room - o->n)
        len = o->room - o->n;
    memcpy(o->p + o->n, s, len);
    o->n += len;
}

/* Copies client-supplied text, escaping what a log reader could misread. */
static void aw__text(aw__line *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (!s || !*s) {
        aw__raw(o, "-", 1);
        return;
    }
    for (; *s && o->n + 4 <= o->room; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            aw__raw(o, e, 4);
        } else
            o->p[o->n++] = (char)c;
    }
}

/* The address part of a peer ("1.2.3.4:80", "[::1]:80", "unix:/path"),
 * without the copy aw_request_remote makes. */
static void aw__addr(aw__line *o, const char *peer)
{
    const char *end = NULL;
    if (peer[0] == '[' && (end = strchr(peer, ']')))
        peer++;
    else if (strncmp(peer, "unix:", 5) == 0)
        end = peer + 4;
    else
        end = strrchr(peer, ':');
    if (!end || end == peer)
        aw__raw(o, "-", 1);
    else
        aw__raw(o, peer, (size_t)(end - peer));
}

static void aw__num(aw__line *o, const char *fmt, double v)
{
    char b[40];
    int k = snprintf(b, sizeof b, fmt, v);
    aw__raw(o, b, k > 0 ? (size_t)k : 0);
}

static void aw__stamp(aw_access_log *l, aw__line *o)
{
    time_t now = time(NULL);
    if (now != l->when) {
        struct tm tm;
        gmtime_r(&now, &tm);
        l->stamp_len = strftime(l->stamp, sizeof l->stamp, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
        l->when = now;
    }
    aw__raw(o, l->stamp, l->stamp_len);
}

void aw_access_log_write(aw_access_log *l, aw_request *req)
{
    if (l->cap - l->len < AW__LINE_MAX)
        aw_access_log_flush(l);
    aw_response *resp = aw_request_response(req);
    uint64_t start = aw_request_start_ns(req);
    double secs = start ? (double)(uv_hrtime() - start) / 1e9 : 0;
    aw__line o = {l->buf + l->len, 0, AW__LINE_MAX - 1};
    for (size_t i = 0; i < l->nfields; i++) {
        const aw__alog_field *f = &l->fields[i];
        switch (f->kind) {
        case 0: aw__raw(&o, f->text, f->len); break;
        case 'a': aw__addr(&o, aw_request_peer(req)); break;
        case 't': aw__stamp(l, &o); break;
        case 'P': aw__num(&o, "%.0f", l->pid); break;
        case 'r': {
            const char *m = aw_request_method(req), *t = aw_request_raw_path(req);
            int v = aw_request_version(req);
            aw__text(&o, m);
            aw__raw(&o, " ", 1);
            aw__text(&o, t);
            aw__raw(&o, v == 10 ? " HTTP/1.0" : " HTTP/1.1", 9);
            break;
        }
        case 's': aw__num(&o, "%.0f", resp ? aw_response_status(resp) : 0); break;
        case 'b': aw__num(&o, "%.0f", resp ? (double)aw_response_bytes_sent(resp) : 0); break;
        case 'T': aw__num(&o, "%.0f", (double)(long long)secs); break;
        case 'F': aw__num(&o, "%.6f", secs); break;
        case 'D': aw__num(&o, "%.0f", (double)(long long)(secs * 1e6)); break;
        case 'i': aw__text(&o, aw_request_header(req, f->text)); break;
        case 'o':
            aw__text(&o, resp ? aw_headers_get(aw_response_headers(resp), f->text) : NULL);
            break;
        case 'L': aw__text(&o, aw_request_get(req, AW_REQUEST_ID_KEY)); break;
        case 'u': aw__text(&o, aw_request_get(req, AW_BASIC_AUTH_USER_KEY)); break;
        case '%': aw__raw(&o, "%", 1); break;
        }
    }
    o.p[o.n++] = '\n';
    l->len += o.n;
}
