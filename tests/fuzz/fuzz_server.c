/* libFuzzer target: a whole server connection fed arbitrary bytes.
 *
 * An app with routes of every kind (parameters, a regex, a catch-all, a
 * sub-app with its middleware, an atomic route, a WebSocket upgrade) whose
 * handlers read the body in each way aweb offers (whole, in small pieces,
 * JSON, urlencoded and multipart forms, streamed multipart parts) and echo
 * query parameters, cookies and headers back into responses. The server runs
 * for the whole session on a Unix socket; each input is one connection.
 *
 * Input: one byte choosing how the bytes are split into writes (0: one
 * write), then the bytes the client sends (requests, pipelined or not). The
 * client then half-closes and reads until the server closes.
 *
 * Findings besides sanitizer reports: the server not closing after the
 * client's end (a hang), a connection left open afterwards, a reply that is
 * not HTTP, a header value with CR or LF accepted by the response API.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "ws.h"

static aw_app *fuzz_app;
static aw_config fuzz_cfg;
static aw_server *fuzz_srv;
static const char *fuzz_path;

/* A value from the client into a response header: refused exactly when it
 * could split the response. */
static void fuzz_echo_header(aw_response *resp, const char *name, const char *value)
{
    if (!resp || !value)
        return;
    int rc = aw_response_set_header(resp, name, value);
    if (strpbrk(value, "\r\n") && rc != AW_EINVAL)
        abort();
}

static aw_response *h_root(aw_request *req)
{
    aw_response *r = aw_response_text(req, 200, "root");
    fuzz_echo_header(r, "X-UA", aw_request_header(req, "User-Agent"));
    return r;
}

/* Path parameter, query (single and multi-valued), cookies, URL building. */
static aw_response *h_user(aw_request *req)
{
    const char *id = aw_request_match(req, "id");
    const char *tags[8];
    size_t ntags = aw_request_query_all(req, "tag", tags, 8);
    const char *sess = aw_request_cookie(req, "session");
    char url[256];
    int ul = aw_app_url_for(fuzz_app, url, sizeof url, "user", "id",
                            aw_request_query(req, "next") ? aw_request_query(req, "next") : "x",
                            NULL);
    aw_response *r = aw_response_textf(req, 200, "id=%s tags=%zu first=%s session=%s url=%s", id,
                                       ntags, ntags ? tags[0] : "-", sess ? sess : "-",
                                       ul >= 0 ? url : "-");
    if (r && sess)
        aw_response_set_cookie(r, "seen", sess, &(aw_cookie_opts){.max_age = 60, .httponly = 1});
    fuzz_echo_header(r, "X-Tag", ntags ? tags[0] : NULL);
    return r;
}

static aw_response *h_num(aw_request *req)
{
    return aw_response_textf(req, 200, "n=%s", aw_request_match(req, "n"));
}

static aw_response *h_static(aw_request *req)
{
    return aw_response_textf(req, 200, "%s %s", aw_request_method(req),
                             aw_request_match(req, "path"));
}

static aw_response *h_redirect(aw_request *req)
{
    const char *to = aw_request_query(req, "to");
    aw_response *r = aw_response_redirect(req, 302, to ? to : "/");
    if (to && strpbrk(to, "\r\n") && r && aw_response_status(r) == 302 &&
        aw_headers_get(aw_response_headers(r), "Location"))
        abort(); /* a Location with CR or LF went out */
    return r ? r : aw_http_error(req, 400, NULL);
}

static aw_response *h_body(aw_request *req)
{
    const char *body;
    size_t len;
    int rc = aw_request_body(req, &body, &len);
    if (rc)
        return aw_fail(req, rc);
    if (body[len] != '\0')
        abort(); /* promised NUL-terminated */
    return aw_response_bytes(req, 200, body, len, "application/octet-stream");
}

/* The body in small pieces, answered as a streamed (chunked) response. */
static aw_response *h_read(aw_request *req)
{
    char buf[7];
    ssize_t n;
    aw_response *r = aw_response_stream(req, 200);
    if (!r || aw_response_prepare(r))
        return r;
    uint64_t total = 0;
    while ((n = aw_request_read(req, buf, sizeof buf)) > 0) {
        total += (uint64_t)n;
        if (total < 256 && aw_response_write(r, buf, (size_t)n))
            break;
    }
    aw_response_write_eof(r);
    return r;
}

static aw_response *h_json(aw_request *req)
{
    json_t *j;
    int rc = aw_request_json(req, &j);
    if (rc)
        return rc == AW_EINVAL ? aw_http_error(req, 400, "bad JSON") : aw_fail(req, rc);
    return aw_response_json(req, 200, json_incref(j));
}

