/* Outgoing connections: resolve, try each address, optionally start TLS. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "net.h"
#include "resolve_int.h"
#include "stream_int.h"
#include "tls.h"

typedef struct aw__creq {
    uv_connect_t req;
    aw_task *task;
    int status, done;
} aw__creq;

static void aw__connect_cb(uv_connect_t *req, int status)
{
    aw__creq *c = (aw__creq *)req;
    c->status = status;
    c->done = 1;
    aw__wake(c->task, 0);
}

/* Waits for a connect request; on timeout or cancel the handle is closed,
 * which ends the request, and its callback is waited for. */
static int aw__connect_wait(aw_stream *s, aw__creq *c, uint64_t deadline)
{
    int rc = aw__wait(c->task, deadline, 1);
    if (!c->done) {
        aw_stream_abort(s); /* closing cancels the request */
        while (!c->done)
            aw__wait(c->task, AW__NO_DEADLINE, 0);
        return rc;
    }
    return c->status;
}

static int aw__finish(aw_stream *s, const aw_connect_opts *o, const char *name, aw_stream **out)
{
    int rc = 0;
    if (o && o->tls) {
        rc = aw_stream_start_tls(s, o->tls, o->server_name ? o->server_name : name, AW_DEFAULT);
        if (rc) {
            aw_stream_close(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

int aw_open_connection(const char *host, int port, const aw_connect_opts *o, aw_stream **out)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    const aw_stream_opts *so = o ? o->stream_opts : NULL;
    int64_t dns_ms = so && so->dns_timeout_ms > 0 ? so->dns_timeout_ms : AW__DNS_MS;
    int64_t conn_ms = so && so->connect_timeout_ms > 0 ? so->connect_timeout_ms : AW__CONNECT_MS;
    struct addrinfo *ai = NULL;
    const struct addrinfo *addrs = o ? o->addrs : NULL;
    int rc = addrs ? 0 : aw__resolve(host, port, aw__op_deadline(rt, dns_ms, 0), &ai);
    if (rc)
        return rc;
    if (!addrs)
        addrs = ai;
    uint64_t deadline = aw__op_deadline(rt, conn_ms, 0);
    aw_stream *s = NULL;
    rc = AW_EDNS;
    for (const struct addrinfo *a = addrs; a; a = a->ai_next) {
        if (!(s = aw__stream_new(rt, 0))) {
            rc = AW_ENOMEM;
            break;
        }
        aw_stream_set_opts(s, so);
        aw__creq c = {.task = t};
        rc = uv_tcp_connect(&c.req, &s->u.tcp, a->ai_addr, aw__connect_cb);
        if (rc == 0) {
            s->users++; /* the stream may be aborted while we wait */
            rc = aw__connect_wait(s, &c, deadline);
            s->users--;
        }
        if (rc == 0)
            break;
        aw__stream_set_error("cannot connect to %s:%d: %s", host, port, uv_strerror(rc));
        if (s->flags & AW__SF_FREE)
            aw_stream_abort(s); /* closed already: this frees it */
        else
            aw_stream_close(s);
        s = NULL;
        if (rc == AW_ETIMEDOUT || rc == AW_ECANCELED)
            break; /* the deadline is shared by all addresses */
    }
    if (ai)
        freeaddrinfo(ai);
    if (!s)
        return rc;
    if (!so || so->nodelay >= 0)
        uv_tcp_nodelay(&s->u.tcp, 1);
    return aw__finish(s, o, host, out);
}

int aw_open_unix(const char *path, const aw_connect_opts *o, aw_stream **out)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    const aw_stream_opts *so = o ? o->stream_opts : NULL;
    int64_t conn_ms = so && so->connect_timeout_ms > 0 ? so->connect_timeout_ms : AW__CONNECT_MS;
    aw_stream *s = aw__stream_new(rt, 1);
    if (!s)
        return AW_ENOMEM;
    aw_stream_set_opts(s, so);
    aw__creq c = {.task = t};
    uv_pipe_connect(&c.req, &s->u.pipe, path, aw__connect_cb);
    s->users++;
    int rc = aw__connect_wait(s, &c, aw__op_deadline(rt, conn_ms, 0));
    s->users--;
    if (rc) {
        aw__stream_set_error("cannot connect to %s: %s", path, uv_strerror(rc));
        if (s->flags & AW__SF_FREE)
            aw_stream_abort(s);
        else
            aw_stream_close(s);
        return rc;
    }
    return aw__finish(s, o, NULL, out);
}
