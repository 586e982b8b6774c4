/* Static files (middleware/static.h) over loopback, with raw sockets and
 * curl: types and validators, 304 and 412, every Range form, HEAD,
 * directories, every traversal shape, keep-alive and pipelining after
 * sendfile, the [static] setter, and a 1 GiB file through sendfile in a
 * server process of its own (SHA-256 of what curl got, and the server's
 * peak RSS). */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs.h"
#include "childserver.h"
#include "httpserver.h"
#include "mime.h"
#include "static.h"
#include "testutil.h"

TestSuite(mw_static, .timeout = 60, .fini = tu_fini);

/* --- a directory tree in /tmp ------------------------------------------------------- */

static char base[256], root[300], outside[300];

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char data[20000]; /* data.bin: bytes that differ with their offset */

static void make_tree(void)
{
    strcpy(base, "/tmp/aw_static_XXXXXX");
    cr_assert(mkdtemp(base));
    snprintf(root, sizeof root, "%s/root", base);
    snprintf(outside, sizeof outside, "%s/out", base);
    char p[600];
    mkdir(root, 0755);
    mkdir(outside, 0755);
    put_file(outside, "secret.txt", "TOP-SECRET\n", 11);
    put_file(root, "hello.txt", "hello, world\n", 13);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + (i * 7 + i / 26) % 26);
    put_file(root, "data.bin", data, sizeof data);
    put_file(root, "style.css", "body { color: red }\n", 20);
    put_file(root, "empty.txt", "", 0);
    put_file(root, "a b.txt", "space\n", 6);
    put_file(root, "<x>&\".txt", "odd\n", 4);
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0755);
    put_file(p, "index.html", "<p>index</p>\n", 13);
    snprintf(p, sizeof p, "%s/plain", root);
    mkdir(p, 0755);
    put_file(p, "x.json", "{}", 2);
    /* symlinks: one that stays inside, three that lead out */
    snprintf(p, sizeof p, "%s/inlink.txt", root);
    cr_assert_eq(symlink("hello.txt", p), 0);
    snprintf(p, sizeof p, "%s/escape.txt", root);
    cr_assert_eq(symlink("../out/secret.txt", p), 0);
    snprintf(p, sizeof p, "%s/abslink.txt", root);
    cr_assert_eq(symlink("/etc/passwd", p), 0);
    snprintf(p, sizeof p, "%s/outdir", root);
    cr_assert_eq(symlink("../out", p), 0);
}

static void remove_tree(void)
{
    char cmd[400], out[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    tu_shell(cmd, out, sizeof out);
}

/* --- the server ------------------------------------------------------------------------ */

static tu_server srv;

static void start(const aw_static_opts *o)
{
    make_tree();
    aw_app *app = aw_app_new();
    cr_assert(aw_static_add(app, "/static", root, o));
    tu_server_start(&srv, app, NULL);
}

static void stop(void)
{
    tu_server_stop(&srv);
    remove_tree();
}

/* One request on its own connection (Connection: close), the whole answer
 * read into buf. extra: more header lines. Returns the status. */
static char buf[1 << 20];
static size_t buf_len;

static int request(const char *method, const char *target, const char *extra)
{
    int fd = tu_connect(srv.port);
    cr_assert_geq(fd, 0);
    char req[2048];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n", method,
             target, extra ? extra : "");
    tu_sends(fd, req);
    int closed = 0;
    ssize_t n = tu_recv_all(fd, buf, sizeof buf, 5000, &closed);
    close(fd);
    cr_assert(closed, "%s %s: the server did not close", method, target);
    buf_len = n > 0 ? (size_t)n : 0;
    return tu_status(buf);
}

