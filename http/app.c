/* Applications: routes, sub-apps, middlewares, signals, state, and the
 * dispatch of a request to its handler through the middleware chain.
 *
 * Every route of every sub-app goes into one router owned by the root app
 * (built when the app starts serving), with the sub-app's prefix in front; a
 * route remembers its app, whose middlewares (inside those of its parents)
 * wrap it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http_int.h"
#include "log.h"
#include "stream_int.h"
#include "task.h"

void aw__conn_watch(aw__conn *c, int on);

int aw__vec_push(aw__vec *v, const void *item, size_t size)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        void *items = realloc(v->items, cap * size);
        if (!items)
            return AW_ENOMEM;
        v->items = items;
        v->cap = cap;
    }
    memcpy((char *)v->items + v->n * size, item, size);
    v->n++;
    return 0;
}

aw_app *aw_app_new(void)
{
    aw_app *app = calloc(1, sizeof *app);
    if (app && !(app->prefix = strdup(""))) {
        free(app);
        return NULL;
    }
    return app;
}

void aw_app_free(aw_app *app)
{
    if (!app)
        return;
    aw__signal *frees = app->on_free.items;
    for (size_t i = 0; i < app->on_free.n; i++)
        ((void (*)(void *))frees[i].fn)(frees[i].arg);
    aw__route_def *defs = app->route_defs.items;
    for (size_t i = 0; i < app->route_defs.n; i++) {
        free(defs[i].method);
        free(defs[i].path);
        free(defs[i].name);
        free(defs[i].route);
    }
    aw_app **subs = app->subapps.items;
    for (size_t i = 0; i < app->subapps.n; i++)
        aw_app_free(subs[i]);
    aw__vec *vecs[] = {&app->routes, &app->route_defs, &app->subapps, &app->mws,
                       &app->on_startup, &app->on_shutdown, &app->on_cleanup, &app->on_prepare,
                       &app->state, &app->conf_sections, &app->on_free};
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
        free(vecs[i]->items);
    aw__router_free(app->router);
    aw_scheduler_free(app->scheduler);
    free(app->prefix);
    free(app);
}

int aw_app_config_section(aw_app *app, const char *name, aw_config_setter set, void *arg)
{
    aw__conf_section x = {name, set, arg};
    return aw__vec_push(&app->conf_sections, &x, sizeof x);
}

int aw_app_route(aw_app *app, const char *method, const char *path, aw_handler h,
                 const aw_route_opts *o)
{
    if (app->frozen || !method || !path || !h) {
        aw__stream_set_error("aw_app_route: %s", app->frozen ? "the app is serving already"
                                                               : "method, path and handler needed");
        return AW_EINVAL;
    }
    aw__route *r = calloc(1, sizeof *r);
    aw__route_def d = {strdup(method), strdup(path), o && o->name ? strdup(o->name) : NULL, r};
    if (!r || !d.method || !d.path || (o && o->name && !d.name)) {
        free(r), free(d.method), free(d.path), free(d.name);
        return AW_ENOMEM;
    }
    r->handler = h;
    r->app = app;
    r->cancel_on_disconnect = o && o->cancel_on_disconnect ? 1 : -1;
    r->atomic = o && o->atomic;
    /* check the pattern now, so the mistake is reported where it is made */
    char err[256];
    aw__router *probe = aw__router_new();
    int rc = probe ? aw__router_add(probe, method, path, r, d.name, err, sizeof err) : AW_ENOMEM;
    aw__router_free(probe);
    if (rc == 0)
        rc = aw__vec_push(&app->route_defs, &d, sizeof d);
    else if (rc == AW_EINVAL)
        aw__stream_set_error("route %s %s: %s", method, path, err);
    if (rc) {
        free(r), free(d.method), free(d.path), free(d.name);
        return rc;
    }
    return 0;
}

int aw_app_add_subapp(aw_app *app, const char *prefix, aw_app *sub)
{
    size_t n = strlen(prefix);
    if (app->frozen || sub->parent || !n || prefix[0] != '/' || prefix[n - 1] == '/') {
        aw__stream_set_error("a sub-app's prefix starts with '/' and does not end with one");
        return AW_EINVAL;
    }
    char *p = strdup(prefix);
    if (!p)
        return AW_ENOMEM;
    free(sub->prefix);
    sub->prefix = p;
    sub->parent = app;
    return aw__vec_push(&app->subapps, &sub, sizeof sub);
}

int aw_app_use(aw_app *app, aw_middleware mw, void *arg)
{
    aw__mw m = {mw, arg};
    return aw__vec_push(&app->mws, &m, sizeof m);
}

static int aw__signal_add(aw__vec *v, void *fn, void *arg)
{
    aw__signal s = {fn, arg};
    return aw__vec_push(v, &s, sizeof s);
}

