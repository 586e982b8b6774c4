/* Connections: idle lists, the task that serves requests while they come,
 * batched output, error answers and closing. See http_int.h for the shape. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http_int.h"
#include "log.h"
#include "runtime.h"
#include "sync.h"
#include "timeout.h"

aw_task *aw__spawn_detached(aw_task_fn fn, void *arg, const aw_task_opts *opts);

enum { AW__SERVE_IDLE, AW__SERVE_CLOSE };

/* --- idle connections ----------------------------------------------------- */

/* Arms the idle timer to the earlier of the two lists' heads (each list is in
 * deadline order, since its timeout is the same for every entry). */
static void aw__idle_arm(aw__server *srv)
{
    uint64_t due = UINT64_MAX;
    aw__list *lists[2] = {&srv->idle_new, &srv->idle_ka};
    for (int i = 0; i < 2; i++) {
        aw__list *f = aw__list_first(lists[i]);
        if (f) {
            uint64_t d = aw__container_of(f, aw__conn, link)->deadline;
            if (d < due)
                due = d;
        }
    }
    if (due == UINT64_MAX) {
        uv_timer_stop(&srv->idle_timer);
        return;
    }
    uint64_t now = aw_now();
    uv_timer_start(&srv->idle_timer, aw__idle_timer_cb, due > now ? due - now : 0, 0);
}

/* The last thing that touches a connection: a draining server waits for
 * every connection to get here before it is freed. */
static void aw__conn_free(aw__conn *c)
{
    aw__server *srv = c->srv;
    aw__list_remove(&c->link);
    aw__out_put(srv, c->out);
    free(c);
    if (--srv->nconns == 0 && srv->drainer)
        aw_event_set(srv->stopped);
}

/* Closes an idle connection from a callback: no task, nothing to send. */
static void aw__conn_drop(aw__conn *c)
{
    aw_stream_abort(c->s);
    aw__conn_free(c);
}

void aw__idle_timer_cb(uv_timer_t *t)
{
    aw__server *srv = t->data;
    uint64_t now = aw_now();
    aw__list *lists[2] = {&srv->idle_new, &srv->idle_ka};
    for (int i = 0; i < 2; i++) {
        aw__list *f;
        while ((f = aw__list_first(lists[i]))) {
            aw__conn *c = aw__container_of(f, aw__conn, link);
            if (c->deadline > now)
                break;
            aw__conn_drop(c);
        }
    }
    aw__idle_arm(srv);
}

static void aw__conn_input(aw_stream *s, void *arg);

static void aw__conn_idle(aw__conn *c, int first)
{
    aw__server *srv = c->srv;
    int64_t ms = first ? srv->cfg->header_ms : srv->cfg->keepalive_ms;
    aw__list *list = first ? &srv->idle_new : &srv->idle_ka;
    c->state = first ? AW__C_IDLE_NEW : AW__C_IDLE_KA;
    c->deadline = aw_now() + (uint64_t)ms;
    int was_empty = aw__list_empty(list);
    aw__list_insert_tail(list, &c->link);
    if (was_empty)
        aw__idle_arm(srv);
    aw_stream_on_input(c->s, aw__conn_input, c);
}

void aw__conn_accept(aw_listener *l, aw_stream *s, void *arg)
{
    (void)l;
    aw__server *srv = arg;
    aw__conn *c = srv->draining ? NULL : calloc(1, sizeof *c);
    if (!c) {
        aw_stream_abort(s);
        return;
    }
    c->s = s;
    c->srv = srv;
    aw__list_init(&c->link);
    aw_stream_set_opts(s, &srv->sopts);
    aw_stream_set_data(s, c);
    srv->nconns++;
    aw__conn_idle(c, 1);
}

static int aw__conn_task(void *arg);

/* Bytes (or the end) arrived on an idle connection: a task takes over. */
static void aw__conn_input(aw_stream *s, void *arg)
{
    aw__conn *c = arg;
    aw__server *srv = c->srv;
    if (!aw_stream_buffered(s)) {
        aw__conn_drop(c); /* the client left, or the stream failed */
        return;
    }
    aw_stream_on_input(s, NULL, NULL);
    aw__list_remove(&c->link);
    aw__list_insert_tail(&srv->active, &c->link);
    c->state = AW__C_ACTIVE;
    srv->nactive++;
    c->task = aw__spawn_detached(aw__conn_task, c, NULL);
    if (!c->task) {
        srv->nactive--;
        aw__conn_drop(c);
    }
}

/* --- output ---------------------------------------------------------------- */

