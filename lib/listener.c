/* Listeners: TCP and Unix sockets, optional TLS, a connection limit, and the
 * hand-off of each connection to a callback or a task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "net.h"
#include "resolve_int.h"
#include "stream_int.h"
#include "tls.h"

struct aw_listener {
    union {
        uv_handle_t h;
        uv_stream_t s;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } u;
    aw_listen_opts o;
    char *path; /* our copy, for unlinking */
    size_t nconn;
    int paused; /* at the limit: libuv holds one accepted socket for us */
    int closing, closed;
    int port;
    aw_task *closer;
    uint64_t last_log;
};

static void aw__listener_maybe_free(aw_listener *l)
{
    if (l->closed && !l->closer && l->nconn == 0) {
        free(l->path);
        free(l);
    }
}

static int aw__conn_task(void *arg)
{
    aw_stream *s = arg;
    aw_listener *l = s->listener; /* lives while this connection is counted */
    l->o.handler(s, l->o.arg);
    aw_stream_close(s);
    return 0;
}

static void aw__accept_one(aw_listener *l)
{
    aw__rt *rt = aw__rt_get();
    int pipe = l->path != NULL;
    aw_stream *s = aw__stream_new(rt, pipe);
    if (!s) {
        l->paused = 1; /* retried when a connection closes */
        return;
    }
    if (uv_accept(&l->u.s, &s->u.s)) {
        aw_stream_abort(s);
        return;
    }
    s->listener = l;
    s->flags |= AW__SF_COUNTED;
    l->nconn++;
    aw_stream_set_opts(s, l->o.stream_opts);
    if (!pipe && s->o->nodelay >= 0)
        uv_tcp_nodelay(&s->u.tcp, 1);
    if (l->o.tls && aw__tls_attach(s, l->o.tls, NULL)) {
        aw_stream_abort(s);
        return;
    }
    if (l->o.on_accept) {
        l->o.on_accept(l, s, l->o.arg);
        return;
    }
    aw_task *t = aw__spawn(rt, aw__conn_task, s, NULL);
    if (!t)
        aw_stream_abort(s);
    else
        t->flags |= AW__TF_DETACHED;
}

static void aw__on_connection(uv_stream_t *server, int status)
{
    aw_listener *l = server->data;
    if (status < 0) {
        /* EMFILE and friends: libuv already shed the connection; say so, but
         * not a thousand times a second */
        uint64_t now = uv_now(server->loop);
        if (now - l->last_log >= 1000 || !l->last_log) {
            fprintf(stderr, "aweb: accept failed: %s\n", uv_strerror(status));
            l->last_log = now;
        }
        return;
    }
    if (l->o.max_connections && l->nconn >= l->o.max_connections) {
        l->paused = 1; /* not accepting it makes libuv stop polling the socket */
        return;
    }
    aw__accept_one(l);
}

void aw__listener_conn_closed(aw_listener *l)
{
    l->nconn--;
    if (l->paused && !l->closing &&
        (!l->o.max_connections || l->nconn < l->o.max_connections)) {
        l->paused = 0;
        aw__accept_one(l);
    }
    aw__listener_maybe_free(l);
}

static int aw__bind_tcp(aw_listener *l, aw__rt *rt)
{
    const char *host = l->o.host ? l->o.host : "127.0.0.1";
    struct addrinfo *ai = NULL;
    int rc = aw__resolve(host, l->o.port, aw__op_deadline(rt, AW__DNS_MS, 0), &ai);
    if (rc)
        return rc;
    rc = uv_tcp_init_ex(&rt->loop, &l->u.tcp, ai->ai_family);
    if (!rc && l->o.reuseport) {
        int one = 1;
        uv_os_fd_t fd;
        uv_fileno(&l->u.h, &fd);
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one))
            rc = -errno;
    }
    if (!rc)
        rc = uv_tcp_bind(&l->u.tcp, ai->ai_addr, 0);
    if (rc)
        aw__stream_set_error("cannot bind %s:%d: %s", host, l->o.port, uv_strerror(rc));
    freeaddrinfo(ai);
    return rc;
}

static int aw__bind_unix(aw_listener *l, aw__rt *rt)
{
    struct stat st;
    /* a socket file left by a process that is gone would make bind fail */
    if (stat(l->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(l->path);
    int rc = uv_pipe_init(&rt->loop, &l->u.pipe, 0);
    if (!rc)
        rc = uv_pipe_bind(&l->u.pipe, l->path);
    if (rc)
        aw__stream_set_error("cannot bind %s: %s", l->path, uv_strerror(rc));
    return rc;
}

static void aw__listener_close_cb(uv_handle_t *h)
{
    aw_listener *l = h->data;
    l->closed = 1;
    if (l->closer)
        aw__wake(l->closer, 0);
    else
        aw__listener_maybe_free(l);
}

int aw_listen(const aw_listen_opts *o, aw_listener **out)
{
    aw__rt *rt = aw__rt_get();
    if (!rt)
        return AW_ENOTASK;
    if (!o->on_accept == !o->handler)
        return AW_EINVAL; /* exactly one of them */
    aw_listener *l = calloc(1, sizeof *l);
    if (!l)
        return AW_ENOMEM;
    l->o = *o;
    l->u.h.data = l;
    int rc;
    if (o->path) {
        l->path = strdup(o->path);
        rc = l->path ? aw__bind_unix(l, rt) : AW_ENOMEM;
    } else
        rc = aw__bind_tcp(l, rt);
    if (!rc)
        rc = uv_listen(&l->u.s, o->backlog > 0 ? o->backlog : 511, aw__on_connection);
    if (rc) {
        if (uv_is_active(&l->u.h) || l->u.h.loop) {
            l->u.h.data = l;
            l->closing = 1;
            uv_close(&l->u.h, aw__listener_close_cb); /* frees l */
        } else {
            free(l->path);
            free(l);
        }
        return rc;
    }
    if (!o->path) {
        struct sockaddr_storage a;
        int n = sizeof a;
        uv_tcp_getsockname(&l->u.tcp, (struct sockaddr *)&a, &n);
        l->port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                                : ((struct sockaddr_in *)&a)->sin_port);
    }
    *out = l;
    return 0;
}

int aw_listener_port(const aw_listener *l) { return l->port; }
size_t aw_listener_connections(const aw_listener *l) { return l->nconn; }

int aw_listener_close(aw_listener *l)
{
    if (!l || l->closing)
        return 0;
    l->closing = 1;
    if (l->path)
        unlink(l->path);
    uv_close(&l->u.h, aw__listener_close_cb);
    aw_task *t = aw__current();
    if (!t)
        return 0; /* freed from the close callback */
    while (!l->closed) {
        l->closer = t;
        aw__wait(t, AW__NO_DEADLINE, 0);
    }
    l->closer = NULL;
    aw__listener_maybe_free(l);
    return 0;
}
