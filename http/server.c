/* A server running an app inside a loop: start (freeze the app, startup
 * signals, listen), the cached Date header, and graceful shutdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "http_int.h"
#include "log.h"
#include "runtime.h"
#include "stream_int.h"
#include "sync.h"
#include "tls.h"

const char *aw__server_date(aw__server *srv)
{
    uint64_t sec = aw_now() / 1000;
    if (sec != srv->date_sec || !srv->date[0]) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        srv->date_len = strftime(srv->date, sizeof srv->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        srv->date_sec = sec;
    }
    return srv->date;
}

/* Startup, shutdown and cleanup signals of app and its sub-apps, the parent
 * before its children. */
static int aw__run_signals(aw_app *app, size_t which)
{
    aw__vec *lists[] = {&app->on_startup, &app->on_shutdown, &app->on_cleanup};
    aw__signal *s = lists[which]->items;
    int first = 0;
    for (size_t i = 0; i < lists[which]->n; i++) {
        int rc = ((aw_app_hook)s[i].fn)(app, s[i].arg);
        if (rc < 0 && !first)
            first = rc;
    }
    aw_app **subs = app->subapps.items;
    for (size_t i = 0; i < app->subapps.n; i++) {
        int rc = aw__run_signals(subs[i], which);
        if (rc < 0 && !first)
            first = rc;
    }
    return first;
}

/* "host:port", "[v6]:port" or "unix:/path" into listen options. */
static int aw__listen_addr(const char *addr, char *host, size_t hostlen, aw_listen_opts *o)
{
    if (strncmp(addr, "unix:", 5) == 0) {
        o->path = addr + 5;
        return 0;
    }
    const char *colon = strrchr(addr, ':');
    if (!colon)
        return AW_EINVAL;
    size_t n = (size_t)(colon - addr);
    if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']')
        addr++, n -= 2;
    if (n >= hostlen)
        return AW_EINVAL;
    memcpy(host, addr, n);
    host[n] = 0;
    o->host = host;
    o->port = atoi(colon + 1);
    return 0;
}

static void aw__server_free(aw__server *srv)
{
    while (srv->nfree_out)
        free(srv->free_out[--srv->nfree_out]);
    if (srv->stopped)
        aw_event_free(srv->stopped);
    aw_tls_ctx_free(srv->tls);
    free(srv);
}

static void aw__idle_timer_closed(uv_handle_t *h) { aw__server_free(h->data); }

int aw_server_start(aw_app *app, const aw_config *cfg, aw_server **out)
{
    char err[256];
    if (!aw_loop() || !aw_current_task())
        return AW_ENOTASK;
    aw__server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return AW_ENOMEM;
    srv->app = app;
    srv->cfg = cfg;
    aw_config_stream_opts(cfg, &srv->sopts);
    aw__list_init(&srv->idle_new);
    aw__list_init(&srv->idle_ka);
    aw__list_init(&srv->active);
    srv->stopped = aw_event_new();
    srv->sopts.nodelay = -1; /* set once a connection is kept alive or streams */
    if (cfg->server_header && *cfg->server_header && strlen(cfg->server_header) < 100)
        srv->server_line_len = (size_t)snprintf(srv->server_line, sizeof srv->server_line,
                                                "Server: %s\r\n", cfg->server_header);
    uv_timer_init(aw_loop(), &srv->idle_timer);
    srv->idle_timer.data = srv;
    int rc = srv->stopped ? aw__app_freeze(app, err, sizeof err) : AW_ENOMEM;
    if (rc == AW_EINVAL)
        aw_log(AW_LOG_ERROR, "the app's routes do not fit together: %s", err);
    if (app->scheduler && aw_scheduler_closed(app->scheduler)) {
        aw_scheduler_free(app->scheduler); /* an earlier server's */
        app->scheduler = NULL;
    }
    if (!rc && !app->scheduler &&
        !(app->scheduler = aw_scheduler_new(&(aw_scheduler_opts){
              .limit = cfg->jobs_limit,
              .pending_limit = cfg->jobs_pending_limit,
              .close_timeout_ms = cfg->jobs_close_timeout_ms ? cfg->jobs_close_timeout_ms : 1})))
        rc = AW_ENOMEM;
    if (!rc && cfg->tls_cert) {
        aw_tls_opts to = {.cert_file = cfg->tls_cert, .key_file = cfg->tls_key,
                          .alpn = cfg->tls_alpn, .ciphers = cfg->tls_ciphers};
        if ((rc = aw_tls_server_ctx_new(&to, &srv->tls)))
            aw_log(AW_LOG_ERROR, "TLS: %s", aw_last_error());
    }
    if (!rc) {
        aw_access_log_opts ao;
        aw_access_log_opts_default(&ao);
        ao.path = cfg->access_log;
        ao.format = cfg->access_log_format;
        if ((rc = aw_access_log_open(&ao, &srv->alog, err, sizeof err)))
            aw_log(AW_LOG_ERROR, "access log %s: %s", cfg->access_log, err);
    }
    if (!rc && (rc = aw__run_signals(app, 0)))
        aw_log(AW_LOG_ERROR, "a startup signal failed: %s", aw_strerror(rc));
    for (size_t i = 0; !rc && i < cfg->nlisten; i++) {
        char host[256];
        aw_listen_opts lo = {.backlog = cfg->backlog, .reuseport = cfg->reuseport,
                             .tls = srv->tls, .max_connections = cfg->max_connections,
                             .stream_opts = &srv->sopts, .on_accept = aw__conn_accept,
                             .arg = srv};
        rc = aw__listen_addr(cfg->listen[i], host, sizeof host, &lo);
        if (!rc)
            rc = aw_listen(&lo, &srv->listeners[i]);
        if (rc)
            aw_log(AW_LOG_ERROR, "cannot listen on %s: %s", cfg->listen[i], aw_last_error());
        else {
            srv->ports[i] = aw_listener_port(srv->listeners[i]);
            srv->nlisteners = i + 1;
        }
    }
    if (rc) {
        for (size_t i = 0; i < srv->nlisteners; i++)
            aw_listener_close(srv->listeners[i]);
        aw_access_log_close(srv->alog);
        srv->alog = NULL;
        uv_close((uv_handle_t *)&srv->idle_timer, aw__idle_timer_closed);
        return rc;
    }
    *out = srv;
    return 0;
}

