/* Slowloris and slow POST with Debian's slowhttptest against a server in a
 * process of its own, while a normal client keeps asking: the normal client
 * is answered within 100 ms all along, and the slow connections are cut at
 * the header timeout (a deadline for the whole head) and at the body timeout
 * (a deadline for each wait for body bytes, and a minimum rate over all of
 * them). The timeouts are shortened (2 s and 1 s) so that the whole run
 * stays within a few seconds. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childserver.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(abuse_slow, .timeout = 60, .fini = tu_fini);

static aw_response *h_root(aw_request *req) { return aw_response_text(req, 200, "ok"); }

static aw_response *h_upload(aw_request *req)
{
    const char *body;
    size_t len;
    int rc = aw_request_body(req, &body, &len);
    if (rc)
        return aw_fail(req, rc);
    return aw_response_textf(req, 200, "%zu", len);
}

static aw_app *slow_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/", h_root, NULL);
    aw_app_route(app, "POST", "/upload", h_upload, NULL);
    return app;
}

static void short_timeouts(aw_config *c)
{
    c->header_ms = 2000;
    c->body_ms = 1000;
    c->keepalive_ms = 3000;
    c->lingering_ms = 200;
}

static void short_body_timeout(aw_config *c)
{
    short_timeouts(c);
    c->body_ms = 600;
}

/* --- the normal client: one request every 20 ms, its worst latency -------- */

typedef struct prober {
    int port;
    volatile int stop;
    int64_t worst_ms;
    int answered, failed;
    pthread_t thread;
} prober;

/* One GET on a new connection; returns its latency, or -1. */
static int64_t probe_once(int port)
{
    int64_t t0 = tu_ms();
    int fd = tu_connect(port);
    char buf[1024];
    tu_sends(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    int closed;
    tu_recv_all(fd, buf, sizeof buf, 1000, &closed);
    close(fd);
    return tu_status(buf) == 200 && strstr(buf, "\r\n\r\nok") ? tu_ms() - t0 : -1;
}

static void *prober_main(void *arg)
{
    prober *p = arg;
    while (!p->stop) {
        int64_t ms = probe_once(p->port);
        if (ms < 0)
            p->failed++;
        else {
            p->answered++;
            if (ms > p->worst_ms)
                p->worst_ms = ms;
        }
        usleep(20 * 1000);
    }
    return NULL;
}

/* --- slowhttptest ---------------------------------------------------------- */

typedef struct st_report {
    int rows;
    int max_connected; /* the most slow connections open at once */
    int last_closed, last_connected, last_pending;
    int unavailable; /* seconds slowhttptest's own probe found the service down */
    int all_closed;  /* it ended because every socket was closed, not at its time limit */
} st_report;

/* Reads slowhttptest's CSV: Seconds,Closed,Pending,Connected,Service Available
 * (the last column is 0 when its probe connection got no answer). */
static void st_read(const char *path, st_report *r)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no slowhttptest report at %s", path);
    char line[256];
    int sec, closed, pending, connected, avail;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%d,%d,%d,%d,%d", &sec, &closed, &pending, &connected, &avail) == 5) {
            r->rows++;
            if (connected > r->max_connected)
                r->max_connected = connected;
            r->unavailable += avail == 0;
            r->last_closed = closed;
            r->last_connected = connected;
            r->last_pending = pending;
        }
    fclose(f);
}

/* Runs slowhttptest (mode "-H" or "-B ...") with n connections against the
 * child server while the prober runs; fills the report and returns how long
 * it ran. peak_conns gets the most connections the server had open. */
static int64_t slow_attack(tu_child *c, const char *mode, int n, st_report *rep, prober *p,
                           size_t *peak_conns)
{
    char dir[] = "/tmp/aweb-slow-XXXXXX", cmd[1024], out[16384], csv[300];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cd %s && timeout 30 slowhttptest %s -c %d -r 1000 -i 1 -l 6 -p 1 -x 10 "
             "-u http://127.0.0.1:%d/%s -g -o %s/st >%s/log 2>&1",
             dir, mode, n, c->port, mode[1] == 'B' ? "upload" : "", dir, dir);
    p->port = c->port;
    pthread_create(&p->thread, NULL, prober_main, p);
    /* slowhttptest runs in the background so that the server's connection
     * count can be watched while it does */
    char bg[1100];
    snprintf(bg, sizeof bg, "(%s; echo $? > %s/rc) &", cmd, dir);
    int64_t t0 = tu_ms();
    cr_assert_eq(system(bg), 0);
    char rcpath[300];
    snprintf(rcpath, sizeof rcpath, "%s/rc", dir);
    *peak_conns = 0;
    while (access(rcpath, F_OK) != 0 && tu_ms() - t0 < 30000) {
        size_t k = tu_child_connections(c);
        if (k > *peak_conns)
            *peak_conns = k;
        usleep(10 * 1000);
    }
    int64_t took = tu_ms() - t0;
    p->stop = 1;
    pthread_join(p->thread, NULL);
    snprintf(csv, sizeof csv, "%s/st.csv", dir);
    st_read(csv, rep);
    snprintf(cmd, sizeof cmd, "tail -c 2000 %s/log; rm -rf %s", dir, dir);
    tu_shell(cmd, out, sizeof out);
    rep->all_closed = strstr(out, "No open connections left") != NULL;
    cr_log_info("slowhttptest %s: %lld ms, peak %zu server connections, report: %d rows, "
                "max connected %d, closed %d; normal client: %d answered, worst %lld ms",
                mode, (long long)took, *peak_conns, rep->rows, rep->max_connected, rep->last_closed,
                p->answered, (long long)p->worst_ms);
    return took;
}

