/* The HTTP client's requests and answers, against aweb's own server (on its
 * own thread) and Python's http.server: redirects, bodies both ways (decoding,
 * encoding, limits), and answers as curl sees them. Connections (pooling,
 * limits, timeouts and cancellation, TLS, a partial answer) are in
 * test_client_connections.c; the server side both use is in
 * helpers/clientserver.h. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "clientserver.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(client, .timeout = 90, .fini = tu_fini);

/* --- the server's side ------------------------------------------------------ */

static aw_response *h_redirect(aw_request *req)
{
    int code = atoi(aw_request_match(req, "code"));
    int n = atoi(aw_request_match(req, "n"));
    char loc[64];
    if (n <= 0)
        return aw_response_text(req, 200, "landed");
    snprintf(loc, sizeof loc, "/r/%d/%d", code, n - 1);
    return aw_response_redirect(req, code, loc);
}

static aw_response *h_loop(aw_request *req) { return aw_response_redirect(req, 302, "/loop"); }

/* a relative Location with dot segments and a query, joined to /a/b/rel */
static aw_response *h_relative(aw_request *req)
{
    return aw_response_redirect(req, 302, "./../../r/302/0?via=rel");
}

static aw_response *h_method(aw_request *req)
{
    const char *body = "";
    size_t len = 0;
    aw_request_body(req, &body, &len);
    return aw_response_textf(req, 200, "%s %s auth=%s", aw_request_method(req), body,
                             aw_request_header(req, "Authorization") ? "yes" : "no");
}

static aw_response *h_chunked(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    for (int i = 0; i < 10; i++)
        aw_response_write(r, "0123456789", 10);
    aw_response_write_eof(r);
    return r;
}

static aw_response *h_gzip(aw_request *req)
{
    static char plain[100000], packed[100000];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (char)('a' + i % 7);
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)plain;
    z.avail_in = sizeof plain;
    z.next_out = (Bytef *)packed;
    z.avail_out = sizeof packed;
    deflate(&z, Z_FINISH);
    size_t n = sizeof packed - z.avail_out;
    deflateEnd(&z);
    aw_response *r = aw_response_bytes(req, 200, packed, n, "text/plain");
    aw_response_set_header(r, "Content-Encoding", "gzip");
    return r;
}

static aw_response *h_big(aw_request *req)
{
    size_t n = 2 << 20;
    char *b = aw_request_alloc(req, n);
    memset(b, 'x', n);
    return aw_response_static(req, 200, b, n, "application/octet-stream");
}

static aw_response *h_cookie(aw_request *req)
{
    aw_response *r = aw_response_textf(
        req, 200, "cookie=%s", aw_request_cookie(req, "sid") ? aw_request_cookie(req, "sid") : "");
    aw_response_set_cookie(r, "sid", "s1", NULL);
    return r;
}

/* redirects to /method with the code in the path */
static aw_response *h_to_method(aw_request *req)
{
    return aw_response_redirect(req, atoi(aw_request_match(req, "code")), "/method");
}

/* redirects to the same server under another host name */
static aw_response *h_cross(aw_request *req)
{
    const char *host = aw_request_header(req, "Host");
    char loc[128];
    snprintf(loc, sizeof loc, "http://localhost%s/method", strchr(host, ':'));
    return aw_response_redirect(req, 307, loc);
}

/* the body as the server got it, with its type */
static aw_response *h_echo(aw_request *req)
{
    const char *body = "";
    size_t len = 0;
    int rc = aw_request_body(req, &body, &len);
    const char *ct = aw_request_header(req, "Content-Type");
    const char *te = aw_request_header(req, "Transfer-Encoding");
    const char *ex = aw_request_header(req, "Expect");
    return aw_response_textf(req, rc ? 500 : 200, "%s|%s|%s|%.*s", ct ? ct : "-", te ? te : "-",
                             ex ? ex : "-", (int)len, body);
}

