/* The HTTP client's connections, against aweb's own server (on its own
 * thread): pooling and the connection limit, read and total timeouts,
 * cancellation and idle expiry, TLS, and a server that hangs up halfway
 * through an answer. Requests and answers (redirects, bodies, other servers)
 * are in test_client.c; the server side both use is in
 * helpers/clientserver.h. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs.h"
#include "clientserver.h"
#include "testutil.h"

TestSuite(client_connections, .timeout = 90, .fini = tu_fini);

/* --- the server's side ------------------------------------------------------ */

static volatile int in_flight, max_in_flight;

static aw_response *h_slowish(aw_request *req)
{
    if (++in_flight > max_in_flight)
        max_in_flight = in_flight;
    aw_sleep(20);
    in_flight--;
    return aw_response_text(req, 200, aw_request_peer(req));
}

static aw_response *h_never(aw_request *req)
{
    aw_sleep(30000);
    return aw_response_text(req, 200, "late");
}

static aw_response *h_drip(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    for (int i = 0; i < 100; i++) {
        if (aw_response_write(r, "d", 1) || aw_sleep(100))
            break;
    }
    aw_response_write_eof(r);
    return r;
}

static aw_app *client_app(void)
{
    aw_app *app = tu_client_app();
    aw_app_route(app, "GET", "/slowish", h_slowish, NULL);
    /* the client walks away from these: their handlers stop then */
    aw_route_opts leave = {.cancel_on_disconnect = 1};
    aw_app_route(app, "GET", "/never", h_never, &leave);
    aw_app_route(app, "GET", "/drip", h_drip, &leave);
    return app;
}

/* --- pooling ------------------------------------------------------------------ */

static int pool_main(void *arg)
{
    (void)arg;
    aw_client *c = aw_client_new(NULL);
    char *first = tu_get_text(c, "/port", NULL);
    for (int i = 0; i < 99; i++) {
        char *p = tu_get_text(c, "/port", NULL);
        cr_assert_str_eq(p, first, "request %d came from another connection", i + 2);
        free(p);
    }
    free(first);
    cr_assert_eq(aw_client_connections(c), 1);
    cr_assert_eq(aw_client_idle(c), 1);
    aw_client_free(c);
    return 0;
}

Test(client_connections, a_hundred_sequential_gets_use_one_connection)
{
    tu_serve_and_run(client_app(), pool_main, NULL, "http://127.0.0.1");
}

typedef struct limited {
    aw_client *c;
    int peak;
} limited;

static int one_get(void *arg)
{
    limited *l = arg;
    aw_client_response *r;
    int rc = aw_client_get(l->c, tu_url("/slowish"), &r);
    if (rc)
        return rc;
    if ((int)aw_client_connections(l->c) > l->peak)
        l->peak = (int)aw_client_connections(l->c);
    const char *b;
    size_t n;
    rc = aw_client_response_body(r, &b, &n);
    aw_client_response_free(r);
    return rc;
}

static int limit_main(void *arg)
{
    (void)arg;
    limited l = {.c = aw_client_new(&(aw_client_opts){.limit = 20})};
    static aw_task *t[200];
    for (int i = 0; i < 200; i++)
        t[i] = aw_spawn(one_get, &l);
    cr_assert_eq(aw_gather(t, 200, NULL), 0, "%s", aw_last_error());
    cr_assert_leq(l.peak, 20, "the client opened %d connections", l.peak);
    cr_assert_leq(max_in_flight, 20, "the server saw %d at once", max_in_flight);
    cr_assert_geq(max_in_flight, 10, "the limit was not used: %d", max_in_flight);
    aw_client_free(l.c);
    return 0;
}

Test(client_connections, two_hundred_concurrent_gets_under_a_limit_of_20_never_open_more)
{
    tu_serve_and_run(client_app(), limit_main, NULL, "http://127.0.0.1");
}

/* --- timeouts and cancellation ------------------------------------------------------ */

static int never_get(void *arg)
{
    aw_client_response *r;
    int rc = aw_client_get(arg, tu_url("/never"), &r);
    if (!rc)
        aw_client_response_free(r);
    return rc;
}

static int timeouts_main(void *arg)
{
    (void)arg;
    aw_client *c = aw_client_new(&(aw_client_opts){.read_timeout_ms = 300});
    aw_client_response *r;
    const char *b;
    size_t n;
    /* the read timeout fires at its time */
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_client_get(c, tu_url("/never"), &r), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 280, 700);
    cr_assert_eq(aw_client_connections(c), 0);
    /* a drip (a byte every 100 ms) never trips the read timeout; the total caps it */
    aw_client_request q = {.url = tu_url("/drip"), .timeout_ms = 600};
    t0 = tu_ms();
    cr_assert_eq(aw_client_send(c, &q, &r), 0);
    cr_assert_eq(aw_client_response_body(r, &b, &n), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 550, 1000);
    aw_client_response_free(r);
    cr_assert_eq(aw_client_connections(c), 0, "a timed-out connection went back to the pool");
    /* cancelling a request closes its connection */
    aw_task *t = aw_spawn(never_get, c);
    aw_sleep(100);
    cr_assert_eq(aw_client_connections(c), 1);
    aw_cancel(t);
    cr_assert_eq(aw_join(t), AW_ECANCELED);
    cr_assert_eq(aw_client_connections(c), 0);
    cr_assert_eq(aw_client_idle(c), 0);
    /* and the pool works on */
    char *p = tu_get_text(c, "/port", NULL);
    free(p);
    cr_assert_eq(aw_client_connections(c), 1);
    cr_assert_eq(aw_client_idle(c), 1);
    aw_client_free(c);
    return 0;
}

