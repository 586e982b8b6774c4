/* The job scheduler (aiojobs): bounded, closable fire-and-forget work.
 *
 * A job is pending (fn and arg queued, no task yet) or active (running as a
 * task the scheduler owns) and then done. Its memory lives until it is done
 * and nobody holds its handle. A job outlives a freed scheduler: its
 * back-pointer is cleared and it ends on its own.
 */
#include "scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rt_int.h"
#include "timeout.h"

enum { AW__JOB_PENDING, AW__JOB_ACTIVE, AW__JOB_DONE };

struct aw_job {
    aw_scheduler *s;
    aw__list link; /* in s->pending or s->active */
    aw_task *task; /* while active */
    aw_task_fn fn;
    void *arg;
    char *name;
    size_t stack_size;
    struct aw__ctxvals *vars; /* the spawner's context, for a job started later */
    int status;
    uint8_t state;
    uint8_t has_handle; /* the user still holds the handle */
    uint8_t explicit;   /* someone waits for or closes it: failures go to them */
    uint8_t closing;
    aw_task *waiter;
};

struct aw_scheduler {
    aw_scheduler_opts o;
    aw__list pending, active;
    size_t npending, nactive;
    int closed;
    int draining;    /* in wait_and_close: no new jobs */
    aw_task *closer; /* waits in close / wait_and_close */
};

aw_scheduler *aw_scheduler_new(const aw_scheduler_opts *opts)
{
    aw_scheduler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (opts)
        s->o = *opts;
    if (!s->o.limit)
        s->o.limit = 100;
    if (!s->o.pending_limit)
        s->o.pending_limit = 10000;
    if (!s->o.close_timeout_ms)
        s->o.close_timeout_ms = 100;
    aw__list_init(&s->pending);
    aw__list_init(&s->active);
    return s;
}

static void aw__job_free(aw_job *j)
{
    aw__ctxvals_unref(j->vars);
    free(j->name);
    free(j);
}

static void aw__job_report(aw_scheduler *s, aw_job *j, int status)
{
    if (s && s->o.exception_handler) {
        s->o.exception_handler(s, j, status, s->o.ctx);
        return;
    }
    fprintf(stderr, "aweb: job %s %s: %s\n", j->name ? j->name : "(unnamed)",
            status == AW_ETIMEDOUT ? "did not end within the close timeout" : "failed",
            aw_strerror(status));
}

static void aw__job_done(aw_task *t);

static int aw__job_start(aw__rt *rt, aw_job *j)
{
    aw_task_opts o = {.name = j->name, .stack_size = j->stack_size};
    aw_task *t = aw__spawn(rt, j->fn, j->arg, &o);
    if (!t)
        return AW_ENOMEM;
    aw__ctxvals_unref(t->vars);
    t->vars = aw__ctxvals_ref(j->vars);
    t->flags = (uint16_t)((t->flags & ~AW__TF_SHIELDED) | AW__TF_OWNED);
    t->cancelled = 0;
    t->owner = j;
    t->on_done = aw__job_done;
    j->task = t;
    j->state = AW__JOB_ACTIVE;
    aw__list_insert_tail(&j->s->active, &j->link);
    j->s->nactive++;
    return 0;
}

/* Moves pending jobs to active while the limit allows. */
static void aw__sched_fill(aw_scheduler *s)
{
    aw__rt *rt = aw__rt_get();
    while (!s->closed && s->nactive < s->o.limit && s->npending) {
        aw_job *j = aw__container_of(s->pending.next, aw_job, link);
        aw__list_remove(&j->link);
        s->npending--;
        if (aw__job_start(rt, j) < 0) {
            j->state = AW__JOB_DONE;
            j->status = AW_ENOMEM;
            aw__job_report(s, j, AW_ENOMEM);
            if (!j->has_handle)
                aw__job_free(j);
        }
    }
}