static aw_response *h_deflate(aw_request *req)
{
    static const char text[] = "deflated text, deflated text, deflated text";
    static unsigned char packed[256];
    uLongf n = sizeof packed;
    compress2(packed, &n, (const Bytef *)text, sizeof text - 1, 6); /* zlib-wrapped */
    aw_response *r = aw_response_bytes(req, 200, packed, n, "text/plain");
    aw_response_set_header(r, "Content-Encoding", "deflate");
    return r;
}

/* 2,000 '[': jansson would recurse past a task's stack */
static aw_response *h_deep(aw_request *req)
{
    static char deep[2000];
    memset(deep, '[', sizeof deep);
    return aw_response_static(req, 200, deep, sizeof deep, "application/json");
}

static aw_app *client_app(void)
{
    aw_app *app = tu_client_app();
    aw_app_route(app, "*", "/r/{code}/{n}", h_redirect, NULL);
    aw_app_route(app, "GET", "/loop", h_loop, NULL);
    aw_app_route(app, "GET", "/a/b/rel", h_relative, NULL);
    aw_app_route(app, "*", "/method", h_method, NULL);
    aw_app_route(app, "GET", "/chunked", h_chunked, NULL);
    aw_app_route(app, "GET", "/gzip", h_gzip, NULL);
    aw_app_route(app, "GET", "/big", h_big, NULL);
    aw_app_route(app, "GET", "/cookie", h_cookie, NULL);
    aw_app_route(app, "*", "/to-method/{code}", h_to_method, NULL);
    aw_app_route(app, "*", "/cross", h_cross, NULL);
    aw_app_route(app, "*", "/echo", h_echo, NULL);
    aw_app_route(app, "GET", "/deflate", h_deflate, NULL);
    aw_app_route(app, "GET", "/deep", h_deep, NULL);
    return app;
}

/* --- redirects -------------------------------------------------------------------- */

static int send_text(aw_client *c, const char *method, const char *path, const char *body,
                     const char *headers, char *out, size_t cap, size_t *hist)
{
    aw_client_response *r;
    aw_client_request q = {.method = method,
                           .url = tu_url(path),
                           .headers = headers,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .content_type = body ? "text/plain" : NULL};
    int rc = aw_client_send(c, &q, &r);
    if (rc)
        return rc;
    const char *b;
    size_t n;
    aw_client_response_body(r, &b, &n);
    snprintf(out, cap, "%d %s", aw_client_response_status(r), b);
    if (hist)
        *hist = aw_client_response_history(r);
    aw_client_response_free(r);
    return 0;
}

