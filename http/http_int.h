/* HTTP server internals shared by conn.c, parse.c, body.c, request.c,
 * response.c, app.c and server.c.
 *
 * The shape of a connection's life:
 *
 *   accepted -> idle (no task: on the server's idle list, in callback mode)
 *   bytes arrive -> a task is spawned: it parses requests, runs their
 *     handlers and writes responses, as long as requests keep coming
 *     (pipelined ones included); responses are batched into one write
 *   nothing buffered -> the task flushes, puts the connection back on the
 *     idle list and ends; its stack goes back to the pool
 *
 * So an idle keep-alive connection costs its stream and this small struct,
 * and a request costs no allocation beyond its arena's pooled chunks.
 */
#ifndef AW_HTTP_INT_H
#define AW_HTTP_INT_H

#include <jansson.h>
#include <llhttp.h>
#include <stdint.h>
#include <uv.h>

#include "app.h"
#include "access_log.h" /* the server's default access log: see aw__server.alog */
#include "arena.h"
#include "config.h"
#include "forms_int.h"
#include "list_int.h"
#include "net.h"
#include "request.h"
#include "response.h"
#include "router_int.h"
#include "scheduler.h"
#include "stream.h"
#include "sync.h"

typedef struct aw__server aw__server;
typedef struct aw__conn aw__conn;

/* --- the app ------------------------------------------------------------- */

typedef struct aw__route {
    aw_handler handler;
    aw_app *app; /* the (sub-)app that owns it: its middlewares apply */
    int cancel_on_disconnect; /* -1: the app's setting */
    int atomic;
} aw__route;

typedef struct aw__mw {
    aw_middleware fn;
    void *arg;
} aw__mw;

typedef struct aw__signal {
    void *fn;
    void *arg;
} aw__signal;

typedef struct aw__vec {
    void *items;
    size_t n, cap;
} aw__vec;

struct aw_app {
    aw_app *parent;
    char *prefix; /* for a sub-app: where it is mounted ("" for the root) */
    aw__vec routes;   /* aw__route * (owned) */
    aw__vec route_defs; /* what aw_app_route was given, replayed into the router */
    aw__vec subapps;  /* aw_app * (owned) */
    aw__vec mws;      /* aw__mw */
    aw__vec on_startup, on_shutdown, on_cleanup, on_prepare; /* aw__signal */
    aw__vec state;    /* key, value pairs */
    aw__vec conf_sections; /* aw__conf_section: given to aw_app_main's config */
    aw__vec on_free;  /* aw__signal: run by aw_app_free (middlewares' state) */
    aw__router *router; /* the root's: every route of every sub-app */
    aw_scheduler *scheduler;
    int cancel_on_disconnect;
    int frozen;
};

typedef struct aw__conf_section {
    const char *name;
    aw_config_setter set;
    void *arg;
} aw__conf_section;

typedef struct aw__route_def {
    char *method, *path, *name;
    aw__route *route;
} aw__route_def;

int aw__app_freeze(aw_app *app, char *err, size_t errlen);
int aw__vec_push(aw__vec *v, const void *item, size_t size);
aw_response *aw__app_dispatch(aw_request *req);
void aw__app_prepare_signal(aw_request *req, aw_response *resp);

/* --- the running server --------------------------------------------------- */

struct aw__server {
    aw_app *app;
    const aw_config *cfg;
    aw_stream_opts sopts;
    aw_listener *listeners[AW_CONFIG_MAX_LISTEN];
    int ports[AW_CONFIG_MAX_LISTEN];
    size_t nlisteners;
    aw_tls_ctx *tls;
    aw__list idle_new; /* accepted, no request yet: closed at header_ms */
    aw__list idle_ka;  /* between requests: closed at keepalive_ms */
    aw__list active;   /* a task is serving them */
    size_t nconns, nactive;
    uv_timer_t idle_timer;
    int draining;
    aw_task *drainer; /* waits for the active connections to finish */
    /* the Date header, formatted once a second; the Server line, once */
    char date[40];
    size_t date_len;
    uint64_t date_sec;
    char server_line[128];
    size_t server_line_len;
    /* batching buffers of connections that are serving, recycled */
    char *free_out[16];
    size_t nfree_out;
    /* the access log ([log]; its code lives in middleware/access_log.c), or NULL */
    aw_access_log *alog;
    uint64_t requests;
    aw_event *stopped;
};

aw__server *aw__current_server(void);
const char *aw__server_date(aw__server *srv);

/* --- a connection --------------------------------------------------------- */

enum { AW__C_IDLE_NEW, AW__C_IDLE_KA, AW__C_ACTIVE };

struct aw__conn {
    aw_stream *s;
    aw__server *srv;
    aw__list link; /* in one of the server's lists */
    uint64_t deadline; /* while idle: when it is closed */
    aw_task *task;
    aw_request *req; /* the request being served */
    uint32_t nreq;
    uint8_t state;
    uint8_t close_after; /* no more requests on this connection */
    uint8_t broken;      /* the stream failed: nothing more can be sent */
    uint8_t nodelay;     /* TCP_NODELAY is on (set when kept alive or streaming) */
    /* the peer's address, asked of the kernel once per connection when first
     * wanted (and before an upgrade hands the stream over, which may close
     * it); kept binary, 20 bytes rather than a 64-byte string, since every
     * idle keep-alive connection carries it. family 0: not asked yet */
    uint8_t peer_family;
    uint16_t peer_port;
    uint8_t peer_addr[16];
    /* responses batched while pipelined requests are already buffered */
    char *out;
    uint32_t out_len;
};

