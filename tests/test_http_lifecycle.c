/* Handlers and clients that leave, atomic routes, 100-continue, streamed
 * uploads; and whole server processes: graceful shutdown, the shutdown
 * timeout, a bad configuration, supervised workers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpserver.h"
#include "testutil.h"

TestSuite(http_life, .timeout = 90, .fini = tu_fini);

/* --- handlers outliving their clients -------------------------------------- */

static volatile int side_effect;
static volatile int cancel_rc;
static volatile int64_t cancel_at;

static aw_response *h_update(aw_request *req)
{
    int rc = aw_sleep(1000); /* the "UPDATE ..." */
    if (rc == 0)
        side_effect = 1;
    return aw_response_text(req, 200, "updated");
}

static aw_response *h_cancellable(aw_request *req)
{
    cancel_rc = aw_sleep(5000);
    cancel_at = tu_ms();
    return aw_fail(req, cancel_rc);
}

static aw_response *h_atomic(aw_request *req)
{
    aw_sleep(300);
    return aw_response_text(req, 200, "atomic done");
}

static aw_response *h_jobs(aw_request *req)
{
    aw_scheduler *s = aw_app_scheduler(aw_request_app(req));
    return aw_response_textf(req, 200, "%zu", aw_scheduler_active(s));
}

static aw_app *life_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/update", h_update, NULL);
    aw_app_route(app, "GET", "/cancellable", h_cancellable,
                 &(aw_route_opts){.cancel_on_disconnect = 1});
    aw_app_route(app, "GET", "/atomic", h_atomic, &(aw_route_opts){.atomic = 1});
    aw_app_route(app, "GET", "/jobs", h_jobs, NULL);
    return app;
}