static int redirect_main(void *arg)
{
    (void)arg;
    aw_client *c = aw_client_new(NULL);
    char out[256];
    size_t hist;
    int codes[] = {301, 302, 303, 307, 308};
    for (int i = 0; i < 5; i++) {
        char path[32];
        snprintf(path, sizeof path, "/r/%d/3", codes[i]);
        cr_assert_eq(send_text(c, "GET", path, NULL, NULL, out, sizeof out, &hist), 0);
        cr_assert_str_eq(out, "200 landed", "%d chain", codes[i]);
        cr_assert_eq(hist, 3);
    }
    /* history: each step's status and URL */
    aw_client_response *r;
    cr_assert_eq(aw_client_get(c, tu_url("/r/302/2"), &r), 0);
    const char *u;
    cr_assert_eq(aw_client_response_history_at(r, 0, &u), 302);
    cr_assert(strstr(u, "/r/302/2"), "%s", u);
    cr_assert(strstr(aw_client_response_url(r), "/r/302/0"), "%s", aw_client_response_url(r));
    aw_client_response_free(r);
    /* a relative Location is joined to the request's URL, dot segments removed */
    cr_assert_eq(aw_client_get(c, tu_url("/a/b/rel"), &r), 0);
    cr_assert_eq(aw_client_response_status(r), 200);
    cr_assert(strstr(aw_client_response_url(r), "/r/302/0?via=rel"), "%s",
              aw_client_response_url(r));
    aw_client_response_free(r);
    /* a loop ends with an error after 10 */
    cr_assert_eq(aw_client_get(c, tu_url("/loop"), &r), AW_EPROTO);
    cr_assert(strstr(aw_last_error(), "more than 10 redirects"), "%s", aw_last_error());
    /* 303 and a POST through 301/302 become GET without the body; 307/308 keep both */
    static const struct {
        int code;
        const char *want;
    } rules[] = {{303, "200 GET  auth=yes"},
                 {302, "200 GET  auth=yes"},
                 {301, "200 GET  auth=yes"},
                 {307, "200 POST payload auth=yes"},
                 {308, "200 POST payload auth=yes"}};
    for (int i = 0; i < 5; i++) {
        char path[48];
        snprintf(path, sizeof path, "/to-method/%d", rules[i].code);
        cr_assert_eq(send_text(c, "POST", path, "payload", "Authorization: Basic eDp5\r\n", out,
                               sizeof out, &hist),
                     0);
        cr_assert_str_eq(out, rules[i].want, "POST through %d", rules[i].code);
        cr_assert_eq(hist, 1);
    }
    /* to another host (localhost for 127.0.0.1): the credentials stay behind */
    cr_assert_eq(send_text(c, "POST", "/cross", "payload", "Authorization: Basic eDp5\r\n", out,
                           sizeof out, &hist),
                 0);
    cr_assert_str_eq(out, "200 POST payload auth=no");
    /* not followed when told so */
    aw_client_request q = {.url = tu_url("/r/302/1"), .max_redirects = -1};
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    cr_assert_eq(aw_client_response_status(r), 302);
    cr_assert_eq(aw_client_response_history(r), 0);
    aw_client_response_free(r);
    aw_client_free(c);
    return 0;
}

Test(client, redirect_chains_of_each_kind_history_and_loops)
{
    tu_serve_and_run(client_app(), redirect_main, NULL, "http://127.0.0.1");
}

/* --- bodies both ways ------------------------------------------------------------ */

typedef struct streamed {
    int left;
} streamed;

static ssize_t stream_fn(void *arg, void *buf, size_t len)
{
    streamed *st = arg;
    if (!st->left)
        return 0;
    st->left--;
    size_t n = len < 5 ? len : 5;
    memcpy(buf, "part.", n);
    return (ssize_t)n;
}

