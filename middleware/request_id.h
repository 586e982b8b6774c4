/* Request ids: every request gets one, taken from the client's X-Request-ID
 * when it is well-formed (1 to max_length characters from A-Z a-z 0-9 and
 * -._~:+/=@) or else made up (32 hex digits, random, from a generator seeded
 * once per process: no system call per request).
 *
 * The id is stored in the context variable aw_log_request_id (log.h) while
 * the rest of the chain runs, so every aw_log line of the request, and of
 * the tasks it spawns, shows "[req ID]"; it is kept in the request's state
 * (AW_REQUEST_ID_KEY, or aw_request_id_of) for the access log's %L and the
 * error pages; and it is echoed in the response header, streamed and
 * server-made responses included (a response-prepare hook adds it).
 *
 *     aw_request_id_use(app, NULL);   // outermost: add it first
 *
 * Configuration: [request_id] header, trust_incoming, max_length.
 * Lifetime: the state aw_request_id_use makes belongs to the app.
 */
#ifndef AW_REQUEST_ID_H
#define AW_REQUEST_ID_H

#include <stddef.h>

#include "app.h"

#define AW_REQUEST_ID_KEY "aw.request_id"

typedef struct aw_request_id_opts {
    const char *header; /* "X-Request-ID": read from the request, set on the response */
    int trust_incoming; /* 1: use the client's id when well-formed; 0: always make one */
    size_t max_length;  /* longest id taken from a client: 128 (at most 200) */
} aw_request_id_opts;

typedef struct aw_request_id aw_request_id;

void aw_request_id_opts_default(aw_request_id_opts *o);

/* Adds the middleware (and its response hook) to app with o (NULL: the
 * defaults), and registers the [request_id] section, whose keys override o.
 * Returns its state (the app's), or NULL (out of memory, or a bad option). */
aw_request_id *aw_request_id_use(aw_app *app, const aw_request_id_opts *o);

/* The [request_id] setter (an aw_config_setter over the state). */
int aw_request_id_config(void *state, const char *key, const char *value, char *err,
                         size_t errlen);

/* The request's id, or NULL outside the middleware. */
const char *aw_request_id_of(const aw_request *req);

/* Writes a new random id (32 hex digits and a NUL) into out. */
void aw_request_id_make(char out[33]);

#endif
