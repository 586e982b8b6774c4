/* Compression (middleware/compress.h) over loopback with raw sockets and
 * curl: the coding chosen by Accept-Encoding and its q-values, which
 * responses are left alone (small, binary, already encoded, ranges,
 * no-transform, bodiless statuses), Vary and ETag, Content-Length or
 * chunked, HEAD, streamed bodies flushed per write, static files through
 * it, the order middlewares compose in, and the [compress] setter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "compress.h"
#include "httpserver.h"
#include "static.h"
#include "testutil.h"

TestSuite(mw_compress, .timeout = 30, .fini = tu_fini);

/* --- the app ---------------------------------------------------------------------- */

static char text[5000]; /* compressible: words, repeated with variation */

static void fill_text(void)
{
    static const char *words[] = {"alpha ", "beta ", "gamma ", "delta ", "epsilon\n"};
    size_t n = 0;
    for (int i = 0; n < sizeof text - 1; i++) {
        const char *w = words[(i * 7 + i / 5) % 5];
        size_t k = strlen(w);
        if (n + k > sizeof text - 1)
            k = sizeof text - 1 - n;
        memcpy(text + n, w, k);
        n += k;
    }
    text[sizeof text - 1] = 0;
}

static aw_response *h_text(aw_request *req) { return aw_response_text(req, 200, text); }
static aw_response *h_small(aw_request *req) { return aw_response_text(req, 200, "tiny"); }
static aw_response *h_png(aw_request *req)
{
    return aw_response_bytes(req, 200, text, sizeof text - 1, "image/png");
}
static aw_response *h_json(aw_request *req)
{
    return aw_response_bytes(req, 200, text, sizeof text - 1, "application/vnd.api+json");
}
static aw_response *h_encoded(aw_request *req)
{
    aw_response *r = aw_response_text(req, 200, text);
    aw_response_set_header(r, "Content-Encoding", "br");
    return r;
}
static aw_response *h_notransform(aw_request *req)
{
    aw_response *r = aw_response_text(req, 200, text);
    aw_response_set_header(r, "Cache-Control", "public, no-transform");
    return r;
}
static aw_response *h_vary_etag(aw_request *req)
{
    aw_response *r = aw_response_text(req, 200, text);
    aw_response_set_header(r, "Vary", "Origin");
    aw_response_set_header(r, "ETag", "\"v1\"");
    return r;
}
static aw_response *h_partial(aw_request *req)
{
    aw_response *r = aw_response_text(req, 206, text);
    aw_response_set_header(r, "Content-Range", "bytes 0-4998/10000");
    return r;
}
static aw_response *h_nocontent(aw_request *req) { return aw_response_new(req, 204); }

/* streamed: ten writes of 500 bytes; /stream_len with a Content-Length set */
static aw_response *stream(aw_request *req, int with_len)
{
    aw_response *r = aw_response_stream(req, 200);
    aw_response_set_content_type(r, "text/plain; charset=utf-8");
    if (with_len)
        aw_response_set_content_length(r, sizeof text - 1);
    for (size_t off = 0; off < sizeof text - 1; off += 500)
        if (aw_response_write(r, text + off, 500))
            break;
    aw_response_write_eof(r);
    return r;
}
static aw_response *h_stream(aw_request *req) { return stream(req, 0); }
static aw_response *h_stream_len(aw_request *req) { return stream(req, 1); }

/* an event, a pause, another: the first must be readable during the pause */
static aw_response *h_sse(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    aw_sse_send(r, NULL, "one", NULL);
    aw_sleep(400);
    aw_sse_send(r, NULL, "two", NULL);
    aw_response_write_eof(r);
    return r;
}

/* outside compression: sees what it made */
static aw_response *mw_outer(aw_request *req, aw_next *next, void *arg)
{
    (void)arg;
    aw_response *r = aw_next_call(next, req);
    const char *ce = r ? aw_headers_get(aw_response_headers(r), "Content-Encoding") : NULL;
    if (r && !aw_request_response(req))
        aw_response_set_header(r, "X-Outer-Saw", ce ? ce : "identity");
    return r;
}

/* inside compression: gives the 404 a body, which then gets compressed */
static aw_response *mw_inner(aw_request *req, aw_next *next, void *arg)
{
    (void)arg;
    aw_response *r = aw_next_call(next, req);
    if (r && aw_response_status(r) == 404)
        return aw_response_text(req, 404, text);
    return r;
}

