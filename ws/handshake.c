/* The opening handshake (RFC 6455 section 4): the server's checks and 101,
 * the client's request and its checks of the answer. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "net.h"
#include "resp_parse.h"
#include "stream_int.h"
#include "ws_int.h"

#define AW__WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int aw__ws_accept_key(const char *key, char *out, size_t cap)
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char buf[128];
    /* memcpy, not snprintf: glibc's printf takes 1.5 to 2 KiB of stack, and
     * from this depth that crossed into each idle socket's second stack page */
    size_t klen = strlen(key), glen = sizeof AW__WS_GUID - 1;
    if (klen + glen > sizeof buf || cap < 29)
        return AW_EINVAL;
    memcpy(buf, key, klen);
    memcpy(buf + klen, AW__WS_GUID, glen);
    SHA1((const unsigned char *)buf, klen + glen, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
    return 0;
}

/* A key is base64 of 16 bytes: 24 characters ending "==". */
static int aw__ws_key_ok(const char *key)
{
    unsigned char raw[32];
    if (!key || strlen(key) != 24 || strcmp(key + 22, "=="))
        return 0;
    return EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;
}

/* The first of the client's comma-separated protocols that we offer. */
static const char *aw__ws_pick_protocol(const char *offered, const char *const *ours)
{
    if (!offered || !ours)
        return NULL;
    const char *p = offered;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ' && *end != '\t')
            end++;
        for (size_t i = 0; ours[i]; i++)
            if (strlen(ours[i]) == (size_t)(end - p) && !strncmp(ours[i], p, (size_t)(end - p)))
                return ours[i];
        p = end;
    }
    return NULL;
}

/* --- server --------------------------------------------------------------- */

static aw_ws *aw__ws_refuse(aw_request *req, int status, const char *why)
{
    aw_response *r = aw_http_error(req, status, why);
    if (r && status == 426)
        aw_response_set_header(r, "Sec-WebSocket-Version", "13");
    aw_request_set(req, "aw.ws.refusal", r);
    return NULL;
}

aw_response *aw_ws_refusal(aw_request *req)
{
    aw_response *r = aw_request_get(req, "aw.ws.refusal");
    return r ? r : aw_http_error(req, 400, "not a WebSocket request");
}

/* The server is shutting down: the socket closes with 1001, and the
 * handler's aw_ws_recv sees the peer's reply. */
static void aw__ws_on_shutdown(void *arg) { aw__ws_going_away(arg); }

