/* Security headers on every response of the app:
 *
 *   X-Content-Type-Options: nosniff
 *   X-Frame-Options: DENY
 *   Referrer-Policy: strict-origin-when-cross-origin
 *   Strict-Transport-Security: max-age=31536000; includeSubDomains   (over TLS only)
 *   Content-Security-Policy: (none unless set)
 *
 * Each value can be changed, or removed with an empty one (NULL in C). A
 * header the handler set itself is left as it is. They are added by a
 * response-prepare hook, so streamed and server-made responses carry them.
 *
 * Configuration: [security_headers] content_type_options, frame_options,
 * referrer_policy, hsts, content_security_policy.
 * Lifetime: the state aw_security_headers_use makes belongs to the app.
 */
#ifndef AW_SECURITY_HEADERS_H
#define AW_SECURITY_HEADERS_H

#include <stddef.h>

#include "app.h"

typedef struct aw_security_headers_opts {
    const char *content_type_options;    /* "nosniff" */
    const char *frame_options;           /* "DENY" */
    const char *referrer_policy;         /* "strict-origin-when-cross-origin" */
    const char *hsts;                    /* "max-age=31536000; includeSubDomains", TLS only */
    const char *content_security_policy; /* NULL: none */
} aw_security_headers_opts;

typedef struct aw_security_headers aw_security_headers;

void aw_security_headers_opts_default(aw_security_headers_opts *o);

/* Adds the hook with o (NULL: defaults) and registers [security_headers].
 * Returns its state (the app's) or NULL. */
aw_security_headers *aw_security_headers_use(aw_app *app, const aw_security_headers_opts *o);

/* The [security_headers] setter. */
int aw_security_headers_config(void *state, const char *key, const char *value, char *err,
                               size_t errlen);

#endif