static char dir[256];
static tu_server srv;

static void start(void)
{
    fill_text();
    strcpy(dir, "/tmp/aw_compress_XXXXXX");
    cr_assert(mkdtemp(dir));
    char path[400];
    snprintf(path, sizeof path, "%s/page.txt", dir);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, sizeof text - 1, f);
    fclose(f);
    aw_app *app = aw_app_new();
    aw_app_use(app, mw_outer, NULL);
    cr_assert(aw_compress_use(app, NULL));
    aw_app_use(app, mw_inner, NULL);
    aw_app_route(app, "GET", "/text", h_text, NULL);
    aw_app_route(app, "GET", "/small", h_small, NULL);
    aw_app_route(app, "GET", "/png", h_png, NULL);
    aw_app_route(app, "GET", "/json", h_json, NULL);
    aw_app_route(app, "GET", "/encoded", h_encoded, NULL);
    aw_app_route(app, "GET", "/notransform", h_notransform, NULL);
    aw_app_route(app, "GET", "/vary", h_vary_etag, NULL);
    aw_app_route(app, "GET", "/partial", h_partial, NULL);
    aw_app_route(app, "GET", "/nocontent", h_nocontent, NULL);
    aw_app_route(app, "GET", "/stream", h_stream, NULL);
    aw_app_route(app, "GET", "/stream_len", h_stream_len, NULL);
    aw_app_route(app, "GET", "/sse", h_sse, NULL);
    cr_assert(aw_static_add(app, "/static", dir, NULL));
    tu_server_start(&srv, app, NULL);
}

static void stop(void)
{
    tu_server_stop(&srv);
    char cmd[300], out[16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    tu_shell(cmd, out, sizeof out);
}

/* --- a client that decodes ------------------------------------------------------------ */

static char raw[1 << 18];
static size_t raw_len;
static char body[1 << 18]; /* de-chunked, decoded */
static size_t body_len, wire_len; /* wire_len: body bytes as sent (coded) */

static const char *header(const char *name)
{
    static char v[512];
    char *end = strstr(raw, "\r\n\r\n");
    size_t nlen = strlen(name);
    for (char *p = strstr(raw, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, nlen) && p[2 + nlen] == ':') {
            const char *s = p + 3 + nlen;
            while (*s == ' ')
                s++;
            snprintf(v, sizeof v, "%.*s", (int)strcspn(s, "\r"), s);
            return v;
        }
    }
    return NULL;
}

/* Complete chunks of a chunked body into out; returns their length. */
static size_t dechunk(const char *in, size_t n, char *out)
{
    size_t w = 0;
    const char *p = in, *end = in + n;
    while (p < end) {
        char *e;
        unsigned long k = strtoul(p, &e, 16);
        if (e == p || e + 2 > end || (size_t)(end - (e + 2)) < k)
            break;
        if (!k)
            break;
        memcpy(out + w, e + 2, k);
        w += k;
        p = e + 2 + k + 2;
    }
    return w;
}

/* Inflates in (gzip or zlib by wbits) with a sync flush: what is decodable. */
static size_t inflate_all(const char *in, size_t n, int wbits, char *out, size_t cap)
{
    z_stream z = {0};
    cr_assert_eq(inflateInit2(&z, wbits), Z_OK);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    cr_assert(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "inflate: %d", rc);
    size_t got = cap - z.avail_out;
    inflateEnd(&z);
    return got;
}

/* Sends a request (Connection: close, ae as Accept-Encoding unless NULL),
 * reads the answer for up to wait_ms, de-chunks and decodes its body.
 * Returns the status. */