aw_ws *aw_ws_prepare(aw_request *req, const aw_ws_opts *opts)
{
    const aw_headers *h = aw_request_headers(req);
    if (strcmp(aw_request_method(req), "GET") || aw_request_version(req) < 11)
        return aw__ws_refuse(req, 400, "a WebSocket handshake is an HTTP/1.1 GET");
    if (!aw_headers_has_token(h, "Upgrade", "websocket") ||
        !aw_headers_has_token(h, "Connection", "upgrade"))
        return aw__ws_refuse(req, 400, "missing Upgrade: websocket or Connection: Upgrade");
    const char *version = aw_headers_get(h, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13"))
        return aw__ws_refuse(req, 426, "WebSocket version 13 only");
    const char *key = aw_headers_get(h, "Sec-WebSocket-Key");
    if (!aw__ws_key_ok(key))
        return aw__ws_refuse(req, 400, "bad Sec-WebSocket-Key");
    aw_ws_opts o;
    aw__ws_opts_fill(&o, opts);
    char accept[32];
    aw__ws_accept_key(key, accept, sizeof accept);
    aw_response *resp = aw_response_new(req, 101);
    if (!resp)
        return NULL;
    aw_response_set_header(resp, "Upgrade", "websocket");
    aw_response_set_header(resp, "Connection", "Upgrade");
    aw_response_set_header(resp, "Sec-WebSocket-Accept", accept);
    const char *proto = aw__ws_pick_protocol(aw_headers_get(h, "Sec-WebSocket-Protocol"),
                                             o.protocols);
    if (proto)
        aw_response_set_header(resp, "Sec-WebSocket-Protocol", proto);
    aw__pmd pmd = {0};
    char ext[256];
    const char *offers[8];
    size_t noffers = aw_headers_get_all(h, "Sec-WebSocket-Extensions", offers, 8);
    for (size_t i = 0; o.compress >= 0 && i < noffers && i < 8 && !pmd.on; i++)
        if (aw__pmd_server_negotiate(offers[i], &pmd, ext, sizeof ext) == 0)
            aw_response_set_header(resp, "Sec-WebSocket-Extensions", ext);
    aw_stream *s = aw_request_upgrade(req, resp);
    /* the request lives as long as the socket, and its arena chunk has
     * room left that would otherwise go unused for that whole time */
    aw_ws *ws = s ? aw__ws_new(s, 1, &o, aw__request_alloc_spare(req, sizeof *ws)) : NULL;
    if (!ws) {
        aw__pmd_free(&pmd);
        return NULL;
    }
    ws->req = req;
    ws->resp = resp;
    ws->pmd = pmd;
    aw__ws_set_protocol(ws, proto);
    aw_request_on_shutdown(req, aw__ws_on_shutdown, ws);
    return ws;
}

aw_response *aw_ws_finish(aw_ws *ws)
{
    aw_response *resp = ws->resp;
    aw_request_on_shutdown(ws->req, NULL, NULL);
    /* a close not yet sent is 1000; one begun is finished; a socket broken
     * off still lets its close frame leave */
    aw_ws_close(ws, AW_WS_NORMAL, NULL);
    aw__ws_free(ws); /* the connection closes the stream after the handler */
    return resp;
}

/* --- client ---------------------------------------------------------------- */

typedef struct aw__wsurl {
    int tls;
    char host[256];
    int port;
    char path[2048];
} aw__wsurl;

static int aw__ws_parse_url(const char *url, aw__wsurl *u)
{
    const char *p;
    if (!strncasecmp(url, "ws://", 5))
        u->tls = 0, p = url + 5;
    else if (!strncasecmp(url, "wss://", 6))
        u->tls = 1, p = url + 6;
    else
        return AW_EINVAL;
    const char *slash = strchr(p, '/');
    size_t hlen = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = NULL;
    if (*p == '[') { /* [v6]:port */
        const char *end = memchr(p, ']', hlen);
        if (!end)
            return AW_EINVAL;
        if (end + 1 < p + hlen && end[1] == ':')
            colon = end + 1;
        snprintf(u->host, sizeof u->host, "%.*s", (int)(end - p - 1), p + 1);
    } else {
        colon = memchr(p, ':', hlen);
        size_t n = colon ? (size_t)(colon - p) : hlen;
        if (!n || n >= sizeof u->host)
            return AW_EINVAL;
        snprintf(u->host, sizeof u->host, "%.*s", (int)n, p);
    }
    u->port = colon ? atoi(colon + 1) : u->tls ? 443 : 80;
    if (u->port <= 0 || u->port > 65535)
        return AW_EINVAL;
    snprintf(u->path, sizeof u->path, "%s", slash ? slash : "/");
    return strpbrk(u->path, " \r\n") ? AW_EINVAL : 0;
}

static int aw__ws_client_handshake(aw_stream *s, const aw__wsurl *u, const aw_ws_opts *o,
                                   aw_ws **out)
{
    unsigned char raw[16];
    char key[32], want[32], protos[512] = "";
    RAND_bytes(raw, sizeof raw);
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    aw__ws_accept_key(key, want, sizeof want);
    for (size_t i = 0; o->protocols && o->protocols[i]; i++)
        snprintf(protos + strlen(protos), sizeof protos - strlen(protos), "%s%s", i ? ", " : "",
                 o->protocols[i]);
    aw_arena a;
    aw_arena_init(&a);
    int default_port = u->port == (u->tls ? 443 : 80);
    char *req = aw_arena_printf(
        &a,
        "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s%s%s%s%s\r\n",
        u->path, strchr(u->host, ':') ? "[" : "", u->host, strchr(u->host, ':') ? "]" : "",
        default_port ? "" : aw_arena_printf(&a, ":%d", u->port), key,
        *protos ? "Sec-WebSocket-Protocol: " : "", protos, *protos ? "\r\n" : "",
        o->compress >= 0 ? "Sec-WebSocket-Extensions: " : "",
        o->compress >= 0 ? aw__pmd_client_offer() : "",
        o->compress >= 0 ? "\r\n" : "", o->headers ? o->headers : "");
    int rc = req ? aw_stream_write(s, req, strlen(req), AW_DEFAULT) : AW_ENOMEM;
    aw__resp r;
    if (!rc)
        rc = aw__read_response(s, "GET", &a, 65536, AW_DEFAULT, &r);
    if (!rc && r.status != 101) {
        aw__stream_set_error("the server answered %d, not 101", r.status);
        rc = AW_EPROTO;
    }
    const char *accept = rc ? NULL : aw_headers_get(&r.headers, "Sec-WebSocket-Accept");
    if (!rc && (!accept || strcmp(accept, want) ||
                !aw_headers_has_token(&r.headers, "Upgrade", "websocket"))) {
        aw__stream_set_error("the server's 101 is not a valid WebSocket answer");
        rc = AW_EPROTO;
    }
    aw_ws *ws = NULL;
    if (!rc && !(ws = aw__ws_new(s, 0, o, NULL)))
        rc = AW_ENOMEM;
    if (!rc) {
        aw__ws_set_protocol(ws, aw_headers_get(&r.headers, "Sec-WebSocket-Protocol"));
        const char *ext = aw_headers_get(&r.headers, "Sec-WebSocket-Extensions");
        if (ext && (o->compress < 0 || aw__pmd_client_accept(ext, &ws->pmd))) {
            aw__stream_set_error("the server chose an extension that was not offered: %s", ext);
            rc = AW_EPROTO;
        }
    }
    aw_arena_free(&a);
    if (rc && ws) {
        ws->s = NULL;
        aw__ws_free(ws);
        ws = NULL;
    }
    *out = ws;
    return rc;
}

int aw_ws_connect(const char *url, const aw_ws_opts *opts, aw_ws **out)
{
    aw__wsurl u;
    aw_ws_opts o;
    aw__ws_opts_fill(&o, opts);
    int rc = aw__ws_parse_url(url, &u);
    if (rc) {
        aw__stream_set_error("not a ws:// or wss:// URL: %s", url);
        return rc;
    }
    aw_tls_ctx *tls = o.tls, *own = NULL;
    if (u.tls && !tls && (rc = aw_tls_client_ctx_new(NULL, &own)))
        return rc;
    aw_stream *s;
    aw_connect_opts co = {.tls = u.tls ? (tls ? tls : own) : NULL, .server_name = u.host};
    rc = aw_open_connection(u.host, u.port, &co, &s);
    aw_tls_ctx_free(own); /* the stream holds its own reference */
    if (rc)
        return rc;
    aw_ws *ws;
    rc = aw__ws_client_handshake(s, &u, &o, &ws);
    if (rc) {
        aw_stream_close(s);
        return rc;
    }
    *out = ws;
    return 0;
}

void aw_ws_free(aw_ws *ws)
{
    if (!ws)
        return;
    if (ws->s) {
        if (ws->close_sent && (ws->close_recv || ws->ended))
            aw_stream_close(ws->s);
        else
            aw_stream_abort(ws->s);
    }
    aw__ws_free(ws);
}
