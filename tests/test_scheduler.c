/* The job scheduler (aiojobs semantics). */
#include "testutil.h"

TestSuite(scheduler, .timeout = 30, .fini = tu_fini);

typedef struct {
    int active, max_active, started, finished;
    int ms;
} load;

static int measured_job(void *arg)
{
    load *l = arg;
    l->started++;
    if (++l->active > l->max_active)
        l->max_active = l->active;
    int rc = aw_sleep(l->ms);
    l->active--;
    if (rc == 0)
        l->finished++;
    return rc;
}

static int limit_main(void *arg)
{
    (void)arg;
    load l = {.ms = 2};
    aw_scheduler *s = aw_scheduler_new(&(aw_scheduler_opts){.limit = 10});
    for (int i = 0; i < 500; i++)
        cr_assert_eq(aw_scheduler_spawn(s, measured_job, &l, NULL), 0);
    cr_assert_eq(aw_scheduler_active(s), 10);
    cr_assert_eq(aw_scheduler_pending(s), 490);
    cr_assert_eq(aw_scheduler_wait_and_close(s, 10000), 0);
    cr_assert_eq(l.finished, 500, "wait_and_close lets every job finish");
    cr_assert_eq(l.max_active, 10, "the jobs saw %d of them active at once", l.max_active);
    cr_assert_eq(aw_scheduler_active(s), 0);
    cr_assert_eq(aw_scheduler_pending(s), 0);
    cr_assert_eq(aw_scheduler_spawn(s, measured_job, &l, NULL), AW_ECLOSED);
    aw_scheduler_free(s);
    return 0;
}

Test(scheduler, never_more_than_limit_jobs_run_and_wait_and_close_finishes_all)
{
    tu_run(limit_main, NULL);
}

static int pending_limit_main(void *arg)
{
    (void)arg;
    load l = {.ms = 1000};
    aw_scheduler *s = aw_scheduler_new(
        &(aw_scheduler_opts){.limit = 2, .pending_limit = 3, .close_timeout_ms = 200});
    for (int i = 0; i < 5; i++)
        cr_assert_eq(aw_scheduler_spawn(s, measured_job, &l, NULL), 0);
    cr_assert_eq(aw_scheduler_spawn(s, measured_job, &l, NULL), AW_EFULL);
    cr_assert_str_eq(aw_err_name(AW_EFULL), "EFULL");
    aw_scheduler_free(s);
    return 0;
}

Test(scheduler, spawning_past_the_pending_limit_is_refused) { tu_run(pending_limit_main, NULL); }

typedef struct {
    int calls;
    int status;
    aw_scheduler *s;
} handler_log;

static void on_exception(aw_scheduler *s, aw_job *job, int status, void *ctx)
{
    (void)job;
    handler_log *h = ctx;
    h->calls++;
    h->status = status;
    h->s = s;
}

static int failing_job(void *arg)
{
    aw_sleep(5);
    return (int)(intptr_t)arg;
}

static int exception_main(void *arg)
{
    (void)arg;
    handler_log h = {0};
    aw_scheduler *s =
        aw_scheduler_new(&(aw_scheduler_opts){.exception_handler = on_exception, .ctx = &h});
    aw_scheduler_spawn(s, failing_job, (void *)(intptr_t)AW_EPROTO, NULL);
    aw_scheduler_spawn(s, failing_job, (void *)0, NULL);
    /* a job someone waits for reports to its waiter, not to the handler */
    aw_job *j;
    aw_scheduler_spawn(s, failing_job, (void *)(intptr_t)AW_EPIPE, &j);
    cr_assert_eq(aw_job_wait(j, 1000), AW_EPIPE);
    aw_sleep(10);
    cr_assert_eq(h.calls, 1);
    cr_assert_eq(h.status, AW_EPROTO);
    cr_assert_eq(h.s, s);
    aw_scheduler_close(s);
    aw_scheduler_free(s);
    return 0;
}

Test(scheduler, a_failing_job_reaches_the_exception_handler) { tu_run(exception_main, NULL); }

