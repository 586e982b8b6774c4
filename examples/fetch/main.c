/* fetch: a server that fans out HTTP requests, the aweb client's example.
 *
 *   GET /fetch?url=A&url=B...[&timeout=500ms]
 *       fetches every URL at once (at most [fetch] concurrency at a time,
 *       each within the timeout) and answers JSON, in the order given:
 *       {"results": [{"url": A, "status": 200, "size": 1234, "time_ms": 12.5,
 *                     "error": null}, ...], "time_ms": 13.1}
 *       Only http:// and https:// URLs; at most [fetch] max_urls of them.
 *       A failed fetch has "status": null and its error ("timeout",
 *       "connection refused", "body over 1048576 bytes", ...).
 *
 * Run: build/examples/fetch [--listen HOST:PORT] [--conf FILE]   (a server)
 *      build/examples/fetch [--timeout 5s] URL...                (prints a table)
 *
 * conf/aweb.conf's [fetch] section sets the defaults (see there).
 */
#include <aweb/aweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* [fetch] */
typedef struct fetch_conf {
    size_t concurrency; /* fetches at once per request */
    size_t max_urls;    /* URLs per request: past it, 400 */
    size_t max_body;    /* bytes read of each body: past it, an error */
    int64_t timeout_ms; /* each fetch, when the query gives none */
    int64_t max_timeout_ms; /* the most a query may ask for */
} fetch_conf;

static fetch_conf conf = {10, 100, 1 << 20, 10000, 60000};

static int conf_set(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
    fetch_conf *c = arg;
    size_t n;
    int64_t ms;
    if (!strcmp(key, "concurrency") || !strcmp(key, "max_urls") || !strcmp(key, "max_body")) {
        if (aw_parse_size(value, &n) || n == 0) {
            snprintf(err, errlen, "%s: expected a positive number, got '%s'", key, value);
            return AW_EINVAL;
        }
        *(key[0] == 'c' ? &c->concurrency : key[4] == 'u' ? &c->max_urls : &c->max_body) = n;
        return 0;
    }
    if (!strcmp(key, "timeout") || !strcmp(key, "max_timeout")) {
        if (aw_parse_duration(value, &ms) || ms <= 0) {
            snprintf(err, errlen, "%s: expected a duration such as 500ms or 10s, got '%s'", key,
                     value);
            return AW_EINVAL;
        }
        *(key[0] == 't' ? &c->timeout_ms : &c->max_timeout_ms) = ms;
        return 0;
    }
    snprintf(err, errlen, "unknown key '%s' in [fetch]", key);
    return AW_EINVAL;
}

/* to a tenth of a millisecond, for the JSON */
static double tenths(double ms) { return (double)(long long)(ms * 10 + 0.5) / 10; }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* --- fetching ------------------------------------------------------------------ */

typedef struct fetch_one {
    const char *url;
    int status;       /* 0: no answer */
    size_t size;      /* body bytes, decoded */
    double time_ms;
    char error[160];
} fetch_one;

typedef struct fetch_all {
    aw_client *client;
    aw_sem *slots;
    int64_t timeout_ms;
    fetch_one *one;
} fetch_all;

typedef struct fetch_job {
    fetch_all *all;
    fetch_one *one;
} fetch_job;

static void describe(fetch_one *f, int rc)
{
    const char *detail = aw_last_error(); /* set by the call that just failed */
    if (rc == AW_ETIMEDOUT)
        snprintf(f->error, sizeof f->error, "timeout");
    else
        snprintf(f->error, sizeof f->error, "%s%s%s", aw_strerror(rc), *detail ? ": " : "",
                 detail);
}

/* One URL: the body is read through and counted, never held. Always 0: a
 * failure is this URL's result, not a reason to stop its siblings. */
static int fetch_task(void *arg)
{
    fetch_job *j = arg;
    fetch_one *f = j->one;
    if (aw_sem_acquire(j->all->slots, AW_FOREVER))
        return 0;
    double t0 = now_ms();
    aw_client_response *r = NULL;
    aw_client_request q = {.url = f->url, .timeout_ms = j->all->timeout_ms};
    int rc = aw_client_send(j->all->client, &q, &r);
    if (!rc) {
        f->status = aw_client_response_status(r);
        char buf[16384];
        ssize_t n;
        while ((n = aw_client_response_read(r, buf, sizeof buf)) > 0) {
            f->size += (size_t)n;
            if (f->size > conf.max_body) {
                snprintf(f->error, sizeof f->error, "body over %zu bytes", conf.max_body);
                break;
            }
        }
        if (n < 0)
            describe(f, (int)n);
        aw_client_response_free(r); /* closes the connection unless read to its end */
    } else {
        describe(f, rc);
    }
    f->time_ms = now_ms() - t0;
    aw_sem_release(j->all->slots);
    return 0;
}

/* Fetches urls[0..n) at once, at most concurrency at a time. */
static int fetch_urls(aw_client *c, const char *const *urls, size_t n, int64_t timeout_ms,
                      fetch_one *out)
{
    fetch_all all = {c, aw_sem_new((unsigned)conf.concurrency), timeout_ms, out};
    fetch_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    aw_group *g = aw_group_new();
    if (!all.slots || !jobs || !g) {
        aw_sem_free(all.slots);
        free(jobs);
        if (g)
            aw_group_wait(g);
        return AW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (fetch_one){.url = urls[i]};
        jobs[i] = (fetch_job){&all, &out[i]};
        aw_group_spawn(g, fetch_task, &jobs[i]);
    }
    int rc = aw_group_wait(g);
    aw_sem_free(all.slots);
    free(jobs);
    return rc;
}

static int is_web_url(const char *u)
{
    return !strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8);
}

/* --- the server ------------------------------------------------------------------- */

