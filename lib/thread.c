/* aw_to_thread: blocking work on libuv's thread pool while the task waits. */
#include <stdlib.h>

#include "error.h"
#include "rt_int.h"
#include "thread.h"

typedef struct aw__work {
    uv_work_t req;
    aw_thread_fn fn;
    void *arg, *result;
    aw_task *task; /* NULL once the task stopped waiting */
    int done;
} aw__work;

static void aw__work_run(uv_work_t *req)
{
    aw__work *w = req->data;
    w->result = w->fn(w->arg);
}

static void aw__work_after(uv_work_t *req, int status)
{
    (void)status;
    aw__work *w = req->data;
    w->done = 1;
    if (w->task)
        aw__wake(w->task, 0);
    else
        free(w);
}

int aw_to_thread(aw_thread_fn fn, void *arg, void **result)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    int rc = aw__timed_out(t, AW__NO_DEADLINE);
    if (rc)
        return rc;
    aw__work *w = calloc(1, sizeof *w);
    if (!w)
        return AW_ENOMEM;
    w->req.data = w;
    w->fn = fn;
    w->arg = arg;
    w->task = t;
    rc = uv_queue_work(&rt->loop, &w->req, aw__work_run, aw__work_after);
    if (rc) {
        free(w);
        return rc;
    }
    rc = aw__wait(t, AW__NO_DEADLINE, 1);
    if (rc < 0 && !w->done) {
        /* Work not started is dropped; work running finishes on its thread
         * and aw__work_after frees it. */
        w->task = NULL;
        uv_cancel((uv_req_t *)&w->req);
        return rc;
    }
    if (rc == 0 && result)
        *result = w->result;
    free(w);
    return rc;
}
