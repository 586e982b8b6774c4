/* Requests through llhttp, strictly: no lenient flag is ever set, so the
 * smuggling shapes (Content-Length with Transfer-Encoding, two
 * Content-Lengths, bad chunk sizes, bare LF) are llhttp's errors. What
 * Debian's llhttp 8.1 still accepts and RFC 9112 does not is refused here:
 * obs-fold (a continuation arrives as a second value after the first was
 * complete), a missing or repeated Host on HTTP/1.1. llhttp has no size
 * limits: the request line, header fields and header count are bounded here.
 *
 * Head fields are copied into the request's arena as they arrive (a field may
 * be split across reads), so the head survives the input buffer moving.
 * Parsing pauses (HPE_PAUSED) at the end of the head, after each body span,
 * and at the end of each message: the server then runs the handler, hands the
 * body over piece by piece, and answers pipelined requests in order.
 */
#include <string.h>

#include "error.h"
#include "crlf_int.h"
#include "http_int.h"

int aw__headers_append(aw_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len);

static aw__parse *aw__ps(llhttp_t *p) { return p->data; }

/* Appends len bytes to *buf (in the request arena), growing it in place when
 * it is the arena's last allocation. */
static int aw__append(aw_request *req, char **buf, size_t *buf_len, const char *at, size_t len)
{
    char *b = aw_arena_grow(&req->arena, *buf, *buf_len ? *buf_len + 1 : 0, *buf_len + len + 1);
    if (!b)
        return -1;
    memcpy(b + *buf_len, at, len);
    *buf_len += len;
    b[*buf_len] = 0;
    *buf = b;
    return 0;
}

static int aw__fail(aw__parse *ps, int status)
{
    ps->status = status;
    return HPE_USER;
}

static int aw__on_message_begin(llhttp_t *p)
{
    aw__parse *ps = aw__ps(p);
    ps->field = ps->value = NULL;
    ps->field_len = ps->value_len = 0;
    ps->in_value = 0;
    ps->nheaders = 0;
    ps->hosts = 0;
    ps->head_done = ps->msg_done = 0;
    ps->ext_len = 0;
    ps->req->target = NULL;
    return 0;
}

static int aw__on_url(llhttp_t *p, const char *at, size_t len)
{
    aw__parse *ps = aw__ps(p);
    size_t tlen = ps->req->target ? strlen(ps->req->target) : 0;
    /* method, spaces and "HTTP/1.1" count toward the request line too */
    if (tlen + len + 16 > ps->max_line)
        return aw__fail(ps, 414);
    if (aw__append(ps->req, &ps->req->target, &tlen, at, len))
        return aw__fail(ps, 500);
    return 0;
}

/* A complete field: checked, counted and, before the end of the head, kept. */
static int aw__header_done(aw__parse *ps)
{
    aw_request *req = ps->req;
    if (++ps->nheaders > ps->max_headers)
        return aw__fail(ps, 431);
    if (ps->head_done)
        return 0; /* a trailer: bounded, not kept */
    /* optional whitespace after the value is not part of it */
    while (ps->value_len && (ps->value[ps->value_len - 1] == ' ' ||
                             ps->value[ps->value_len - 1] == '\t'))
        ps->value[--ps->value_len] = 0;
    if (!ps->value) {
        ps->value = "";
        ps->value_len = 0;
    }
    if (ps->field_len == 4 && strncasecmp(ps->field, "host", 4) == 0)
        ps->hosts++;
    if (aw__headers_append(&req->headers, ps->field, ps->field_len, ps->value, ps->value_len))
        return aw__fail(ps, 500);
    ps->field = ps->value = NULL;
    ps->field_len = ps->value_len = 0;
    return 0;
}

static int aw__on_header_field(llhttp_t *p, const char *at, size_t len)
{
    aw__parse *ps = aw__ps(p);
    ps->in_value = 0;
    ps->value_cr = 0;
    if (ps->field_len + len > ps->max_field)
        return aw__fail(ps, 431);
    if (ps->head_done) { /* trailers: only counted */
        ps->field_len += len;
        return 0;
    }
    return aw__append(ps->req, &ps->field, &ps->field_len, at, len) ? aw__fail(ps, 500) : 0;
}

static int aw__on_header_value(llhttp_t *p, const char *at, size_t len)
{
    aw__parse *ps = aw__ps(p);
    /* llhttp 8.1 takes obs-fold ("a\r\n b") as one value in two spans. A
     * value also comes in two spans when a read ends inside it, but then the
     * first span runs to the end of the input, not to a CR within it. */
    if (ps->in_value == 2 || (ps->in_value == 1 && ps->value_cr))
        return aw__fail(ps, 400);
    ps->in_value = 1;
    ps->value_cr = at + len < ps->end && at[len] == '\r';
    if (ps->field_len + ps->value_len + len > ps->max_field)
        return aw__fail(ps, 431);
    if (ps->head_done) {
        ps->value_len += len;
        return 0;
    }
    return aw__append(ps->req, &ps->value, &ps->value_len, at, len) ? aw__fail(ps, 500) : 0;
}

static int aw__on_header_value_complete(llhttp_t *p)
{
    aw__parse *ps = aw__ps(p);
    ps->in_value = 2;
    int rc = aw__header_done(ps);
    ps->field_len = ps->value_len = 0;
    return rc;
}

