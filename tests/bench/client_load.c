/* The client benchmark's aweb side: one aw_client session doing GETs over
 * keep-alive to one URL (nginx serving a small static file, started by
 * tests/bench/bench_client.sh), from C tasks at once. aiohttp_client.py does
 * the same with aiohttp.ClientSession, and prints the same lines.
 *
 * Each task takes the next request number from a shared counter, so the N
 * requests are spread over the C tasks however fast each one goes: with
 * C = 1 that is N sequential requests on one connection; with C = 64, 64
 * requests in flight on (at most) 64 pooled connections. Every response's
 * body is read whole (aw_client_response_body, what an application does)
 * and its status and length checked. The session is the default one
 * (aw_client_new(NULL)): the user's usual setup, gzip offered and all.
 *
 * A warm-up of W requests (connections opened, stacks and buffers pooled)
 * runs before the N measured ones. The CPU time is the whole process's
 * (getrusage: user + system) over the measured requests, so it includes the
 * kernel's side of the loopback sockets.
 *
 * Usage: client_load --url URL [--requests N] [--concurrency C] [--warmup W]
 *                    [--expect-len BYTES]
 * Prints `key value` lines:
 *   requests_per_s   N / wall time of the measured part
 *   cpu_us_per_req   (user + system CPU time) / N, in microseconds
 *   ok  failed       responses with status 200 (and the expected length),
 *                    and the rest (errors included)
 *   connections      the session's open connections at the end
 * and `# ` lines about what was run. Exits 1 if any request failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "aweb.h"

typedef struct load {
    const char *url;
    long requests, concurrency, warmup;
    long expect_len; /* -1: any */
    aw_client *client;
    long next, end;  /* request numbers handed out so far, and where to stop */
    long ok, failed;
    int first_rc;    /* the first failure, for the report */
    char first_err[200];
} load;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void note_failure(load *l, int rc, const char *what)
{
    l->failed++;
    if (!l->first_rc) {
        l->first_rc = rc;
        snprintf(l->first_err, sizeof l->first_err, "%s: %s %s", what, aw_strerror(rc),
                 aw_last_error());
    }
}

/* One of the C tasks: requests until the shared counter reaches the end. */
static int worker(void *arg)
{
    load *l = arg;
    while (l->next < l->end) {
        l->next++;
        aw_client_response *r;
        int rc = aw_client_get(l->client, l->url, &r);
        if (rc) {
            note_failure(l, rc, "request");
            if (rc == AW_ECANCELED)
                return rc;
            continue;
        }
        const char *body;
        size_t len;
        rc = aw_client_response_body(r, &body, &len);
        if (rc)
            note_failure(l, rc, "body");
        else if (aw_client_response_status(r) != 200 ||
                 (l->expect_len >= 0 && (long)len != l->expect_len))
            note_failure(l, AW_EPROTO, "unexpected answer");
        else
            l->ok++;
        aw_client_response_free(r); /* read to its end: the connection is pooled */
    }
    return 0;
}

/* Runs `count` requests from C tasks and waits for all of them. */
static int run_batch(load *l, long count)
{
    aw_group *g = aw_group_new();
    if (!g)
        return AW_ENOMEM;
    l->end = l->next + count;
    for (long i = 0; i < l->concurrency; i++)
        aw_group_spawn(g, worker, l);
    return aw_group_wait(g);
}

static int main_task(void *arg)
{
    load *l = arg;
    l->client = aw_client_new(NULL);
    if (!l->client) {
        fprintf(stderr, "client_load: %s\n", aw_last_error());
        return 1;
    }
    int rc = run_batch(l, l->warmup);
    long warm_failed = l->failed;
    l->ok = l->failed = 0;
    double t0 = now_s(), c0 = cpu_s();
    if (!rc)
        rc = run_batch(l, l->requests);
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    printf("requests %ld\nconcurrency %ld\nsecs %.3f\n", l->requests, l->concurrency, secs);
    printf("requests_per_s %.0f\n", (double)l->requests / secs);
    printf("cpu_us_per_req %.2f\n", cpu * 1e6 / (double)l->requests);
    printf("ok %ld\nfailed %ld\nconnections %zu\n", l->ok, l->failed + warm_failed,
           aw_client_connections(l->client));
    printf("# aweb: aw_client (default session), %ld GETs of %s after %ld warm-up, "
           "%ld tasks on one session\n",
           l->requests, l->url, l->warmup, l->concurrency);
    if (l->first_rc)
        printf("# aweb: first failure: %s\n", l->first_err);
    aw_client_free(l->client);
    return rc || l->failed || warm_failed || l->ok != l->requests ? 1 : 0;
}

int main(int argc, char **argv)
{
    load l = {.requests = 20000, .concurrency = 1, .warmup = 1000, .expect_len = -1};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--url"))
            l.url = v;
        else if (v && !strcmp(argv[i], "--requests"))
            l.requests = atol(v);
        else if (v && !strcmp(argv[i], "--concurrency"))
            l.concurrency = atol(v);
        else if (v && !strcmp(argv[i], "--warmup"))
            l.warmup = atol(v);
        else if (v && !strcmp(argv[i], "--expect-len"))
            l.expect_len = atol(v);
        else {
            fprintf(stderr, "usage: client_load --url URL [--requests N] [--concurrency C] "
                            "[--warmup W] [--expect-len BYTES]\n");
            return 2;
        }
        i++;
    }
    if (!l.url || l.requests <= 0 || l.concurrency <= 0 || l.warmup < 0) {
        fprintf(stderr, "client_load: --url is required; N and C must be positive\n");
        return 2;
    }
    int rc = aw_run(main_task, &l);
    return rc < 0 ? 2 : rc;
}
