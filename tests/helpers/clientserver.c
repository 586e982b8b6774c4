/* The server side of the HTTP client tests: see clientserver.h. */
#include "clientserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpserver.h"
#include "testutil.h"

/* answers with the client's port: one port, one connection */
static aw_response *h_port(aw_request *req)
{
    return aw_response_text(req, 200, aw_request_peer(req));
}

aw_app *tu_client_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/port", h_port, NULL);
    return app;
}

static char base[64];

void tu_url_set_base(const char *scheme_host, int port)
{
    snprintf(base, sizeof base, "%s:%d", scheme_host, port);
}

const char *tu_url(const char *path)
{
    static char buf[8][256];
    static int k;
    char *u = buf[k++ % 8];
    snprintf(u, 256, "%s%s", base, path);
    return u;
}

void tu_serve_and_run(aw_app *app, int (*main_fn)(void *), void (*tweak)(aw_config *),
                      const char *scheme_host)
{
    tu_server s;
    tu_server_start(&s, app, tweak);
    tu_url_set_base(scheme_host, s.port);
    tu_run(main_fn, NULL);
    tu_server_stop(&s);
}

char *tu_get_text(aw_client *c, const char *path, int *status)
{
    aw_client_response *r;
    int rc = aw_client_get(c, tu_url(path), &r);
    cr_assert_eq(rc, 0, "GET %s: %s (%s)", path, aw_strerror(rc), aw_last_error());
    const char *body;
    size_t len;
    cr_assert_eq(aw_client_response_body(r, &body, &len), 0);
    char *copy = strdup(body);
    if (status)
        *status = aw_client_response_status(r);
    aw_client_response_free(r);
    return copy;
}