Test(http_life, a_handler_finishes_after_its_client_hangs_up)
{
    tu_server s;
    tu_server_start(&s, life_app(), NULL);
    side_effect = 0;
    int fd = tu_connect(s.port);
    tu_sends(fd, "GET /update HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100 * 1000);
    close(fd); /* gone at 100 ms */
    usleep(500 * 1000);
    cr_assert_eq(side_effect, 0);
    usleep(700 * 1000);
    cr_assert_eq(side_effect, 1, "the handler was cancelled with its client");
    tu_server_stop(&s);
}

Test(http_life, a_cancel_on_disconnect_route_is_cancelled_at_once)
{
    tu_server s;
    tu_server_start(&s, life_app(), NULL);
    cancel_rc = 1;
    int fd = tu_connect(s.port);
    tu_sends(fd, "GET /cancellable HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100 * 1000);
    int64_t gone = tu_ms();
    close(fd);
    usleep(300 * 1000);
    cr_assert_eq(cancel_rc, AW_ECANCELED, "the handler's sleep returned %d", cancel_rc);
    cr_assert_lt(cancel_at - gone, 50, "cancelled %lld ms after the disconnect",
                 (long long)(cancel_at - gone));
    tu_server_stop(&s);
}

static void one_job(aw_config *c)
{
    c->jobs_limit = 1;
    c->jobs_pending_limit = 1;
}

Test(http_life, an_atomic_route_gets_503_when_the_scheduler_is_full)
{
    tu_server s;
    tu_server_start(&s, life_app(), one_job);
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = tu_connect(s.port);
        tu_sends(fds[i], "GET /atomic HTTP/1.1\r\nHost: x\r\n\r\n");
        usleep(30 * 1000);
    }
    char buf[4096];
    int statuses[3];
    for (int i = 0; i < 3; i++) {
        tu_recv_responses(fds[i], buf, sizeof buf, 1, 3000);
        statuses[i] = tu_status(buf);
        close(fds[i]);
    }
    cr_assert_eq(statuses[0], 200, "the running job");
    cr_assert_eq(statuses[1], 200, "the pending job");
    cr_assert_eq(statuses[2], 503, "past the pending limit: %d", statuses[2]);
    tu_server_stop(&s);
}

Test(http_life, an_atomic_route_runs_as_a_job_of_the_apps_scheduler)
{
    tu_server s;
    tu_server_start(&s, life_app(), NULL);
    char buf[4096];
    int a = tu_connect(s.port);
    tu_sends(a, "GET /atomic HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100 * 1000);
    int b = tu_connect(s.port);
    tu_sends(b, "GET /jobs HTTP/1.1\r\nHost: x\r\n\r\n");
    tu_recv_responses(b, buf, sizeof buf, 1, 2000);
    cr_assert(strstr(buf, "\r\n\r\n1"), "one job active expected: %s", buf);
    tu_recv_responses(a, buf, sizeof buf, 1, 2000);
    cr_assert(strstr(buf, "atomic done"), "%s", buf);
    tu_sends(b, "GET /jobs HTTP/1.1\r\nHost: x\r\n\r\n");
    tu_recv_responses(b, buf, sizeof buf, 1, 2000);
    cr_assert(strstr(buf, "\r\n\r\n0"), "%s", buf);
    close(a);
    close(b);
    tu_server_stop(&s);
}

/* --- bodies: 100-continue, uploads ------------------------------------------ */

static aw_response *h_size(aw_request *req)
{
    const char *body;
    size_t len;
    int rc = aw_request_body(req, &body, &len);
    if (rc)
        return aw_fail(req, rc);
    return aw_response_textf(req, 200, "got %zu", len);
}

static volatile size_t upload_rss;

static aw_response *h_upload(aw_request *req)
{
    aw_multipart *mp = aw_request_multipart(req);
    if (!mp)
        return aw_http_error(req, 400, "not multipart");
    char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-upload-%d", getpid());
    size_t total = 0;
    int rc;
    static char buf[64 * 1024];
    while ((rc = aw_multipart_next(mp)) == 1) {
        if (!aw_multipart_filename(mp))
            continue;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ssize_t n;
        while ((n = aw_multipart_read(mp, buf, sizeof buf)) > 0) {
            if (write(fd, buf, (size_t)n) != n)
                break;
            total += (size_t)n;
        }
        close(fd);
        if (n < 0)
            return aw_fail(req, (int)n);
    }
    if (rc < 0)
        return aw_fail(req, rc);
    upload_rss = tu_rss();
    return aw_response_textf(req, 200, "%zu", total);
}

static void upload_conf(aw_config *c) { c->client_max_size = 1 << 20; }

Test(http_life, expect_100_continue_is_answered_and_an_oversized_body_gets_413_first)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "POST", "/size", h_size, NULL);
    tu_server s;
    tu_server_start(&s, app, upload_conf);
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd,
             "head -c 500000 /dev/zero | curl -sv -H 'Expect: 100-continue' --data-binary @- "
             "http://127.0.0.1:%d/size 2>&1",
             s.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "HTTP/1.1 100 Continue"), "%s", out);
    cr_assert(strstr(out, "got 500000"), "%s", out);
    /* too big: the answer comes before the body is sent */
    int fd = tu_connect(s.port);
    tu_sends(fd, "POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n"
                 "Expect: 100-continue\r\n\r\n");
    char buf[4096];
    int closed;
    int64_t t0 = tu_ms();
    tu_recv_all(fd, buf, sizeof buf, 2000, &closed);
    cr_assert_eq(tu_status(buf), 413, "%s", buf);
    cr_assert_null(strstr(buf, "100 Continue"), "%s", buf);
    cr_assert_lt(tu_ms() - t0, 1000);
    close(fd);
    tu_server_stop(&s);
}

