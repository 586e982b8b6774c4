/* Response-header injection through values an application might take from
 * user input (a query parameter, a form field): CR, LF and other control
 * characters in header values, cookie values and attributes, redirect
 * locations, content types and SSE fields. The API refuses them (AW_EINVAL,
 * or NULL from a constructor, which the server answers with 500), so the
 * response is never split: exactly one response, no injected header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpserver.h"
#include "testutil.h"

TestSuite(abuse_inject, .timeout = 30, .fini = tu_fini);

/* GET /h/{how}?v=VALUE: puts the decoded query value where {how} says. */
static aw_response *h_inject(aw_request *req)
{
    const char *how = aw_request_match(req, "how"), *v = aw_request_query(req, "v");
    if (!v)
        return aw_http_error(req, 400, "no v");
    if (!strcmp(how, "redirect"))
        return aw_response_redirect(req, 302, v); /* NULL when refused: 500 */
    if (!strcmp(how, "bytes"))
        return aw_response_bytes(req, 200, "x", 1, v);
    aw_response *r = aw_response_text(req, 200, "body");
    int rc = 0;
    if (!strcmp(how, "header"))
        rc = aw_response_set_header(r, "X-User", v);
    else if (!strcmp(how, "add"))
        rc = aw_response_add_header(r, "X-User", v);
    else if (!strcmp(how, "name"))
        rc = aw_response_set_header(r, v, "value");
    else if (!strcmp(how, "type"))
        rc = aw_response_set_content_type(r, v);
    else if (!strcmp(how, "cookie"))
        rc = aw_response_set_cookie(r, "session", v, NULL);
    else if (!strcmp(how, "cookie-name"))
        rc = aw_response_set_cookie(r, v, "1", NULL);
    else if (!strcmp(how, "cookie-path"))
        rc = aw_response_set_cookie(r, "session", "1", &(aw_cookie_opts){.path = v});
    else if (!strcmp(how, "cookie-domain"))
        rc = aw_response_set_cookie(r, "session", "1", &(aw_cookie_opts){.domain = v});
    else if (!strcmp(how, "headers"))
        rc = aw_headers_add(aw_response_headers(r), "X-User", v);
    /* a handler that checks: the refusal becomes its own 400 */
    return rc ? aw_http_error(req, 400, "refused") : r;
}

/* GET /sse?v=VALUE: an event name and id from user input. */
static aw_response *h_sse(aw_request *req)
{
    const char *v = aw_request_query(req, "v");
    aw_response *r = aw_response_stream(req, 200);
    int bad_event = aw_sse_send(r, v, "data", NULL);
    int bad_id = aw_sse_send(r, "e", "data", v);
    char line[64];
    snprintf(line, sizeof line, "refused=%d,%d", bad_event == AW_EINVAL, bad_id == AW_EINVAL);
    aw_sse_send(r, "result", line, NULL);
    /* data with newlines is split into data: lines, never a new field */
    aw_sse_send(r, "multi", v, NULL);
    aw_response_write_eof(r);
    return r;
}

static aw_app *inject_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/h/{how}", h_inject, NULL);
    aw_app_route(app, "GET", "/sse", h_sse, NULL);
    return app;
}

/* GETs path on a new connection; returns the status, with the response in
 * buf. Asserts that exactly one response came and nothing was injected. */
static int get(tu_server *s, const char *path, char *buf, size_t cap)
{
    int fd = tu_connect(s->port);
    char req[1024];
    int closed;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    tu_sends(fd, req);
    tu_recv_all(fd, buf, cap, 3000, &closed);
    close(fd);
    cr_assert(closed, "%s: no close", path);
    cr_assert_eq(tu_count(buf, "HTTP/1.1 "), 1, "%s: the response was split:\n%s", path, buf);
    const char *end = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(end, "%s: no head end", path);
    /* no injected field in the head, and no bare CR or LF inside it */
    size_t hlen = (size_t)(end - buf);
    cr_assert_null(memmem(buf, hlen, "Injected", 8), "%s: a header was injected:\n%s", path, buf);
    for (size_t i = 0; i < hlen; i++) {
        if (buf[i] == '\r')
            cr_assert_eq(buf[i + 1], '\n', "%s: a bare CR in the head", path);
        if (buf[i] == '\n')
            cr_assert(i > 0 && buf[i - 1] == '\r', "%s: a bare LF in the head", path);
        cr_assert(!((unsigned char)buf[i] < 0x20 && !strchr("\r\n\t", buf[i])),
                  "%s: control character 0x%02x in the head", path, buf[i]);
    }
    return tu_status(buf);
}