static int close_main(void *arg)
{
    (void)arg;
    load l = {.ms = 10000};
    aw_scheduler *s = aw_scheduler_new(&(aw_scheduler_opts){.limit = 3});
    for (int i = 0; i < 6; i++)
        aw_scheduler_spawn(s, measured_job, &l, NULL);
    aw_sleep(10);
    cr_assert_eq(l.started, 3);
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_scheduler_close(s), 0);
    cr_assert_lt(tu_ms() - t0, 150, "close waits at most close_timeout");
    cr_assert_eq(l.active, 0, "close cancelled the running jobs");
    cr_assert_eq(l.started, 3, "pending jobs never start after close");
    cr_assert_eq(l.finished, 0);
    cr_assert_eq(aw_scheduler_active(s) + aw_scheduler_pending(s), 0);
    aw_scheduler_free(s);
    return 0;
}

Test(scheduler, close_cancels_what_still_runs) { tu_run(close_main, NULL); }

/* A job that ignores cancellation for 300 ms (it still yields at every
 * await, so the loop goes on). */
static int stubborn(void *arg)
{
    (void)arg;
    int64_t end = tu_ms() + 300;
    while (tu_ms() < end)
        aw_sleep(10);
    return 0;
}

static int close_timeout_main(void *arg)
{
    (void)arg;
    handler_log h = {0};
    aw_scheduler *s = aw_scheduler_new(
        &(aw_scheduler_opts){.close_timeout_ms = 50, .exception_handler = on_exception, .ctx = &h});
    aw_scheduler_spawn(s, stubborn, NULL, NULL);
    aw_sleep(5);
    int64_t t0 = tu_ms();
    aw_scheduler_close(s);
    tu_assert_between(tu_ms() - t0, 45, 150);
    cr_assert_eq(h.calls, 1, "a job outliving close_timeout is reported");
    cr_assert_eq(h.status, AW_ETIMEDOUT);
    aw_scheduler_free(s);
    return 0;
}

Test(scheduler, jobs_outliving_the_close_timeout_are_reported) { tu_run(close_timeout_main, NULL); }

static int job_handles_main(void *arg)
{
    (void)arg;
    load l = {.ms = 50};
    aw_scheduler *s = aw_scheduler_new(&(aw_scheduler_opts){.limit = 1});
    aw_job *a, *b, *c;
    aw_scheduler_spawn(s, measured_job, &l, &a);
    aw_scheduler_spawn(s, measured_job, &l, &b);
    aw_scheduler_spawn(s, measured_job, &l, &c);
    cr_assert(aw_job_active(a));
    cr_assert(aw_job_pending(b));
    /* wait with a timeout shorter than the job: the job is closed */
    cr_assert_eq(aw_job_wait(a, 10), AW_ETIMEDOUT);
    cr_assert_eq(l.finished, 0);
    /* closing a pending job: it never runs */
    cr_assert_eq(aw_job_close(c), AW_ECANCELED);
    cr_assert_eq(aw_job_wait(b, 1000), 0);
    cr_assert_eq(l.finished, 1);
    cr_assert_eq(l.started, 2);
    aw_scheduler_close(s);
    aw_scheduler_free(s);
    return 0;
}

Test(scheduler, job_handles_wait_and_close) { tu_run(job_handles_main, NULL); }

/* A waiter that is cancelled stops waiting; the job carries on (aiojobs'
 * atomic handlers rely on this). */
static int waits_on_job(void *arg) { return aw_job_wait(arg, 5000); }

static int waiter_cancel_main(void *arg)
{
    (void)arg;
    load l = {.ms = 60};
    aw_scheduler *s = aw_scheduler_new(NULL);
    aw_job *j;
    aw_scheduler_spawn(s, measured_job, &l, &j);
    aw_task *w = aw_spawn(waits_on_job, j);
    aw_sleep(10);
    aw_cancel(w);
    cr_assert_eq(aw_join(w), AW_ECANCELED);
    cr_assert_eq(aw_scheduler_active(s), 1);
    aw_sleep(80);
    cr_assert_eq(l.finished, 1, "the job finished after its waiter left");
    aw_scheduler_free(s);
    return 0;
}

Test(scheduler, a_cancelled_waiter_does_not_cancel_the_job) { tu_run(waiter_cancel_main, NULL); }