static int fetch_for(const char *method, const char *path, const char *ae, const char *extra,
                     int wait_ms)
{
    int fd = tu_connect(srv.port);
    char req[1024];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s%s%s%s\r\n",
             method, path, ae ? "Accept-Encoding: " : "", ae ? ae : "", ae ? "\r\n" : "",
             extra ? extra : "");
    tu_sends(fd, req);
    int closed;
    ssize_t n = tu_recv_all(fd, raw, sizeof raw, wait_ms, &closed);
    close(fd);
    raw_len = n > 0 ? (size_t)n : 0;
    char *b = strstr(raw, "\r\n\r\n");
    cr_assert(b, "%s %s: no head", method, path);
    b += 4;
    size_t blen = raw_len - (size_t)(b - raw);
    static char coded[1 << 18];
    const char *te = header("Transfer-Encoding");
    if (te && !strcmp(te, "chunked"))
        blen = dechunk(b, blen, coded);
    else
        memcpy(coded, b, blen);
    wire_len = blen;
    const char *ce = header("Content-Encoding");
    if (ce && (!strcmp(ce, "gzip") || !strcmp(ce, "deflate")))
        body_len = blen ? inflate_all(coded, blen, ce[0] == 'g' ? 31 : 15, body, sizeof body) : 0;
    else {
        memcpy(body, coded, blen);
        body_len = blen;
    }
    body[body_len] = 0;
    return tu_status(raw);
}

static int fetch(const char *path, const char *ae) { return fetch_for("GET", path, ae, NULL, 5000); }

static void expect_coding(const char *ae, const char *coding)
{
    cr_assert_eq(fetch("/text", ae), 200, "%s", ae);
    const char *ce = header("Content-Encoding");
    if (coding)
        cr_assert(ce && !strcmp(ce, coding), "Accept-Encoding: %s -> %s, want %s", ae, ce,
                  coding);
    else
        cr_assert_null(ce, "Accept-Encoding: %s -> %s, want identity", ae, ce);
    cr_assert_str_eq(header("Vary"), "Accept-Encoding", "%s", ae);
    cr_assert_eq(body_len, sizeof text - 1, "%s", ae);
    cr_assert_str_eq(body, text, "%s", ae);
}

/* --- choosing the coding ---------------------------------------------------------------- */

Test(mw_compress, coding_follows_accept_encoding_and_q_values)
{
    start();
    expect_coding(NULL, NULL);
    expect_coding("gzip", "gzip");
    expect_coding("deflate", "deflate");
    expect_coding("x-gzip", "gzip");
    expect_coding("GZIP;Q=1.0", "gzip");
    expect_coding("gzip, deflate, br", "gzip");
    expect_coding("br", NULL);
    expect_coding("identity", NULL);
    expect_coding("gzip;q=0, deflate", "deflate");
    expect_coding("gzip;q=0.5, deflate;q=0.8", "deflate");
    expect_coding("deflate;q=0.5, gzip;q=0.5", "gzip");
    expect_coding("gzip ; q=0.001", "gzip");
    expect_coding("*", "gzip");
    expect_coding("*;q=0", NULL);
    expect_coding("gzip;q=0, *", "deflate");
    expect_coding("gzip;q=0, deflate;q=0", NULL);
    expect_coding("identity;q=0", NULL); /* nothing else offered: sent as it is */
    expect_coding("identity;q=0, deflate", "deflate");
    expect_coding("gzip;q=0.5, identity", NULL); /* identity ranked first */
    expect_coding("gzip;q=1.5", NULL);           /* a malformed q says nothing */
    expect_coding("gzip;q=abc, deflate;q=0.1", "deflate");
    expect_coding("", NULL);
    stop();
}

/* --- what is compressed ------------------------------------------------------------------ */

Test(mw_compress, whole_bodies_get_a_correct_content_length)
{
    start();
    cr_assert_eq(fetch("/text", "gzip"), 200);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert_null(header("Transfer-Encoding"));
    cr_assert_eq((size_t)atol(header("Content-Length")), wire_len);
    cr_assert_lt(wire_len, (sizeof text - 1) / 4, "compressed to %zu", wire_len);
    cr_assert_str_eq(body, text);
    /* +json is in the default types */
    cr_assert_eq(fetch("/json", "gzip"), 200);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert_str_eq(body, text);
    /* HEAD: the same head, no body */
    cr_assert_eq(fetch("/text", "gzip"), 200);
    char len[32];
    snprintf(len, sizeof len, "%s", header("Content-Length"));
    cr_assert_eq(fetch_for("HEAD", "/text", "gzip", NULL, 5000), 200);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert_str_eq(header("Content-Length"), len);
    cr_assert_eq(wire_len, 0);
    stop();
}