int aw_app_on_startup(aw_app *a, aw_app_hook fn, void *arg) { return aw__signal_add(&a->on_startup, (void *)fn, arg); }
int aw_app_on_shutdown(aw_app *a, aw_app_hook fn, void *arg) { return aw__signal_add(&a->on_shutdown, (void *)fn, arg); }
int aw_app_on_cleanup(aw_app *a, aw_app_hook fn, void *arg) { return aw__signal_add(&a->on_cleanup, (void *)fn, arg); }
int aw_app_on_response_prepare(aw_app *a, aw_prepare_hook fn, void *arg) { return aw__signal_add(&a->on_prepare, (void *)fn, arg); }

int aw_app_on_free(aw_app *a, void (*fn)(void *), void *arg) { return aw__signal_add(&a->on_free, (void *)fn, arg); }

int aw_app_set(aw_app *app, const char *key, void *value)
{
    void **kv = app->state.items;
    for (size_t i = 0; i + 1 < app->state.n; i += 2)
        if (strcmp(kv[i], key) == 0) {
            kv[i + 1] = value;
            return 0;
        }
    void *pair[2] = {(void *)key, value};
    int rc = aw__vec_push(&app->state, &pair[0], sizeof(void *));
    return rc ? rc : aw__vec_push(&app->state, &pair[1], sizeof(void *));
}

void *aw_app_get(const aw_app *app, const char *key)
{
    for (; app; app = app->parent) {
        void **kv = app->state.items;
        for (size_t i = 0; i + 1 < app->state.n; i += 2)
            if (strcmp(kv[i], key) == 0)
                return kv[i + 1];
    }
    return NULL;
}

void aw_app_set_cancel_on_disconnect(aw_app *app, int on) { app->cancel_on_disconnect = on; }

aw_scheduler *aw_app_scheduler(aw_app *app)
{
    while (app->parent)
        app = app->parent;
    return app->scheduler;
}

static aw_app *aw__root(aw_app *app)
{
    while (app->parent)
        app = app->parent;
    return app;
}

/* The full prefix of an app: its parents' prefixes and its own. */
static size_t aw__full_prefix(const aw_app *app, char *buf, size_t cap)
{
    if (!app)
        return 0;
    size_t n = aw__full_prefix(app->parent, buf, cap);
    size_t k = strlen(app->prefix);
    if (n + k < cap) {
        memcpy(buf + n, app->prefix, k);
        n += k;
    }
    buf[n < cap ? n : cap - 1] = 0;
    return n;
}

