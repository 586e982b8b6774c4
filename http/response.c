/* Responses: constructors, headers and cookies, and putting them on the wire
 * (whole, or streamed with chunked framing). */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "arena_int.h"
#include "http_int.h"
#include "log.h"
#include "timeout.h"

/* --- making responses ------------------------------------------------------- */

aw_response *aw_response_new(aw_request *req, int status)
{
    aw_response *r = aw_arena_calloc(&req->arena, sizeof *r);
    if (!r)
        return NULL;
    r->req = req;
    r->status = status;
    r->content_length = -1;
    aw_headers_init(&r->headers, &req->arena);
    return r;
}

aw_response *aw_response_bytes(aw_request *req, int status, const void *data, size_t len,
                               const char *content_type)
{
    aw_response *r = aw_response_new(req, status);
    if (!r || aw_response_set_body(r, data, len))
        return NULL;
    if (content_type && aw_headers_add(&r->headers, "Content-Type", content_type))
        return NULL;
    return r;
}

aw_response *aw_response_static(aw_request *req, int status, const void *data, size_t len,
                                const char *content_type)
{
    aw_response *r = aw_response_new(req, status);
    if (!r || (content_type && aw_headers_add(&r->headers, "Content-Type", content_type)))
        return NULL;
    r->body = data;
    r->body_len = len;
    return r;
}

aw_response *aw_response_text(aw_request *req, int status, const char *text)
{
    return aw_response_bytes(req, status, text, strlen(text), "text/plain; charset=utf-8");
}

aw_response *aw_response_textf(aw_request *req, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *buf = n >= 0 ? aw_arena_alloc(&req->arena, (size_t)n + 1) : NULL;
    if (!buf)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return aw_response_static(req, status, buf, (size_t)n, "text/plain; charset=utf-8");
}

aw_response *aw_response_json(aw_request *req, int status, json_t *json)
{
    char *s = json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(json);
    if (!s)
        return NULL;
    aw_response *r = aw_response_bytes(req, status, s, strlen(s), "application/json");
    free(s);
    return r;
}

aw_response *aw_response_redirect(aw_request *req, int status, const char *location)
{
    aw_response *r = aw_response_new(req, status);
    if (!r || aw_headers_add(&r->headers, "Location", location))
        return NULL;
    return r;
}

aw_response *aw_http_error(aw_request *req, int status, const char *text)
{
    if (!text) {
        char *t = aw_arena_printf(&req->arena, "%d: %s\n", status, aw__reason(status));
        return t ? aw_response_static(req, status, t, strlen(t), "text/plain; charset=utf-8")
                 : NULL;
    }
    return aw_response_text(req, status, text);
}

aw_response *aw__error_response(aw_request *req, int status)
{
    return aw_http_error(req, status, NULL);
}

aw_response *aw_fail(aw_request *req, int err)
{
    req->fail_code = err;
    return NULL;
}

int aw_response_status(const aw_response *r) { return r->status; }
void aw_response_set_status(aw_response *r, int status) { r->status = status; }
aw_headers *aw_response_headers(aw_response *r) { return &r->headers; }

int aw_response_set_header(aw_response *r, const char *name, const char *value)
{
    return aw_headers_set(&r->headers, name, value);
}

int aw_response_add_header(aw_response *r, const char *name, const char *value)
{
    return aw_headers_add(&r->headers, name, value);
}

int aw_response_set_content_type(aw_response *r, const char *type)
{
    return aw_headers_set(&r->headers, "Content-Type", type);
}

int aw_response_set_body(aw_response *r, const void *data, size_t len)
{
    char *copy = aw_arena_alloc(&r->req->arena, len ? len : 1);
    if (!copy)
        return AW_ENOMEM;
    memcpy(copy, data, len);
    r->body = copy;
    r->body_len = len;
    return 0;
}

uint64_t aw_response_bytes_sent(const aw_response *r) { return r->bytes_sent; }
const char *aw_http_reason(int status) { return aw__reason(status); }

const char *aw_response_body(const aw_response *r, size_t *len)
{
    if (len)
        *len = r->body_len;
    return r->body;
}

