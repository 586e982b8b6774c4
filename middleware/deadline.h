/* Deadlines: a handler (with the middlewares inside this one) gets so long
 * to produce its response. At the deadline everything it waits on returns
 * AW_ETIMEDOUT, and keeps doing so (a timeout scope: see timeout.h), so it
 * unwinds; the client then gets 503, or 504 for a route marked as a proxy
 * (one that waits on an upstream), and a warning is logged. A response whose
 * head is already out (streaming) cannot be taken back: it just ends.
 *
 * Rules pick the deadline: a route by name, then the longest path prefix,
 * then the app-wide timeout. The app-wide one does not apply to upgrade
 * requests (WebSockets live as long as they like); a rule naming the route
 * does.
 *
 *     aw_deadline *d = aw_deadline_use(app, &(aw_deadline_opts){.timeout_ms = 30000});
 *     aw_deadline_route(d, "upstream", 5000, 1);   // route named "upstream": 504 at 5 s
 *     aw_deadline_path(d, "/reports/", 120000, 0);
 *
 * Configuration: [deadline] timeout, status, proxy_status, and repeatable
 * `route = NAME DURATION [proxy]`, `path = /PREFIX DURATION [proxy]`.
 * Lifetime: the state aw_deadline_use makes belongs to the app.
 */
#ifndef AW_DEADLINE_H
#define AW_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

typedef struct aw_deadline_opts {
    int64_t timeout_ms; /* every route without a rule: 0 (none) */
    int status;         /* answered at the deadline: 503 */
    int proxy_status;   /* the same for proxy routes: 504 */
} aw_deadline_opts;

typedef struct aw_deadline aw_deadline;

void aw_deadline_opts_default(aw_deadline_opts *o);

/* Adds the middleware with o (NULL: defaults) and registers [deadline].
 * Returns its state (the app's) or NULL. */
aw_deadline *aw_deadline_use(aw_app *app, const aw_deadline_opts *o);

/* A deadline for the route named name, or for paths under prefix (ms 0: none
 * for them); proxy: answer 504. Returns 0, AW_EINVAL, AW_ENOMEM. */
int aw_deadline_route(aw_deadline *d, const char *name, int64_t ms, int proxy);
int aw_deadline_path(aw_deadline *d, const char *prefix, int64_t ms, int proxy);

/* The [deadline] setter. */
int aw_deadline_config(void *state, const char *key, const char *value, char *err,
                       size_t errlen);

#endif
