/* The soak test's load generator (tests/soak/soak.sh), written with aweb
 * itself: aw_stream for HTTP (a small client of its own, so that pipelining
 * and the exact bytes are under its control) and aw_ws_connect for the chat.
 *
 * For --secs seconds it runs, all at once, on one loop:
 *   keep-alive  workers that open a connection, send 1-40 requests one after
 *               the other (GET /, /hello/NAME, /json, POST /echo with 0-16 KiB),
 *               check each answer, then close it (one in ten abruptly) and open the next:
 *               connections churn all the time;
 *   pipelined   workers that write batches of 2-16 requests in one write and
 *               read the answers, which must come in order (each names its
 *               request's sequence number), for 1-20 batches per connection;
 *   jobs        workers that ask for 1-40 jobs at a time (POST /jobs?n=N) over
 *               keep-alive connections, pausing 10 ms between requests;
 *   chat        clients that join the room at /ws (half with
 *               permessage-deflate), send 1-30 messages of up to 1.5 KiB, each
 *               waiting for its own broadcast, then say "bye" and compare the
 *               frames they received with the count the server sent them;
 *   lurkers     room members that only listen for a while and then vanish,
 *               half without a close handshake;
 *   junk        connections that send half a request and hang up, send bytes
 *               that are not HTTP (which must get a 400), or say nothing.
 * Each worker finishes the connection it is on when the time is up. Then it
 * waits until the server has no job and no room member left and prints, one
 * "key value" a line, what the clients counted and what the server counted
 * over the run (its /stats at the end minus at the start). It does not judge:
 * soak.sh compares the figures. Exit status 1 only if it could not run.
 *
 * Usage: soak_load --port P [--host 127.0.0.1] [--secs 10] [--keepalive 8]
 *                  [--pipelined 4] [--jobs 2] [--chat 12] [--lurkers 2] [--junk 1]
 *        soak_load --port P --stats      the server's counters, once
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aweb.h"

#define IO_MS 10000    /* no single wait of a client may take longer */
#define MAX_ECHO 16384 /* keep-alive echo bodies */
/* Pipelined echo bodies: a batch is written before its answers are read, so
 * it must stay well within the socket buffers. */
#define MAX_PIPE_ECHO 2048
#define MAX_DEPTH 16
#define HEAD_MAX 8192
/* Jobs per POST /jobs, and the pause after each: two workers then ask for
 * about 4,000 jobs a second, which the scheduler's 100 slots (jobs of 1-20
 * ms) keep up with, so that none is refused. */
#define MAX_JOBS 40
#define JOBS_PAUSE_MS 10
#define QUIET_MS 15000 /* how long the server may take to finish its jobs at the end */

static struct {
    const char *host;
    int port;
    int secs;
    int keepalive, pipelined, jobs, chat, lurkers, junk;
    int stats_only;
} cfg = {.host = "127.0.0.1",
         .secs = 10,
         .keepalive = 8,
         .pipelined = 4,
         .jobs = 2,
         .chat = 12,
         .lurkers = 2,
         .junk = 1};

/* What the clients counted. */
static struct {
    unsigned long long http_sent, http_answered, http_wrong, http_conns;
    unsigned long long jobs_requested, jobs_accepted;
    unsigned long long ws_sessions, ws_sent, ws_own_seen, ws_received, ws_byes, ws_mismatch;
    unsigned long long lurkers;
    unsigned long long junk_conns, junk_bad_sent, junk_400;
    unsigned long long errors;
} c;

static uint64_t deadline;

static int over(void) { return aw_now() >= deadline; }

static void error(const char *what, int rc)
{
    c.errors++;
    /* the first few are worth seeing; a flood of them is not */
    if (c.errors <= 20)
        fprintf(stderr, "soak_load: %s: %s %s\n", what, aw_strerror(rc), aw_last_error());
}

static unsigned rnd(unsigned *seed, unsigned n) { return (unsigned)rand_r(seed) % n; }

/* --- a small HTTP/1.1 client ------------------------------------------------------ */

enum kind { K_INDEX, K_HELLO, K_JSON, K_ECHO, K_JOBS, K_KINDS };