Test(http_life, a_200_mib_multipart_upload_streams_to_a_file_in_bounded_memory)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "POST", "/upload", h_upload, NULL);
    tu_server s;
    tu_server_start(&s, app, upload_conf);
    char cmd[1024], out[8192], path[64];
    /* pseudo-random, reproducible content, generated on the fly */
    const char *gen = "openssl enc -aes-128-ctr -nosalt -pass pass:aweb -pbkdf2 < /dev/zero "
                      "2>/dev/null | head -c 209715200";
    snprintf(cmd, sizeof cmd,
             "%s | curl -s -F 'note=hello' -F 'file=@-;filename=big.bin' "
             "http://127.0.0.1:%d/upload 2>&1",
             gen, s.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "209715200");
    cr_assert_lt(upload_rss, 64u << 20, "RSS reached %zu MiB", upload_rss >> 20);
    snprintf(path, sizeof path, "/tmp/aweb-upload-%d", getpid());
    char want[128], got[128];
    snprintf(cmd, sizeof cmd, "%s | sha256sum | cut -c1-64", gen);
    tu_shell(cmd, want, sizeof want);
    snprintf(cmd, sizeof cmd, "sha256sum %s | cut -c1-64", path);
    tu_shell(cmd, got, sizeof got);
    cr_assert_str_eq(got, want, "the stored file differs from what was sent");
    unlink(path);
    tu_server_stop(&s);
}

/* --- whole processes ------------------------------------------------------------ */

static aw_response *h_pid(aw_request *req) { return aw_response_textf(req, 200, "%d", getpid()); }

static aw_response *h_slow(aw_request *req)
{
    int rc = aw_sleep(atoi(aw_request_query(req, "ms") ? aw_request_query(req, "ms") : "500"));
    if (rc)
        return aw_fail(req, rc);
    return aw_response_text(req, 200, "slow done");
}

typedef struct proc {
    pid_t pid;
    int port;
    int out; /* the child's stdout */
    int err; /* the child's stderr */
} proc;

/* Forks a server process running aw_app_main with args; waits for its
 * "listening on" line. */
static proc spawn_server(const char *const *args, int want_listening)
{
    int o[2], e[2];
    cr_assert_eq(pipe(o), 0);
    cr_assert_eq(pipe(e), 0);
    fflush(NULL);
    pid_t parent = getpid();
    proc p = {.pid = fork()};
    if (p.pid == 0) {
        tu_die_with_parent(parent);
        dup2(o[1], 1);
        dup2(e[1], 2);
        close(o[0]);
        close(e[0]);
        aw_app *app = aw_app_new();
        aw_app_route(app, "GET", "/pid", h_pid, NULL);
        aw_app_route(app, "GET", "/slow", h_slow, NULL);
        char *argv[16] = {"server"};
        int argc = 1;
        for (; args[argc - 1]; argc++)
            argv[argc] = (char *)args[argc - 1];
        _exit(aw_app_main(app, argc, argv));
    }
    close(o[1]);
    close(e[1]);
    p.out = o[0];
    p.err = e[0];
    if (!want_listening)
        return p;
    char line[256] = "";
    size_t n = 0;
    int64_t end = tu_ms() + 5000;
    while (n < sizeof line - 1 && !strchr(line, '\n') && tu_ms() < end) {
        struct pollfd pf = {.fd = p.out, .events = POLLIN};
        if (poll(&pf, 1, 100) == 1 && read(p.out, line + n, 1) == 1)
            n++;
        line[n] = 0;
    }
    const char *colon = strrchr(line, ':');
    cr_assert(strstr(line, "listening on http://") && colon, "no listening line: %s", line);
    p.port = atoi(colon + 1);
    return p;
}