static const char *const payloads[] = {
    "a%0D%0AInjected:%20yes",                              /* CRLF */
    "a%0AInjected:%20yes",                                 /* LF alone */
    "a%0DInjected:%20yes",                                 /* CR alone */
    "a%0D%0A%0D%0AHTTP/1.1%20200%20OK%0D%0AInjected:%201", /* a whole second response */
    "a%0BInjected",
    "a%0CInjected",
    "a%7FInjected",
    "a%01Injected", /* other controls */
};

Test(abuse_inject, user_input_with_control_characters_never_splits_a_response)
{
    tu_server s;
    tu_server_start(&s, inject_app(), NULL);
    static char buf[16384];
    char path[512];
    static const char *const checked[] = {"header",      "add",           "name",
                                          "type",        "cookie",        "cookie-name",
                                          "cookie-path", "cookie-domain", "headers"};
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++)
        for (size_t k = 0; k < sizeof payloads / sizeof payloads[0]; k++) {
            snprintf(path, sizeof path, "/h/%s?v=%s", checked[i], payloads[k]);
            cr_assert_eq(get(&s, path, buf, sizeof buf), 400, "%s: not refused:\n%s", path, buf);
        }
    /* constructors give NULL: the server answers 500 */
    static const char *const ctors[] = {"redirect", "bytes"};
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < sizeof payloads / sizeof payloads[0]; k++) {
            snprintf(path, sizeof path, "/h/%s?v=%s", ctors[i], payloads[k]);
            cr_assert_eq(get(&s, path, buf, sizeof buf), 500, "%s: not refused:\n%s", path, buf);
        }
    /* a NUL: the query decoder refuses %00 (no parameters: the handler's
     * 400); were it kept, the C string would end there. Never a split. */
    int st = get(&s, "/h/header?v=a%00%0D%0AInjected:%201", buf, sizeof buf);
    cr_assert(st == 400 || (st == 200 && strstr(buf, "X-User: a\r\n")), "%s", buf);
    st = get(&s, "/h/redirect?v=/ok%00%0D%0AInjected:%201", buf, sizeof buf);
    cr_assert(st == 400 || (st == 302 && strstr(buf, "Location: /ok\r\n")), "%s", buf);
    /* harmless values still pass: tabs, UTF-8, quotes */
    cr_assert_eq(get(&s, "/h/header?v=a%09b%20%C3%A9%22q%22", buf, sizeof buf), 200, "%s", buf);
    cr_assert(strstr(buf, "X-User: a\tb \xc3\xa9\"q\"\r\n"), "%s", buf);
    cr_assert_eq(get(&s, "/h/redirect?v=/next%3Fa%3D1", buf, sizeof buf), 302);
    cr_assert(strstr(buf, "Location: /next?a=1\r\n"), "%s", buf);
    cr_assert_eq(get(&s, "/h/cookie?v=abc123", buf, sizeof buf), 200);
    cr_assert(strstr(buf, "Set-Cookie: session=abc123; Path=/\r\n"), "%s", buf);
    /* cookie values with ; or a space would add attributes: refused too */
    cr_assert_eq(get(&s, "/h/cookie?v=a%3B%20Domain%3Devil.example", buf, sizeof buf), 400, "%s",
                 buf);
    tu_server_stop(&s);
}

Test(abuse_inject, server_sent_event_fields_from_user_input_are_refused_or_split_safely)
{
    tu_server s;
    tu_server_start(&s, inject_app(), NULL);
    static char buf[16384];
    get(&s, "/sse?v=a%0D%0Adata:%20Injected%0A%0Aevent:%20evil", buf, sizeof buf);
    cr_assert(strstr(buf, "refused=1,1"), "%s", buf);
    /* the multi-line data became data: lines of one event */
    cr_assert(
        strstr(buf, "event: multi\ndata: a\ndata: data: Injected\ndata: \ndata: event: evil\n"),
        "%s", buf);
    cr_assert_null(strstr(buf, "\nevent: evil"), "%s", buf);
    tu_server_stop(&s);
}
