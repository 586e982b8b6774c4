/* HTTP client internals (client.c: session, pool, DNS cache, cookies;
 * client_req.c: sending and redirects; client_resp.c: the response). */
#ifndef AW_CLIENT_INT_H
#define AW_CLIENT_INT_H

#include <zlib.h>

#include "client.h"
#include "list_int.h"
#include "resp_parse.h"
#include "stream.h"
#include "sync.h"
#include "url_int.h"

/* A pooled connection. */
typedef struct aw__cconn {
    aw__list link;   /* in the session's list of all connections */
    aw__list idle_link; /* in the session's idle list, oldest first, while idle */
    aw_stream *s;
    char key[300];   /* scheme://host:port: who may reuse it */
    int idle;        /* in the pool, waiting */
    uint64_t idle_since;
    int requests;    /* served so far (a reused one may have been closed under us) */
    struct aw_client *client;
} aw__cconn;

typedef struct aw__dns {
    char host[256];
    int port;
    struct addrinfo *ai;
    uint64_t expires;
} aw__dns;

typedef struct aw__cookie {
    char *name, *value, *domain, *path;
    int host_only, secure;
} aw__cookie;

struct aw_client {
    aw_client_opts o;
    aw_stream_opts sopts;
    aw_tls_ctx *tls; /* ours or the caller's (tls_owned tells) */
    int tls_owned;
    char *headers, *user_agent;
    aw__list conns; /* every open connection, idle or not */
    aw__list idle;  /* the idle ones, in the order they went idle */
    size_t nconns, nidle;
    aw_event *released; /* set when a connection is freed or goes idle */
    aw__dns *dns;
    size_t ndns, dns_cap;
    aw__cookie *cookies;
    size_t ncookies, cookie_cap;
};

struct aw_client_response {
    aw_client *client;
    aw__cconn *conn;   /* NULL once released */
    aw_arena arena;
    aw__rr rr;
    aw__resp resp;
    aw__url url;
    char url_text[4200];
    const char **history; /* URLs that redirected */
    size_t nhistory;
    int method_head;
    uint64_t deadline; /* the request's total timeout, for reading the body */
    size_t max_body;
    z_stream *z;       /* gzip / deflate decoding */
    int z_done, z_raw_tried;
    unsigned char *zin;
    size_t zin_len, zin_off;
    char *body;        /* once read whole */
    size_t body_len;
    json_t *json;
    int failed;
};

/* client.c */
int aw__pool_acquire(aw_client *c, const aw__url *u, uint64_t deadline, aw__cconn **out,
                     int *reused);
void aw__pool_release(aw_client *c, aw__cconn *cc, int reusable);
void aw__cookies_store(aw_client *c, const aw__url *u, const aw_headers *h);
void aw__cookies_header(aw_client *c, const aw__url *u, char *buf, size_t cap);

/* client_resp.c */
aw_client_response *aw__response_new(aw_client *c);
int aw__response_head(aw_client_response *r, const char *method);
void aw__response_release(aw_client_response *r, int reusable);

#endif
