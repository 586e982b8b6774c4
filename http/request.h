/* The request a handler gets (aiohttp's web.Request).
 *
 * Everything it returns (strings, parsed values, the body) lives in the
 * request's arena and is freed with the request when the handler's response
 * has been sent: copy what must outlive it. Getters of parsed values (query,
 * cookies, form) parse on first use.
 *
 * The body can be taken whole (bounded by client_max_size: past it the call
 * fails with AW_EMSGSIZE and, if the handler then fails, the client gets 413),
 * read in chunks (unbounded, for uploads), as JSON, as a form, or as a
 * multipart stream whose file parts are never held whole. `Expect:
 * 100-continue` is answered when the handler first reads the body.
 */
#ifndef AW_REQUEST_H
#define AW_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "headers.h"

typedef struct aw_request aw_request;
typedef struct aw_app aw_app;
typedef struct aw_response aw_response;
typedef struct aw_stream aw_stream;

/* --- the head --- */
const char *aw_request_method(const aw_request *r);   /* "GET" */
int aw_request_version(const aw_request *r);          /* 10 or 11 */
const char *aw_request_path(const aw_request *r);     /* decoded: "/a b"; %2F, %25 kept */
const char *aw_request_raw_path(const aw_request *r); /* as sent: "/a%20b?x=1" */
const char *aw_request_query_string(const aw_request *r); /* "x=1", or "" */
const char *aw_request_header(const aw_request *r, const char *name);
const aw_headers *aw_request_headers(const aw_request *r);
int aw_request_keep_alive(const aw_request *r);
const char *aw_request_peer(aw_request *r); /* "1.2.3.4:5678", "[::1]:80", "unix:" */
const char *aw_request_remote(aw_request *r); /* the address alone: "1.2.3.4", "::1" */
int aw_request_is_tls(const aw_request *r);

/* A path parameter of the matched route ("id" for /users/{id}), fully
 * percent-decoded, or NULL. */
const char *aw_request_match(const aw_request *r, const char *name);

/* Query parameters, percent-decoded: the first value (or NULL), or all. */
const char *aw_request_query(aw_request *r, const char *name);
size_t aw_request_query_all(aw_request *r, const char *name, const char **out, size_t cap);

/* A cookie's value, or NULL. */
const char *aw_request_cookie(aw_request *r, const char *name);

/* The app that owns the matched route (a sub-app, for its routes). */
aw_app *aw_request_app(const aw_request *r);

/* How routing went: 200 (a route matched), 405 (the path matched, not the
 * method) or 404; and the matched route's name (NULL if none or unnamed). */
int aw_request_match_status(const aw_request *r);
const char *aw_request_route_name(const aw_request *r);

/* --- for middlewares and logs --- */

/* The response sent or being streamed (its head is out), or NULL. */
aw_response *aw_request_response(const aw_request *r);
/* After a handler failed (gave no response): what aw_fail recorded (0 if
 * nothing), and the status the server answers with (413, 408, 400 after a
 * body error, else 500). */
int aw_request_error(const aw_request *r);
int aw_request_error_status(const aw_request *r);
/* uv_hrtime() when the request began, taken only while the access log is on
 * (else 0). */
uint64_t aw_request_start_ns(const aw_request *r);

/* Per-request state, like aiohttp's request["key"]: for middlewares to hand
 * things to handlers. The key string must outlive the request. */
int aw_request_set(aw_request *r, const char *key, void *value);
void *aw_request_get(const aw_request *r, const char *key);

/* Protocol upgrades (WebSocket): sends resp (a 101) at once and hands the
 * connection's stream to the caller for as long as the handler runs; no more
 * HTTP is read from it, and it is closed after the handler returns. resp is
 * what the handler then returns. NULL if a response was sent already. */
aw_stream *aw_request_upgrade(aw_request *r, aw_response *resp);

/* Calls fn(arg) when the server starts shutting down while this request is
 * being handled (a WebSocket closes with 1001 then). Returns 0. */
int aw_request_on_shutdown(aw_request *r, void (*fn)(void *arg), void *arg);

/* Memory freed with the request. */
void *aw_request_alloc(aw_request *r, size_t n);
char *aw_request_strdup(aw_request *r, const char *s);

/* --- the body --- */

/* Content-Length, or -1 (chunked, or none). */
int64_t aw_request_content_length(const aw_request *r);

/* The whole body (bounded by client_max_size), NUL-terminated for
 * convenience. Returns 0, AW_EMSGSIZE, AW_ETIMEDOUT (body timeout),
 * AW_EPROTO (malformed framing), AW_ECONNRESET. */
int aw_request_body(aw_request *r, const char **data, size_t *len);

/* Reads the next piece of the body: a count, 0 at its end, or an error as
 * above. Not bounded by client_max_size: the handler decides. */
ssize_t aw_request_read(aw_request *r, void *buf, size_t len);

/* The body as JSON (the request owns the value). Returns 0, AW_EINVAL for
 * bad JSON (with details in aw_last_error()), or a body error. */
int aw_request_json(aw_request *r, json_t **out);

/* A field of an urlencoded or multipart form body (multipart file parts are
 * skipped: use aw_request_multipart for uploads). NULL if absent or if the
 * body is not a form; aw_request_form_error tells why. */
const char *aw_request_form(aw_request *r, const char *name);
size_t aw_request_form_all(aw_request *r, const char *name, const char **out, size_t cap);
int aw_request_form_error(aw_request *r);

/* --- multipart, streamed --- */
typedef struct aw_multipart aw_multipart;

/* A reader over a multipart/form-data body, or NULL (not multipart: see
 * aw_request_form_error). Freed with the request. */
aw_multipart *aw_request_multipart(aw_request *r);
/* Next part: 1, 0 after the last, or an error (AW_EINVAL for bad framing). */
int aw_multipart_next(aw_multipart *m);
const char *aw_multipart_name(const aw_multipart *m);
const char *aw_multipart_filename(const aw_multipart *m); /* NULL if not a file */
const char *aw_multipart_header(const aw_multipart *m, const char *name);
/* The current part's content: a count, 0 at its end, or an error. */
ssize_t aw_multipart_read(aw_multipart *m, void *buf, size_t len);

#endif