int aw_response_set_cookie(aw_response *r, const char *name, const char *value,
                           const aw_cookie_opts *o)
{
    static const aw_cookie_opts none;
    if (!o)
        o = &none;
    if (!aw__cookie_name_ok(name) || !aw__cookie_value_ok(value) ||
        (o->path && strpbrk(o->path, ";\r\n")) || (o->domain && strpbrk(o->domain, ";\r\n")) ||
        (o->samesite && strpbrk(o->samesite, ";\r\n")))
        return AW_EINVAL;
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s=%s; Path=%s", name, value, o->path ? o->path : "/");
    if (o->domain)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "; Domain=%s", o->domain);
    if (o->max_age > 0)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "; Max-Age=%lld", (long long)o->max_age);
    else if (o->max_age < 0)
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    if (o->secure)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "; Secure");
    if (o->httponly)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "; HttpOnly");
    if (o->samesite)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "; SameSite=%s", o->samesite);
    if (n >= (int)sizeof buf)
        return AW_EINVAL;
    return aw_headers_add(&r->headers, "Set-Cookie", buf);
}

int aw_response_del_cookie(aw_response *r, const char *name, const char *path)
{
    return aw_response_set_cookie(r, name, "", &(aw_cookie_opts){.max_age = -1, .path = path});
}

/* --- the wire ---------------------------------------------------------------- */

const char *aw__reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 200 ? "Informational" : status < 300 ? "Success"
                  : status < 400 ? "Redirection" : status < 500 ? "Client Error" : "Server Error";
    }
}