/* A job ended (its task's on_done hook): account, report, start the next. */
static void aw__job_ended(aw_job *j, int status)
{
    aw_scheduler *s = j->s;
    j->status = status;
    j->state = AW__JOB_DONE;
    aw__list_remove(&j->link);
    int failed = status < 0 && !(status == AW_ECANCELED && j->closing);
    if (failed && !j->explicit)
        aw__job_report(s, j, status);
    if (j->waiter)
        aw__wake(j->waiter, 0);
    if (s) {
        if (j->task)
            s->nactive--;
        else
            s->npending--;
        aw__sched_fill(s);
        if (s->closer && !s->nactive && (s->closed || !s->npending))
            aw__wake(s->closer, 0);
    }
    j->task = NULL;
    if (!j->has_handle)
        aw__job_free(j);
}

static void aw__job_done(aw_task *t)
{
    aw_job *j = t->owner;
    t->flags |= AW__TF_DETACHED; /* the loop frees the task after its last step */
    aw__job_ended(j, t->status);
}

int aw_scheduler_spawn_ex(aw_scheduler *s, aw_task_fn fn, void *arg, const aw_task_opts *opts,
                          aw_job **out)
{
    aw__rt *rt = aw__rt_get();
    if (!rt || !fn)
        return AW_EINVAL;
    if (s->closed || s->draining)
        return AW_ECLOSED;
    int start_now = s->nactive < s->o.limit;
    if (!start_now && s->npending >= s->o.pending_limit)
        return AW_EFULL;
    aw_job *j = calloc(1, sizeof *j);
    if (!j || (opts && opts->name && !(j->name = strdup(opts->name)))) {
        free(j);
        return AW_ENOMEM;
    }
    j->s = s;
    j->fn = fn;
    j->arg = arg;
    j->stack_size = opts ? opts->stack_size : 0;
    aw_task *cur = aw__current();
    j->vars = aw__ctxvals_ref(cur ? cur->vars : NULL);
    j->has_handle = out != NULL;
    if (start_now) {
        int rc = aw__job_start(rt, j);
        if (rc < 0) {
            aw__job_free(j);
            return rc;
        }
    } else {
        j->state = AW__JOB_PENDING;
        aw__list_insert_tail(&s->pending, &j->link);
        s->npending++;
    }
    if (out)
        *out = j;
    return 0;
}

int aw_scheduler_spawn(aw_scheduler *s, aw_task_fn fn, void *arg, aw_job **job)
{
    return aw_scheduler_spawn_ex(s, fn, arg, NULL, job);
}

size_t aw_scheduler_active(const aw_scheduler *s) { return s->nactive; }
size_t aw_scheduler_pending(const aw_scheduler *s) { return s->npending; }
int aw_scheduler_closed(const aw_scheduler *s) { return s->closed; }

/* Waits (as s->closer) until the condition `done` holds or the deadline. */
static int aw__sched_wait(aw_scheduler *s, uint64_t deadline, int all)
{
    aw_task *self = aw__current();
    if (!self)
        return AW_ENOTASK;
    int rc = 0;
    while (s->nactive || (all && s->npending)) {
        s->closer = self;
        rc = aw__wait(self, deadline, 1);
        s->closer = NULL;
        if (rc < 0)
            break;
    }
    return rc;
}

int aw_scheduler_close(aw_scheduler *s)
{
    aw__rt *rt = aw__rt_get();
    s->closed = 1;
    while (s->npending) {
        aw_job *j = aw__container_of(s->pending.next, aw_job, link);
        j->closing = 1;
        aw__job_ended(j, AW_ECANCELED);
    }
    aw__list *pos;
    aw__list_each (pos, &s->active) {
        aw_job *j = aw__container_of(pos, aw_job, link);
        j->closing = 1;
        aw_cancel(j->task);
    }
    if (s->nactive && rt && aw__current())
        aw__sched_wait(s, aw__op_deadline(rt, s->o.close_timeout_ms, 100), 0);
    /* Jobs still running now ignore cancellation (or run shielded work):
     * report them; they end on their own. */
    aw__list_each (pos, &s->active)
        aw__job_report(s, aw__container_of(pos, aw_job, link), AW_ETIMEDOUT);
    return 0;
}