static int bodies_main(void *arg)
{
    (void)arg;
    aw_client *c = aw_client_new(NULL);
    char out[512];
    aw_client_response *r;
    const char *b;
    size_t n;
    /* chunked, gzip and deflate bodies come out decoded */
    int st;
    char *t = tu_get_text(c, "/chunked", &st);
    cr_assert_eq(strlen(t), 100);
    cr_assert_eq(strncmp(t, "0123456789012", 13), 0);
    free(t);
    cr_assert_eq(aw_client_get(c, tu_url("/gzip"), &r), 0);
    cr_assert_str_eq(aw_client_response_header(r, "Content-Encoding"), "gzip");
    cr_assert_eq(aw_client_response_body(r, &b, &n), 0);
    cr_assert_eq(n, 100000);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(b[i], (char)('a' + i % 7), "byte %zu", i);
    aw_client_response_free(r);
    t = tu_get_text(c, "/deflate", NULL);
    cr_assert_str_eq(t, "deflated text, deflated text, deflated text");
    free(t);
    /* the body in each form the client builds */
    json_t *j = json_pack("{s:i,s:s}", "a", 1, "b", "x");
    aw_client_request q = {.method = "POST", .url = tu_url("/echo"), .json = j};
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    aw_client_response_body(r, &b, &n);
    cr_assert_str_eq(b, "application/json|-|-|{\"a\":1,\"b\":\"x\"}");
    aw_client_response_free(r);
    json_decref(j);
    const char *form[] = {"name", "a b&c", "x", "1", NULL};
    q = (aw_client_request){.method = "POST", .url = tu_url("/echo"), .form = form};
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    aw_client_response_body(r, &b, &n);
    cr_assert_str_eq(b, "application/x-www-form-urlencoded|-|-|name=a%20b%26c&x=1");
    aw_client_response_free(r);
    aw_client_part parts[] = {{"field", NULL, NULL, "v", 1},
                              {"file", "a.txt", "text/plain", "file body", 9}};
    q = (aw_client_request){.method = "POST", .url = tu_url("/echo"), .parts = parts, .nparts = 2};
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    aw_client_response_body(r, &b, &n);
    cr_assert(strstr(b, "multipart/form-data; boundary=aweb-"), "%s", b);
    cr_assert(strstr(b, "name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                        "file body\r\n"),
              "%s", b);
    aw_client_response_free(r);
    streamed sd = {4};
    q = (aw_client_request){.method = "PUT",
                            .url = tu_url("/echo"),
                            .stream = stream_fn,
                            .stream_arg = &sd,
                            .content_type = "text/plain"};
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    aw_client_response_body(r, &b, &n);
    cr_assert_str_eq(b, "text/plain|chunked|-|part.part.part.part.");
    aw_client_response_free(r);
    /* Expect: 100-continue: the body follows the server's 100 */
    q = (aw_client_request){.method = "POST",
                            .url = tu_url("/echo"),
                            .body = "after 100",
                            .body_len = 9,
                            .content_type = "text/plain",
                            .expect_continue = 1};
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    aw_client_response_body(r, &b, &n);
    cr_assert_str_eq(b, "text/plain|-|100-continue|after 100");
    cr_assert_lt(tu_ms() - t0, 900, "the client waited for a 100 that came at once");
    aw_client_response_free(r);
    /* query parameters are encoded after the URL's own */
    const char *query[] = {"q", "a b/é", NULL};
    q = (aw_client_request){.url = tu_url("/port?x=1"), .query = query};
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    cr_assert(strstr(aw_client_response_url(r), "/port?x=1&q=a%20b%2F%C3%A9"), "%s",
              aw_client_response_url(r));
    aw_client_response_free(r);
    /* JSON nested past any sane depth is refused, not recursed into */
    cr_assert_eq(aw_client_get(c, tu_url("/deep"), &r), 0);
    json_t *deep;
    cr_assert_eq(aw_client_response_json(r, &deep), AW_EINVAL);
    aw_client_response_free(r);
    /* cookies the server set come back */
    cr_assert_eq(send_text(c, "GET", "/cookie", NULL, NULL, out, sizeof out, NULL), 0);
    cr_assert_str_eq(out, "200 cookie=");
    cr_assert_eq(send_text(c, "GET", "/cookie", NULL, NULL, out, sizeof out, NULL), 0);
    cr_assert_str_eq(out, "200 cookie=s1");
    aw_client_free(c);
    return 0;
}

Test(client, bodies_decode_and_encode_in_every_form)
{
    tu_serve_and_run(client_app(), bodies_main, NULL, "http://127.0.0.1");
}

static int limit_body_main(void *arg)
{
    (void)arg;
    aw_client *c = aw_client_new(&(aw_client_opts){.max_body = 1 << 20});
    aw_client_response *r;
    const char *b;
    size_t n;
    char *p1 = tu_get_text(c, "/port", NULL);
    cr_assert_eq(aw_client_get(c, tu_url("/big"), &r), 0);
    cr_assert_eq(aw_client_response_body(r, &b, &n), AW_EMSGSIZE);
    aw_client_response_free(r);
    cr_assert_eq(aw_client_connections(c), 0, "the connection with half a body was kept");
    /* the next request comes on a new connection, and a body within the limit is fine */
    char *p2 = tu_get_text(c, "/port", NULL);
    cr_assert_str_neq(p1, p2);
    aw_client_request q = {.url = tu_url("/big"), .max_body = 4 << 20};
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    cr_assert_eq(aw_client_response_body(r, &b, &n), 0);
    cr_assert_eq(n, 2 << 20);
    aw_client_response_free(r);
    free(p1);
    free(p2);
    aw_client_free(c);
    return 0;
}

Test(client, a_body_over_the_limit_is_emsgsize_and_its_connection_is_not_reused)
{
    tu_serve_and_run(client_app(), limit_body_main, NULL, "http://127.0.0.1");
}

/* --- Python's http.server, and curl's view of the same answers ----------------------------- */

/* 1 if something accepts connections on 127.0.0.1:port */
static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

typedef struct pyserver {
    pid_t pid;
    int port;
    char dir[64];
} pyserver;

static void py_start(pyserver *p)
{
    snprintf(p->dir, sizeof p->dir, "/tmp/aweb-client-py-XXXXXX");
    cr_assert(mkdtemp(p->dir));
    char path[128];
    snprintf(path, sizeof path, "%s/data.json", p->dir);
    FILE *f = fopen(path, "w");
    fputs("{\"from\": \"python\"}", f);
    fclose(f);
    for (int attempt = 0; attempt < 5; attempt++) {
        p->port = 20000 + (getpid() * 7 + attempt * 131) % 30000;
        pid_t parent = getpid();
        p->pid = fork();
        if (!p->pid) {
            tu_die_with_parent(parent);
            char port[16];
            snprintf(port, sizeof port, "%d", p->port);
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execlp("python3", "python3", "-m", "http.server", "-b", "127.0.0.1", "-d", p->dir, port,
                   (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 100; i++) {
            if (port_open(p->port))
                return;
            int st;
            if (waitpid(p->pid, &st, WNOHANG) == p->pid)
                break; /* the port was taken: another */
            usleep(30000);
        }
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    cr_assert_fail("python3 -m http.server did not start");
}

static void py_stop(pyserver *p)
{
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p->dir);
    cr_assert_eq(system(cmd), 0);
}

static char curl_headers[4096];

/* the value of header name in curl's dump, or NULL */
static const char *curl_header(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *l = curl_headers; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncasecmp(l, name, n) && l[n] == ':') {
            const char *v = l + n + 1 + strspn(l + n + 1, " ");
            snprintf(out, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
            return out;
        }
    }
    return NULL;
}

static int python_main(void *arg)
{
    (void)arg;
    aw_client *c = aw_client_new(NULL);
    aw_client_response *r;
    const char *b;
    size_t n;
    cr_assert_eq(aw_client_get(c, tu_url("/data.json"), &r), 0, "%s", aw_last_error());
    cr_assert_eq(aw_client_response_status(r), tu_status(curl_headers));
    static const char *const names[] = {"Content-Type", "Content-Length", "Last-Modified",
                                        "Server"};
    for (size_t i = 0; i < 4; i++) {
        char want[256];
        cr_assert(curl_header(names[i], want, sizeof want), "curl saw no %s", names[i]);
        const char *got = aw_client_response_header(r, names[i]);
        cr_assert(got, "the client saw no %s", names[i]);
        cr_assert_str_eq(got, want, "%s", names[i]);
    }
    cr_assert_eq(aw_client_response_body(r, &b, &n), 0);
    cr_assert_str_eq(b, "{\"from\": \"python\"}");
    json_t *j;
    cr_assert_eq(aw_client_response_json(r, &j), 0);
    cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "python");
    aw_client_response_free(r);
    /* HTTP/1.0 answers close their connection: nothing is pooled */
    cr_assert_eq(aw_client_connections(c), 0);
    cr_assert_eq(aw_client_get(c, tu_url("/missing"), &r), 0);
    cr_assert_eq(aw_client_response_status(r), 404);
    aw_client_response_free(r);
    aw_client_free(c);
    return 0;
}

Test(client, pythons_http_server_answers_match_what_curl_sees)
{
    pyserver p;
    py_start(&p);
    tu_url_set_base("http://127.0.0.1", p.port);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "curl -s -D - -o /dev/null --max-time 10 %s", tu_url("/data.json"));
    cr_assert_eq(tu_shell(cmd, curl_headers, sizeof curl_headers), 0, "curl failed");
    tu_run(python_main, NULL);
    py_stop(&p);
}