#define AW__OUT_MAX (48 * 1024)

void aw__conn_accept(aw_listener *l, aw_stream *s, void *arg);
void aw__idle_timer_cb(uv_timer_t *t);
int aw__conn_write(aw__conn *c, const aw_iovec *iov, size_t n, int flush);
int aw__conn_flush(aw__conn *c);
char *aw__out_get(aw__server *srv);
void aw__out_put(aw__server *srv, char *buf);

/* --- parsing -------------------------------------------------------------- */

/* The parser state of one connection's task (it lives on the task's stack:
 * between requests a connection needs none). */
typedef struct aw__parse {
    llhttp_t p;
    aw__conn *conn;
    aw_request *req;
    size_t max_line, max_field, max_headers;
    /* the header being accumulated */
    char *field, *value;
    size_t field_len, value_len;
    int in_value; /* 0 in a field, 1 in a value, 2 after a complete value */
    int value_cr; /* the last value span ended at a CR inside the input */
    const char *end; /* the end of the bytes being parsed */
    size_t nheaders;
    int hosts;
    int status; /* the error status a callback chose: 400, 414, 431 */
    int head_done, msg_done;
    size_t ext_len; /* the current chunk's extensions: bounded by max_field */
    /* body bytes found by the last execute */
    const char *body_at;
    size_t body_len;
    char last; /* a CR that ended the last head bytes fed (crlf_int.h) */
} aw__parse;

void aw__parse_init(aw__parse *ps, aw__conn *c);
/* Feeds head bytes; returns 0 (need more), 1 (head complete), or the error
 * status to answer (400, 414, 431). *used: bytes consumed. */
int aw__parse_head(aw__parse *ps, const char *data, size_t len, size_t *used);
/* Feeds body bytes: stops after the first body span (ps->body_at/len) or at
 * the end of the message (ps->msg_done). Returns 0 or the error status: 400,
 * 413 (chunk extensions past max_field), 431 (trailers past the limits). */
int aw__parse_body(aw__parse *ps, const char *data, size_t len, size_t *used);
/* Back to the start of a message (after a complete one). */
void aw__parse_next(aw__parse *ps);

/* --- requests and responses ------------------------------------------------ */

enum { AW__BODY_NONE, AW__BODY_PENDING, AW__BODY_DONE };

struct aw_request {
    aw_arena arena; /* first: the request itself lives in it */
    aw__conn *conn;
    /* a long-lived request's hook (a WebSocket's), called when shutdown
     * begins: here, not in the connection, which every idle keep-alive
     * connection would carry */
    void (*on_shutdown)(void *);
    void *on_shutdown_arg;
    aw__server *srv;
    aw__parse *ps;
    const aw__route *route;
    aw_app *app;
    const char *method;
    int method_id;
    int version; /* 10 or 11 */
    char *target; /* as received */
    char *path;   /* decoded, %2F kept */
    const char *query;
    aw_headers headers;
    aw__match match;
    int keep_alive;
    int upgrade;
    int expect_continue, continue_sent;
    int64_t content_length; /* -1: unknown (chunked or none) */
    int body_state;
    size_t body_pending; /* parsed body bytes at the head of the stream's buffer */
    int need_input;      /* the parser has all buffered bytes: wait for more */
    uint64_t body_read;
    int64_t body_waited_ms; /* spent waiting for body bytes: see body_min_rate */
    int body_error;
    char *body; /* the whole body, once read whole */
    size_t body_len;
    json_t *json;
    aw__kvlist *query_kv, *cookies, *form;
    aw_response *resp;
    int pending_status; /* 413/408/400 from a body reader, used if the handler fails */
    int fail_code;      /* what aw_fail recorded */
    uint64_t start_ns;
    aw__vec state;
    const aw_body_filter *filter; /* a middleware's, for streamed bodies (compression) */
    int refs; /* the connection's, and an atomic job's */
    char *peer; /* "1.2.3.4:5678": in the arena, once asked for */
};

struct aw_response {
    aw_request *req;
    int status;
    aw_headers headers;
    const char *body;
    size_t body_len;
    int64_t content_length; /* set for streaming with a known length; -1 otherwise */
    int prepared, chunked, finished, streaming;
    int filtered; /* the request's body filter took this body */
    uint64_t bytes_sent;
};

aw_request *aw__request_new(aw__conn *c, aw__parse *ps);
void aw__request_unref(aw_request *req);
int aw__request_finish_body(aw_request *req);
int aw__response_send(aw_request *req, aw_response *resp);
aw_response *aw__error_response(aw_request *req, int status);
const char *aw__reason(int status);
int aw__send_continue(aw_request *req);

#endif
