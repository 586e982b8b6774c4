/* Reading an HTTP response from a stream (internal to http/): the test
 * client's and the HTTP client's shared reader.
 *
 * Status, headers (into an arena) and the body: Content-Length, chunked, or
 * delimited by the connection's end; none for HEAD, 1xx, 204 and 304.
 * Interim 1xx responses (100 Continue) are skipped. The body is bounded by
 * max_body: past it, AW_EMSGSIZE.
 */
#ifndef AW_RESP_PARSE_H
#define AW_RESP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "headers.h"
#include "stream.h"

typedef struct aw__resp {
    int status;
    int version; /* 10 or 11 */
    aw_headers headers;
    char *body; /* NUL-terminated */
    size_t body_len;
    int keep_alive;   /* the connection may carry another request */
} aw__resp;

/* Reads one response to a request made with `method`. timeout_ms bounds each
 * wait for bytes. Returns 0, AW_EPROTO (malformed), AW_EMSGSIZE, AW_EOF (the
 * connection closed before a response), or a stream error. */
int aw__read_response(aw_stream *s, const char *method, aw_arena *arena, size_t max_body,
                      int64_t timeout_ms, aw__resp *out);

#endif
