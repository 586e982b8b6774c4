/* TLS: certificate and host-name verification, protocol versions (checked
 * with the openssl command), curl through an aweb TLS listener, ALPN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "certs.h"
#include "testutil.h"

TestSuite(tls, .timeout = 60, .fini = tu_fini);

/* A tiny HTTP responder in task mode: enough for curl and s_client. */
static int hello_handler(aw_stream *s, void *arg)
{
    (void)arg;
    char buf[4096];
    ssize_t n = aw_stream_read_until(s, "\r\n\r\n", 4, buf, sizeof buf, 5000);
    if (n < 0)
        return (int)n;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n"
                               "hello\n";
    return aw_stream_write(s, resp, sizeof resp - 1, 5000);
}

typedef struct tls_server {
    aw_tls_ctx *ctx;
    aw_listener *l;
    int port;
} tls_server;

static void tls_server_start(tls_server *ts, const char *cert, const char *key, const char *alpn)
{
    aw_tls_opts o = {.cert_file = cert, .key_file = key, .alpn = alpn};
    cr_assert_eq(aw_tls_server_ctx_new(&o, &ts->ctx), 0, "%s", aw_last_error());
    aw_listen_opts lo = {.tls = ts->ctx, .handler = hello_handler};
    cr_assert_eq(aw_listen(&lo, &ts->l), 0);
    ts->port = aw_listener_port(ts->l);
}

static void tls_server_stop(tls_server *ts)
{
    aw_listener_close(ts->l);
    aw_tls_ctx_free(ts->ctx);
}

/* Connects with a client context; returns the result and fills why. */
static int try_connect(int port, const aw_tls_opts *o, const char *name, char *why, size_t n)
{
    aw_tls_ctx *c;
    cr_assert_eq(aw_tls_client_ctx_new(o, &c), 0, "%s", aw_last_error());
    aw_stream *s;
    int rc = aw_open_connection("127.0.0.1", port, &(aw_connect_opts){.tls = c, .server_name = name},
                                &s);
    snprintf(why, n, "%s", aw_last_error());
    if (rc == 0) {
        cr_assert(aw_stream_is_tls(s));
        aw_stream_write(s, "GET / HTTP/1.1\r\n\r\n", 18, 1000);
        char buf[256];
        ssize_t got = aw_stream_read(s, buf, sizeof buf, 2000);
        cr_assert_gt(got, 0, "no answer through TLS");
        aw_stream_close(s);
    }
    aw_tls_ctx_free(c);
    return rc;
}

static int verify_main(void *arg)
{
    (void)arg;
    const tu_certs *c = tu_certs_get();
    char why[256];
    /* a self-signed server against the system trust store */
    tls_server self = {0};
    tls_server_start(&self, c->self_cert, c->self_key, NULL);
    int rc = try_connect(self.port, &(aw_tls_opts){0}, "localhost", why, sizeof why);
    cr_assert_eq(rc, AW_ECERT, "got %s", aw_strerror(rc));
    cr_assert(strstr(why, "certificate verify failed: self-signed certificate"), "%s", why);
    tls_server_stop(&self);

    tls_server ts = {0};
    tls_server_start(&ts, c->server_cert, c->server_key, NULL);
    /* signed by the test's CA, which the system does not trust */
    rc = try_connect(ts.port, &(aw_tls_opts){0}, "localhost", why, sizeof why);
    cr_assert_eq(rc, AW_ECERT);
    cr_assert(strstr(why, "unable to get local issuer certificate"), "%s", why);
    /* with the CA it connects, by name and by address */
    cr_assert_eq(try_connect(ts.port, &(aw_tls_opts){.ca_file = c->ca}, "localhost", why,
                             sizeof why),
                 0, "%s", why);
    cr_assert_eq(try_connect(ts.port, &(aw_tls_opts){.ca_file = c->ca}, "127.0.0.1", why,
                             sizeof why),
                 0, "%s", why);
    /* a name the certificate does not carry */
    rc = try_connect(ts.port, &(aw_tls_opts){.ca_file = c->ca}, "example.com", why, sizeof why);
    cr_assert_eq(rc, AW_ECERT);
    cr_assert(strstr(why, "hostname mismatch"), "%s", why);
    /* verification off only when asked */
    cr_assert_eq(try_connect(ts.port, &(aw_tls_opts){.verify_off = 1}, "example.com", why,
                             sizeof why),
                 0, "%s", why);
    tls_server_stop(&ts);
    return 0;
}

Test(tls, the_client_verifies_certificates_and_host_names) { tu_run(verify_main, NULL); }

/* --- external clients ---------------------------------------------------- */

