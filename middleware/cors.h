/* CORS (aiohttp-cors): which other origins' pages may call this app from a
 * browser.
 *
 * A request from an allowed Origin gets Access-Control-Allow-Origin (the
 * origin itself, or "*" when any origin is allowed without credentials),
 * Access-Control-Allow-Credentials, Access-Control-Expose-Headers. A
 * preflight (OPTIONS with Origin and Access-Control-Request-Method) is
 * answered here, 204, whether or not an OPTIONS route exists, when origin,
 * method and headers are all allowed (with Allow-Methods, Allow-Headers and
 * Max-Age), else 403; either way the rest of the chain does not run, so put
 * cors outside authentication. A disallowed origin gets no CORS header at
 * all. Vary: Origin is set whenever the answer depends on the origin.
 *
 * The headers are added by a response-prepare hook, so streamed responses
 * (server-sent events) and server-made error responses carry them too.
 *
 * Configuration: [cors] origins, methods, headers, expose_headers,
 * credentials, max_age. Lists are comma-separated.
 * Lifetime: the state aw_cors_use makes belongs to the app.
 */
#ifndef AW_CORS_H
#define AW_CORS_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

typedef struct aw_cors_opts {
    const char *origins;        /* "*", or "https://a.example, https://b.example"; "": none */
    const char *methods;        /* allowed in preflights: "GET, HEAD, POST, PUT, PATCH, DELETE" */
    const char *headers;        /* request headers allowed: "*" (any asked for), or a list */
    const char *expose_headers; /* response headers scripts may read: "" */
    int credentials;            /* 1: cookies and auth allowed (never with a literal "*") */
    int64_t max_age_ms;         /* how long a preflight is cached; 0: no Max-Age */
} aw_cors_opts;

typedef struct aw_cors aw_cors;

void aw_cors_opts_default(aw_cors_opts *o);

/* Adds the middleware and its hook with o (NULL: defaults, which allow no
 * origin) and registers [cors]. Returns its state (the app's) or NULL. */
aw_cors *aw_cors_use(aw_app *app, const aw_cors_opts *o);

/* The [cors] setter. */
int aw_cors_config(void *state, const char *key, const char *value, char *err, size_t errlen);

#endif
