/* Responses (aiohttp's web.Response, json_response, StreamResponse).
 *
 * A handler returns an aw_response made from its request; it lives in the
 * request's arena (no free). Bodies given to the constructors are copied,
 * except with aw_response_static, whose bytes must outlive the request.
 *
 * Streaming: aw_response_stream makes a response whose body the handler
 * writes itself: aw_response_prepare sends the head (chunked unless a
 * Content-Length was set), aw_response_write sends pieces,
 * aw_response_write_eof ends it, and the handler returns the response.
 * Writes to a client that went away fail with AW_ECONNRESET or AW_EPIPE.
 *
 * Headers with CR or LF in their values are refused (AW_EINVAL), so user
 * input cannot split a response.
 */
#ifndef AW_RESPONSE_H
#define AW_RESPONSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"
#include "request.h"

typedef struct aw_response aw_response;

/* Constructors: NULL only on memory exhaustion. */
aw_response *aw_response_new(aw_request *req, int status); /* no body */
aw_response *aw_response_text(aw_request *req, int status, const char *text);
aw_response *aw_response_textf(aw_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
aw_response *aw_response_bytes(aw_request *req, int status, const void *data, size_t len,
                               const char *content_type);
aw_response *aw_response_static(aw_request *req, int status, const void *data, size_t len,
                                const char *content_type);
/* Takes the reference to json; serialised compactly. */
aw_response *aw_response_json(aw_request *req, int status, json_t *json);
/* 301, 302, 303, 307 or 308 to location. */
aw_response *aw_response_redirect(aw_request *req, int status, const char *location);
/* An error page: the status and text (NULL: the reason phrase). */
aw_response *aw_http_error(aw_request *req, int status, const char *text);
/* For a handler that failed: records err for the error log and returns NULL,
 * which the server answers with 500 (or with 413/408/400 if err came from
 * reading the body). */
aw_response *aw_fail(aw_request *req, int err);

int aw_response_status(const aw_response *r);
void aw_response_set_status(aw_response *r, int status);
aw_headers *aw_response_headers(aw_response *r);
int aw_response_set_header(aw_response *r, const char *name, const char *value);
int aw_response_add_header(aw_response *r, const char *name, const char *value);
int aw_response_set_content_type(aw_response *r, const char *type);
/* Replaces the body (copied). */
int aw_response_set_body(aw_response *r, const void *data, size_t len);
const char *aw_response_body(const aw_response *r, size_t *len);
/* Body bytes put on the wire so far (0 for HEAD and bodiless statuses). */
uint64_t aw_response_bytes_sent(const aw_response *r);
/* The reason phrase of a status ("Not Found"). */
const char *aw_http_reason(int status);

typedef struct aw_cookie_opts {
    int64_t max_age;     /* seconds; 0: a session cookie; <0: expire now */
    const char *path;    /* NULL: "/" */
    const char *domain;  /* NULL: none */
    int secure, httponly;
    const char *samesite; /* "Lax", "Strict", "None" or NULL */
} aw_cookie_opts;

/* Set-Cookie; the name must be a token and the value cookie-safe (AW_EINVAL). */
int aw_response_set_cookie(aw_response *r, const char *name, const char *value,
                           const aw_cookie_opts *o);
int aw_response_del_cookie(aw_response *r, const char *name, const char *path);

/* --- streaming --- */
aw_response *aw_response_stream(aw_request *req, int status);
/* Sets the length of a streamed body (else it is sent chunked, or until the
 * connection closes for HTTP/1.0). Before prepare. */
void aw_response_set_content_length(aw_response *r, uint64_t len);
int aw_response_prepare(aw_response *r);
int aw_response_write(aw_response *r, const void *data, size_t len);
int aw_response_write_eof(aw_response *r);

/* Server-sent events on a streamed response: prepares it as
 * text/event-stream on first use, then sends one event (event and id may be
 * NULL; data may have several lines). */
int aw_sse_send(aw_response *r, const char *event, const char *data, const char *id);

/* Sends len bytes of the open file fd from offset as (part of) a streamed
 * body, preparing the response first if needed: sendfile(2) on plain TCP
 * (TCP_CORK around it, so the head shares the first segment), read and
 * write under TLS or through a body filter. Pieces up to 16 KiB are read
 * into the connection's output batch instead: a small file leaves with its
 * head in one write, at the next write or when the handler returns. fd
 * stays the caller's. A file shorter than len fails with AW_EOF and the
 * connection is closed after this response. */
int aw_response_sendfile(aw_response *r, int fd, int64_t offset, uint64_t len);

/* The body's length: a whole response's, or what aw_response_set_content_length
 * set on a streamed one (-1 if nothing was). */
int64_t aw_response_content_length(const aw_response *r);

/* --- body filters (compression) --- */

/* A body filter changes a streamed body on its way out. A middleware
 * installs one on the request before it calls the next handler; when a
 * streamed response is prepared, start(r, arg) runs after the
 * response-prepare signal and may change the headers; it returns 1 to take
 * this body (its length is then unknown: chunked, or until close for
 * HTTP/1.0), 0 to leave it alone, or an error. A taken body's writes and
 * sendfiles go to write(r, data, len, 0, arg), and aw_response_write_eof
 * calls write(r, NULL, 0, 1, arg) first; the filter puts its output on the
 * wire with aw_response_write_raw. Responses returned whole never reach the
 * filter: the middleware sees their body when the next handler returns.
 * HEAD requests send no body: write is not called for them. */
typedef struct aw_body_filter {
    int (*start)(aw_response *r, void *arg);
    int (*write)(aw_response *r, const void *data, size_t len, int last, void *arg);
    void *arg;
} aw_body_filter;

/* Installs f on the request (it must outlive the request's response; NULL
 * removes it). One filter per request. */
void aw_request_set_body_filter(aw_request *req, const aw_body_filter *f);
/* For a filter: writes body bytes past it (with chunked framing if needed). */
int aw_response_write_raw(aw_response *r, const void *data, size_t len);

#endif