static int aw__on_headers_complete(llhttp_t *p)
{
    aw__parse *ps = aw__ps(p);
    aw_request *req = ps->req;
    ps->head_done = 1;
    req->version = p->http_major * 10 + p->http_minor;
    if (p->http_major != 1)
        return aw__fail(ps, 505);
    /* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in 1.0 */
    if ((req->version == 11 && ps->hosts != 1) || ps->hosts > 1)
        return aw__fail(ps, 400);
    if (!req->target)
        return aw__fail(ps, 400);
    req->method_id = p->method;
    req->method = llhttp_method_name(p->method);
    req->keep_alive = llhttp_should_keep_alive(p);
    req->upgrade = p->upgrade;
    /* past INT64_MAX the length would read as -1 ("unknown") and slip past
     * the early client_max_size check: no body that big is ever taken */
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > INT64_MAX)
        return aw__fail(ps, 413);
    int has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
    req->content_length = (p->flags & F_CONTENT_LENGTH) ? (int64_t)p->content_length : -1;
    req->body_state = has_body ? AW__BODY_PENDING : AW__BODY_NONE;
    /* With a body, stop here: the handler pulls it. Without, go on to the
     * message's end, so the parser is past it when the next request comes. */
    return has_body ? HPE_PAUSED : 0;
}

static int aw__on_body(llhttp_t *p, const char *at, size_t len)
{
    aw__parse *ps = aw__ps(p);
    /* llhttp flushes an open span at the end of every execute, even an empty
     * one: that is not body, and pausing on it would never make progress */
    if (!len)
        return 0;
    ps->body_at = at;
    ps->body_len = len;
    return HPE_PAUSED;
}

/* llhttp skips chunk extensions (";name=value" after a chunk size) without
 * a limit: an endless one would hold the connection while looking busy. They
 * are bounded like a header field; past it, 413 (as Node answers since
 * CVE-2024-22019). */
static int aw__on_chunk_ext(llhttp_t *p, const char *at, size_t len)
{
    aw__parse *ps = aw__ps(p);
    (void)at;
    ps->ext_len += len;
    return ps->ext_len > ps->max_field ? aw__fail(ps, 413) : 0;
}

static int aw__on_chunk_header(llhttp_t *p)
{
    aw__ps(p)->ext_len = 0; /* the next chunk's extensions count afresh */
    return 0;
}

static int aw__on_message_complete(llhttp_t *p)
{
    aw__parse *ps = aw__ps(p);
    ps->msg_done = 1;
    return HPE_PAUSED;
}

static const llhttp_settings_t *aw__settings(void)
{
    static llhttp_settings_t s;
    static int ready;
    if (!ready) {
        llhttp_settings_init(&s);
        s.on_message_begin = aw__on_message_begin;
        s.on_url = aw__on_url;
        s.on_header_field = aw__on_header_field;
        s.on_header_value = aw__on_header_value;
        s.on_header_value_complete = aw__on_header_value_complete;
        s.on_headers_complete = aw__on_headers_complete;
        s.on_body = aw__on_body;
        s.on_chunk_extension_name = aw__on_chunk_ext;
        s.on_chunk_extension_value = aw__on_chunk_ext;
        s.on_chunk_header = aw__on_chunk_header;
        s.on_message_complete = aw__on_message_complete;
        ready = 1;
    }
    return &s;
}

void aw__parse_init(aw__parse *ps, aw__conn *c)
{
    memset(ps, 0, sizeof *ps);
    llhttp_init(&ps->p, HTTP_REQUEST, aw__settings());
    ps->p.data = ps;
    ps->conn = c;
    ps->max_line = c->srv->cfg->max_request_line;
    ps->max_field = c->srv->cfg->max_field_size;
    ps->max_headers = c->srv->cfg->max_headers;
}

void aw__parse_next(aw__parse *ps)
{
    if (llhttp_get_errno(&ps->p) == HPE_PAUSED)
        llhttp_resume(&ps->p);
}

/* The status llhttp's verdict on a request deserves. */
static int aw__parse_status(aw__parse *ps, llhttp_errno_t e)
{
    (void)e; /* a callback's refusal arrives as HPE_USER or as HPE_CB_* */
    return ps->status ? ps->status : 400;
}

int aw__parse_head(aw__parse *ps, const char *data, size_t len, size_t *used)
{
    ps->status = 0;
    ps->end = data + len;
    llhttp_errno_t e = llhttp_execute(&ps->p, data, len);
    if (e == HPE_OK) {
        *used = len;
        return aw__bare_cr(data, len, &ps->last) ? 400 : 0;
    }
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        *used = (size_t)(llhttp_get_error_pos(&ps->p) - data);
        if (aw__bare_cr(data, *used, &ps->last)) {
            *used = len;
            return 400;
        }
        if (ps->head_done) {
            llhttp_resume(&ps->p);
            return 1;
        }
        llhttp_resume(&ps->p);
        return 0;
    }
    *used = len;
    return aw__parse_status(ps, e);
}

int aw__parse_body(aw__parse *ps, const char *data, size_t len, size_t *used)
{
    ps->status = 0;
    ps->body_at = NULL;
    ps->body_len = 0;
    llhttp_errno_t e = llhttp_execute(&ps->p, data, len);
    if (e == HPE_OK) {
        *used = len;
        return 0;
    }
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        *used = (size_t)(llhttp_get_error_pos(&ps->p) - data);
        if (!ps->msg_done)
            llhttp_resume(&ps->p);
        return 0;
    }
    *used = len;
    return aw__parse_status(ps, e);
}