static int aw__collect(aw_app *root, aw_app *app, char *err, size_t errlen)
{
    char prefix[1024], path[2048];
    aw__full_prefix(app, prefix, sizeof prefix);
    aw__route_def *defs = app->route_defs.items;
    for (size_t i = 0; i < app->route_defs.n; i++) {
        snprintf(path, sizeof path, "%s%s", prefix, defs[i].path);
        int rc = aw__router_add(root->router, defs[i].method, path, defs[i].route, defs[i].name,
                                err, errlen);
        if (rc)
            return rc;
    }
    aw_app **subs = app->subapps.items;
    for (size_t i = 0; i < app->subapps.n; i++) {
        subs[i]->frozen = 1;
        int rc = aw__collect(root, subs[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int aw__app_freeze(aw_app *app, char *err, size_t errlen)
{
    if (app->frozen)
        return 0;
    app->router = aw__router_new();
    if (!app->router)
        return AW_ENOMEM;
    int rc = aw__collect(app, app, err, errlen);
    if (rc) {
        aw__router_free(app->router);
        app->router = NULL;
        return rc;
    }
    app->frozen = 1;
    return 0;
}

int aw_app_url_for(aw_app *app, char *buf, size_t len, const char *name, ...)
{
    aw_app *root = aw__root(app);
    const char *params[2 * AW__ROUTE_MAX_PARAMS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, name);
    const char *p;
    while ((p = va_arg(ap, const char *)) && n < 2 * AW__ROUTE_MAX_PARAMS)
        params[n++] = p;
    va_end(ap);
    params[n] = NULL;
    if (!root->router) {
        /* asked before serving: the router is built now */
        char err[256];
        int rc = aw__app_freeze(root, err, sizeof err);
        if (rc)
            return rc;
    }
    return aw__router_url_for(root->router, name, params, buf, len);
}

int aw_app_match(aw_app *app, const char *method, const char *path)
{
    aw_app *root = aw__root(app);
    aw__match m;
    if (!root->router)
        return 404;
    int found = aw__router_resolve(root->router, method, path, strlen(path), &m, NULL, 0);
    return found == AW__ROUTE_FOUND ? 200 : found == AW__ROUTE_NOT_ALLOWED ? 405 : 404;
}

/* --- dispatch ---------------------------------------------------------------- */

struct aw_next {
    const aw__mw *mws[64]; /* the chain, outermost first */
    size_t n, i;
    aw_handler handler;
};

aw_response *aw_next_call(aw_next *next, aw_request *req)
{
    if (next->i < next->n) {
        const aw__mw *m = next->mws[next->i++];
        aw_response *r = m->fn(req, next, m->arg);
        next->i--;
        return r;
    }
    return next->handler(req);
}

static void aw__chain(aw_next *next, aw_app *app)
{
    if (!app)
        return;
    aw__chain(next, app->parent);
    aw__mw *mws = app->mws.items;
    for (size_t i = 0; i < app->mws.n && next->n < 64; i++)
        next->mws[next->n++] = &mws[i];
}

static aw_response *aw__not_found(aw_request *req) { return aw_http_error(req, 404, NULL); }

static aw_response *aw__not_allowed(aw_request *req)
{
    aw_response *r = aw_http_error(req, 405, NULL);
    const char *allow = aw_request_get(req, "aw.allow");
    if (r && allow)
        aw_headers_set(&r->headers, "Allow", allow);
    return r;
}

typedef struct aw__atomic {
    aw_request *req;
    aw_next *next;
    aw_response *resp;
} aw__atomic;

static int aw__atomic_job(void *arg)
{
    aw__atomic *a = arg;
    a->resp = aw_next_call(a->next, a->req);
    aw__request_unref(a->req);
    return a->resp ? 0 : AW_EPROTO;
}

/* Runs the handler as a job of the app's scheduler: it then completes even
 * if the connection's task is cancelled (the request stays alive for it). */
static aw_response *aw__run_atomic(aw_request *req, aw_next *next)
{
    aw_scheduler *s = aw_app_scheduler(req->app);
    aw__atomic *a = aw_arena_calloc(&req->arena, sizeof *a);
    aw_next *n = aw_arena_alloc(&req->arena, sizeof *n);
    aw_job *job;
    if (!a || !n || !s)
        return NULL;
    *n = *next;
    a->req = req;
    a->next = n;
    req->refs++;
    int rc = aw_scheduler_spawn(s, aw__atomic_job, a, &job);
    if (rc) {
        /* the scheduler is full or closing: the service is unavailable */
        req->refs--;
        if (rc == AW_EFULL || rc == AW_ECLOSED)
            req->pending_status = 503;
        return aw_fail(req, rc);
    }
    rc = aw_job_wait(job, AW_FOREVER);
    return rc == AW_ECANCELED || rc == AW_ETIMEDOUT ? NULL : a->resp;
}

aw_response *aw__app_dispatch(aw_request *req)
{
    aw_app *root = aw__root(req->srv->app);
    char allow[128];
    aw_next next = {.n = 0, .i = 0};
    int found = aw__router_resolve(root->router, req->method, req->path, strlen(req->path),
                                   &req->match, allow, sizeof allow);
    const aw__route *route = found == AW__ROUTE_FOUND ? req->match.target : NULL;
    req->route = route;
    req->app = route ? route->app : root;
    if (found == AW__ROUTE_NOT_ALLOWED)
        aw_request_set(req, "aw.allow", aw_arena_strdup(&req->arena, allow));
    /* match values are slices of the path: copy them, and decode the %2F
     * and %25 the path kept encoded for routing */
    for (size_t i = 0; i < req->match.nparams; i++) {
        aw__param *m = &req->match.params[i];
        char *v = aw_arena_strndup(&req->arena, m->value, m->len);
        ssize_t n = v ? aw__pct_decode(v, v, m->len, 0, 0, 1) : -1;
        if (n >= 0)
            v[n] = 0;
        m->value = v ? v : "";
    }
    aw__chain(&next, req->app);
    next.handler = route ? route->handler
                         : found == AW__ROUTE_NOT_ALLOWED ? aw__not_allowed : aw__not_found;
    if (route && route->atomic)
        return aw__run_atomic(req, &next);
    int watch = route && (route->cancel_on_disconnect > 0 ||
                          (route->cancel_on_disconnect < 0 && route->app->cancel_on_disconnect));
    if (watch)
        aw__conn_watch(req->conn, 1);
    aw_response *resp = aw_next_call(&next, req);
    if (watch)
        aw__conn_watch(req->conn, 0);
    return resp;
}

void aw__app_prepare_signal(aw_request *req, aw_response *resp)
{
    for (aw_app *app = req->app; app; app = app->parent) {
        aw__signal *s = app->on_prepare.items;
        for (size_t i = 0; i < app->on_prepare.n; i++)
            ((aw_prepare_hook)s[i].fn)(req, resp, s[i].arg);
    }
}