/* Batching buffers go back to the server while a connection is idle. */
char *aw__out_get(aw__server *srv)
{
    return srv->nfree_out ? srv->free_out[--srv->nfree_out] : malloc(AW__OUT_MAX);
}

void aw__out_put(aw__server *srv, char *buf)
{
    if (!buf)
        return;
    if (srv->nfree_out < sizeof srv->free_out / sizeof srv->free_out[0])
        srv->free_out[srv->nfree_out++] = buf;
    else
        free(buf);
}

int aw__conn_flush(aw__conn *c)
{
    if (!c->out_len)
        return 0;
    int rc = c->broken ? AW_EPIPE : aw_stream_write(c->s, c->out, c->out_len, AW_DEFAULT);
    c->out_len = 0;
    if (rc)
        c->broken = 1;
    return rc;
}

/* Queues iov for the client: small pieces are batched (several pipelined
 * responses leave in one write), large ones go straight out after what is
 * queued. flush sends everything now. */
int aw__conn_write(aw__conn *c, const aw_iovec *iov, size_t n, int flush)
{
    if (c->broken)
        return AW_EPIPE;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += iov[i].len;
    if (!c->out && total <= AW__OUT_MAX && !(c->out = aw__out_get(c->srv)))
        return AW_ENOMEM;
    if (c->out && c->out_len + total <= AW__OUT_MAX) {
        for (size_t i = 0; i < n; i++) {
            memcpy(c->out + c->out_len, iov[i].base, iov[i].len);
            c->out_len += (uint32_t)iov[i].len;
        }
        return flush ? aw__conn_flush(c) : 0;
    }
    /* too big to batch: what is queued, then these, in one writev */
    aw_iovec v[9];
    size_t k = 0;
    if (c->out_len)
        v[k++] = (aw_iovec){c->out, c->out_len};
    for (size_t i = 0; i < n && k < 9; i++)
        v[k++] = iov[i];
    int rc = aw_stream_writev(c->s, v, k, AW_DEFAULT);
    c->out_len = 0;
    if (rc)
        c->broken = 1;
    return rc;
}

/* --- reading a request's head ---------------------------------------------- */

/* Returns 0 with the head parsed, an error status to answer, or -1 to close
 * without a word (the client left, or sent nothing of a new request). */
static int aw__read_head(aw__conn *c, aw__parse *ps, aw_request *req)
{
    aw__server *srv = c->srv;
    /* a new connection's first request counts from the accept */
    uint64_t deadline = c->nreq == 0 && c->deadline ? c->deadline
                                                    : aw_now() + (uint64_t)srv->cfg->header_ms;
    size_t got = 0;
    for (;;) {
        uint64_t now = aw_now();
        const char *p;
        ssize_t n = deadline > now ? aw_stream_peek(c->s, &p, (int64_t)(deadline - now))
                                   : AW_ETIMEDOUT;
        if (n == AW_ETIMEDOUT)
            return got ? 408 : -1;
        if (n < 0)
            return -1;
        size_t used = 0;
        int r = aw__parse_head(ps, p, (size_t)n, &used);
        aw_stream_consume(c->s, used);
        got += used;
        if (r == 1)
            break;
        if (r > 1)
            return r;
    }
    /* the target: path (decoded, %2F kept, %00 refused) and query */
    char *t = req->target;
    if (t[0] != '/')
        return 400; /* absolute-form and authority-form are for proxies */
    char *q = strchr(t, '?');
    size_t plen = q ? (size_t)(q - t) : strlen(t);
    req->query = q ? q + 1 : "";
    req->path = aw_arena_alloc(&req->arena, plen + 1);
    if (!req->path)
        return 500;
    ssize_t dl = aw__pct_decode(req->path, t, plen, 0, 1, 1);
    if (dl < 0)
        return 400;
    req->path[dl] = 0;
    req->expect_continue = aw_headers_has_token(&req->headers, "Expect", "100-continue");
    return 0;
}

/* --- answering errors and closing ------------------------------------------ */

/* Reads and drops what the client still sends, for a short while, so that it
 * reads our error response instead of a reset. */
static void aw__lingering_close(aw__conn *c)
{
    int64_t ms = c->srv->cfg->lingering_ms;
    if (ms <= 0 || c->broken)
        return;
    if (aw_stream_shutdown(c->s, 1000))
        return;
    uint64_t end = aw_now() + (uint64_t)ms;
    size_t dropped = 0;
    while (dropped < (64u << 20)) {
        uint64_t now = aw_now();
        const char *p;
        ssize_t n = end > now ? aw_stream_peek(c->s, &p, (int64_t)(end - now)) : AW_ETIMEDOUT;
        if (n <= 0)
            break;
        aw_stream_consume(c->s, (size_t)n);
        dropped += (size_t)n;
    }
}