/* A header's value in buf's head (copied into a static buffer), or NULL. */
static const char *header(const char *name)
{
    static char v[512];
    char *end = strstr(buf, "\r\n\r\n");
    size_t nlen = strlen(name);
    for (char *p = strstr(buf, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, nlen) && p[2 + nlen] == ':') {
            const char *s = p + 3 + nlen;
            while (*s == ' ')
                s++;
            size_t n = strcspn(s, "\r");
            snprintf(v, sizeof v, "%.*s", (int)n, s);
            return v;
        }
    }
    return NULL;
}

static const char *body(void)
{
    char *b = strstr(buf, "\r\n\r\n");
    return b ? b + 4 : "";
}

static size_t body_len(void) { return buf_len - (size_t)(body() - buf); }

/* --- files, types, validators --------------------------------------------------------- */

Test(mw_static, serves_files_with_type_length_and_validators)
{
    start(NULL);
    cr_assert_eq(request("GET", "/static/hello.txt", NULL), 200);
    cr_assert_str_eq(body(), "hello, world\n");
    cr_assert_str_eq(header("Content-Length"), "13");
    cr_assert_str_eq(header("Content-Type"), "text/plain; charset=utf-8");
    cr_assert_str_eq(header("Accept-Ranges"), "bytes");
    cr_assert(header("ETag") && header("ETag")[0] == '"');
    cr_assert(header("Last-Modified") && strstr(header("Last-Modified"), " GMT"));
    cr_assert_eq(request("GET", "/static/style.css", NULL), 200);
    cr_assert_str_eq(header("Content-Type"), "text/css; charset=utf-8");
    cr_assert_eq(request("GET", "/static/plain/x.json", NULL), 200);
    cr_assert_str_eq(header("Content-Type"), "application/json");
    cr_assert_eq(request("GET", "/static/data.bin", NULL), 200);
    cr_assert_str_eq(header("Content-Type"), "application/octet-stream");
    cr_assert_eq(body_len(), sizeof data);
    cr_assert_eq(memcmp(body(), data, sizeof data), 0);
    cr_assert_eq(request("GET", "/static/empty.txt", NULL), 200);
    cr_assert_str_eq(header("Content-Length"), "0");
    cr_assert_eq(body_len(), 0);
    cr_assert_eq(request("GET", "/static/a%20b.txt", NULL), 200);
    cr_assert_str_eq(body(), "space\n");
    cr_assert_eq(request("GET", "/static/missing.txt", NULL), 404);
    cr_assert_eq(request("POST", "/static/hello.txt", NULL), 405);
    stop();
}

Test(mw_static, head_sends_the_head_without_a_body)
{
    start(NULL);
    cr_assert_eq(request("HEAD", "/static/data.bin", NULL), 200);
    cr_assert_str_eq(header("Content-Length"), "20000");
    cr_assert(header("ETag"));
    cr_assert_eq(body_len(), 0);
    /* Range is for GET only: HEAD answers the whole file's head */
    cr_assert_eq(request("HEAD", "/static/data.bin", "Range: bytes=0-9\r\n"), 200);
    cr_assert_eq(body_len(), 0);
    stop();
}

