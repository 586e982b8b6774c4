/* Test utilities; see testing.h. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "net.h"
#include "resp_parse.h"
#include "timeout.h"

struct aw_test_server {
    aw_config cfg;
    aw_server *srv;
};

int aw_test_server_start(aw_app *app, const aw_config *cfg, aw_test_server **out)
{
    aw_test_server *ts = calloc(1, sizeof *ts);
    char err[256];
    if (!ts)
        return AW_ENOMEM;
    aw_config_init(&ts->cfg);
    if (cfg) {
        /* copy the numbers; strings stay the caller's */
        aw_config mine = ts->cfg;
        ts->cfg = *cfg;
        ts->cfg.server_header = mine.server_header;
        ts->cfg.access_log = mine.access_log;
        ts->cfg.access_log_format = mine.access_log_format;
        ts->cfg.error_log = mine.error_log;
        ts->cfg.tls_alpn = mine.tls_alpn;
        memcpy(ts->cfg.listen, mine.listen, sizeof mine.listen);
        ts->cfg.nlisten = mine.nlisten;
        ts->cfg.tls_cert = cfg->tls_cert ? strdup(cfg->tls_cert) : NULL;
        ts->cfg.tls_key = cfg->tls_key ? strdup(cfg->tls_key) : NULL;
        ts->cfg.tls_ca = cfg->tls_ca ? strdup(cfg->tls_ca) : NULL;
        ts->cfg.tls_ciphers = cfg->tls_ciphers ? strdup(cfg->tls_ciphers) : NULL;
        if (cfg->server_header)
            aw_config_set(&ts->cfg, "server", "server_header", cfg->server_header, err, sizeof err);
    }
    aw_config_set(&ts->cfg, "server", "listen", "127.0.0.1:0", err, sizeof err);
    aw_config_set(&ts->cfg, "log", "access_log", "off", err, sizeof err);
    int rc = aw_server_start(app, &ts->cfg, &ts->srv);
    if (rc) {
        aw_config_free(&ts->cfg);
        free(ts);
        return rc;
    }
    *out = ts;
    return 0;
}

int aw_test_server_port(const aw_test_server *ts) { return aw_server_port(ts->srv, 0); }
aw_server *aw_test_server_server(aw_test_server *ts) { return ts->srv; }

int aw_test_server_stop(aw_test_server *ts)
{
    int rc = aw_server_shutdown(ts->srv);
    aw_config_free(&ts->cfg);
    free(ts);
    return rc;
}

int aw_test_request(aw_test_server *ts, const char *method, const char *path,
                    const char *headers, const void *body, size_t body_len,
                    aw_test_response *out)
{
    aw_stream *s;
    memset(out, 0, sizeof *out);
    aw_arena_init(&out->arena);
    int rc = aw_open_connection("127.0.0.1", aw_test_server_port(ts), NULL, &s);
    if (rc)
        return rc;
    char *head = aw_arena_printf(&out->arena,
                                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n",
                                 method, path, aw_test_server_port(ts), headers ? headers : "");
    char *len = body ? aw_arena_printf(&out->arena, "Content-Length: %zu\r\n\r\n", body_len)
                     : aw_arena_strdup(&out->arena, "\r\n");
    aw_iovec v[3] = {{head, strlen(head)}, {len, strlen(len)}, {body, body ? body_len : 0}};
    rc = aw_stream_writev(s, v, body ? 3 : 2, 10000);
    aw__resp r;
    if (!rc)
        rc = aw__read_response(s, method, &out->arena, 256u << 20, 30000, &r);
    aw_stream_close(s);
    if (rc)
        return rc;
    out->status = r.status;
    out->headers = r.headers;
    out->body = r.body;
    out->body_len = r.body_len;
    return 0;
}

int aw_test_get(aw_test_server *ts, const char *path, aw_test_response *out)
{
    return aw_test_request(ts, "GET", path, NULL, NULL, 0, out);
}

void aw_test_response_free(aw_test_response *r) { aw_arena_free(&r->arena); }

const char *aw_test_header(const aw_test_response *r, const char *name)
{
    return aw_headers_get(&r->headers, name);
}