static int wait_exit(pid_t pid, int ms)
{
    int64_t end = tu_ms() + ms;
    int st;
    while (tu_ms() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static const char *write_conf(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-life-%d.conf", getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

Test(http_life, sigterm_lets_50_requests_in_flight_finish_and_exits_0)
{
    const char *conf = write_conf("[log]\naccess_log = off\n");
    const char *args[] = {"--listen", "127.0.0.1:0", "--conf", conf, NULL};
    proc p = spawn_server(args, 1);
    int fds[50];
    for (int i = 0; i < 50; i++) {
        fds[i] = tu_connect(p.port);
        tu_sends(fds[i], "GET /slow?ms=600 HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    usleep(150 * 1000);
    kill(p.pid, SIGTERM);
    usleep(100 * 1000);
    /* no longer accepting */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_neq(connect(s, (struct sockaddr *)&a, sizeof a), 0, "a new connection was taken");
    cr_assert_eq(errno, ECONNREFUSED);
    close(s);
    int ok = 0;
    for (int i = 0; i < 50; i++) {
        char buf[4096];
        int closed;
        tu_recv_all(fds[i], buf, sizeof buf, 3000, &closed);
        ok += tu_status(buf) == 200 && strstr(buf, "slow done") != NULL;
        close(fds[i]);
    }
    cr_assert_eq(ok, 50, "%d of 50 in-flight requests got their 200", ok);
    cr_assert_eq(wait_exit(p.pid, 5000), 0);
    unlink(conf);
}

Test(http_life, a_request_still_running_at_the_shutdown_timeout_is_cancelled)
{
    const char *conf = write_conf("[log]\naccess_log = off\n[timeouts]\nshutdown = 300ms\n");
    const char *args[] = {"--listen", "127.0.0.1:0", "--conf", conf, NULL};
    proc p = spawn_server(args, 1);
    int fd = tu_connect(p.port);
    tu_sends(fd, "GET /slow?ms=10000 HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100 * 1000);
    int64_t t0 = tu_ms();
    kill(p.pid, SIGTERM);
    cr_assert_eq(wait_exit(p.pid, 5000), 0, "the server did not exit 0");
    tu_assert_between(tu_ms() - t0, 250, 1500);
    close(fd);
    unlink(conf);
}

Test(http_life, a_bad_configuration_value_stops_start_up_with_file_line_and_reason)
{
    const char *conf = write_conf("[server]\nbacklog = 16\n\n[timeouts]\nread = forever\n");
    const char *args[] = {"--conf", conf, NULL};
    proc p = spawn_server(args, 0);
    int rc = wait_exit(p.pid, 5000);
    char err[1024] = "";
    ssize_t n = read(p.err, err, sizeof err - 1);
    err[n > 0 ? n : 0] = 0;
    cr_assert_neq(rc, 0);
    char want[128];
    snprintf(want, sizeof want, "%s:5: read: expected a duration", conf);
    cr_assert(strstr(err, want), "stderr: %s", err);
    unlink(conf);
}

static int fetch_pid(int port)
{
    int fd = tu_connect(port);
    char buf[4096];
    tu_sends(fd, "GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    int closed;
    tu_recv_all(fd, buf, sizeof buf, 2000, &closed);
    close(fd);
    const char *body = strstr(buf, "\r\n\r\n");
    return tu_status(buf) == 200 && body ? atoi(body + 4) : -1;
}

Test(http_life, two_workers_share_a_port_and_a_killed_one_is_replaced)
{
    const char *conf = write_conf("[log]\naccess_log = off\n");
    char listen[64];
    int port = free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *args[] = {"--listen", listen, "--conf", conf, "--workers", "2", NULL};
    proc p = spawn_server(args, 1);
    usleep(200 * 1000); /* let the second worker listen too */
    int pids[2] = {0, 0};
    for (int i = 0; i < 200 && (!pids[0] || !pids[1]); i++) {
        int pid = fetch_pid(port);
        cr_assert_gt(pid, 0);
        if (!pids[0])
            pids[0] = pid;
        else if (pid != pids[0])
            pids[1] = pid;
    }
    cr_assert(pids[0] && pids[1] && pids[0] != pids[1], "only one worker answered");
    kill(pids[0], SIGKILL);
    int64_t t0 = tu_ms();
    int replaced = 0;
    /* connections the kernel had queued for the killed worker die with it;
     * new ones go to the live worker and, within a second, its replacement */
    while (tu_ms() - t0 < 1000 && !replaced) {
        int pid = fetch_pid(port);
        replaced = pid > 0 && pid != pids[0] && pid != pids[1];
    }
    cr_assert(replaced, "no new worker answered within a second");
    kill(p.pid, SIGTERM);
    cr_assert_eq(wait_exit(p.pid, 5000), 0);
    unlink(conf);
}
