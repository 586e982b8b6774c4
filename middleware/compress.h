/* Response compression: gzip and deflate (zlib), chosen by the request's
 * Accept-Encoding with its q-values (x-gzip counts as gzip, "*" covers what
 * is not named, q=0 refuses a coding; a client that ranks identity above
 * every coding we offer gets the body as it is).
 *
 *     aw_compress_use(app, NULL);   // inside the middlewares that must see
 *                                   // the plain body, outside the ones
 *                                   // whose bodies should be compressed
 *
 * A response is compressed when its status is 200 or more but not 204, 206
 * or 304 (error pages with bodies are compressed too), it has no
 * Content-Encoding nor Content-Range, Cache-Control does not say
 * no-transform, its Content-Type is in the list of compressible types, and
 * its body is at least min_size bytes (a streamed body of unknown length
 * counts as large). Such a response gets "Vary: Accept-Encoding" whether or
 * not this client took a coding, and when compressed: Content-Encoding, no
 * Accept-Ranges, and its ETag made weak. A whole body is compressed at once
 * and sent with its new Content-Length; a streamed one (aw_response_write,
 * aw_response_sendfile, SSE) is compressed as it is written, each write
 * flushed so the client can decode it at once, and sent chunked. HEAD gets
 * the same head without a body.
 *
 * Configuration: [compress] level (1-9), min_size, types, gzip, deflate.
 * Lifetime: the state (with its pool of zlib streams, reused across
 * requests) belongs to the app; the app is served by one thread.
 */
#ifndef AW_COMPRESS_H
#define AW_COMPRESS_H

#include <stddef.h>

#include "app.h"

typedef struct aw_compress_opts {
    int level;         /* zlib level, 1 (fast) to 9 (small): default 6 */
    size_t min_size;   /* smaller bodies go as they are: default 1024 bytes */
    const char *types; /* compressible types, comma-separated; one '*' in a type
                          stands for anything (see AW_COMPRESS_TYPES, the list
                          used when this is NULL) */
    int gzip, deflate; /* the codings offered: default both on */
} aw_compress_opts;

typedef struct aw_compress aw_compress;

/* The default list of compressible types. */
#define AW_COMPRESS_TYPES                                                                          \
    "text/*, application/json, application/*+json, application/javascript, "                     \
    "application/x-javascript, application/xml, application/*+xml, image/svg+xml, "              \
    "application/wasm"

void aw_compress_opts_default(aw_compress_opts *o);

/* Adds the middleware to app with o (NULL: the defaults) and registers the
 * [compress] section, whose keys override o. Returns its state (the
 * app's), or NULL (a bad option, or out of memory). */
aw_compress *aw_compress_use(aw_app *app, const aw_compress_opts *o);

/* The [compress] setter (an aw_config_setter over the state). */
int aw_compress_config(void *state, const char *key, const char *value, char *err,
                       size_t errlen);

#endif