/* A request sent, with what its answer must be. */
typedef struct expect {
    enum kind kind;
    unsigned seed; /* echo: the body's bytes */
    size_t len;    /* echo: the body's length */
    int jobs;      /* jobs: how many were asked for */
    char tag[48];  /* hello: the name */
} expect;

static void echo_body(char *out, unsigned seed, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (char)('a' + (seed + i) % 26);
}

/* Appends one request to out (which has room for it) and fills e. */
static size_t make_request(char *out, expect *e, unsigned *seed, size_t max_echo, const char *tag)
{
    /* jobs come from a worker of their own, at a bounded rate */
    e->kind = (enum kind)rnd(seed, K_JOBS);
    switch (e->kind) {
    case K_INDEX: return (size_t)sprintf(out, "GET / HTTP/1.1\r\nHost: soak\r\n\r\n");
    case K_HELLO:
        snprintf(e->tag, sizeof e->tag, "%s", tag);
        return (size_t)sprintf(out, "GET /hello/%s HTTP/1.1\r\nHost: soak\r\n\r\n", tag);
    case K_JSON:
        return (size_t)sprintf(out, "GET /json HTTP/1.1\r\nHost: soak\r\n"
                                    "Accept: application/json\r\n\r\n");
    case K_ECHO: {
        e->seed = rnd(seed, 26);
        e->len = rnd(seed, (unsigned)max_echo + 1);
        size_t n = (size_t)sprintf(out,
                                   "POST /echo HTTP/1.1\r\nHost: soak\r\n"
                                   "Content-Type: application/octet-stream\r\n"
                                   "Content-Length: %zu\r\n\r\n",
                                   e->len);
        echo_body(out + n, e->seed, e->len);
        return n + e->len;
    }
    default: e->kind = K_INDEX; return (size_t)sprintf(out, "GET / HTTP/1.1\r\nHost: soak\r\n\r\n");
    }
}

static size_t make_jobs_request(char *out, expect *e, unsigned *seed)
{
    e->kind = K_JOBS;
    e->jobs = 1 + (int)rnd(seed, MAX_JOBS);
    return (size_t)sprintf(out,
                           "POST /jobs?n=%d HTTP/1.1\r\nHost: soak\r\n"
                           "Content-Length: 0\r\n\r\n",
                           e->jobs);
}

/* Reads one response: its status and body (into body, at most cap bytes).
 * Returns 0 or an error; AW_EHTTP for a response it cannot read. */
static int read_response(aw_stream *s, int *status, char *body, size_t cap, size_t *len)
{
    char head[HEAD_MAX + 1];
    ssize_t n = aw_stream_read_until(s, "\r\n\r\n", 4, head, HEAD_MAX, IO_MS);
    if (n < 0)
        return (int)n;
    head[n] = 0;
    if (sscanf(head, "HTTP/1.1 %d ", status) != 1)
        return AW_EHTTP;
    const char *cl = strcasestr(head, "\r\nContent-Length:");
    if (!cl)
        return AW_EHTTP;
    unsigned long long l = strtoull(cl + 17, NULL, 10);
    if (l > cap)
        return AW_EHTTP;
    *len = (size_t)l;
    int rc = aw_stream_read_exactly(s, body, *len, IO_MS);
    if (rc == 0)
        body[*len] = 0;
    return rc;
}

/* Whether the answer is the one e asked for; counts jobs accepted. */
static int answer_ok(const expect *e, int status, const char *body, size_t len, char *scratch)
{
    char want[96];
    if (status != 200)
        return 0;
    switch (e->kind) {
    case K_INDEX: return len == 13 && !memcmp(body, "Hello, World!", 13);
    case K_HELLO:
        snprintf(want, sizeof want, "Hello, %s!", e->tag);
        return len == strlen(want) && !memcmp(body, want, len);
    case K_JSON: return strstr(body, "\"message\":\"Hello, World!\"") != NULL;
    case K_ECHO:
        echo_body(scratch, e->seed, e->len);
        return len == e->len && !memcmp(body, scratch, len);
    case K_JOBS: {
        long got = atol(body);
        c.jobs_requested += (unsigned long long)e->jobs;
        c.jobs_accepted += (unsigned long long)got;
        return got >= 0 && got <= e->jobs;
    }
    default: return 0;
    }
}

