/* hello: aweb's smallest server, in the shape of aiohttp's first example.
 *
 *   GET /               plain text
 *   GET /json           a JSON object
 *   GET /hello/{name}   a greeting from the path
 *   GET /stream         a streamed (chunked) body, one line every 100 ms
 *   GET /slow?ms=N      answers after N milliseconds (default 1000)
 *   GET /ws             a WebSocket echo: text and binary messages come back
 *                       as they went (permessage-deflate offered)
 *   GET /static/...     the files of examples/hello/static ([static] directory)
 *   GET /fail           a handler that fails: the error page hides why
 *
 * The middleware set, outermost first: request id (X-Request-ID, in every
 * log line), error pages (JSON or HTML by Accept), security headers, CORS
 * (the origin http://example.com only), compression (gzip, deflate). The
 * access log is [log]'s. Each reads its section of the configuration file.
 * --bare leaves the set out: the routes alone, as the HTTP benchmark
 * compares them with nginx's `return 200` (its figures with the set are
 * printed beside).
 *
 * Run: build/examples/hello [--bare] [--listen HOST:PORT] [--conf FILE]
 */
#include <aweb/aweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aw_response *index_page(aw_request *req)
{
    return aw_response_text(req, 200, "Hello, World!");
}

static aw_response *json_page(aw_request *req)
{
    return aw_response_json(req, 200, json_pack("{s:s, s:s}", "message", "Hello, World!",
                                                "server", "aweb"));
}

static aw_response *hello_name(aw_request *req)
{
    return aw_response_textf(req, 200, "Hello, %s!", aw_request_match(req, "name"));
}

static aw_response *stream(aw_request *req)
{
    aw_response *resp = aw_response_stream(req, 200);
    aw_response_set_content_type(resp, "text/plain; charset=utf-8");
    for (int i = 1; i <= 5; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "line %d\n", i);
        int rc = aw_response_write(resp, line, (size_t)n);
        if (rc == 0)
            rc = aw_sleep(100);
        if (rc)
            return aw_fail(req, rc); /* the client left */
    }
    aw_response_write_eof(resp);
    return resp;
}

static aw_response *slow(aw_request *req)
{
    const char *ms = aw_request_query(req, "ms");
    int rc = aw_sleep(ms ? atoll(ms) : 1000);
    if (rc)
        return aw_fail(req, rc);
    return aw_response_text(req, 200, "done");
}

static aw_response *ws_echo(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(req, &(aw_ws_opts){.heartbeat_ms = 30000});
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, AW_FOREVER) == 0) {
        if (m.type == AW_WS_TEXT)
            aw_ws_send_text(ws, m.data, m.len);
        else if (m.type == AW_WS_BINARY)
            aw_ws_send_binary(ws, m.data, m.len);
    }
    return aw_ws_finish(ws);
}

static aw_response *fail(aw_request *req)
{
    aw_log(AW_LOG_ERROR, "the database at 10.0.0.7 refused us (this stays in the log)");
    return aw_fail(req, AW_ECONNREFUSED);
}

static void use_middlewares(aw_app *app)
{
    aw_request_id_use(app, NULL);
    aw_error_pages_use(app, NULL);
    aw_security_headers_use(app, NULL);
    aw_cors_opts cors;
    aw_cors_opts_default(&cors);
    cors.origins = "http://example.com";
    aw_cors_use(app, &cors);
    aw_compress_use(app, NULL);
    /* relative to where it is started: make run starts it at the top */
    if (!aw_static_add(app, "/static", "examples/hello/static", NULL))
        fprintf(stderr, "hello: no /static: %s\n", aw_last_error());
}

int main(int argc, char **argv)
{
    aw_app *app = aw_app_new();
    if (argc > 1 && !strcmp(argv[1], "--bare")) {
        argv[1] = argv[0]; /* the rest is aw_app_main's */
        argc--;
        argv++;
    } else
        use_middlewares(app);
    aw_app_route(app, "GET", "/", index_page, NULL);
    aw_app_route(app, "GET", "/json", json_page, NULL);
    aw_app_route(app, "GET", "/hello/{name}", hello_name, &(aw_route_opts){.name = "hello"});
    aw_app_route(app, "GET", "/stream", stream, NULL);
    aw_app_route(app, "GET", "/slow", slow, NULL);
    aw_app_route(app, "GET", "/ws", ws_echo, NULL);
    aw_app_route(app, "GET", "/fail", fail, NULL);
    int rc = aw_app_main(app, argc, argv);
    aw_app_free(app);
    return rc;
}