static aw_client *client; /* one session per process: pooled connections, DNS cache */

static int on_startup(aw_app *app, void *arg)
{
    (void)app;
    (void)arg;
    client = aw_client_new(NULL);
    return client ? 0 : AW_ENOMEM;
}

static int on_cleanup(aw_app *app, void *arg)
{
    (void)app;
    (void)arg;
    aw_client_free(client);
    client = NULL;
    return 0;
}

static aw_response *refuse(aw_request *req, const char *fmt, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, what);
    return aw_response_json(req, 400, json_pack("{s:s}", "error", msg));
}

/* "250" is milliseconds; "250ms", "2s" and so on as in the configuration */
static int parse_timeout(const char *s, int64_t *ms)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end != s && !*end && v > 0) {
        *ms = v;
        return 0;
    }
    return aw_parse_duration(s, ms) || *ms <= 0 ? AW_EINVAL : 0;
}

static aw_response *fetch_handler(aw_request *req)
{
    size_t cap = conf.max_urls + 1;
    const char **urls = aw_request_alloc(req, cap * sizeof *urls);
    size_t n = urls ? aw_request_query_all(req, "url", urls, cap) : 0;
    if (!n)
        return refuse(req, "%s", "give one or more url= parameters");
    if (n > conf.max_urls) {
        char max[32];
        snprintf(max, sizeof max, "%zu", conf.max_urls);
        return refuse(req, "at most %s URLs per request", max);
    }
    for (size_t i = 0; i < n; i++)
        if (!is_web_url(urls[i]))
            return refuse(req, "only http:// and https:// URLs: '%.400s'", urls[i]);
    int64_t timeout = conf.timeout_ms;
    const char *t = aw_request_query(req, "timeout");
    if (t && (parse_timeout(t, &timeout) || timeout > conf.max_timeout_ms))
        return refuse(req, "timeout: a duration up to the configured maximum, not '%.100s'", t);
    fetch_one *res = aw_request_alloc(req, n * sizeof *res);
    if (!res)
        return aw_fail(req, AW_ENOMEM);
    double t0 = now_ms();
    int rc = fetch_urls(client, urls, n, timeout, res);
    if (rc)
        return aw_fail(req, rc); /* cancelled: the client left, say */
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:s, s:o, s:I, s:f, s:o}", "url", res[i].url, "status",
                            res[i].status ? json_integer(res[i].status) : json_null(), "size",
                            (json_int_t)res[i].size, "time_ms", tenths(res[i].time_ms), "error",
                            res[i].error[0] ? json_string(res[i].error) : json_null()));
    return aw_response_json(req, 200,
                            json_pack("{s:o, s:f}", "results", list, "time_ms",
                                      tenths(now_ms() - t0)));
}

/* --- the command line ------------------------------------------------------------ */

typedef struct cli {
    const char *const *urls;
    size_t n;
    int64_t timeout_ms;
} cli;

static int cli_main(void *arg)
{
    cli *c = arg;
    fetch_one *res = calloc(c->n, sizeof *res);
    aw_client *session = aw_client_new(NULL);
    if (!res || !session) {
        fprintf(stderr, "fetch: %s\n", session ? "out of memory" : aw_last_error());
        free(res);
        aw_client_free(session);
        return 2;
    }
    double t0 = now_ms();
    fetch_urls(session, c->urls, c->n, c->timeout_ms, res);
    int failed = 0;
    printf("%-6s %10s %9s  %s\n", "STATUS", "SIZE", "TIME_MS", "URL");
    for (size_t i = 0; i < c->n; i++) {
        char st[8] = "-";
        if (res[i].status)
            snprintf(st, sizeof st, "%d", res[i].status);
        printf("%-6s %10zu %9.1f  %s%s%s\n", st, res[i].size, res[i].time_ms, res[i].url,
               res[i].error[0] ? "  error: " : "", res[i].error);
        failed |= res[i].error[0] != 0;
    }
    printf("%zu URLs in %.1f ms\n", c->n, now_ms() - t0);
    aw_client_free(session);
    free(res);
    return failed;
}

static int run_cli(int argc, char **argv)
{
    cli c = {NULL, 0, conf.timeout_ms};
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "--timeout")) {
        if (parse_timeout(argv[i + 1], &c.timeout_ms)) {
            fprintf(stderr, "fetch: --timeout: expected 500ms, 5s, ... got '%s'\n", argv[i + 1]);
            return 2;
        }
        i += 2;
    }
    c.urls = (const char *const *)argv + i;
    c.n = (size_t)(argc - i);
    for (size_t k = 0; k < c.n; k++)
        if (!is_web_url(c.urls[k])) {
            fprintf(stderr, "fetch: only http:// and https:// URLs: '%s'\n", c.urls[k]);
            return 2;
        }
    if (!c.n || c.n > conf.max_urls) {
        fprintf(stderr, "usage: fetch [--timeout 5s] URL... (1 to %zu URLs)\n", conf.max_urls);
        return 2;
    }
    int rc = aw_run(cli_main, &c);
    return rc < 0 ? 2 : rc;
}

int main(int argc, char **argv)
{
    /* a first argument that is a URL (or --timeout) means the command line */
    if (argc > 1 && (!strcmp(argv[1], "--timeout") || strstr(argv[1], "://")))
        return run_cli(argc, argv);
    aw_app *app = aw_app_new();
    aw_app_config_section(app, "fetch", conf_set, &conf);
    aw_app_on_startup(app, on_startup, NULL);
    aw_app_on_cleanup(app, on_cleanup, NULL);
    aw_app_route(app, "GET", "/fetch", fetch_handler, NULL);
    int rc = aw_app_main(app, argc, argv);
    aw_app_free(app);
    return rc;
}