/* Buffers a worker keeps for all its connections. */
typedef struct http_bufs {
    char *req, *body, *scratch;
} http_bufs;

static int bufs_new(http_bufs *b, size_t req)
{
    b->req = malloc(req);
    b->body = malloc(MAX_ECHO + 1);
    b->scratch = malloc(MAX_ECHO + 1);
    return b->req && b->body && b->scratch ? 0 : AW_ENOMEM;
}

static void bufs_free(http_bufs *b)
{
    free(b->req);
    free(b->body);
    free(b->scratch);
}

/* Reads the answers to the n requests of e, in order. Returns 0 or the error
 * that broke the connection. */
static int read_answers(aw_stream *s, const expect *e, int n, http_bufs *b)
{
    for (int i = 0; i < n; i++) {
        int status = 0;
        size_t len = 0;
        int rc = read_response(s, &status, b->body, MAX_ECHO, &len);
        if (rc)
            return rc;
        if (answer_ok(&e[i], status, b->body, len, b->scratch)) {
            c.http_answered++;
        } else {
            c.http_wrong++;
            if (c.http_wrong <= 5)
                fprintf(stderr, "soak_load: wrong answer (kind %d, status %d): %.80s\n", e[i].kind,
                        status, b->body);
        }
    }
    return 0;
}

static int connect_http(aw_stream **s)
{
    int rc = aw_open_connection(cfg.host, cfg.port, NULL, s);
    if (rc) {
        error("connect", rc);
        aw_sleep(100);
        return rc;
    }
    c.http_conns++;
    return 0;
}

static int keepalive_worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    http_bufs b;
    if (bufs_new(&b, MAX_ECHO + 512)) {
        bufs_free(&b);
        return AW_ENOMEM;
    }
    unsigned long seq = 0;
    while (!over()) {
        aw_stream *s;
        if (connect_http(&s))
            continue;
        int n = 1 + (int)rnd(&seed, 40), rc = 0;
        for (int i = 0; i < n && !over() && !rc; i++) {
            char tag[40];
            snprintf(tag, sizeof tag, "k%u-%lu", (unsigned)(uintptr_t)arg, seq++);
            expect e;
            size_t len = make_request(b.req, &e, &seed, MAX_ECHO, tag);
            if ((rc = aw_stream_write(s, b.req, len, IO_MS))) {
                error("keep-alive write", rc);
                break;
            }
            c.http_sent++;
            if ((rc = read_answers(s, &e, 1, &b)))
                error("keep-alive read", rc);
        }
        if (rnd(&seed, 10) == 0)
            aw_stream_abort(s);
        else
            aw_stream_close(s);
    }
    bufs_free(&b);
    return 0;
}

/* Asks for jobs over a keep-alive connection, pausing between requests. */
static int jobs_worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7727u + 9;
    http_bufs b;
    if (bufs_new(&b, 512)) {
        bufs_free(&b);
        return AW_ENOMEM;
    }
    while (!over()) {
        aw_stream *s;
        if (connect_http(&s))
            continue;
        int n = 1 + (int)rnd(&seed, 100), rc = 0;
        for (int i = 0; i < n && !over() && !rc; i++) {
            expect e;
            size_t len = make_jobs_request(b.req, &e, &seed);
            if ((rc = aw_stream_write(s, b.req, len, IO_MS))) {
                error("jobs write", rc);
                break;
            }
            c.http_sent++;
            if ((rc = read_answers(s, &e, 1, &b)))
                error("jobs read", rc);
            else
                rc = aw_sleep(JOBS_PAUSE_MS);
        }
        aw_stream_close(s);
    }
    bufs_free(&b);
    return 0;
}

