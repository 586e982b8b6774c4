/* Error pages: 4xx and 5xx responses that carry no body of their own (or
 * only the server's plain "404: Not Found" text) get a JSON or an HTML body,
 * whichever the client's Accept prefers:
 *
 *     {"status":404,"error":"Not Found","request_id":"5f2c..."}
 *
 * The page says the status, its reason phrase and the request id, nothing
 * else: a failed handler's error code, a 5xx body a handler made (with
 * hide_5xx) and anything else internal never reach the client. A handler
 * that returns no response (aw_fail) gets the status the server would give
 * (500, or 413/408/400 after a body error) as a page, and every 5xx is
 * logged at error level with the request id (put request_id outside this).
 *
 * Bodies are filled in by a response-prepare hook, so responses made
 * outside the chain (by outer middlewares, or by the server) get pages too;
 * the middleware turns a missing response into one and does the logging.
 * Streamed bodies are left alone.
 *
 * Configuration: [error_pages] default_type, hide_5xx, log_5xx.
 * Lifetime: the state aw_error_pages_use makes belongs to the app.
 */
#ifndef AW_ERROR_PAGES_H
#define AW_ERROR_PAGES_H

#include <stddef.h>

#include "app.h"

typedef struct aw_error_pages_opts {
    const char *default_type; /* "json" or "html": when Accept prefers neither */
    int hide_5xx;             /* 1: replace a handler's own 5xx body too */
    int log_5xx;              /* 1: log 5xx responses (error level, with the request id) */
} aw_error_pages_opts;

typedef struct aw_error_pages aw_error_pages;

void aw_error_pages_opts_default(aw_error_pages_opts *o);

/* Adds the middleware and its hook to app with o (NULL: defaults) and
 * registers [error_pages]. Returns its state (the app's) or NULL. */
aw_error_pages *aw_error_pages_use(aw_app *app, const aw_error_pages_opts *o);

/* The [error_pages] setter. */
int aw_error_pages_config(void *state, const char *key, const char *value, char *err,
                          size_t errlen);

#endif
