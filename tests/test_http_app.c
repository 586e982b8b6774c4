/* The app: routing rules, 404/405, HEAD, URL building, sub-apps, middlewares,
 * signals, state, and what requests and responses carry. Through the test
 * client (aweb's TestServer/TestClient) inside one loop. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(http_app, .timeout = 30, .fini = tu_fini);

static aw_response *h_text(aw_request *req) { return aw_response_text(req, 200, "root"); }
static aw_response *h_user(aw_request *req)
{
    return aw_response_textf(req, 200, "user %s", aw_request_match(req, "id"));
}
static aw_response *h_num(aw_request *req)
{
    return aw_response_textf(req, 200, "num %s", aw_request_match(req, "id"));
}
static aw_response *h_static(aw_request *req)
{
    return aw_response_textf(req, 200, "static %s", aw_request_match(req, "path"));
}
static aw_response *h_post(aw_request *req) { return aw_response_text(req, 201, "created"); }

static aw_app *routes_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/", h_text, NULL);
    aw_app_route(app, "GET", "/users/{id}", h_user, &(aw_route_opts){.name = "user"});
    aw_app_route(app, "POST", "/users/{id}", h_post, NULL);
    aw_app_route(app, "GET", "/n/{id:[0-9]+}", h_num, NULL);
    aw_app_route(app, "GET", "/static/{path:.*}", h_static, &(aw_route_opts){.name = "static"});
    return app;
}

static void expect(aw_test_server *ts, const char *method, const char *path, int status,
                   const char *body)
{
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, method, path, NULL, NULL, 0, &r), 0, "%s %s", method, path);
    cr_assert_eq(r.status, status, "%s %s: %d", method, path, r.status);
    if (body)
        cr_assert_str_eq(r.body, body, "%s %s", method, path);
    aw_test_response_free(&r);
}

static int routing_main(void *arg)
{
    (void)arg;
    aw_app *app = routes_app();
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    expect(ts, "GET", "/", 200, "root");
    expect(ts, "GET", "/users/42", 200, "user 42");
    expect(ts, "GET", "/users/a%20b", 200, "user a b");
    /* an encoded '/' is one segment, and parameters arrive fully decoded */
    expect(ts, "GET", "/users/a%2Fb", 200, "user a/b");
    expect(ts, "GET", "/users/a%252Fb", 200, "user a%2Fb");
    expect(ts, "POST", "/users/7", 201, "created");
    expect(ts, "GET", "/n/123", 200, "num 123");
    expect(ts, "GET", "/n/abc", 404, NULL);
    expect(ts, "GET", "/static/css/site.css", 200, "static css/site.css");
    expect(ts, "GET", "/nowhere", 404, NULL);
    expect(ts, "GET", "/users/1/extra", 404, NULL);
    /* 405 with the methods the path allows */
    aw_test_response r;
    aw_test_request(ts, "DELETE", "/users/1", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(aw_test_header(&r, "Allow"), "GET, HEAD, POST");
    aw_test_response_free(&r);
    /* HEAD: the GET route's head, no body */
    aw_test_request(ts, "HEAD", "/users/9", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    cr_assert_str_eq(aw_test_header(&r, "Content-Length"), "6");
    aw_test_response_free(&r);
    /* URL building */
    char url[128];
    cr_assert_gt(aw_app_url_for(app, url, sizeof url, "user", "id", "a/b c", NULL), 0);
    cr_assert_str_eq(url, "/users/a%2Fb%20c");
    cr_assert_gt(aw_app_url_for(app, url, sizeof url, "static", "path", "img/x.png", NULL), 0);
    cr_assert_str_eq(url, "/static/img/x.png");
    cr_assert_eq(aw_app_url_for(app, url, sizeof url, "nope", NULL), AW_ENOENT);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(http_app, routes_resolve_with_404_405_and_head) { tu_run(routing_main, NULL); }

Test(http_app, a_bad_pattern_is_refused_where_it_is_added)
{
    aw_app *app = aw_app_new();
    cr_assert_eq(aw_app_route(app, "GET", "/a/{id", h_text, NULL), AW_EINVAL);
    cr_assert(strstr(aw_last_error(), "/a/{id"), "%s", aw_last_error());
    cr_assert_eq(aw_app_route(app, "GET", "/b/{x:[}", h_text, NULL), AW_EINVAL);
    cr_assert_eq(aw_app_route(app, "GET", "/c", h_text, &(aw_route_opts){.name = "c"}), 0);
    aw_app_free(app);
}

/* --- sub-apps and middlewares -------------------------------------------- */

static aw_response *tag_mw(aw_request *req, aw_next *next, void *arg)
{
    const char *tag = arg;
    aw_response *r = aw_next_call(next, req);
    if (r) {
        /* on the way out: the innermost runs first, so the outermost is last */
        const char *seen = aw_headers_get(aw_response_headers(r), "X-Trail");
        char buf[128];
        snprintf(buf, sizeof buf, "%s%s", seen ? seen : "", tag);
        aw_response_set_header(r, "X-Trail", buf);
    }
    return r;
}

static aw_response *gate_mw(aw_request *req, aw_next *next, void *arg)
{
    (void)arg;
    if (aw_request_header(req, "X-Deny"))
        return aw_http_error(req, 403, "denied");
    return aw_next_call(next, req);
}

static aw_response *h_admin(aw_request *req)
{
    return aw_response_textf(req, 200, "admin %s %s", aw_request_match(req, "x"),
                             (char *)aw_app_get(aw_request_app(req), "who"));
}

static int subapp_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new(), *admin = aw_app_new();
    aw_app_route(app, "GET", "/", h_text, NULL);
    aw_app_use(app, tag_mw, "A");
    aw_app_use(app, tag_mw, "B");
    aw_app_set(app, "who", "root-state");
    aw_app_route(admin, "GET", "/panel/{x}", h_admin, &(aw_route_opts){.name = "panel"});
    aw_app_use(admin, tag_mw, "C");
    aw_app_use(admin, gate_mw, NULL);
    cr_assert_eq(aw_app_add_subapp(app, "/admin", admin), 0);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    aw_test_get(ts, "/admin/panel/7", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "admin 7 root-state", "a sub-app sees its parent's state");
    cr_assert_str_eq(aw_test_header(&r, "X-Trail"), "CBA", "onion order: parent's outside");
    aw_test_response_free(&r);
    aw_test_get(ts, "/", &r);
    cr_assert_str_eq(aw_test_header(&r, "X-Trail"), "BA", "the sub-app's middleware stays in it");
    aw_test_response_free(&r);
    aw_test_request(ts, "GET", "/admin/panel/1", "X-Deny: 1\r\n", NULL, 0, &r);
    cr_assert_eq(r.status, 403, "a middleware may answer without calling the handler");
    aw_test_response_free(&r);
    char url[64];
    aw_app_url_for(admin, url, sizeof url, "panel", "x", "9", NULL);
    cr_assert_str_eq(url, "/admin/panel/9");
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(http_app, sub_apps_have_their_prefix_middlewares_and_state) { tu_run(subapp_main, NULL); }

/* --- signals -------------------------------------------------------------- */

static char signal_trail[64];

static int sig_start(aw_app *app, void *arg)
{
    (void)app;
    strcat(signal_trail, arg);
    return aw_sleep(1); /* signals run in a task: they may wait */
}

static void on_prepare(aw_request *req, aw_response *resp, void *arg)
{
    (void)req;
    aw_response_set_header(resp, "X-Prepared", arg);
}

static int signals_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new(), *sub = aw_app_new();
    aw_app_route(app, "GET", "/", h_text, NULL);
    aw_app_on_startup(app, sig_start, "s");
    aw_app_on_startup(sub, sig_start, "S");
    aw_app_on_shutdown(app, sig_start, "d");
    aw_app_on_cleanup(app, sig_start, "c");
    aw_app_on_response_prepare(app, on_prepare, "yes");
    aw_app_add_subapp(app, "/sub", sub);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    cr_assert_str_eq(signal_trail, "sS");
    aw_test_response r;
    aw_test_get(ts, "/", &r);
    cr_assert_str_eq(aw_test_header(&r, "X-Prepared"), "yes");
    aw_test_response_free(&r);
    aw_test_get(ts, "/missing", &r);
    cr_assert_str_eq(aw_test_header(&r, "X-Prepared"), "yes", "error pages are prepared too");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    cr_assert_str_eq(signal_trail, "sSdc");
    aw_app_free(app);
    return 0;
}

Test(http_app, startup_shutdown_cleanup_and_prepare_signals_run) { tu_run(signals_main, NULL); }

/* --- requests ---------------------------------------------------------------- */

static aw_response *h_echo(aw_request *req)
{
    const char *all[4];
    size_t n = aw_request_query_all(req, "tag", all, 4);
    json_t *j = json_pack("{s:s, s:s, s:s?, s:i, s:s?, s:s?, s:s?, s:s}", "method",
                          aw_request_method(req), "path", aw_request_path(req), "q",
                          aw_request_query(req, "q"), "tags", (int)n, "ua",
                          aw_request_header(req, "user-agent"), "cookie",
                          aw_request_cookie(req, "session"), "raw", aw_request_raw_path(req),
                          "qs", aw_request_query_string(req));
    return aw_response_json(req, 200, j);
}

static aw_response *h_json_in(aw_request *req)
{
    json_t *in;
    int rc = aw_request_json(req, &in);
    if (rc)
        return aw_http_error(req, 400, aw_last_error());
    json_t *out = json_pack("{s:O, s:b}", "got", in, "ok", 1);
    return aw_response_json(req, 200, out);
}

static aw_response *h_form(aw_request *req)
{
    const char *vals[4];
    size_t n = aw_request_form_all(req, "b", vals, 4);
    return aw_response_textf(req, 200, "a=%s b=%zu:%s,%s", aw_request_form(req, "a"), n,
                             n > 0 ? vals[0] : "", n > 1 ? vals[1] : "");
}

static aw_response *h_cookies(aw_request *req)
{
    aw_response *r = aw_response_text(req, 200, "cookies");
    aw_response_set_cookie(r, "session", "abc123", &(aw_cookie_opts){.max_age = 60,
                                                                     .httponly = 1,
                                                                     .samesite = "Lax"});
    aw_response_del_cookie(r, "old", NULL);
    cr_assert_eq(aw_response_set_cookie(r, "bad;name", "x", NULL), AW_EINVAL);
    cr_assert_eq(aw_response_set_cookie(r, "n", "v\r\nX-Evil: 1", NULL), AW_EINVAL);
    cr_assert_eq(aw_response_set_header(r, "X-Inject", "a\r\nSet-Cookie: evil=1"), AW_EINVAL);
    cr_assert_eq(aw_response_set_header(r, "Bad Name", "v"), AW_EINVAL);
    return r;
}

static aw_response *h_redirect(aw_request *req) { return aw_response_redirect(req, 302, "/"); }

static int request_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_app_route(app, "*", "/echo/{rest:.*}", h_echo, NULL);
    aw_app_route(app, "POST", "/json", h_json_in, NULL);
    aw_app_route(app, "POST", "/form", h_form, NULL);
    aw_app_route(app, "GET", "/cookies", h_cookies, NULL);
    aw_app_route(app, "GET", "/redirect", h_redirect, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    aw_test_request(ts, "PUT", "/echo/a%20b?q=h%C3%A9llo+w&tag=1&tag=2&tag=3", 
                    "User-Agent: tester/1.0\r\nCookie: theme=dark; session=s3cr3t\r\n", NULL, 0,
                    &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    cr_assert_not_null(j, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(j, "method")), "PUT");
    cr_assert_str_eq(json_string_value(json_object_get(j, "path")), "/echo/a b");
    cr_assert_str_eq(json_string_value(json_object_get(j, "q")), "h\xc3\xa9llo w");
    cr_assert_eq(json_integer_value(json_object_get(j, "tags")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(j, "ua")), "tester/1.0");
    cr_assert_str_eq(json_string_value(json_object_get(j, "cookie")), "s3cr3t");
    cr_assert_str_eq(json_string_value(json_object_get(j, "raw")),
                     "/echo/a%20b?q=h%C3%A9llo+w&tag=1&tag=2&tag=3");
    json_decref(j);
    aw_test_response_free(&r);

    const char *body = "{\"x\": [1, 2, {\"y\": \"z\"}]}";
    aw_test_request(ts, "POST", "/json", "Content-Type: application/json\r\n", body,
                    strlen(body), &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"got\":{\"x\":[1,2,{\"y\":\"z\"}]},\"ok\":true}");
    cr_assert_str_eq(aw_test_header(&r, "Content-Type"), "application/json");
    aw_test_response_free(&r);
    aw_test_request(ts, "POST", "/json", NULL, "{nope", 5, &r);
    cr_assert_eq(r.status, 400);
    cr_assert(strstr(r.body, "JSON"), "%s", r.body);
    aw_test_response_free(&r);

    const char *form = "a=hello+there&b=1&b=%26two";
    aw_test_request(ts, "POST", "/form", "Content-Type: application/x-www-form-urlencoded\r\n",
                    form, strlen(form), &r);
    cr_assert_str_eq(r.body, "a=hello there b=2:1,&two");
    aw_test_response_free(&r);

    aw_test_get(ts, "/cookies", &r);
    const char *sc[2];
    cr_assert_eq(aw_headers_get_all(&r.headers, "Set-Cookie", sc, 2), 2);
    cr_assert_str_eq(sc[0], "session=abc123; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
    cr_assert(strstr(sc[1], "old=; Path=/; Max-Age=0"), "%s", sc[1]);
    cr_assert_null(aw_test_header(&r, "X-Inject"));
    aw_test_response_free(&r);

    aw_test_get(ts, "/redirect", &r);
    cr_assert_eq(r.status, 302);
    cr_assert_str_eq(aw_test_header(&r, "Location"), "/");
    cr_assert_not_null(aw_test_header(&r, "Date"));
    cr_assert_str_eq(aw_test_header(&r, "Server"), "aweb");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(http_app, query_headers_cookies_json_and_forms_round_trip) { tu_run(request_main, NULL); }

/* --- handler failures, streaming ------------------------------------------------ */

static aw_response *h_fail(aw_request *req) { return aw_fail(req, AW_ECONNREFUSED); }
static aw_response *h_null(aw_request *req)
{
    (void)req;
    return NULL;
}

static aw_response *h_sse(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    aw_sse_send(r, "greeting", "hello\nworld", "1");
    aw_sse_send(r, NULL, "bye", NULL);
    aw_response_write_eof(r);
    return r;
}

static aw_response *h_chunks(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    for (int i = 0; i < 3; i++)
        aw_response_write(r, "chunk;", 6);
    aw_response_write_eof(r);
    return r;
}

static int failure_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/fail", h_fail, NULL);
    aw_app_route(app, "GET", "/null", h_null, NULL);
    aw_app_route(app, "GET", "/sse", h_sse, NULL);
    aw_app_route(app, "GET", "/chunks", h_chunks, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    aw_test_get(ts, "/fail", &r);
    cr_assert_eq(r.status, 500);
    cr_assert_null(strstr(r.body, "refused"), "no internals in the page: %s", r.body);
    aw_test_response_free(&r);
    aw_test_get(ts, "/null", &r);
    cr_assert_eq(r.status, 500);
    aw_test_response_free(&r);
    aw_test_get(ts, "/sse", &r);
    cr_assert_str_eq(aw_test_header(&r, "Content-Type"), "text/event-stream");
    cr_assert_str_eq(aw_test_header(&r, "Transfer-Encoding"), "chunked");
    cr_assert_str_eq(r.body, "event: greeting\nid: 1\ndata: hello\ndata: world\n\ndata: bye\n\n");
    aw_test_response_free(&r);
    aw_test_get(ts, "/chunks", &r);
    cr_assert_str_eq(r.body, "chunk;chunk;chunk;");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(http_app, failing_handlers_get_500_and_streams_are_chunked) { tu_run(failure_main, NULL); }

/* a part of the app reads its own section of the file aw_app_main loads */
static int greet_set(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
    if (strcmp(key, "word") != 0) {
        snprintf(err, errlen, "unknown key '%s' in [greet]", key);
        return AW_EINVAL;
    }
    snprintf(arg, 32, "%s", value);
    return 0;
}

Test(http_app, app_config_sections_are_read_by_aw_app_main)
{
    char word[32] = "", path[64];
    snprintf(path, sizeof path, "/tmp/aweb-appconf-%d.conf", getpid());
    FILE *f = fopen(path, "w");
    fputs("[greet]\nword = hello\nloud = yes\n", f);
    fclose(f);
    aw_app *app = aw_app_new();
    cr_assert_eq(aw_app_config_section(app, "greet", greet_set, word), 0);
    char *argv[] = {"hello", "--conf", path, NULL};
    /* the bad key on line 3 stops start-up (status 2) after word was set */
    cr_assert_eq(aw_app_main(app, 3, argv), 2);
    cr_assert_str_eq(word, "hello");
    aw_app_free(app);
    unlink(path);
}
