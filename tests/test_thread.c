/* aw_to_thread: work on the thread pool. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(thread, .timeout = 30, .fini = tu_fini);

static pthread_t loop_thread;

static void *square_off_loop(void *arg)
{
    long *n = arg;
    *n = *n * *n;
    return (void *)(intptr_t)!pthread_equal(pthread_self(), loop_thread);
}

static int ticker(void *arg)
{
    int *ticks = arg;
    while (aw_sleep(5) == 0)
        (*ticks)++;
    return 0;
}

static void *block_100ms(void *arg)
{
    usleep(100 * 1000);
    return arg;
}

static int thread_main(void *arg)
{
    (void)arg;
    loop_thread = pthread_self();
    long n = 12;
    void *off = NULL;
    cr_assert_eq(aw_to_thread(square_off_loop, &n, &off), 0);
    cr_assert_eq(n, 144);
    cr_assert_eq((intptr_t)off, 1, "the work ran on another thread");
    /* the loop keeps running tasks while the work blocks */
    int ticks = 0;
    aw_task *t = aw_spawn(ticker, &ticks);
    void *r;
    cr_assert_eq(aw_to_thread(block_100ms, (void *)7, &r), 0);
    cr_assert_eq((intptr_t)r, 7);
    cr_assert_geq(ticks, 10, "only %d ticks while the thread blocked", ticks);
    aw_cancel(t);
    aw_join(t);
    return 0;
}

Test(thread, work_runs_off_the_loop_while_tasks_go_on) { tu_run(thread_main, NULL); }

static volatile int finished_work;

static void *slow_work(void *arg)
{
    usleep(200 * 1000);
    finished_work = 1;
    return arg;
}

static int cancelled_thread(void *arg)
{
    (void)arg;
    return aw_to_thread(slow_work, NULL, NULL);
}

static int cancel_main(void *arg)
{
    (void)arg;
    aw_task *t = aw_spawn(cancelled_thread, NULL);
    aw_sleep(20);
    int64_t t0 = tu_ms();
    aw_cancel(t);
    cr_assert_eq(aw_join(t), AW_ECANCELED);
    cr_assert_lt(tu_ms() - t0, 10);
    cr_assert_eq(finished_work, 0);
    return 0;
}

Test(thread, a_cancelled_caller_returns_at_once_and_the_loop_waits_for_the_work)
{
    cr_assert_eq(aw_run(cancel_main, NULL), 0);
    cr_assert_eq(finished_work, 1, "aw_run returned before the work ended");
}

static int timed_thread(void *arg)
{
    (void)arg;
    aw_timeout_push(30);
    int rc = aw_to_thread(block_100ms, NULL, NULL);
    aw_timeout_pop();
    cr_assert_eq(rc, AW_ETIMEDOUT);
    return 0;
}

Test(thread, a_scope_bounds_the_wait) { tu_run(timed_thread, NULL); }