Test(mw_static, conditional_requests_answer_304_and_412)
{
    start(NULL);
    char etag[128], lm[128], h[512];
    cr_assert_eq(request("GET", "/static/hello.txt", NULL), 200);
    snprintf(etag, sizeof etag, "%s", header("ETag"));
    snprintf(lm, sizeof lm, "%s", header("Last-Modified"));

    snprintf(h, sizeof h, "If-None-Match: %s\r\n", etag);
    cr_assert_eq(request("GET", "/static/hello.txt", h), 304);
    cr_assert_eq(body_len(), 0);
    cr_assert_str_eq(header("ETag"), etag);
    cr_assert_str_eq(header("Last-Modified"), lm);
    /* weak comparison, lists, and the star */
    snprintf(h, sizeof h, "If-None-Match: \"other\", W/%s\r\n", etag);
    cr_assert_eq(request("GET", "/static/hello.txt", h), 304);
    cr_assert_eq(request("GET", "/static/hello.txt", "If-None-Match: *\r\n"), 304);
    cr_assert_eq(request("HEAD", "/static/hello.txt", "If-None-Match: *\r\n"), 304);
    cr_assert_eq(request("GET", "/static/hello.txt", "If-None-Match: \"other\"\r\n"), 200);
    cr_assert_str_eq(body(), "hello, world\n");

    snprintf(h, sizeof h, "If-Modified-Since: %s\r\n", lm);
    cr_assert_eq(request("GET", "/static/hello.txt", h), 304);
    cr_assert_eq(request("GET", "/static/hello.txt",
                         "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), 200);
    cr_assert_eq(request("GET", "/static/hello.txt",
                         "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n"), 304);
    /* the other two date forms */
    cr_assert_eq(request("GET", "/static/hello.txt",
                         "If-Modified-Since: Friday, 01-Jan-99 00:00:00 GMT\r\n"), 200);
    cr_assert_eq(request("GET", "/static/hello.txt",
                         "If-Modified-Since: Fri Jan  1 00:00:00 2100\r\n"), 304);
    cr_assert_eq(request("GET", "/static/hello.txt", "If-Modified-Since: garbage\r\n"), 200);
    /* If-None-Match wins over If-Modified-Since */
    snprintf(h, sizeof h, "If-None-Match: \"other\"\r\nIf-Modified-Since: %s\r\n", lm);
    cr_assert_eq(request("GET", "/static/hello.txt", h), 200);

    snprintf(h, sizeof h, "If-Match: %s\r\n", etag);
    cr_assert_eq(request("GET", "/static/hello.txt", h), 200);
    cr_assert_eq(request("GET", "/static/hello.txt", "If-Match: \"other\"\r\n"), 412);
    snprintf(h, sizeof h, "If-Match: W/%s\r\n", etag); /* strong comparison */
    cr_assert_eq(request("GET", "/static/hello.txt", h), 412);
    cr_assert_eq(request("GET", "/static/hello.txt",
                         "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), 412);

    /* a changed file has a new ETag */
    char path[600];
    snprintf(path, sizeof path, "%s/hello.txt", root);
    put_file(root, "hello.txt", "changed, longer\n", 16);
    snprintf(h, sizeof h, "If-None-Match: %s\r\n", etag);
    cr_assert_eq(request("GET", "/static/hello.txt", h), 200);
    cr_assert_str_eq(body(), "changed, longer\n");
    stop();
}

/* --- ranges ------------------------------------------------------------------------------ */

static void expect_range(const char *range, const char *content_range, size_t off, size_t len)
{
    char h[256];
    snprintf(h, sizeof h, "Range: %s\r\n", range);
    cr_assert_eq(request("GET", "/static/data.bin", h), 206, "%s", range);
    cr_assert_str_eq(header("Content-Range"), content_range, "%s", range);
    cr_assert_eq(body_len(), len, "%s", range);
    cr_assert_eq(memcmp(body(), data + off, len), 0, "%s", range);
}

Test(mw_static, single_ranges)
{
    start(NULL);
    expect_range("bytes=0-9", "bytes 0-9/20000", 0, 10);
    expect_range("bytes=100-199", "bytes 100-199/20000", 100, 100);
    expect_range("bytes=19990-", "bytes 19990-19999/20000", 19990, 10);
    expect_range("bytes=-25", "bytes 19975-19999/20000", 19975, 25);
    expect_range("bytes=19000-99999", "bytes 19000-19999/20000", 19000, 1000);
    expect_range("bytes=-99999", "bytes 0-19999/20000", 0, 20000);
    expect_range("bytes = 5-5", "bytes 5-5/20000", 5, 1);
    /* a large range goes through sendfile(2) */
    expect_range("bytes=1-18000", "bytes 1-18000/20000", 1, 18000);
    /* unsatisfiable: 416 with the size */
    cr_assert_eq(request("GET", "/static/data.bin", "Range: bytes=20000-\r\n"), 416);
    cr_assert_str_eq(header("Content-Range"), "bytes */20000");
    cr_assert_eq(request("GET", "/static/data.bin", "Range: bytes=-0\r\n"), 416);
    cr_assert_eq(request("GET", "/static/empty.txt", "Range: bytes=0-\r\n"), 416);
    /* malformed or another unit: ignored, the whole file */
    const char *ignored[] = {"bytes=abc", "bytes=5-1", "items=0-1", "bytes=", "bytes=1-2;x",
                             "bytes=--1"};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        char h[128];
        snprintf(h, sizeof h, "Range: %s\r\n", ignored[i]);
        cr_assert_eq(request("GET", "/static/data.bin", h), 200, "%s", ignored[i]);
        cr_assert_eq(body_len(), sizeof data, "%s", ignored[i]);
    }
    stop();
}

Test(mw_static, multiple_ranges_are_multipart_byteranges)
{
    start(NULL);
    cr_assert_eq(request("GET", "/static/data.bin", "Range: bytes=0-4, 100-109,-3,30000-\r\n"),
                 206);
    const char *ct = header("Content-Type");
    cr_assert(ct && !strncmp(ct, "multipart/byteranges; boundary=", 31), "%s", ct);
    char boundary[100];
    snprintf(boundary, sizeof boundary, "--%s", ct + 31);
    cr_assert_eq((size_t)atol(header("Content-Length")), body_len());
    cr_assert_eq(tu_count(body(), boundary), 4); /* three parts and the closing one */
    cr_assert(strstr(body(), "Content-Range: bytes 0-4/20000\r\n"));
    cr_assert(strstr(body(), "Content-Range: bytes 100-109/20000\r\n"));
    cr_assert(strstr(body(), "Content-Range: bytes 19997-19999/20000\r\n"));
    cr_assert_eq(tu_count(body(), "Content-Type: application/octet-stream\r\n"), 3);
    /* each part's bytes follow its head */
    const char *p = strstr(body(), "bytes 100-109/20000\r\n\r\n");
    cr_assert_eq(memcmp(p + 23, data + 100, 10), 0);
    p = strstr(body(), "bytes 19997-19999/20000\r\n\r\n");
    cr_assert_eq(memcmp(p + 27, data + 19997, 3), 0);
    char end[120];
    snprintf(end, sizeof end, "\r\n%s--\r\n", boundary);
    cr_assert_str_eq(body() + body_len() - strlen(end), end);
    /* overlapping ranges adding up to more than the file: sent whole */
    cr_assert_eq(request("GET", "/static/data.bin", "Range: bytes=0-,0-\r\n"), 200);
    cr_assert_eq(body_len(), sizeof data);
    /* more ranges than max_ranges (16): whole */
    char h[400] = "Range: bytes=0-0";
    for (int i = 1; i < 20; i++)
        snprintf(h + strlen(h), sizeof h - strlen(h), ",%d-%d", i * 10, i * 10);
    strcat(h, "\r\n");
    cr_assert_eq(request("GET", "/static/data.bin", h), 200);
    stop();
}

Test(mw_static, if_range_falls_back_to_the_whole_file)
{
    start(NULL);
    char etag[128], lm[128], h[512];
    cr_assert_eq(request("GET", "/static/data.bin", NULL), 200);
    snprintf(etag, sizeof etag, "%s", header("ETag"));
    snprintf(lm, sizeof lm, "%s", header("Last-Modified"));
    snprintf(h, sizeof h, "Range: bytes=0-9\r\nIf-Range: %s\r\n", etag);
    cr_assert_eq(request("GET", "/static/data.bin", h), 206);
    cr_assert_eq(body_len(), 10);
    snprintf(h, sizeof h, "Range: bytes=0-9\r\nIf-Range: %s\r\n", lm);
    cr_assert_eq(request("GET", "/static/data.bin", h), 206);
    cr_assert_eq(request("GET", "/static/data.bin", "Range: bytes=0-9\r\nIf-Range: \"old\"\r\n"),
                 200);
    cr_assert_eq(body_len(), sizeof data);
    snprintf(h, sizeof h, "Range: bytes=0-9\r\nIf-Range: W/%s\r\n", etag); /* weak: never */
    cr_assert_eq(request("GET", "/static/data.bin", h), 200);
    cr_assert_eq(request("GET", "/static/data.bin",
                         "Range: bytes=0-9\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
                 200);
    stop();
}

/* --- traversal ---------------------------------------------------------------------------- */

Test(mw_static, every_traversal_shape_is_refused)
{
    start(NULL);
    static const char *const shapes[] = {
        "/static/../out/secret.txt",
        "/static/../../etc/passwd",
        "/static/%2e%2e/out/secret.txt",
        "/static/%2E%2E/out/secret.txt",
        "/static/.%2e/out/secret.txt",
        "/static/..%2fout%2fsecret.txt",
        "/static/%2e%2e%2fout%2fsecret.txt",
        "/static/%2e%2e%2Fout/secret.txt",
        "/static/sub/../../out/secret.txt",
        "/static/sub/%2e%2e/%2e%2e/out/secret.txt",
        "/static/./hello.txt",
        "/static/sub%2f..%2f..%2fout%2fsecret.txt",
        "/static/hello.txt%00.png",
        "/static/%00",
        "/static/escape.txt",
        "/static/abslink.txt",
        "/static/outdir/secret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/..\\out\\secret.txt",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int st = request("GET", shapes[i], NULL);
        cr_assert(st == 400 || st == 403 || st == 404, "%s: %d", shapes[i], st);
        cr_assert_null(strstr(buf, "TOP-SECRET"), "%s leaked", shapes[i]);
        cr_assert_null(strstr(buf, "root:"), "%s leaked", shapes[i]);
    }
    /* dot segments are refused as such, symlinks out of the directory too */
    cr_assert_eq(request("GET", "/static/%2e%2e/out/secret.txt", NULL), 403);
    cr_assert_eq(request("GET", "/static/escape.txt", NULL), 403);
    cr_assert_eq(request("GET", "/static/abslink.txt", NULL), 403);
    cr_assert_eq(request("GET", "/static/outdir/secret.txt", NULL), 403);
    cr_assert_eq(request("GET", "/static/%00", NULL), 400);
    /* a symlink that stays inside is served */
    cr_assert_eq(request("GET", "/static/inlink.txt", NULL), 200);
    cr_assert_str_eq(body(), "hello, world\n");
    /* curl, which would normalise the path without --path-as-is */
    char cmd[512], out[256];
    snprintf(cmd, sizeof cmd,
             "curl -s --path-as-is -o /dev/null -w '%%{http_code}' --max-time 5 "
             "'http://127.0.0.1:%d/static/../out/secret.txt'",
             srv.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0);
    cr_assert_str_eq(out, "403");
    stop();
}

Test(mw_static, follow_symlinks_lets_symlinks_lead_out)
{
    aw_static_opts o;
    aw_static_opts_default(&o);
    o.follow_symlinks = 1;
    start(&o);
    cr_assert_eq(request("GET", "/static/escape.txt", NULL), 200);
    cr_assert_str_eq(body(), "TOP-SECRET\n");
    /* dot segments stay refused */
    cr_assert_eq(request("GET", "/static/../out/secret.txt", NULL), 403);
    stop();
}

/* --- directories --------------------------------------------------------------------------- */

Test(mw_static, directories_are_forbidden_by_default)
{
    start(NULL);
    cr_assert_eq(request("GET", "/static/", NULL), 403);
    cr_assert_eq(request("GET", "/static/sub/", NULL), 403);
    cr_assert_eq(request("GET", "/static/sub", NULL), 403);
    stop();
}

Test(mw_static, index_html_and_listing_when_asked)
{
    aw_static_opts o;
    aw_static_opts_default(&o);
    o.index = 1;
    o.show_index = 1;
    start(&o);
    cr_assert_eq(request("GET", "/static/sub/", NULL), 200);
    cr_assert_str_eq(body(), "<p>index</p>\n");
    cr_assert_str_eq(header("Content-Type"), "text/html; charset=utf-8");
    cr_assert_eq(request("GET", "/static/sub?x=1", NULL), 301);
    cr_assert_str_eq(header("Location"), "/static/sub/?x=1");
    cr_assert_eq(request("GET", "/static/plain/", NULL), 200);
    cr_assert(strstr(body(), "<a href=\"x.json\">x.json</a>"));
    cr_assert_eq(request("GET", "/static/", NULL), 200);
    /* names are escaped in text and encoded in links; directories get a slash */
    cr_assert(strstr(body(), "<a href=\"a%20b.txt\">a b.txt</a>"), "%s", body());
    cr_assert(strstr(body(), "<a href=\"%3Cx%3E%26%22.txt\">&lt;x&gt;&amp;&quot;.txt</a>"),
              "%s", body());
    cr_assert(strstr(body(), "<a href=\"sub/\">sub/</a>"));
    cr_assert_null(strstr(body(), "<x>"));
    stop();
}

/* --- the connection after sendfile --------------------------------------------------------- */

Test(mw_static, keep_alive_and_pipelining_survive_sendfile)
{
    start(NULL);
    int fd = tu_connect(srv.port);
    const char *one = "GET /static/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    const char *big = "GET /static/data.bin HTTP/1.1\r\nHost: t\r\n\r\n";
    char req[512];
    snprintf(req, sizeof req, "%s%s%s%s", one, big, one, big);
    tu_sends(fd, req);
    ssize_t n = tu_recv_responses(fd, buf, sizeof buf, 4, 5000);
    cr_assert_gt(n, 0);
    cr_assert_eq(tu_count(buf, "HTTP/1.1 200 OK"), 4);
    cr_assert_eq(tu_count(buf, "hello, world\n"), 2);
    /* in order: small, big, small, big */
    char *first = strstr(buf, "hello, world\n"), *b = strstr(first, "\r\n\r\n");
    cr_assert(b);
    cr_assert_eq(memcmp(b + 4, data, sizeof data), 0);
    /* one at a time on the same connection */
    for (int i = 0; i < 3; i++) {
        tu_sends(fd, big);
        n = tu_recv_responses(fd, buf, sizeof buf, 1, 5000);
        cr_assert_gt(n, (ssize_t)sizeof data);
        cr_assert_eq(memcmp(buf + n - sizeof data, data, sizeof data), 0);
    }
    close(fd);
    stop();
}

/* --- TLS: aw_stream_sendfile reads and writes through it -------------------------------- */

static void use_tls(aw_config *c)
{
    char err[256];
    const tu_certs *k = tu_certs_get();
    aw_config_set(c, "tls", "certificate", k->self_cert, err, sizeof err);
    aw_config_set(c, "tls", "key", k->self_key, err, sizeof err);
}

Test(mw_static, files_and_ranges_over_tls)
{
    make_tree();
    aw_app *app = aw_app_new();
    cr_assert(aw_static_add(app, "/static", root, NULL));
    tu_server_start(&srv, app, use_tls);
    char cmd[512], out[512];
    /* the whole file (sendfile's size) and a range, checked against the bytes */
    snprintf(cmd, sizeof cmd,
             "curl -sk --max-time 5 https://127.0.0.1:%d/static/data.bin | cmp - '%s/data.bin' "
             "&& echo same",
             srv.port, root);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "same\n");
    snprintf(cmd, sizeof cmd,
             "curl -sk --max-time 5 -r 100-17099 -w ' %%{http_code}' "
             "https://127.0.0.1:%d/static/data.bin | tail -c 4",
             srv.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0);
    cr_assert_str_eq(out, " 206");
    snprintf(cmd, sizeof cmd,
             "curl -sk --max-time 5 -r 100-17099 https://127.0.0.1:%d/static/data.bin | "
             "cmp - <(tail -c +101 '%s/data.bin' | head -c 17000) && echo same",
             srv.port, root);
    char bash[700];
    snprintf(bash, sizeof bash, "bash -c \"%s\"", cmd);
    cr_assert_eq(tu_shell(bash, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "same\n");
    stop();
}

/* --- the MIME table and the setter ----------------------------------------------------------- */

Test(mw_static, mime_table_lookups)
{
    cr_assert_str_eq(aw_mime_type("a.7z", "x"), "application/x-7z-compressed"); /* the first */
    cr_assert_str_eq(aw_mime_type("dir/a.zip", "x"), "application/zip");      /* the last */
    cr_assert_str_eq(aw_mime_type("A.HTML", "x"), "text/html; charset=utf-8");
    cr_assert_str_eq(aw_mime_type("x.svg", "x"), "image/svg+xml");
    cr_assert_str_eq(aw_mime_type("x.woff2", "x"), "font/woff2");
    cr_assert_str_eq(aw_mime_type("x.mjs", "x"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(aw_mime_type("noext", "fallback"), "fallback");
    cr_assert_str_eq(aw_mime_type("dot.dir/noext", "fallback"), "fallback");
    cr_assert_str_eq(aw_mime_type("x.unknownext", "fallback"), "fallback");
    cr_assert_str_eq(aw_mime_type("x.", "fallback"), "fallback");
}

Test(mw_static, config_setter_refuses_bad_values)
{
    make_tree();
    aw_app *app = aw_app_new();
    aw_static *st = aw_static_add(app, "/s", root, NULL);
    cr_assert(st);
    char err[256];
    cr_assert_eq(aw_static_config(st, "max_ranges", "abc", err, sizeof err), AW_EINVAL);
    cr_assert(strstr(err, "max_ranges"), "%s", err);
    cr_assert_eq(aw_static_config(st, "max_ranges", "-1", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_static_config(st, "index", "maybe", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_static_config(st, "directory", "/no/such/dir", err, sizeof err), AW_EINVAL);
    cr_assert(strstr(err, "/no/such/dir"), "%s", err);
    cr_assert_eq(aw_static_config(st, "default_type", "nonsense", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_static_config(st, "cache_control", "a\nb", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_static_config(st, "colour", "red", err, sizeof err), AW_EINVAL);
    cr_assert(strstr(err, "colour"), "%s", err);
    cr_assert_eq(aw_static_config(st, "max_ranges", "4", err, sizeof err), 0);
    cr_assert_eq(aw_static_config(st, "show_index", "on", err, sizeof err), 0);
    cr_assert_eq(aw_static_config(st, "cache_control", "max-age=60", err, sizeof err), 0);
    cr_assert_eq(aw_static_config(st, "directory", outside, err, sizeof err), 0);
    /* the bad shapes of aw_static_add */
    cr_assert_null(aw_static_add(app, "static", root, NULL));
    cr_assert_null(aw_static_add(app, "/x/", root, NULL));
    cr_assert_null(aw_static_add(app, "/y", "/no/such/dir", NULL));
    aw_app_free(app);
    remove_tree();
}

Test(mw_static, config_file_section_reaches_the_setter)
{
    make_tree();
    aw_app *app = aw_app_new();
    aw_static *st = aw_static_add(app, "/static", root, NULL);
    cr_assert(st);
    char path[400], err[512];
    snprintf(path, sizeof path, "%s/t.conf", base);
    put_file(base, "t.conf", "[static]\nshow_index = on\ncache_control = max-age=60\n", 52);
    aw_config cfg;
    aw_config_init(&cfg);
    cr_assert_eq(aw_config_section(&cfg, "static", aw_static_config, st), 0);
    cr_assert_eq(aw_config_load(&cfg, path, 1, err, sizeof err), 0, "%s", err);
    put_file(base, "bad.conf", "[static]\nmax_ranges = lots\n", 27);
    snprintf(path, sizeof path, "%s/bad.conf", base);
    cr_assert_eq(aw_config_load(&cfg, path, 1, err, sizeof err), AW_EINVAL);
    cr_assert(strstr(err, "bad.conf:2"), "%s", err);
    aw_config_free(&cfg);
    tu_server_start(&srv, app, NULL);
    cr_assert_eq(request("GET", "/static/", NULL), 200);
    cr_assert(strstr(body(), "hello.txt"));
    cr_assert_eq(request("GET", "/static/hello.txt", NULL), 200);
    cr_assert_str_eq(header("Cache-Control"), "max-age=60");
    stop();
}

/* --- 1 GiB through sendfile ------------------------------------------------------------------ */

static char big_root[300];

static void digest_hex(EVP_MD_CTX *md, char hex[65])
{
    unsigned char dig[32];
    unsigned dlen;
    EVP_DigestFinal_ex(md, dig, &dlen);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", dig[i]);
}

static aw_app *big_app(void)
{
    aw_app *app = aw_app_new();
    aw_static_add(app, "/static", big_root, NULL);
    return app;
}

Test(mw_static, one_gib_file_goes_out_whole_with_little_memory)
{
    /* tmpfs when there is one: writing 1 GiB to a disk's page cache is
     * slower, and the test is about the server */
    struct stat sb;
    strcpy(base, stat("/dev/shm", &sb) == 0 && access("/dev/shm", W_OK) == 0
                     ? "/dev/shm/aw_static_big_XXXXXX"
                     : "/tmp/aw_static_big_XXXXXX");
    cr_assert(mkdtemp(base));
    snprintf(big_root, sizeof big_root, "%s", base);
    char path[400];
    snprintf(path, sizeof path, "%s/big.bin", base);
    /* 1 GiB: one MiB of xorshift output, each copy stamped with its index
     * (a misplaced block or offset changes the hash), hashed as written */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    size_t chunk = 1 << 20;
    uint64_t *blk = malloc(chunk), x = 0x9e3779b97f4a7c15ull;
    for (size_t k = 0; k < chunk / 8; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        blk[k] = x;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (uint64_t i = 0; i < 1024; i++) {
        blk[0] = blk[chunk / 16] = i;
        EVP_DigestUpdate(md, blk, chunk);
        cr_assert_eq(write(fd, blk, chunk), (ssize_t)chunk);
    }
    close(fd);
    char want[65], got[65];
    digest_hex(md, want);

    tu_child c;
    tu_child_start(&c, big_app, NULL, 0);
    size_t rss0 = tu_child_peak_rss(&c);
    /* what curl received, hashed here (OpenSSL's SHA-256 is several times
     * faster than sha256sum's) */
    char cmd[512];
    int64_t t0 = tu_ms();
    snprintf(cmd, sizeof cmd, "curl -s --fail --max-time 60 'http://127.0.0.1:%d/static/big.bin'",
             c.port);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    size_t n, total = 0;
    while ((n = fread(blk, 1, chunk, f)) > 0) {
        EVP_DigestUpdate(md, blk, n);
        total += n;
    }
    int st = pclose(f);
    digest_hex(md, got);
    EVP_MD_CTX_free(md);
    free(blk);
    int64_t ms = tu_ms() - t0;
    size_t peak = tu_child_peak_rss(&c);
    cr_assert_eq(tu_child_stop(&c), 0);
    unlink(path);
    rmdir(base);
    cr_assert_eq(st, 0, "curl failed: %d", st);
    cr_assert_eq(total, (size_t)1 << 30);
    cr_assert_str_eq(got, want);
    fprintf(stderr, "1 GiB in %lld ms; server peak RSS %zu KiB (at start %zu KiB)\n", (long long)ms,
                peak / 1024, rss0 / 1024);
    cr_assert_lt(peak, 32u << 20, "server peak RSS %zu KiB", peak / 1024);
}