static int pipelined_worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 104729u + 3;
    http_bufs b;
    if (bufs_new(&b, MAX_DEPTH * (MAX_PIPE_ECHO + 512))) {
        bufs_free(&b);
        return AW_ENOMEM;
    }
    unsigned long seq = 0;
    while (!over()) {
        aw_stream *s;
        if (connect_http(&s))
            continue;
        int batches = 1 + (int)rnd(&seed, 20), rc = 0;
        for (int i = 0; i < batches && !over() && !rc; i++) {
            expect e[MAX_DEPTH];
            int depth = 2 + (int)rnd(&seed, MAX_DEPTH - 1);
            size_t len = 0;
            for (int j = 0; j < depth; j++) {
                char tag[40];
                snprintf(tag, sizeof tag, "p%u-%lu", (unsigned)(uintptr_t)arg, seq++);
                len += make_request(b.req + len, &e[j], &seed, MAX_PIPE_ECHO, tag);
            }
            if ((rc = aw_stream_write(s, b.req, len, IO_MS))) {
                error("pipelined write", rc);
                break;
            }
            c.http_sent += (unsigned long long)depth;
            if ((rc = read_answers(s, e, depth, &b)))
                error("pipelined read", rc);
        }
        aw_stream_close(s);
    }
    bufs_free(&b);
    return 0;
}

/* --- junk ---------------------------------------------------------------------- */

static int junk_worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 31337u + 5;
    static const char half[] = "GET /hello/half HTTP/1.1\r\nHost: so";
    static const char bad[] = "GET /\x01 HTTP/1.1\r\nHost: soak\r\n\r\n";
    while (!over()) {
        aw_stream *s;
        int rc = aw_open_connection(cfg.host, cfg.port, NULL, &s);
        if (rc) {
            error("junk connect", rc);
            aw_sleep(100);
            continue;
        }
        c.junk_conns++;
        switch (rnd(&seed, 3)) {
        case 0: /* half a request, then gone */
            aw_stream_write(s, half, sizeof half - 1, IO_MS);
            aw_sleep(rnd(&seed, 50));
            aw_stream_abort(s);
            break;
        case 1: { /* not HTTP: a 400, then the server closes */
            char body[512];
            int status = 0;
            size_t len = 0;
            c.junk_bad_sent++;
            rc = aw_stream_write(s, bad, sizeof bad - 1, IO_MS);
            if (!rc)
                rc = read_response(s, &status, body, sizeof body - 1, &len);
            if (rc)
                error("junk read", rc);
            else if (status == 400)
                c.junk_400++;
            aw_stream_close(s);
            break;
        }
        default: /* nothing at all */ aw_stream_close(s); break;
        }
        aw_sleep(rnd(&seed, 20));
    }
    return 0;
}

/* --- WebSocket chat -------------------------------------------------------------- */

static int chat_session(unsigned id, unsigned long gen, unsigned *seed, char *text)
{
    char name[40], url[160];
    snprintf(name, sizeof name, "c%u-%lu", id, gen);
    snprintf(url, sizeof url, "ws://%s:%d/ws?name=%s", cfg.host, cfg.port, name);
    aw_ws *ws;
    aw_ws_opts o = {.compress = gen % 2 ? -1 : 0, .close_timeout_ms = IO_MS};
    int rc = aw_ws_connect(url, &o, &ws);
    if (rc) {
        error("chat connect", rc);
        aw_sleep(100);
        return rc;
    }
    c.ws_sessions++;
    unsigned long long got = 0;
    aw_ws_msg m;
    int n = 1 + (int)rnd(seed, 30);
    for (int i = 0; i < n && !over() && !rc; i++) {
        int len = snprintf(text, 64, "%s says %d:", name, i);
        size_t pad = rnd(seed, 1500);
        memset(text + len, 'a' + (int)rnd(seed, 26), pad);
        len += (int)pad;
        text[len] = 0;
        if ((rc = aw_ws_send_text(ws, text, (size_t)len))) {
            error("chat send", rc);
            break;
        }
        c.ws_sent++;
        /* every frame counts; the one that ends the wait is our own message */
        while ((rc = aw_ws_recv(ws, &m, IO_MS)) == 0 && m.type == AW_WS_TEXT) {
            got++;
            json_t *j = json_loads(m.data, 0, NULL);
            const char *who = json_string_value(json_object_get(j, "name"));
            const char *what = json_string_value(json_object_get(j, "text"));
            int mine = who && what && !strcmp(who, name) && !strcmp(what, text);
            json_decref(j);
            if (mine) {
                c.ws_own_seen++;
                break;
            }
        }
        if (!rc && m.type != AW_WS_TEXT)
            rc = AW_EPROTO; /* the server closed the room on us */
        if (rc)
            error("chat recv", rc);
        if (!rc)
            rc = aw_sleep(rnd(seed, 20));
    }
    if (!rc && !(rc = aw_ws_send_text(ws, "bye", 3))) {
        long long delivered = -1;
        while ((rc = aw_ws_recv(ws, &m, IO_MS)) == 0 && m.type == AW_WS_TEXT) {
            if (strncmp(m.data, "{\"type\":\"bye\"", 13)) {
                got++;
                continue;
            }
            json_t *j = json_loads(m.data, 0, NULL);
            delivered = json_integer_value(json_object_get(j, "delivered"));
            json_decref(j);
            break;
        }
        if (rc) {
            error("chat bye", rc);
        } else {
            c.ws_byes++;
            if ((unsigned long long)delivered != got) {
                c.ws_mismatch++;
                fprintf(stderr, "soak_load: %s received %llu frames, the server sent %lld\n", name,
                        got, delivered);
            }
        }
    }
    c.ws_received += got;
    int crc = aw_ws_close(ws, AW_WS_NORMAL, "bye");
    if (crc && !rc)
        error("chat close", crc);
    aw_ws_free(ws);
    return rc;
}

