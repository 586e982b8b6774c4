/* Path normalisation (aiohttp's normalize_path_middleware): a request whose
 * path matches no route, but would in another form, is redirected (308, so
 * the method and body are kept) to that form, with its query:
 *
 *   merge_slashes   //a///b  ->  /a/b
 *   append_slash    /a       ->  /a/      (when only /a/ has a route)
 *   remove_slash    /a/      ->  /a       (when only /a has a route)
 *
 * Requests that match a route are never touched, and the router is asked
 * again only for those that matched none. A redirect never points off-site:
 * a Location would never begin with "//" or "/\".
 *
 * Configuration: [normalize_path] merge_slashes, append_slash, remove_slash,
 * status (301, 302, 307 or 308).
 * Lifetime: the state aw_normalize_path_use makes belongs to the app.
 */
#ifndef AW_NORMALIZE_PATH_H
#define AW_NORMALIZE_PATH_H

#include <stddef.h>

#include "app.h"

typedef struct aw_normalize_path_opts {
    int merge_slashes; /* 1 */
    int append_slash;  /* 1 */
    int remove_slash;  /* 0 */
    int status;        /* 308 */
} aw_normalize_path_opts;

typedef struct aw_normalize_path aw_normalize_path;

void aw_normalize_path_opts_default(aw_normalize_path_opts *o);

/* Adds the middleware with o (NULL: defaults) and registers
 * [normalize_path]. Returns its state (the app's) or NULL. */
aw_normalize_path *aw_normalize_path_use(aw_app *app, const aw_normalize_path_opts *o);

/* The [normalize_path] setter. */
int aw_normalize_path_config(void *state, const char *key, const char *value, char *err,
                             size_t errlen);

#endif
