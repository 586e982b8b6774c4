/* libFuzzer target: the HTTP client's response reader.
 *
 * A listener on 127.0.0.1 answers every request with the fuzzer's bytes (in
 * pieces), then ends its side and waits for the client to hang up. The bytes
 * are read either by a whole client session (aw_client: head, interim 1xx,
 * chunked and length-delimited bodies, bodies that end with the connection,
 * gzip and deflate decoding, JSON, cookies stored from Set-Cookie), or by the
 * response reader underneath it (resp_parse.h: aw__read_response, or
 * aw__rr_head and aw__rr_read in small pieces). A Location header is then
 * resolved against the request's URL (url_int.h), as a redirect would be;
 * redirects themselves are not followed, since a fuzzed Location could name
 * any host.
 *
 * Input: a flags byte (bits 0-1: GET, HEAD, POST with a body, POST with a
 * form; bits 2-3: the body read whole, in 5-byte pieces, as JSON, or not at
 * all; bit 4: the reader underneath instead of the session), a byte choosing
 * how the answer is split into writes, then the answer.
 *
 * Oracles besides the sanitizers: the client never hangs (each wait is
 * bounded: a stuck read is a finding), statuses are three digits, bodies are
 * NUL-terminated at their length, a HEAD or 1xx/204/304 answer has no body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"
#include "client_int.h"
#include "error.h"
#include "harness.h"
#include "net.h"
#include "resp_parse.h"
#include "runtime.h"
#include "timeout.h"
#include "url_int.h"

static aw_listener *fuzz_listener;
static aw_tls_ctx *fuzz_tls;
static int fuzz_port;
static char fuzz_url[64];

/* The answer the listener gives, for the input being run. */
static const uint8_t *fuzz_answer;
static size_t fuzz_answer_len;
static uint8_t fuzz_split;