int aw_scheduler_wait_and_close(aw_scheduler *s, int64_t timeout_ms)
{
    aw__rt *rt = aw__rt_get();
    int rc = 0;
    s->draining = 1;
    if (rt && aw__current() && (s->nactive || s->npending))
        rc = aw__sched_wait(s, aw__op_deadline(rt, timeout_ms, AW_FOREVER), 1);
    int had_to_cancel = s->nactive || s->npending;
    aw_scheduler_close(s);
    return had_to_cancel ? (rc < 0 ? rc : AW_ETIMEDOUT) : 0;
}

void aw_scheduler_free(aw_scheduler *s)
{
    if (!s)
        return;
    if (!s->closed)
        aw_scheduler_close(s);
    aw__list *pos;
    while ((pos = aw__list_first(&s->active))) {
        aw_job *j = aw__container_of(pos, aw_job, link);
        aw__list_remove(&j->link);
        j->s = NULL;
    }
    free(s);
}

/* --- job handles -------------------------------------------------------- */

static int aw__job_release(aw_job *j, int status)
{
    j->has_handle = 0;
    if (j->state == AW__JOB_DONE)
        aw__job_free(j);
    return status;
}

int aw_job_close(aw_job *j)
{
    aw__rt *rt = aw__rt_get();
    j->explicit = 1;
    j->closing = 1;
    if (j->state == AW__JOB_PENDING) {
        aw__job_ended(j, AW_ECANCELED);
        return aw__job_release(j, AW_ECANCELED);
    }
    if (j->state == AW__JOB_ACTIVE) {
        aw_cancel(j->task);
        aw_task *self = aw__current();
        int64_t ms = j->s ? j->s->o.close_timeout_ms : 100;
        uint64_t deadline = rt ? aw__op_deadline(rt, ms, 100) : 0;
        while (self && j->state != AW__JOB_DONE) {
            j->waiter = self;
            int rc = aw__wait(self, deadline, 1);
            j->waiter = NULL;
            if (rc < 0)
                break;
        }
        if (j->state != AW__JOB_DONE) {
            j->explicit = 0;
            aw__job_report(j->s, j, AW_ETIMEDOUT);
            return aw__job_release(j, AW_ETIMEDOUT);
        }
    }
    return aw__job_release(j, j->status);
}

int aw_job_wait(aw_job *j, int64_t timeout_ms)
{
    aw__rt *rt = aw__rt_get();
    aw_task *self = aw__current();
    if (!self)
        return AW_ENOTASK;
    j->explicit = 1;
    uint64_t deadline = aw__op_deadline(rt, timeout_ms, rt->wait_timeout_ms);
    int rc = 0;
    while (j->state != AW__JOB_DONE) {
        j->waiter = self;
        rc = aw__wait(self, deadline, 1);
        j->waiter = NULL;
        if (rc < 0)
            break;
    }
    if (j->state == AW__JOB_DONE)
        return aw__job_release(j, j->status);
    if (rc == AW_ETIMEDOUT && deadline <= self->scope_deadline && !self->cancelled) {
        /* The wait's own timeout: the job is closed (aiojobs). */
        aw_job_close(j);
        return AW_ETIMEDOUT;
    }
    /* The waiter was cancelled or its scope ended: the job carries on, and
     * a failure of it goes to the exception handler. */
    j->explicit = 0;
    return aw__job_release(j, rc);
}

int aw_job_active(const aw_job *j) { return j->state == AW__JOB_ACTIVE; }
int aw_job_pending(const aw_job *j) { return j->state == AW__JOB_PENDING; }
