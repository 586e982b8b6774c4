/* Applications (aiohttp's web.Application) and running them.
 *
 * An app holds routes (method + path pattern -> handler), middlewares,
 * signals, state and sub-apps mounted under a prefix. aw_app_run serves it
 * with a configuration (conf/aweb.conf, or an aw_config filled in C) until
 * SIGINT or SIGTERM, then shuts down gracefully: stop accepting, let requests
 * in flight finish within the shutdown timeout (then cancel them), close the
 * job scheduler, run the cleanups, return 0.
 *
 *     static aw_response *hello(aw_request *req)
 *     {
 *         return aw_response_text(req, 200, "Hello, World!");
 *     }
 *     ...
 *     aw_app *app = aw_app_new();
 *     aw_app_route(app, "GET", "/", hello, NULL);
 *     return aw_app_run(app, &config);
 *
 * Handlers run in tasks: they may wait on anything. A client that hangs up
 * does not cancel its handler (its writes then fail) unless the route or the
 * app asks for cancel_on_disconnect. An atomic route's handler runs as a job
 * of the app's scheduler, so it completes even at shutdown's cancellation.
 *
 * Lifetime: build the app (routes, sub-apps, middlewares, signals) before it
 * serves; aw_app_free frees it and its sub-apps.
 */
#ifndef AW_APP_H
#define AW_APP_H

#include <stdint.h>

#include "config.h"
#include "request.h"
#include "response.h"
#include "scheduler.h"

typedef struct aw_app aw_app;
typedef struct aw_next aw_next;

typedef aw_response *(*aw_handler)(aw_request *req);
/* A middleware calls aw_next_call(next, req) to run the rest of the chain and
 * may change the response it gets, or answer without calling it. */
typedef aw_response *(*aw_middleware)(aw_request *req, aw_next *next, void *arg);
aw_response *aw_next_call(aw_next *next, aw_request *req);

aw_app *aw_app_new(void);
void aw_app_free(aw_app *app);

typedef struct aw_route_opts {
    const char *name;         /* for aw_app_url_for */
    int cancel_on_disconnect; /* 1: cancel the handler when the client hangs up */
    int atomic;               /* 1: run the handler as a job of the app's scheduler */
} aw_route_opts;

/* Adds a route: method "GET", "POST"... or "*"; path "/users/{id}",
 * "/{id:[0-9]+}", "/static/{path:.*}". A GET route answers HEAD too. Returns
 * 0 or AW_EINVAL (a bad pattern, a taken name; details in aw_last_error()). */
int aw_app_route(aw_app *app, const char *method, const char *path, aw_handler h,
                 const aw_route_opts *opts);

/* Mounts sub under prefix ("/admin"): its routes answer under it, its
 * middlewares wrap only them (inside the parent's). The parent owns sub. */
int aw_app_add_subapp(aw_app *app, const char *prefix, aw_app *sub);

/* Middlewares run in the order added, the first outermost (an onion). */
int aw_app_use(aw_app *app, aw_middleware mw, void *arg);

/* Signals: startup (before serving; a failure stops start-up), shutdown
 * (when shutdown begins), cleanup (at the end), response prepare (before a
 * response's head is sent: change its headers here). */
typedef int (*aw_app_hook)(aw_app *app, void *arg);
typedef void (*aw_prepare_hook)(aw_request *req, aw_response *resp, void *arg);
int aw_app_on_startup(aw_app *app, aw_app_hook fn, void *arg);
int aw_app_on_shutdown(aw_app *app, aw_app_hook fn, void *arg);
int aw_app_on_cleanup(aw_app *app, aw_app_hook fn, void *arg);
int aw_app_on_response_prepare(aw_app *app, aw_prepare_hook fn, void *arg);

/* Calls fn(arg) when aw_app_free frees the app, in the order added: where
 * middlewares free their state. */
int aw_app_on_free(aw_app *app, void (*fn)(void *arg), void *arg);

/* How a request for method and path would be routed, for middlewares that
 * try other forms of a path: 200 (a route matches), 405 (only with another
 * method) or 404. Only while the app serves (else 404). */
int aw_app_match(aw_app *app, const char *method, const char *path);

/* App-wide state (aiohttp's app["key"]). A sub-app's get falls back to its
 * parent's. The key string must outlive the app. */
int aw_app_set(aw_app *app, const char *key, void *value);
void *aw_app_get(const aw_app *app, const char *key);

/* Cancel handlers when their client hangs up, for every route that does not
 * say otherwise (default off: handlers are shielded). */
void aw_app_set_cancel_on_disconnect(aw_app *app, int on);

/* The URL of a named route: the parameters are name, value pairs ending with
 * NULL. Returns the length, or AW_ENOENT / AW_EINVAL / AW_ENOBUFS. */
int aw_app_url_for(aw_app *app, char *buf, size_t len, const char *name, ...);

/* The app's job scheduler (exists while the app serves). */
aw_scheduler *aw_app_scheduler(aw_app *app);

/* A configuration section this app's parts read (a middleware's [cors]):
 * aw_app_main registers it (aw_config_section) before it loads the file, so
 * its keys reach set(arg, ...) and a bad one stops start-up with file and
 * line. name must outlive the app. Returns 0 or AW_ENOMEM. */
int aw_app_config_section(aw_app *app, const char *name, aw_config_setter set, void *arg);

/* --- serving --- */

/* Serves app under cfg until SIGINT/SIGTERM (with cfg->workers > 1: that many
 * processes on one port, under a supervisor that restarts a dead one).
 * Returns the process exit status: 0 after a graceful shutdown, 1 if start-up
 * failed (the reason is logged). */
int aw_app_run(aw_app *app, const aw_config *cfg);

/* The examples' main: parses --listen HOST:PORT (repeatable), --conf FILE
 * (default conf/aweb.conf, which may be missing) and --workers N, then runs
 * app. A bad configuration is reported with its file, line and reason, and
 * gives exit status 2. */
int aw_app_main(aw_app *app, int argc, char **argv);

/* The same inside an existing task and loop, without signal handling: for
 * tests and programs that run other things too. aw_server_start returns once
 * every address listens; aw_server_shutdown shuts down gracefully (as on
 * SIGTERM, with cfg's shutdown timeout) and frees the server. */
typedef struct aw__server aw_server;
int aw_server_start(aw_app *app, const aw_config *cfg, aw_server **out);
/* The bound port of the i-th listen address (for port 0), or 0. */
int aw_server_port(const aw_server *s, size_t i);
int aw_server_shutdown(aw_server *s);
/* Connections open, and of them serving a request. */
size_t aw_server_connections(const aw_server *s);
size_t aw_server_active(const aw_server *s);

#endif
