/* Reading HTTP responses from a stream (internal to http/): the HTTP
 * client's reader, the test client's and the WebSocket client's.
 *
 * aw__rr_head reads the status line and headers; aw__rr_read then hands over
 * the body piece by piece (chunked framing removed; Content-Length, chunked or
 * until the connection ends), pulled from the stream without a second buffer.
 * No body for HEAD, 1xx, 204, 304. Interim 1xx responses (100 Continue) are
 * skipped; 101 ends the head and leaves what follows to the caller.
 */
#ifndef AW_RESP_PARSE_H
#define AW_RESP_PARSE_H

#include <llhttp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"
#include "headers.h"
#include "stream.h"

typedef struct aw__resp {
    int status;
    int version; /* 10 or 11 */
    const char *reason;
    aw_headers headers;
    char *body; /* aw__read_response: the whole body, NUL-terminated */
    size_t body_len;
    int keep_alive; /* the connection may carry another request */
} aw__resp;

typedef struct aw__rr {
    llhttp_t p;
    aw_stream *s;
    aw_arena *arena;
    aw__resp *r;
    int64_t timeout_ms;
    char *field, *value, *reason;
    size_t field_len, value_len, reason_len;
    int in_value, head_method, head_done, msg_done, need_input, failed;
    const char *body_at;
    size_t body_len;     /* the last body span */
    size_t body_pending; /* body bytes at the head of the stream's buffer */
    char last_cr;        /* a CR that ended the head bytes fed so far (crlf_int.h) */
} aw__rr;

/* Reads the head of a response to `method`. timeout_ms bounds each wait for
 * bytes. Returns 0, AW_EPROTO (malformed), AW_EOF (closed before a
 * response), or a stream error. */
int aw__rr_head(aw__rr *rr, aw_stream *s, const char *method, aw_arena *arena,
                int64_t timeout_ms, aw__resp *out);
/* The next piece of the body: a count, 0 at its end, or an error. */
ssize_t aw__rr_read(aw__rr *rr, void *buf, size_t len);
/* Whether the whole response was read (so the connection can be reused). */
int aw__rr_done(const aw__rr *rr);

/* Head and whole body (bounded by max_body: past it, AW_EMSGSIZE). */
int aw__read_response(aw_stream *s, const char *method, aw_arena *arena, size_t max_body,
                      int64_t timeout_ms, aw__resp *out);

#endif
