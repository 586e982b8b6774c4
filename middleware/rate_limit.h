/* Rate limiting: a token bucket per client address (or per key a callback
 * picks: an API key, a user). A bucket holds up to burst tokens and refills
 * at rate per second; a request takes one, and when none is left it gets 429
 * with Retry-After (whole seconds until a token is back).
 *
 * Memory is bounded: at most max_clients buckets live in a table made once;
 * a new client past that takes the bucket of the client seen least recently,
 * the most idle one (a bucket idle long enough to be full again is no
 * different from a new one, so evicting it forgets nothing). Time is the
 * loop's cached clock: no system call per request. The table belongs to one
 * server thread (workers are processes, each with its own).
 *
 * Configuration: [rate_limit] rate (per second, or "600/m", "10/s", "3600/h"),
 * burst, max_clients.
 * Lifetime: the state aw_rate_limit_use makes belongs to the app.
 */
#ifndef AW_RATE_LIMIT_H
#define AW_RATE_LIMIT_H

#include <stddef.h>

#include "app.h"

/* The key of a request's bucket (copied; at most 64 bytes count), or NULL
 * for a request that is not limited. */
typedef const char *(*aw_rate_limit_key)(aw_request *req, void *arg);

typedef struct aw_rate_limit_opts {
    double rate;        /* tokens added per second: 10 */
    double burst;       /* the bucket's size: 20 (at least 1) */
    size_t max_clients; /* buckets kept: 10000 */
    aw_rate_limit_key key; /* NULL: the client's address */
    void *key_arg;
} aw_rate_limit_opts;

typedef struct aw_rate_limit aw_rate_limit;

void aw_rate_limit_opts_default(aw_rate_limit_opts *o);

/* Adds the middleware with o (NULL: defaults) and registers [rate_limit].
 * Returns its state (the app's) or NULL. */
aw_rate_limit *aw_rate_limit_use(aw_app *app, const aw_rate_limit_opts *o);

/* The [rate_limit] setter. Changing max_clients empties the table. */
int aw_rate_limit_config(void *state, const char *key, const char *value, char *err,
                         size_t errlen);

/* Buckets in use (for tests and metrics). */
size_t aw_rate_limit_buckets(const aw_rate_limit *rl);

#endif
