/* Static files (aiohttp's add_static): a directory served under a URL
 * prefix.
 *
 *     aw_static_add(app, "/static", "./static", NULL);
 *     // GET /static/css/site.css -> ./static/css/site.css
 *
 * Files go out with sendfile(2) on plain TCP (small ones are read into the
 * connection's output batch, so head and body leave in one write; TLS reads
 * and writes), with Content-Type from the MIME table (mime.h), ETag and
 * Last-Modified; If-None-Match / If-Modified-Since answer 304, If-Match /
 * If-Unmodified-Since 412. GET honours Range: one range gives 206 with
 * Content-Range, several give multipart/byteranges, none satisfiable gives
 * 416; If-Range falls back to the whole file when the validator changed.
 * HEAD answers the same head without a body.
 *
 * Paths are confined to the directory: "." and ".." segments (as sent or
 * percent-encoded) get 403, an encoded '/' (%2F) 404, an encoded NUL is
 * refused by the server (400), and a symlink whose target lies outside
 * the directory gets 403 (the file is opened with openat2's
 * RESOLVE_BENEATH, or a realpath check where the kernel lacks it), unless
 * follow_symlinks is on. Directories answer 403 unless index.html serving
 * or the listing (HTML-escaped) is on; both are off by default. Files are
 * opened on the loop's thread: meant for local disks whose hot files sit
 * in the page cache, as nginx's default is.
 *
 * The route is "PREFIX/{path:.*}" (GET, so HEAD too) named opts->name, or
 * "static:PREFIX" when that is NULL: aw_app_url_for builds its URLs. The
 * app's middlewares wrap it (compression applies to what it sends).
 *
 * Configuration: [static] (registered by aw_static_add; with several
 * directories the last one added takes the section): directory, index,
 * show_index, follow_symlinks, etag, last_modified, max_ranges,
 * cache_control, default_type.
 *
 * Lifetime: the state belongs to the app (freed by aw_app_free). The
 * directory is opened when the app starts serving.
 */
#ifndef AW_STATIC_H
#define AW_STATIC_H

#include <stddef.h>

#include "app.h"

typedef struct aw_static_opts {
    const char *name;          /* the route's name; NULL: "static:PREFIX" */
    int index;                 /* 1: a directory serves its index.html (default 0) */
    int show_index;            /* 1: a directory without one is listed (default 0) */
    int follow_symlinks;       /* 1: symlinks may lead outside the directory (default 0) */
    int etag, last_modified;   /* validators sent and honoured (default 1, 1) */
    size_t max_ranges;         /* ranges in one request, beyond which the whole file
                                  is sent (default 16; 0: Range is ignored) */
    const char *cache_control; /* a Cache-Control value ("max-age=3600"), or NULL */
    const char *default_type;  /* for unknown extensions: "application/octet-stream" */
} aw_static_opts;

typedef struct aw_static aw_static;

void aw_static_opts_default(aw_static_opts *o);

/* Serves directory under prefix ("/static"; "/" for the whole site) with o
 * (NULL: the defaults), and registers the [static] section. Returns the
 * state, or NULL: the directory does not exist (AW_ENOENT, details in
 * aw_last_error()), a bad prefix or a taken route name (AW_EINVAL), or no
 * memory. Before the app serves. */
aw_static *aw_static_add(aw_app *app, const char *prefix, const char *directory,
                         const aw_static_opts *o);

/* The [static] setter (an aw_config_setter over the state). */
int aw_static_config(void *state, const char *key, const char *value, char *err, size_t errlen);

#endif
