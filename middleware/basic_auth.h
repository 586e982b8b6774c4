/* HTTP Basic authentication against a table of users.
 *
 * Requests under prefix must carry `Authorization: Basic ...` with a user
 * and password from the table; others get 401 with
 * `WWW-Authenticate: Basic realm="REALM", charset="UTF-8"`. Passwords are
 * kept as SHA-256 digests (given in clear, or as "sha256:HEX"), and a login
 * is checked against every entry with CRYPTO_memcmp over digests, so the
 * time taken says nothing about which part was wrong or how long the
 * password is. The user's name is then in the request's state
 * (AW_BASIC_AUTH_USER_KEY, or aw_basic_auth_user) and in the access log's %u.
 *
 *     aw_basic_auth *ba = aw_basic_auth_use(app, &(aw_basic_auth_opts){.realm = "admin"});
 *     aw_basic_auth_add_user(ba, "alice", "s3cret");
 *
 * Configuration: [basic_auth] realm, prefix, and `user = NAME:PASSWORD` (or
 * NAME:sha256:HEX), once per user. Basic sends the password in clear: use it
 * over TLS.
 * Lifetime: the state aw_basic_auth_use makes belongs to the app.
 */
#ifndef AW_BASIC_AUTH_H
#define AW_BASIC_AUTH_H

#include <stddef.h>

#include "app.h"

#define AW_BASIC_AUTH_USER_KEY "aw.user"

typedef struct aw_basic_auth_opts {
    const char *realm;  /* "aweb" (no quotes or backslashes) */
    const char *prefix; /* only paths under it need a login: "/" */
} aw_basic_auth_opts;

typedef struct aw_basic_auth aw_basic_auth;

void aw_basic_auth_opts_default(aw_basic_auth_opts *o);

/* Adds the middleware with o (NULL: defaults) and registers [basic_auth].
 * Returns its state (the app's) or NULL. */
aw_basic_auth *aw_basic_auth_use(aw_app *app, const aw_basic_auth_opts *o);

/* Adds (or replaces) a user. password: the password, or "sha256:" and the
 * 64 hex digits of its SHA-256. Returns 0, AW_EINVAL (an empty name, a ':'
 * in it, a bad digest), AW_ENOMEM. */
int aw_basic_auth_add_user(aw_basic_auth *ba, const char *user, const char *password);

/* The [basic_auth] setter. */
int aw_basic_auth_config(void *state, const char *key, const char *value, char *err,
                         size_t errlen);

/* The authenticated user of a request, or NULL. */
const char *aw_basic_auth_user(const aw_request *req);

#endif