Test(mw_compress, some_responses_are_left_alone)
{
    start();
    /* too small, or not a compressible type: no coding, and no Vary */
    cr_assert_eq(fetch("/small", "gzip"), 200);
    cr_assert_null(header("Content-Encoding"));
    cr_assert_null(header("Vary"));
    cr_assert_str_eq(body, "tiny");
    cr_assert_eq(fetch("/png", "gzip"), 200);
    cr_assert_null(header("Content-Encoding"));
    cr_assert_eq(body_len, sizeof text - 1);
    /* already encoded: untouched */
    cr_assert_eq(fetch("/encoded", "gzip"), 200);
    cr_assert_str_eq(header("Content-Encoding"), "br");
    cr_assert_str_eq(body, text);
    cr_assert_eq(fetch("/notransform", "gzip"), 200);
    cr_assert_null(header("Content-Encoding"));
    /* a range */
    cr_assert_eq(fetch("/partial", "gzip"), 206);
    cr_assert_null(header("Content-Encoding"));
    cr_assert_eq(fetch("/nocontent", "gzip"), 204);
    cr_assert_null(header("Content-Encoding"));
    stop();
}

Test(mw_compress, vary_is_merged_and_the_etag_made_weak)
{
    start();
    cr_assert_eq(fetch("/vary", "gzip"), 200);
    cr_assert_str_eq(header("Vary"), "Origin, Accept-Encoding");
    cr_assert_str_eq(header("ETag"), "W/\"v1\"");
    cr_assert_eq(fetch("/vary", NULL), 200);
    cr_assert_str_eq(header("Vary"), "Origin, Accept-Encoding");
    cr_assert_str_eq(header("ETag"), "\"v1\""); /* identity: still strong */
    stop();
}

/* --- streamed bodies ---------------------------------------------------------------------- */

Test(mw_compress, streamed_bodies_are_compressed_and_chunked)
{
    start();
    cr_assert_eq(fetch("/stream", "gzip"), 200);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert_str_eq(header("Transfer-Encoding"), "chunked");
    cr_assert_null(header("Content-Length"));
    cr_assert_str_eq(body, text);
    /* a length set by the handler no longer holds */
    cr_assert_eq(fetch("/stream_len", "deflate"), 200);
    cr_assert_str_eq(header("Content-Encoding"), "deflate");
    cr_assert_str_eq(header("Transfer-Encoding"), "chunked");
    cr_assert_null(header("Content-Length"));
    cr_assert_str_eq(body, text);
    /* not accepted: as the handler sent it */
    cr_assert_eq(fetch("/stream_len", NULL), 200);
    cr_assert_null(header("Content-Encoding"));
    cr_assert_str_eq(header("Content-Length"), "4999");
    cr_assert_str_eq(header("Vary"), "Accept-Encoding");
    cr_assert_str_eq(body, text);
    /* HEAD */
    cr_assert_eq(fetch_for("HEAD", "/stream", "gzip", NULL, 5000), 200);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert_eq(wire_len, 0);
    cr_assert_null(strstr(raw, "\r\n0\r\n"));
    stop();
}

Test(mw_compress, each_streamed_write_is_decodable_at_once)
{
    start();
    /* 250 ms into a 400 ms pause: the first event, and only it */
    cr_assert_eq(fetch_for("GET", "/sse", "gzip", NULL, 250), 200);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert(strstr(body, "data: one\n\n"), "got '%s'", body);
    cr_assert_null(strstr(body, "two"));
    cr_assert_eq(fetch_for("GET", "/sse", "gzip", NULL, 5000), 200);
    cr_assert_str_eq(body, "data: one\n\ndata: two\n\n");
    stop();
}

/* --- with static files, and with curl ------------------------------------------------------- */

Test(mw_compress, static_files_are_compressed_but_not_their_ranges)
{
    start();
    cr_assert_eq(fetch("/static/page.txt", "gzip"), 200);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert_null(header("Accept-Ranges"));
    cr_assert(header("ETag") && !strncmp(header("ETag"), "W/\"", 3));
    cr_assert_str_eq(body, text);
    cr_assert_eq(fetch_for("GET", "/static/page.txt", "gzip", "Range: bytes=0-9\r\n", 5000), 206);
    cr_assert_null(header("Content-Encoding"));
    cr_assert_str_eq(header("Content-Range"), "bytes 0-9/4999");
    cr_assert_eq(body_len, 10);
    cr_assert_eq(memcmp(body, text, 10), 0);
    /* a 304 has no body to compress */
    cr_assert_eq(fetch_for("GET", "/static/page.txt", "gzip", "If-None-Match: *\r\n", 5000), 304);
    cr_assert_null(header("Content-Encoding"));
    stop();
}