static int chat_client(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    unsigned seed = id * 65537u + 7;
    char *text = malloc(2048);
    if (!text)
        return AW_ENOMEM;
    for (unsigned long gen = 0; !over(); gen++)
        chat_session(id, gen, &seed, text);
    free(text);
    return 0;
}

static int lurker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    unsigned seed = id * 2654435761u + 11;
    char url[160];
    for (unsigned long gen = 0; !over(); gen++) {
        snprintf(url, sizeof url, "ws://%s:%d/ws?name=lurker%u-%lu", cfg.host, cfg.port, id, gen);
        aw_ws *ws;
        int rc = aw_ws_connect(url, &(aw_ws_opts){.compress = gen % 2 ? -1 : 0}, &ws);
        if (rc) {
            error("lurker connect", rc);
            aw_sleep(100);
            continue;
        }
        c.lurkers++;
        uint64_t until = aw_now() + 200 + rnd(&seed, 2000);
        aw_ws_msg m;
        while (aw_now() < until && aw_ws_recv(ws, &m, (int64_t)(until - aw_now()) + 1) == 0)
            ;
        if (gen % 2)
            aw_ws_close(ws, AW_WS_GOING_AWAY, NULL);
        aw_ws_free(ws); /* without a close: abruptly */
    }
    return 0;
}

/* --- the server's counters --------------------------------------------------------- */

/* GET /stats into *out (a JSON object the caller frees). */
static int fetch_stats(json_t **out)
{
    aw_stream *s;
    int rc = aw_open_connection(cfg.host, cfg.port, NULL, &s);
    if (rc)
        return rc;
    static const char req[] = "GET /stats HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n";
    char body[4096];
    int status = 0;
    size_t len = 0;
    rc = aw_stream_write(s, req, sizeof req - 1, IO_MS);
    if (!rc)
        rc = read_response(s, &status, body, sizeof body - 1, &len);
    aw_stream_close(s);
    if (rc)
        return rc;
    if (status != 200 || !(*out = json_loads(body, 0, NULL)))
        return AW_EHTTP;
    return 0;
}

static json_int_t stat_of(json_t *j, const char *key)
{
    return json_integer_value(json_object_get(j, key));
}

/* Waits until the server has no job running or pending and nobody in the
 * room, then fetches its counters. */
static int quiet_stats(json_t **out)
{
    uint64_t until = aw_now() + QUIET_MS;
    for (;;) {
        int rc = fetch_stats(out);
        if (rc)
            return rc;
        if (!stat_of(*out, "jobs_active") && !stat_of(*out, "jobs_pending") &&
            !stat_of(*out, "ws_members"))
            return 0;
        if (aw_now() >= until)
            return AW_ETIMEDOUT;
        json_decref(*out);
        aw_sleep(100);
    }
}