static int fuzz_answer_fn(aw_stream *s, void *arg)
{
    (void)arg;
    char head[8192];
    if (aw_stream_read_until(s, "\r\n\r\n", 4, head, sizeof head, 3000) <= 0)
        return 0;
    const uint8_t *p = fuzz_answer;
    size_t len = fuzz_answer_len;
    uint32_t rng = fuzz_split;
    for (int pieces = 0; len; pieces++) {
        size_t n = len;
        if (fuzz_split && pieces < 32) {
            rng = rng * 1103515245u + 12345u;
            size_t want = (rng >> 16) % 97 + 1;
            if (want < n)
                n = want;
        }
        if (aw_stream_write(s, p, n, 3000))
            return 0;
        p += n;
        len -= n;
        if (len)
            aw_yield();
    }
    /* our end, then whatever the client still sends (a body), until it
     * hangs up: closing with unread bytes would reset the connection */
    aw_stream_shutdown(s, 1000);
    char sink[4096];
    while (aw_stream_read(s, sink, sizeof sink, 3000) > 0)
        ;
    /* the client is done: close with a reset instead of leaving a socket in
     * TIME_WAIT for a minute (thousands a second would use up the ports) */
    struct linger lg = {1, 0};
    setsockopt(aw_stream_fd(s), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    aw_listen_opts lo = {.host = "127.0.0.1", .handler = fuzz_answer_fn};
    if (aw_listen(&lo, &fuzz_listener) ||
        aw_tls_client_ctx_new(&(aw_tls_opts){.verify_off = 1}, &fuzz_tls))
        abort();
    fuzz_port = aw_listener_port(fuzz_listener);
    snprintf(fuzz_url, sizeof fuzz_url, "http://127.0.0.1:%d/a/b?c=d", fuzz_port);
    return 0;
}

static const char *const fuzz_methods[4] = {"GET", "HEAD", "POST", "POST"};

/* A redirect's target, resolved as the client would. */
static void fuzz_location(const char *loc)
{
    aw__url base, out;
    char buf[8192];
    if (!loc || aw__url_parse(fuzz_url, &base))
        return;
    if (aw__url_join(&base, loc, &out) == 0) {
        /* what the client would request next, and its Host header */
        aw__url_format(&out, buf, sizeof buf);
        aw__url_authority(&out, buf, sizeof buf);
    }
}

static void fuzz_check_body(const char *body, size_t len, int status, const char *method)
{
    if (body[len] != '\0')
        abort(); /* promised NUL-terminated */
    if (len && (!strcmp(method, "HEAD") || status == 204 || status == 304 || status < 200)) {
        fprintf(stderr, "fuzz: a body of %zu bytes for %s / %d\n", len, method, status);
        abort();
    }
}

static void fuzz_session(int flags)
{
    const char *method = fuzz_methods[flags & 3];
    aw_client *c = aw_client_new(&(aw_client_opts){.keepalive_ms = -1,
                                                   .max_redirects = -1,
                                                   .read_timeout_ms = 3000,
                                                   .total_timeout_ms = 5000,
                                                   .connect_timeout_ms = 2000,
                                                   .max_body = 64 << 10,
                                                   .tls = fuzz_tls});
    if (!c)
        abort();
    static const char *const form[] = {"a", "1", "b", "two words", NULL};
    aw_client_request rq = {.method = method, .url = fuzz_url};
    if ((flags & 3) == 2)
        rq.body = "abc", rq.body_len = 3, rq.content_type = "text/plain";
    else if ((flags & 3) == 3)
        rq.form = form;
    aw_client_response *r;
    if (aw_client_send(c, &rq, &r) == 0) {
        int status = aw_client_response_status(r);
        if (status < 100 || status > 999)
            abort();
        const char *body;
        size_t len = 0;
        char piece[5];
        json_t *j;
        ssize_t n;
        switch ((flags >> 2) & 3) {
        case 0:
            if (aw_client_response_body(r, &body, &len) == 0)
                fuzz_check_body(body, len, status, method);
            break;
        case 1:
            while ((n = aw_client_response_read(r, piece, sizeof piece)) > 0)
                len += (size_t)n;
            if (len && (!strcmp(method, "HEAD") || status == 204 || status == 304))
                abort();
            break;
        case 2:
            aw_client_response_json(r, &j);
            break;
        }
        fuzz_location(aw_client_response_header(r, "Location"));
        /* the cookies it stored, as they would go out again */
        aw__url u;
        char cookies[4096];
        if (aw__url_parse(fuzz_url, &u) == 0)
            aw__cookies_header(c, &u, cookies, sizeof cookies);
        aw_client_response_free(r);
    }
    aw_client_free(c);
}

static void fuzz_reader(int flags)
{
    const char *method = fuzz_methods[flags & 3];
    aw_stream *s;
    if (aw_open_connection("127.0.0.1", fuzz_port, NULL, &s))
        abort();
    char req[128];
    snprintf(req, sizeof req, "%s / HTTP/1.1\r\nHost: x\r\n%s\r\n", method,
             (flags & 3) >= 2 ? "Content-Length: 0\r\n" : "");
    aw_arena arena;
    aw_arena_init(&arena);
    aw__resp resp;
    if (aw_stream_write(s, req, strlen(req), 3000) == 0) {
        if ((flags >> 2) & 1) {
            aw__rr rr;
            if (aw__rr_head(&rr, s, method, &arena, 3000, &resp) == 0) {
                char piece[5];
                ssize_t n;
                size_t len = 0;
                while (resp.status != 101 && (n = aw__rr_read(&rr, piece, sizeof piece)) > 0)
                    len += (size_t)n;
                if (len && (!strcmp(method, "HEAD") || resp.status == 204 || resp.status == 304))
                    abort();
                fuzz_location(aw_headers_get(&resp.headers, "Location"));
            }
        } else if (aw__read_response(s, method, &arena, 64 << 10, 3000, &resp) == 0) {
            if (resp.status < 100 || resp.status > 999)
                abort();
            fuzz_check_body(resp.body, resp.body_len, resp.status == 101 ? 200 : resp.status,
                            method);
            fuzz_location(aw_headers_get(&resp.headers, "Location"));
        }
    }
    aw_stream_close(s);
    aw_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_answer = data + 2;
    fuzz_answer_len = size - 2;
    fuzz_split = data[1];
    /* a stuck read anywhere is a finding, not a wait for libFuzzer's timeout */
    aw_timeout_push(8000);
    if (data[0] & 0x10)
        fuzz_reader(data[0]);
    else
        fuzz_session(data[0]);
    int late = aw_timeout_remaining() == 0;
    aw_timeout_pop();
    if (late) {
        fprintf(stderr, "fuzz: the client was still reading after 8 s\n");
        abort();
    }
    /* the listener's task ends once the client has hung up */
    for (int i = 0; i < 2000 && aw_listener_connections(fuzz_listener); i++)
        i < 50 ? aw_yield() : aw_sleep(1);
    if (aw_listener_connections(fuzz_listener))
        abort();
    return 0;
}