Test(mw_compress, curl_decodes_what_it_gets)
{
    start();
    const char *paths[] = {"/text", "/stream", "/static/page.txt"};
    for (size_t i = 0; i < 3; i++) {
        char cmd[512];
        static char out[1 << 16];
        snprintf(cmd, sizeof cmd,
                 "curl -s --compressed --max-time 5 -D /dev/stderr 'http://127.0.0.1:%d%s' "
                 "2>/dev/null",
                 srv.port, paths[i]);
        cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", paths[i]);
        cr_assert_str_eq(out, text, "%s", paths[i]);
        snprintf(cmd, sizeof cmd,
                 "curl -s --compressed --max-time 5 -o /dev/null -w '%%{size_download}' "
                 "'http://127.0.0.1:%d%s'",
                 srv.port, paths[i]);
        cr_assert_eq(tu_shell(cmd, out, sizeof out), 0);
        cr_assert_lt(atol(out), 2000, "%s: %s bytes on the wire", paths[i], out);
    }
    stop();
}

/* --- order ------------------------------------------------------------------------------------ */

Test(mw_compress, middlewares_compose_in_order)
{
    start();
    /* the outer one sees the compressed response */
    cr_assert_eq(fetch("/text", "gzip"), 200);
    cr_assert_str_eq(header("X-Outer-Saw"), "gzip");
    cr_assert_eq(fetch("/text", NULL), 200);
    cr_assert_str_eq(header("X-Outer-Saw"), "identity");
    /* the inner one's body is compressed */
    cr_assert_eq(fetch("/nowhere", "gzip"), 404);
    cr_assert_str_eq(header("Content-Encoding"), "gzip");
    cr_assert_str_eq(body, text);
    stop();
}

/* --- options ---------------------------------------------------------------------------------- */

Test(mw_compress, config_setter_refuses_bad_values)
{
    aw_app *app = aw_app_new();
    aw_compress *c = aw_compress_use(app, NULL);
    cr_assert(c);
    char err[256];
    const char *bad[][2] = {{"level", "0"},        {"level", "10"},    {"level", "six"},
                            {"min_size", "lots"},  {"types", "text"},  {"types", "a/*b*"},
                            {"gzip", "maybe"},     {"deflate", "2x"},  {"colour", "red"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        cr_assert_eq(aw_compress_config(c, bad[i][0], bad[i][1], err, sizeof err), AW_EINVAL,
                     "%s = %s", bad[i][0], bad[i][1]);
        cr_assert(err[0], "%s = %s: no reason", bad[i][0], bad[i][1]);
    }
    cr_assert_eq(aw_compress_config(c, "level", "1", err, sizeof err), 0);
    cr_assert_eq(aw_compress_config(c, "min_size", "2K", err, sizeof err), 0);
    cr_assert_eq(aw_compress_config(c, "types", "text/*, application/json", err, sizeof err), 0);
    cr_assert_eq(aw_compress_config(c, "deflate", "off", err, sizeof err), 0);
    aw_compress_opts o;
    aw_compress_opts_default(&o);
    o.level = 12;
    cr_assert_null(aw_compress_use(app, &o));
    o.level = 6;
    o.types = "nonsense";
    cr_assert_null(aw_compress_use(app, &o));
    aw_app_free(app);
}

static aw_compress *cfg_c;
static void cfg_tweak(aw_config *cfg)
{
    char err[256];
    cr_assert_eq(aw_config_section(cfg, "compress", aw_compress_config, cfg_c), 0);
    cr_assert_eq(aw_config_set(cfg, "compress", "min_size", "10K", err, sizeof err), 0, "%s", err);
}

Test(mw_compress, configuration_reaches_the_middleware)
{
    fill_text();
    aw_app *app = aw_app_new();
    cfg_c = aw_compress_use(app, NULL);
    cr_assert(cfg_c);
    char err[256];
    cr_assert_eq(aw_compress_config(cfg_c, "deflate", "off", err, sizeof err), 0);
    aw_app_route(app, "GET", "/text", h_text, NULL);
    tu_server_start(&srv, app, cfg_tweak);
    /* 4999 bytes is under min_size = 10K now */
    cr_assert_eq(fetch("/text", "gzip"), 200);
    cr_assert_null(header("Content-Encoding"));
    tu_server_stop(&srv);
}