static void print_client(void)
{
#define P(field) printf("%-24s %llu\n", #field, c.field)
    P(http_conns);
    P(http_sent);
    P(http_answered);
    P(http_wrong);
    P(jobs_requested);
    P(jobs_accepted);
    P(ws_sessions);
    P(ws_sent);
    P(ws_own_seen);
    P(ws_received);
    P(ws_byes);
    P(ws_mismatch);
    P(lurkers);
    P(junk_conns);
    P(junk_bad_sent);
    P(junk_400);
    P(errors);
#undef P
}

/* The server's counters: cumulative ones as the difference over the run,
 * gauges as they are now. */
static void print_server(json_t *before, json_t *after)
{
    const char *key;
    json_t *v;
    json_object_foreach(after, key, v)
    {
        json_int_t n = json_integer_value(v);
        int gauge = strstr(key, "_active") || strstr(key, "_pending") || strstr(key, "_members") ||
                    !strncmp(key, "heap_", 5);
        if (before && !gauge)
            n -= stat_of(before, key);
        printf("server_%-17s %lld\n", key, (long long)n);
    }
}

/* --- main ------------------------------------------------------------------------ */

static int spawn_n(aw_group *g, aw_task_fn fn, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!aw_group_spawn_ex(g, fn, (void *)(uintptr_t)(i + 1), &(aw_task_opts){.name = name}))
            return AW_ENOMEM;
    return 0;
}

static int run(void *arg)
{
    (void)arg;
    json_t *before = NULL, *after = NULL;
    int rc = fetch_stats(&before);
    if (rc) {
        fprintf(stderr, "soak_load: GET /stats: %s %s\n", aw_strerror(rc), aw_last_error());
        return 1;
    }
    if (cfg.stats_only) {
        print_server(NULL, before);
        json_decref(before);
        return 0;
    }
    deadline = aw_now() + (uint64_t)cfg.secs * 1000;
    aw_group *g = aw_group_new();
    if (!g || spawn_n(g, keepalive_worker, cfg.keepalive, "keepalive") ||
        spawn_n(g, pipelined_worker, cfg.pipelined, "pipelined") ||
        spawn_n(g, jobs_worker, cfg.jobs, "jobs") || spawn_n(g, chat_client, cfg.chat, "chat") ||
        spawn_n(g, lurker, cfg.lurkers, "lurker") || spawn_n(g, junk_worker, cfg.junk, "junk"))
        error("spawn", AW_ENOMEM);
    if (g && (rc = aw_group_wait(g)))
        error("workers", rc);
    if ((rc = quiet_stats(&after))) {
        fprintf(stderr, "soak_load: the server did not settle: %s\n", aw_strerror(rc));
        c.errors++;
    }
    print_client();
    print_server(before, after);
    json_decref(before);
    json_decref(after);
    return 0;
}

static int int_arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "soak_load: %s needs a value\n", argv[*i]);
        exit(2);
    }
    return atoi(argv[++*i]);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--host") && i + 1 < argc)
            cfg.host = argv[++i];
        else if (!strcmp(a, "--port"))
            cfg.port = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--secs"))
            cfg.secs = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--keepalive"))
            cfg.keepalive = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--pipelined"))
            cfg.pipelined = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--jobs"))
            cfg.jobs = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--chat"))
            cfg.chat = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--lurkers"))
            cfg.lurkers = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--junk"))
            cfg.junk = int_arg(argc, argv, &i);
        else if (!strcmp(a, "--stats"))
            cfg.stats_only = 1;
        else {
            fprintf(stderr,
                    "usage: soak_load --port P [--host H] [--secs S] [--keepalive N] "
                    "[--pipelined N] [--jobs N] [--chat N] [--lurkers N] [--junk N] | --stats\n");
            return 2;
        }
    }
    if (cfg.port <= 0) {
        fprintf(stderr, "soak_load: --port is required\n");
        return 2;
    }
    int rc = aw_run(run, NULL);
    fflush(stdout);
    return rc == 0 ? 0 : 1;
}