static aw_response *h_form(aw_request *req)
{
    const char *all[8];
    size_t n = aw_request_form_all(req, "a", all, 8);
    const char *b = aw_request_form(req, "b");
    if (aw_request_form_error(req))
        return aw_http_error(req, 400, "bad form");
    return aw_response_textf(req, 200, "a=%zu first=%s b=%s", n, n ? all[0] : "-", b ? b : "-");
}

static aw_response *h_multipart(aw_request *req)
{
    aw_multipart *m = aw_request_multipart(req);
    if (!m)
        return aw_http_error(req, 400, "not multipart");
    char buf[33];
    size_t parts = 0, bytes = 0;
    int rc;
    while ((rc = aw_multipart_next(m)) == 1) {
        parts++;
        const char *name = aw_multipart_name(m), *file = aw_multipart_filename(m);
        const char *ct = aw_multipart_header(m, "Content-Type");
        bytes += strlen(name ? name : "") + strlen(file ? file : "") + strlen(ct ? ct : "");
        ssize_t n;
        while ((n = aw_multipart_read(m, buf, sizeof buf)) > 0)
            bytes += (size_t)n;
        if (n < 0) {
            rc = (int)n;
            break;
        }
    }
    if (rc < 0)
        return aw_fail(req, rc);
    return aw_response_textf(req, 200, "parts=%zu bytes=%zu", parts, bytes);
}

/* Never reads its body: the server drains or refuses it. */
static aw_response *h_ignore(aw_request *req) { return aw_response_new(req, 204); }

static aw_response *h_ws(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(req, &(aw_ws_opts){.max_message = 4096, .close_timeout_ms = 500});
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, 2000) == 0)
        if (m.type == AW_WS_TEXT)
            aw_ws_send_text(ws, m.data, m.len);
    return aw_ws_finish(ws);
}

static aw_response *h_admin(aw_request *req)
{
    return aw_response_textf(req, 200, "admin %s", aw_request_match(req, "x"));
}

/* The sub-app's middleware: answers some requests itself, marks the rest. */
static aw_response *mw_admin(aw_request *req, aw_next *next, void *arg)
{
    (void)arg;
    if (aw_request_query(req, "deny"))
        return aw_http_error(req, 403, NULL);
    aw_response *r = aw_next_call(next, req);
    if (r)
        aw_response_set_header(r, "X-Admin", "1");
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    aw_app *app = fuzz_app = aw_app_new();
    aw_app *admin = aw_app_new();
    int rc = 0;
    rc |= aw_app_route(app, "GET", "/", h_root, NULL);
    rc |= aw_app_route(app, "GET", "/users/{id}", h_user, &(aw_route_opts){.name = "user"});
    rc |= aw_app_route(app, "GET", "/n/{n:[0-9]+}", h_num, NULL);
    rc |= aw_app_route(app, "*", "/static/{path:.*}", h_static, NULL);
    rc |= aw_app_route(app, "GET", "/redirect", h_redirect, NULL);
    rc |= aw_app_route(app, "POST", "/body", h_body, NULL);
    rc |= aw_app_route(app, "POST", "/read", h_read, NULL);
    rc |= aw_app_route(app, "PUT", "/json", h_json, &(aw_route_opts){.atomic = 1});
    rc |= aw_app_route(app, "POST", "/json", h_json, NULL);
    rc |= aw_app_route(app, "POST", "/form", h_form, NULL);
    rc |= aw_app_route(app, "POST", "/multipart", h_multipart, NULL);
    rc |= aw_app_route(app, "POST", "/ignore", h_ignore, NULL);
    rc |= aw_app_route(app, "GET", "/ws", h_ws, NULL);
    rc |= aw_app_route(admin, "GET", "/{x}", h_admin, NULL);
    rc |= aw_app_use(admin, mw_admin, NULL);
    rc |= aw_app_add_subapp(app, "/admin", admin);
    if (rc)
        abort();
    char err[256];
    fuzz_config(&fuzz_cfg);
    /* small limits, so that inputs of a few KiB reach every refusal */
    static const char *const limits[][2] = {{"max_request_line", "512"},
                                             {"max_field_size", "512"},
                                             {"max_headers", "16"},
                                             {"client_max_size", "4K"}};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (aw_config_set(&fuzz_cfg, "limits", limits[i][0], limits[i][1], err, sizeof err))
            abort();
    fuzz_path = fuzz_serve(app, &fuzz_cfg, "server", &fuzz_srv);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const fuzz_reply *r = fuzz_converse(fuzz_path, NULL, 0, data + 1, size - 1, data[0]);
    if (r->len >= 7 && memcmp(r->buf, "HTTP/1.", 7) != 0) {
        fprintf(stderr, "fuzz: the reply is not HTTP: %.40s\n", r->buf);
        abort();
    }
    fuzz_server_settle(fuzz_srv);
    return 0;
}