static int aw__no_body_status(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

/* Whether this is the last response on its connection. */
static int aw__closing(aw_request *req)
{
    aw__conn *c = req->conn;
    return !req->keep_alive || c->close_after || c->srv->draining ||
           c->srv->cfg->keepalive_ms <= 0;
}

/* Appends n bytes; the head was sized for everything. */
static inline char *aw__put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* Decimal digits of v, without printf. */
static char *aw__put_u64(char *p, uint64_t v)
{
    char d[20];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        *p++ = d[--n];
    return p;
}

/* A head buffer in the request's arena, assembled from cached pieces (the
 * Date and Server lines are formatted once per second and once per server).
 * body_len < 0: no Content-Length (chunked when chunked is set). */
static int aw__head(aw_request *req, aw_response *r, int64_t body_len, int chunked, char **out,
                    size_t *out_len)
{
    aw__server *srv = req->srv;
    int status = r->status >= 100 && r->status <= 999 ? r->status : 500;
    const char *reason = aw__reason(status), *date = aw__server_date(srv);
    size_t rlen = strlen(reason), cap = 160 + rlen + srv->server_line_len;
    for (size_t i = 0; i < r->headers.n; i++)
        cap += r->headers.items[i].name_len + r->headers.items[i].value_len + 4;
    char *h = aw_arena_alloc(&req->arena, cap), *p = h;
    if (!h)
        return AW_ENOMEM;
    p = aw__put(p, req->version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    p = aw__put_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = aw__put(p, reason, rlen);
    p = aw__put(p, "\r\nDate: ", 8);
    p = aw__put(p, date, srv->date_len);
    p = aw__put(p, "\r\n", 2);
    p = aw__put(p, srv->server_line, srv->server_line_len);
    if (body_len >= 0 && !aw__no_body_status(status)) {
        p = aw__put(p, "Content-Length: ", 16);
        p = aw__put_u64(p, (uint64_t)body_len);
        p = aw__put(p, "\r\n", 2);
    }
    if (chunked)
        p = aw__put(p, "Transfer-Encoding: chunked\r\n", 28);
    if (aw__closing(req) && status != 101) /* a 101 says Connection: Upgrade */
        p = aw__put(p, "Connection: close\r\n", 19);
    else if (req->version == 10)
        p = aw__put(p, "Connection: keep-alive\r\n", 24);
    for (size_t i = 0; i < r->headers.n; i++) {
        const aw_header *x = &r->headers.items[i];
        p = aw__put(p, x->name, x->name_len);
        p = aw__put(p, ": ", 2);
        p = aw__put(p, x->value, x->value_len);
        p = aw__put(p, "\r\n", 2);
    }
    p = aw__put(p, "\r\n", 2);
    *out = h;
    *out_len = (size_t)(p - h);
    aw__arena_shrink_last(&req->arena, h, cap, *out_len); /* sized for the worst case */
    return 0;
}

int aw__response_send(aw_request *req, aw_response *r)
{
    if (r->prepared)
        return 0; /* streamed: already on its way */
    aw__app_prepare_signal(req, r);
    r->prepared = r->finished = 1;
    req->resp = r;
    char *head;
    size_t head_len;
    int rc = aw__head(req, r, (int64_t)r->body_len, 0, &head, &head_len);
    if (rc)
        return rc;
    int with_body = r->body_len && req->method_id != HTTP_HEAD && !aw__no_body_status(r->status);
    aw_iovec v[2] = {{head, head_len}, {r->body, r->body_len}};
    r->bytes_sent = with_body ? r->body_len : 0;
    rc = aw__conn_write(req->conn, v, with_body ? 2 : 1, 0);
    aw__arena_shrink_last(&req->arena, head, head_len, 0); /* copied or written */
    return rc;
}

/* --- streaming ------------------------------------------------------------------ */

aw_response *aw_response_stream(aw_request *req, int status)
{
    aw_response *r = aw_response_new(req, status);
    if (r)
        r->streaming = 1;
    return r;
}

void aw_response_set_content_length(aw_response *r, uint64_t len)
{
    r->content_length = (int64_t)len;
}

/* flush 0 leaves the head in the connection's batch (aw_response_sendfile
 * adds a small file to it). */
static int aw__prepare(aw_response *r, int flush)
{
    aw_request *req = r->req;
    if (r->prepared)
        return 0;
    if (req->resp)
        return AW_EBUSY; /* another response was sent already */
    aw__app_prepare_signal(req, r);
    const aw_body_filter *f = req->filter;
    if (f && f->start) {
        int taken = f->start(r, f->arg);
        if (taken < 0)
            return taken;
        if (taken) {
            r->filtered = 1;
            r->content_length = -1;
        }
    }
    r->prepared = 1;
    r->streaming = 1;
    req->resp = r;
    int64_t len = r->content_length;
    if (len < 0 && !aw__no_body_status(r->status)) {
        if (req->version >= 11)
            r->chunked = 1;
        else
            req->conn->close_after = 1; /* HTTP/1.0: the body ends with the connection */
    }
    char *head;
    size_t head_len;
    int rc = aw__head(req, r, len, r->chunked, &head, &head_len);
    if (rc)
        return rc;
    if (!req->conn->nodelay) {
        aw_stream_set_nodelay(req->conn->s, 1); /* streamed pieces go out at once */
        req->conn->nodelay = 1;
    }
    aw_iovec v = {head, head_len};
    rc = aw__conn_write(req->conn, &v, 1, flush);
    /* copied into the batch or written: an upgraded request keeps its arena
     * for the socket's life, and the room goes to what follows */
    aw__arena_shrink_last(&req->arena, head, head_len, 0);
    return rc;
}

int aw_response_prepare(aw_response *r) { return aw__prepare(r, 1); }

/* Body bytes to the connection, framed as a chunk when chunked. */
static int aw__write_body(aw_response *r, const void *data, size_t len, int flush)
{
    if (r->finished)
        return AW_EPIPE;
    if (!len || r->req->method_id == HTTP_HEAD)
        return 0;
    r->bytes_sent += len;
    if (!r->chunked) {
        aw_iovec v = {data, len};
        return aw__conn_write(r->req->conn, &v, 1, flush);
    }
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", len);
    aw_iovec v[3] = {{size, (size_t)n}, {data, len}, {"\r\n", 2}};
    return aw__conn_write(r->req->conn, v, 3, flush);
}

int aw_response_write_raw(aw_response *r, const void *data, size_t len)
{
    return aw__write_body(r, data, len, 1);
}

int aw_response_write(aw_response *r, const void *data, size_t len)
{
    int rc = r->prepared ? 0 : aw_response_prepare(r);
    if (rc)
        return rc;
    if (r->finished)
        return AW_EPIPE;
    if (!len || r->req->method_id == HTTP_HEAD)
        return 0;
    if (r->filtered)
        return r->req->filter->write(r, data, len, 0, r->req->filter->arg);
    return aw__write_body(r, data, len, 1);
}

int aw_response_write_eof(aw_response *r)
{
    int rc = r->prepared ? 0 : aw_response_prepare(r);
    if (rc || r->finished)
        return rc;
    if (r->filtered && r->req->method_id != HTTP_HEAD &&
        (rc = r->req->filter->write(r, NULL, 0, 1, r->req->filter->arg)))
        return rc;
    r->finished = 1;
    if (!r->chunked || r->req->method_id == HTTP_HEAD)
        return 0;
    aw_iovec v = {"0\r\n\r\n", 5};
    return aw__conn_write(r->req->conn, &v, 1, 0);
}

/* --- files ------------------------------------------------------------------ */

/* Up to this, a piece of a file is read into the connection's output batch
 * rather than sent with sendfile(2): one write for head and body beats a
 * write and a sendfile, and pipelined responses keep leaving together. */
#define AW__SENDFILE_MIN (16 * 1024)

/* Reads exactly len bytes at off: 0, AW_EOF (the file is shorter) or -errno. */
static int aw__pread_all(int fd, char *buf, size_t len, int64_t off)
{
    while (len) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n ? -errno : AW_EOF;
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int aw_response_sendfile(aw_response *r, int fd, int64_t offset, uint64_t len)
{
    int rc = r->prepared ? 0 : aw__prepare(r, 0);
    if (rc)
        return rc;
    if (r->finished)
        return AW_EPIPE;
    aw_request *req = r->req;
    aw__conn *c = req->conn;
    if (!len || req->method_id == HTTP_HEAD)
        return 0;
    if (c->broken)
        return AW_EPIPE;
    int plain = !r->filtered && !r->chunked;
    if (plain && len > AW__SENDFILE_MIN) {
        /* What is queued (this head, and answers before it) joins the
         * file's first segment (MSG_MORE) and the file's end pushes all.
         * Sent apart, 1 MiB files ran 30% slower on loopback; corked around
         * the sendfile (nginx's tcp_nopush) they took 550-580 us of CPU a
         * request over both cores, against 220-530 us this way, and two
         * system calls more. */
        rc = aw_stream_sendfile_after(c->s, c->out, c->out_len, fd, offset, (size_t)len, AW_DEFAULT);
        c->out_len = 0;
        if (rc)
            c->broken = 1; /* part of the promised body is missing */
        else
            r->bytes_sent += len;
        return rc;
    }
    if (plain && (c->out || (c->out = aw__out_get(c->srv))) && c->out_len + len <= AW__OUT_MAX) {
        if ((rc = aw__pread_all(fd, c->out + c->out_len, (size_t)len, offset))) {
            c->close_after = 1;
            return rc;
        }
        c->out_len += (uint32_t)len;
        r->bytes_sent += len;
        return 0;
    }
    /* through the filter, or chunked: in pieces */
    size_t cap = len < 65536 ? (size_t)len : 65536;
    char *buf = aw_arena_alloc(&req->arena, cap);
    if (!buf)
        return AW_ENOMEM;
    while (len && !rc) {
        size_t n = len < cap ? (size_t)len : cap;
        if ((rc = aw__pread_all(fd, buf, n, offset))) {
            c->close_after = 1;
            break;
        }
        rc = r->filtered ? req->filter->write(r, buf, n, 0, req->filter->arg)
                         : aw__write_body(r, buf, n, 1);
        offset += (int64_t)n;
        len -= n;
    }
    return rc;
}

int64_t aw_response_content_length(const aw_response *r)
{
    return r->streaming ? r->content_length : (int64_t)r->body_len;
}

void aw_request_set_body_filter(aw_request *req, const aw_body_filter *f) { req->filter = f; }

int aw_sse_send(aw_response *r, const char *event, const char *data, const char *id)
{
    if (!r->prepared) {
        aw_headers_set(&r->headers, "Content-Type", "text/event-stream");
        aw_headers_set(&r->headers, "Cache-Control", "no-cache");
        int rc = aw_response_prepare(r);
        if (rc)
            return rc;
    }
    if ((event && strpbrk(event, "\r\n")) || (id && strpbrk(id, "\r\n")))
        return AW_EINVAL;
    aw_arena *a = &r->req->arena;
    size_t cap = strlen(data) * 2 + 64 + (event ? strlen(event) : 0) + (id ? strlen(id) : 0);
    char *buf = aw_arena_alloc(a, cap), *p = buf;
    if (!buf)
        return AW_ENOMEM;
    if (event)
        p += sprintf(p, "event: %s\n", event);
    if (id)
        p += sprintf(p, "id: %s\n", id);
    /* each line of data is its own data: field */
    const char *line = data;
    for (;;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n && line[n - 1] == '\r')
            n--;
        memcpy(p, "data: ", 6);
        memcpy(p + 6, line, n);
        p += 6 + n;
        *p++ = '\n';
        if (!nl)
            break;
        line = nl + 1;
    }
    *p++ = '\n';
    return aw_response_write(r, buf, (size_t)(p - buf));
}