Test(client_connections, read_and_total_timeouts_and_cancellation_close_the_connection)
{
    tu_serve_and_run(client_app(), timeouts_main, NULL, "http://127.0.0.1");
}

static void short_keepalive(aw_config *c) { c->keepalive_ms = 200; }

static int expiry_main(void *arg)
{
    (void)arg;
    /* the server closes idle connections after 200 ms: the pool notices */
    aw_client *c = aw_client_new(NULL);
    char *p1 = tu_get_text(c, "/port", NULL);
    cr_assert_eq(aw_client_idle(c), 1);
    aw_sleep(500);
    cr_assert_eq(aw_client_connections(c), 0, "a connection the server closed is still pooled");
    char *p2 = tu_get_text(c, "/port", NULL);
    cr_assert_str_neq(p1, p2);
    free(p1);
    free(p2);
    aw_client_free(c);
    /* the client's own expiry */
    c = aw_client_new(&(aw_client_opts){.keepalive_ms = 50});
    p1 = tu_get_text(c, "/port", NULL);
    aw_sleep(100);
    p2 = tu_get_text(c, "/port", NULL);
    cr_assert_str_neq(p1, p2, "an expired connection was reused");
    cr_assert_eq(aw_client_connections(c), 1);
    free(p1);
    free(p2);
    aw_client_free(c);
    return 0;
}

Test(client_connections, idle_connections_expire_and_server_closes_are_noticed)
{
    tu_serve_and_run(client_app(), expiry_main, short_keepalive, "http://127.0.0.1");
}

/* --- TLS ------------------------------------------------------------------------------ */

static void with_tls(aw_config *c)
{
    const tu_certs *certs = tu_certs_get();
    c->tls_cert = strdup(certs->server_cert);
    c->tls_key = strdup(certs->server_key);
}

static int tls_main(void *arg)
{
    (void)arg;
    aw_client_response *r;
    /* the system trust store does not know the test's CA */
    aw_client *c = aw_client_new(NULL);
    cr_assert_eq(aw_client_get(c, tu_url("/port"), &r), AW_ECERT);
    cr_assert(strstr(aw_last_error(), "certificate"), "%s", aw_last_error());
    cr_assert_eq(aw_client_connections(c), 0);
    aw_client_free(c);
    /* with it, the name checked against the certificate */
    c = aw_client_new(&(aw_client_opts){.ca_file = tu_certs_get()->ca});
    char *p1 = tu_get_text(c, "/port", NULL), *p2 = tu_get_text(c, "/port", NULL);
    cr_assert_str_eq(p1, p2, "TLS connections are pooled too");
    free(p1);
    free(p2);
    aw_client_free(c);
    /* verification off */
    c = aw_client_new(&(aw_client_opts){.verify_off = 1});
    p1 = tu_get_text(c, "/port", NULL);
    free(p1);
    aw_client_free(c);
    return 0;
}

Test(client_connections, tls_refused_by_default_and_accepted_with_the_test_ca)
{
    tu_serve_and_run(client_app(), tls_main, with_tls, "https://localhost");
}

/* --- a server that sends half a status line, then hangs up ------------------------ */

static void *half_answer(void *arg)
{
    int lfd = *(int *)arg;
    int fd = accept(lfd, NULL, NULL);
    char buf[4096];
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        (void)n;
        if (write(fd, "HTTP/1.1 2", 10) < 0) { /* and nothing more for a while */
        }
        usleep(300 * 1000);
        close(fd);
    }
    return NULL;
}

static int half_main(void *arg)
{
    aw_client *c = aw_client_new(NULL);
    aw_client_request q = {.method = "POST",
                           .url = tu_url("/"),
                           .body = "x",
                           .body_len = 1,
                           .content_type = "text/plain",
                           .expect_continue = 1,
                           .timeout_ms = 3000};
    aw_client_response *r;
    int64_t t0 = tu_ms();
    int rc = aw_client_send(c, &q, &r);
    cr_assert_lt(rc, 0, "a half status line was taken as an answer");
    cr_assert_lt(tu_ms() - t0, 2000, "the client spun or hung on a partial answer");
    cr_assert_eq(aw_client_connections(c), 0);
    aw_client_free(c);
    (void)arg;
    return 0;
}

Test(client_connections, expect_continue_with_a_partial_answer_ends_without_spinning)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    listen(lfd, 4);
    pthread_t th;
    pthread_create(&th, NULL, half_answer, &lfd);
    tu_url_set_base("http://127.0.0.1", ntohs(a.sin_port));
    tu_run(half_main, NULL);
    pthread_join(th, NULL);
    close(lfd);
}