static void assert_normal_client_unharmed(const prober *p)
{
    cr_assert_eq(p->failed, 0, "%d normal requests failed during the attack", p->failed);
    cr_assert_gt(p->answered, 20, "only %d normal requests answered", p->answered);
    cr_assert_lt(p->worst_ms, 100, "a normal request took %lld ms during the attack",
                 (long long)p->worst_ms);
}

/* Runs slowhttptest in `mode` against a server set up by tweak, and checks
 * that the server cut every slow connection within `within_ms` (`what` says
 * which limit should have) while a normal client was answered as usual. */
static st_report assert_attack_cut(void (*tweak)(aw_config *), const char *mode,
                                   int64_t within_ms, const char *what)
{
    tu_child c;
    tu_child_start(&c, slow_app, tweak, 0);
    st_report rep;
    prober p = {0};
    size_t peak;
    int64_t took = slow_attack(&c, mode, 200, &rep, &p, &peak);
    cr_assert_geq(peak, 150, "the server saw only %zu connections", peak);
    cr_assert(rep.all_closed, "slowhttptest's connections were not all closed by the server");
    cr_assert_lt(took, within_ms, "the slow connections were not cut by %s", what);
    cr_assert_eq(tu_child_wait_connections(&c, 0, 2000), 0);
    assert_normal_client_unharmed(&p);
    cr_assert_eq(tu_child_stop(&c), 0);
    return rep;
}

Test(abuse_slow, slowloris_connections_are_cut_at_the_header_timeout)
{
    /* every slow connection was open at once, then the server cut them all:
     * slowhttptest ends early ("No open connections left") at ~2 s */
    st_report rep = assert_attack_cut(short_timeouts, "-H", 5000, "the 2 s header timeout");
    cr_assert_geq(rep.max_connected, 150, "slowhttptest had only %d connections open",
                  rep.max_connected);
}

Test(abuse_slow, slow_bodies_are_cut_at_the_body_timeout)
{
    /* slowhttptest sends body bytes every 1 s; a body wait of 600 ms cuts them
     * (within its first second, before slowhttptest's first report line) */
    assert_attack_cut(short_body_timeout, "-B -s 8192", 4000, "the body timeout");
}

/* A slow POST that keeps each wait under the body timeout (a byte or so a
 * second, where each wait may take 2 s) is still cut: all of a body's waits
 * together may take `body` plus a second per body_min_rate bytes. */
static void rate_bounded_body(aw_config *c)
{
    short_timeouts(c);
    c->body_ms = 2000;
    c->body_min_rate = 500;
}

Test(abuse_slow, slow_bodies_under_each_wait_are_cut_by_the_minimum_rate)
{
    /* slowhttptest's ticks (1 s, a few bytes) never trip a 2 s wait; the
     * budget (2 s + 2 ms a byte) runs out after about 2 s of waiting */
    assert_attack_cut(rate_bounded_body, "-B -s 8192", 5000, "the minimum rate");
}

/* A client slower than one wait allows in total, but above the minimum rate,
 * is not cut: 100 bytes every 300 ms for 1.5 s (waits of 400 ms each, and a
 * budget of 400 ms + 10 ms a byte). */
static void generous_rate(aw_config *c)
{
    short_timeouts(c);
    c->body_ms = 400;
    c->body_min_rate = 100;
}

Test(abuse_slow, a_body_above_the_minimum_rate_is_read_to_its_end)
{
    tu_child c;
    tu_child_start(&c, slow_app, generous_rate, 0);
    int fd = tu_connect(c.port);
    tu_sends(fd, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nConnection: close\r\n\r\n");
    char chunk[101];
    memset(chunk, 'b', 100);
    chunk[100] = 0;
    for (int i = 0; i < 5; i++) {
        usleep(300 * 1000);
        tu_sends(fd, chunk);
    }
    char buf[1024];
    int closed;
    tu_recv_all(fd, buf, sizeof buf, 2000, &closed);
    close(fd);
    cr_assert_eq(tu_status(buf), 200, "%s", buf);
    cr_assert(strstr(buf, "\r\n\r\n500"), "%s", buf);
    cr_assert_eq(tu_child_stop(&c), 0);
}
