/* Name resolution with uv_getaddrinfo under a deadline.
 *
 * Numeric addresses are parsed on the spot. A lookup that outlives its
 * deadline (or its task's cancellation) is left to finish on libuv's thread
 * pool; its request frees itself then.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "resolve_int.h"
#include "net.h"
#include "stream_int.h"

typedef struct aw__gai {
    uv_getaddrinfo_t req;
    aw_task *task; /* NULL once the task stopped waiting */
    int status;
    struct addrinfo *res;
    int done;
} aw__gai;

static void aw__gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    aw__gai *g = (aw__gai *)req;
    if (!g->task) {
        if (res)
            uv_freeaddrinfo(res);
        free(g);
        return;
    }
    g->status = status;
    g->res = res;
    g->done = 1;
    aw__wake(g->task, 0);
}

int aw__resolve(const char *host, int port, uint64_t deadline, struct addrinfo **res)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = aw__current();
    char service[16];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    snprintf(service, sizeof service, "%d", port);
    if (!t)
        return AW_ENOTASK;
    /* numeric hosts need no lookup */
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, service, &hints, res) == 0)
        return 0;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = aw__timed_out(t, deadline);
    if (rc)
        return rc;
    aw__gai *g = calloc(1, sizeof *g);
    if (!g)
        return AW_ENOMEM;
    g->task = t;
    rc = uv_getaddrinfo(&rt->loop, &g->req, aw__gai_cb, host, service, &hints);
    if (rc) {
        free(g);
        aw__stream_set_error("cannot resolve %s: %s", host, uv_strerror(rc));
        return AW_EDNS;
    }
    rc = aw__wait(t, deadline, 1);
    if (!g->done) {
        g->task = NULL; /* the callback frees it */
        uv_cancel((uv_req_t *)&g->req);
        if (rc == AW_ETIMEDOUT)
            aw__stream_set_error("resolving %s timed out", host);
        return rc;
    }
    rc = g->status;
    *res = g->res;
    free(g);
    if (rc) {
        aw__stream_set_error("cannot resolve %s: %s", host, uv_strerror(rc));
        return AW_EDNS;
    }
    return 0;
}

int aw_resolve(const char *host, int port, int64_t timeout_ms, struct addrinfo **res)
{
    aw__rt *rt = aw__rt_get();
    if (!rt)
        return AW_ENOTASK;
    return aw__resolve(host, port, aw__op_deadline(rt, timeout_ms, AW__DNS_MS), res);
}

void aw_freeaddrinfo(struct addrinfo *res)
{
    if (res)
        freeaddrinfo(res);
}