int aw_server_port(const aw_server *s, size_t i) { return i < s->nlisteners ? s->ports[i] : 0; }
size_t aw_server_connections(const aw_server *s) { return s->nconns; }
size_t aw_server_active(const aw_server *s) { return s->nactive; }

static void aw__drop_idle(aw__list *list)
{
    aw__list *f;
    while ((f = aw__list_first(list))) {
        aw__conn *c = aw__container_of(f, aw__conn, link);
        aw_stream_abort(c->s);
        aw__list_remove(&c->link);
        c->srv->nconns--;
        aw__out_put(c->srv, c->out);
        free(c);
    }
}

/* Waits until every connection has ended (its task, and its close), or ms. */
static int aw__wait_conns(aw__server *srv, int64_t ms)
{
    aw_event_clear(srv->stopped);
    srv->drainer = aw_current_task();
    int rc = 0;
    if (srv->nconns)
        rc = aw_event_wait(srv->stopped, ms);
    srv->drainer = NULL;
    return srv->nconns ? (rc ? rc : AW_ETIMEDOUT) : 0;
}

int aw_server_shutdown(aw_server *srv)
{
    if (!srv)
        return 0;
    const aw_config *cfg = srv->cfg;
    srv->draining = 1;
    for (size_t i = 0; i < srv->nlisteners; i++)
        aw_listener_close(srv->listeners[i]);
    srv->nlisteners = 0;
    aw__drop_idle(&srv->idle_new);
    aw__drop_idle(&srv->idle_ka);
    uv_timer_stop(&srv->idle_timer);
    aw__run_signals(srv->app, 1);
    /* long-lived requests (WebSockets) are told, so they can end cleanly */
    aw__list *pos;
    aw__list_each(pos, &srv->active)
    {
        aw__conn *c = aw__container_of(pos, aw__conn, link);
        if (c->req && c->req->on_shutdown)
            c->req->on_shutdown(c->req->on_shutdown_arg);
    }
    /* requests in flight get the shutdown timeout, then are cancelled */
    if (aw__wait_conns(srv, cfg->shutdown_ms)) {
        aw_log(AW_LOG_WARNING, "shutdown: cancelling %zu request(s) still running after %lld ms",
               srv->nactive, (long long)cfg->shutdown_ms);
        aw__list_each(pos, &srv->active)
        {
            aw__conn *c = aw__container_of(pos, aw__conn, link);
            if (c->task)
                aw_cancel(c->task);
        }
        if (aw__wait_conns(srv, 10000))
            aw_log(AW_LOG_ERROR, "shutdown: %zu connection(s) did not end when cancelled",
                   srv->nconns);
    }
    if (srv->app->scheduler)
        aw_scheduler_close(srv->app->scheduler);
    aw__run_signals(srv->app, 2);
    aw_access_log_close(srv->alog);
    srv->alog = NULL;
    uv_close((uv_handle_t *)&srv->idle_timer, aw__idle_timer_closed);
    return 0;
}
