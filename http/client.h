/* The HTTP client (aiohttp's ClientSession).
 *
 *     aw_client *c = aw_client_new(NULL);
 *     aw_client_response *r;
 *     if (aw_client_get(c, "https://example.com/api?x=1", &r) == 0) {
 *         const char *body;
 *         size_t len;
 *         aw_client_response_body(r, &body, &len);
 *         ... aw_client_response_status(r) ...
 *         aw_client_response_free(r);     // the connection goes back to the pool
 *     }
 *     aw_client_free(c);
 *
 * A session keeps a pool of connections per scheme, host and port (100 in
 * all by default, optionally fewer per host; idle ones expire after 15 s, and
 * one the server closed is noticed before it is reused), a DNS cache (10 s),
 * default headers and the cookies servers set. TLS verifies certificates and
 * names against the system trust store unless told otherwise. Redirects are
 * followed (10 at most: 301, 302 and 303 turn into GET without a body as
 * browsers do, 307 and 308 keep both; Authorization is dropped when the host
 * changes) and recorded in the response's history. Bodies in gzip or deflate
 * are decoded.
 *
 * Timeouts: a total one per request (300 s by default, reading the body
 * included), connect, and read (each wait for bytes). A timeout or a
 * cancellation closes the connection instead of pooling it.
 *
 * Lifetime: everything runs in tasks of one loop. A response holds its
 * connection until freed: read it to its end (or let aw_client_response_body
 * do it) for the connection to return to the pool; freeing it earlier closes
 * the connection. Free every response before the session.
 */
#ifndef AW_CLIENT_H
#define AW_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "headers.h"
#include "tls.h"

typedef struct aw_client aw_client;
typedef struct aw_client_response aw_client_response;

typedef struct aw_client_opts {
    size_t limit;               /* connections in all; 0: 100 */
    size_t limit_per_host;      /* per scheme, host and port; 0: no limit of its own */
    int64_t keepalive_ms;       /* idle connections expire; 0: 15 s; <0: no pooling */
    int64_t dns_ttl_ms;         /* 0: 10 s; <0: no cache */
    int64_t total_timeout_ms;   /* 0: 300 s */
    int64_t connect_timeout_ms; /* 0: 10 s */
    int64_t read_timeout_ms;    /* each wait for bytes; 0: 60 s */
    size_t max_body;            /* aw_client_response_body's bound; 0: 16 MiB */
    int max_redirects;          /* 0: 10; <0: none followed */
    aw_tls_ctx *tls;            /* NULL: one made from ca_file and verify_off */
    const char *ca_file;        /* trust anchors instead of the system store */
    int verify_off;             /* 1: no certificate checks (tests only) */
    const char *headers;        /* default header lines for every request ("A: b\r\n") */
    const char *user_agent;     /* NULL: "aweb/0.1" */
} aw_client_opts;

/* NULL on memory exhaustion or a bad TLS setting (see aw_last_error()). */
aw_client *aw_client_new(const aw_client_opts *opts);
/* Closes the pooled connections and frees the session. */
void aw_client_free(aw_client *c);

/* A body produced piece by piece (sent chunked): return a count, 0 at the
 * end, or a negative AW_E* code to abort the request. */
typedef ssize_t (*aw_client_body_fn)(void *arg, void *buf, size_t len);

typedef struct aw_client_part {
    const char *name, *filename, *content_type; /* filename, content_type may be NULL */
    const void *data;
    size_t len;
} aw_client_part;

typedef struct aw_client_request {
    const char *method;          /* NULL: "GET" */
    const char *url;             /* http:// or https:// */
    const char *const *query;    /* name, value, ..., NULL: added to the URL, encoded */
    const char *headers;         /* extra header lines ("A: b\r\n") */
    /* the body, one of: */
    const void *body;            /* bytes (with body_len, content_type) */
    size_t body_len;
    const char *content_type;
    json_t *json;                /* serialised; the reference stays the caller's */
    const char *const *form;     /* name, value, ..., NULL: urlencoded */
    const aw_client_part *parts; /* multipart/form-data, nparts of them */
    size_t nparts;
    aw_client_body_fn stream;    /* streamed, chunked */
    void *stream_arg;
    int expect_continue;         /* send Expect: 100-continue and wait for it */
    int64_t timeout_ms;          /* total; 0: the session's */
    int max_redirects;           /* 0: the session's; <0: none followed */
    size_t max_body;             /* 0: the session's */
} aw_client_request;

/* Sends a request and reads the response's head. Returns 0 with a response
 * to free, or AW_EINVAL (a bad URL or scheme), AW_EDNS, AW_ECONNREFUSED,
 * AW_ECERT, AW_ETIMEDOUT, AW_ECANCELED, AW_EPROTO (a malformed answer, or
 * too many redirects), ... with details in aw_last_error(). */
int aw_client_send(aw_client *c, const aw_client_request *req, aw_client_response **out);
int aw_client_get(aw_client *c, const char *url, aw_client_response **out);

/* The response. */
int aw_client_response_status(const aw_client_response *r);
const char *aw_client_response_reason(const aw_client_response *r);
const aw_headers *aw_client_response_headers(const aw_client_response *r);
const char *aw_client_response_header(const aw_client_response *r, const char *name);
/* The URL that answered (after redirects). */
const char *aw_client_response_url(const aw_client_response *r);
/* Redirects followed, oldest first: their status and the URL that gave it. */
size_t aw_client_response_history(const aw_client_response *r);
int aw_client_response_history_at(const aw_client_response *r, size_t i, const char **url);

/* The whole body, decoded, NUL-terminated, bounded by max_body (past it:
 * AW_EMSGSIZE, and the connection is closed). Valid until the response is
 * freed. Returns 0 or an error. */
int aw_client_response_body(aw_client_response *r, const char **data, size_t *len);
/* The next piece of the body, decoded: a count, 0 at the end, or an error. */
ssize_t aw_client_response_read(aw_client_response *r, void *buf, size_t len);
/* The body as JSON (the response owns the value). AW_EINVAL if it is not. */
int aw_client_response_json(aw_client_response *r, json_t **out);
void aw_client_response_free(aw_client_response *r);

/* Pool counts: connections open (in use and idle), and idle in the pool. */
size_t aw_client_connections(const aw_client *c);
size_t aw_client_idle(const aw_client *c);

#endif