typedef struct cmd {
    char line[1024];
    char out[8192];
    int status;
} cmd;

static void *run_cmd(void *arg)
{
    cmd *c = arg;
    FILE *f = popen(c->line, "r");
    size_t n = f ? fread(c->out, 1, sizeof c->out - 1, f) : 0;
    c->out[n] = 0;
    c->status = f ? pclose(f) : -1;
    return NULL;
}

static int shell(cmd *c)
{
    aw_timeout_push(20000);
    int rc = aw_to_thread(run_cmd, c, NULL);
    aw_timeout_pop();
    cr_assert_eq(rc, 0);
    return WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
}

static int s_client(int port, const char *version, const tu_certs *certs, cmd *c)
{
    /* SECLEVEL=0 lets the client offer TLS 1.1 at all: the refusal must
     * come from the server */
    snprintf(c->line, sizeof c->line,
             "echo | timeout 10 openssl s_client -connect 127.0.0.1:%d -servername localhost "
             "-CAfile %s %s -cipher 'DEFAULT:@SECLEVEL=0' 2>&1",
             port, certs->ca, version);
    return shell(c);
}

static int protocols_main(void *arg)
{
    (void)arg;
    const tu_certs *certs = tu_certs_get();
    tls_server ts = {0};
    tls_server_start(&ts, certs->server_cert, certs->server_key, "http/1.1");
    cmd *c = calloc(1, sizeof *c);
    cr_assert_neq(s_client(ts.port, "-tls1_1", certs, c), 0, "TLS 1.1 was accepted:\n%s", c->out);
    cr_assert_eq(s_client(ts.port, "-tls1_2", certs, c), 0, "%s", c->out);
    cr_assert(strstr(c->out, "New, TLSv1.2,"), "%s", c->out);
    cr_assert(strstr(c->out, "Verify return code: 0 (ok)"), "%s", c->out);
    cr_assert(strstr(c->out, "GCM") || strstr(c->out, "CHACHA20"), "a non-AEAD cipher:\n%s",
              c->out);
    cr_assert_eq(s_client(ts.port, "-tls1_3", certs, c), 0, "%s", c->out);
    cr_assert(strstr(c->out, "New, TLSv1.3,"), "%s", c->out);
    /* compression and renegotiation are off */
    cr_assert(strstr(c->out, "Compression: NONE"), "%s", c->out);
    snprintf(c->line, sizeof c->line,
             "timeout 10 curl -sS --cacert %s https://localhost:%d/ 2>&1", certs->ca, ts.port);
    cr_assert_eq(shell(c), 0, "%s", c->out);
    cr_assert_str_eq(c->out, "hello\n");
    free(c);
    tls_server_stop(&ts);
    return 0;
}

Test(tls, only_tls_1_2_and_1_3_are_spoken_and_curl_fetches_through_it)
{
    tu_run(protocols_main, NULL);
}

/* --- ALPN, bad configuration --------------------------------------------- */

static int alpn_main(void *arg)
{
    (void)arg;
    const tu_certs *certs = tu_certs_get();
    tls_server ts = {0};
    tls_server_start(&ts, certs->server_cert, certs->server_key, "http/1.1,h2x");
    aw_tls_ctx *c;
    cr_assert_eq(aw_tls_client_ctx_new(&(aw_tls_opts){.ca_file = certs->ca, .alpn = "h2x,http/1.1"},
                                       &c),
                 0);
    aw_stream *s;
    int crc = aw_open_connection("localhost", ts.port, &(aw_connect_opts){.tls = c}, &s);
    cr_assert_eq(crc, 0, "%s: %s", aw_strerror(crc), aw_last_error());
    cr_assert_str_eq(aw_stream_alpn(s), "http/1.1", "the server's preference wins");
    aw_stream_close(s);
    aw_tls_ctx_free(c);
    tls_server_stop(&ts);

    aw_tls_ctx *bad;
    int rc = aw_tls_server_ctx_new(
        &(aw_tls_opts){.cert_file = certs->server_cert, .key_file = certs->self_key}, &bad);
    cr_assert_eq(rc, AW_ETLS);
    cr_assert(strstr(aw_last_error(), "key values mismatch"), "%s", aw_last_error());
    rc = aw_tls_server_ctx_new(&(aw_tls_opts){.cert_file = "/nonexistent.pem"}, &bad);
    cr_assert_eq(rc, AW_ETLS);
    cr_assert(strstr(aw_last_error(), "/nonexistent.pem"), "%s", aw_last_error());
    return 0;
}

Test(tls, alpn_follows_the_servers_preference_and_bad_files_are_refused) { tu_run(alpn_main, NULL); }