/* Answers a request that never reached a handler (bad head, limits, timeout). */
static void aw__answer_error(aw__conn *c, aw_request *req, int status)
{
    c->close_after = 1;
    req->keep_alive = 0;
    if (!req->method)
        req->method = "-";
    aw_response *r = aw__error_response(req, status);
    if (r)
        aw__response_send(req, r);
    aw__conn_flush(c);
    if (c->srv->alog)
        aw_access_log_write(c->srv->alog, req);
    aw__lingering_close(c);
}

/* --- the connection task ----------------------------------------------------- */

static void aw__watch_disconnect(aw_stream *s, void *arg)
{
    aw__conn *c = arg;
    if (aw_stream_read_error(s) && c->task)
        aw_cancel(c->task);
}

static void aw__handle(aw__conn *c, aw_request *req)
{
    aw_response *resp = aw__app_dispatch(req);
    /* flush before the body is drained: a client may wait for the answer */
    if (!c->broken && !req->resp && resp)
        aw__response_send(req, resp);
    else if (!resp && !req->resp) {
        int status = req->pending_status ? req->pending_status : 500;
        if (status == 500)
            aw_log(AW_LOG_ERROR, "%s %s: %s", req->method, req->target,
                   req->fail_code ? aw_strerror(req->fail_code) : "the handler gave no response");
        aw_response *err = aw__error_response(req, status);
        if (err)
            aw__response_send(req, err);
        if (status != 500)
            c->close_after = 1;
    }
    if (req->body_state == AW__BODY_PENDING) {
        if (req->expect_continue && !req->continue_sent)
            c->close_after = 1; /* the client holds its body back: it never comes */
        else {
            aw__conn_flush(c);
            if (aw__request_finish_body(req))
                c->close_after = 1;
        }
    }
}

/* Serves requests while they come; returns IDLE or CLOSE. */
static int aw__serve(aw__conn *c, aw__parse *ps)
{
    aw__server *srv = c->srv;
    for (;;) {
        aw_request *req = aw__request_new(c, ps);
        if (!req)
            return AW__SERVE_CLOSE;
        int st = aw__read_head(c, ps, req);
        c->deadline = 0;
        if (st) {
            if (st > 0)
                aw__answer_error(c, req, st);
            aw__request_unref(req);
            return AW__SERVE_CLOSE;
        }
        c->nreq++;
        srv->requests++;
        c->req = req;
        aw__handle(c, req);
        c->req = NULL;
        if (srv->alog)
            aw_access_log_write(srv->alog, req);
        int keep = req->keep_alive && !c->close_after && !c->broken && !srv->draining &&
                   srv->cfg->keepalive_ms > 0 && !req->upgrade;
        aw__request_unref(req);
        aw__parse_next(ps);
        if (!keep || aw_cancelled()) {
            aw__conn_flush(c);
            return AW__SERVE_CLOSE;
        }
        if (!aw_stream_buffered(c->s)) {
            /* nothing more pipelined: send what is batched and go idle */
            return aw__conn_flush(c) ? AW__SERVE_CLOSE : AW__SERVE_IDLE;
        }
        if (c->out_len > AW__OUT_MAX / 2 && aw__conn_flush(c))
            return AW__SERVE_CLOSE;
    }
}

static int aw__conn_task(void *arg)
{
    aw__conn *c = arg;
    aw__server *srv = c->srv;
    aw__parse ps;
    aw__parse_init(&ps, c);
    int how = aw__serve(c, &ps);
    c->task = NULL;
    srv->nactive--;
    aw__list_remove(&c->link);
    aw__out_put(srv, c->out);
    c->out = NULL;
    c->out_len = 0;
    if (how == AW__SERVE_IDLE && !srv->draining) {
        if (!c->nodelay) {
            /* kept alive: now small answers must not wait for Nagle */
            aw_stream_set_nodelay(c->s, 1);
            c->nodelay = 1;
        }
        aw__conn_idle(c, 0);
        return 0;
    }
    aw_stream_close(c->s);
    aw__conn_free(c);
    return 0;
}

/* Exported for request.c: during a handler that wants it, a client hanging up
 * cancels the handler's task. */
void aw__conn_watch(aw__conn *c, int on)
{
    aw_stream_on_input(c->s, on ? aw__watch_disconnect : NULL, c);
}
