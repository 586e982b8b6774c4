/* Tasks: spawn, join, order, names, introspection, cancellation before start,
 * the cleanup stack, aw_run's own behaviour. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

TestSuite(task, .timeout = 30, .fini = tu_fini);

/* --- 100,000 tasks ------------------------------------------------------- */

static int add_one(void *arg)
{
    (*(long *)arg)++;
    return 7;
}

static int spawn_many(void *arg)
{
    (void)arg;
    enum { N = 100000 };
    static aw_task *tasks[N];
    long counter = 0;
    for (int i = 0; i < N; i++) {
        tasks[i] = aw_spawn(add_one, &counter);
        cr_assert_not_null(tasks[i]);
    }
    cr_assert_eq(counter, 0, "spawned tasks must not run before the spawner waits");
    long sum = 0;
    for (int i = 0; i < N; i++)
        sum += aw_join(tasks[i]);
    cr_assert_eq(counter, N);
    cr_assert_eq(sum, 7L * N);
    return 0;
}

Test(task, spawns_and_joins_100000_tasks_in_one_loop) { tu_run(spawn_many, NULL); }

/* 100,000 at once, all suspended: every one needs its own stack. */
static int sleep_then_count(void *arg)
{
    int rc = aw_sleep(50);
    (*(long *)arg)++;
    return rc;
}

static int many_suspended(void *arg)
{
    (void)arg;
    enum { N = 100000 };
    static aw_task *tasks[N];
    long done = 0;
    for (int i = 0; i < N; i++)
        tasks[i] = aw_spawn(sleep_then_count, &done);
    for (int i = 0; i < N; i++)
        cr_assert_eq(aw_join(tasks[i]), 0);
    cr_assert_eq(done, N);
    return 0;
}

Test(task, runs_100000_tasks_suspended_at_the_same_time) { tu_run(many_suspended, NULL); }

/* --- order and who resumes whom ------------------------------------------ */

typedef struct {
    int log[64];
    int n;
    aw_event *ev;
} order_log;

static int log_id(void *arg)
{
    order_log *l = *(order_log **)arg;
    l->log[l->n++] = (int)(((intptr_t *)arg)[1]);
    return 0;
}

static int fifo_main(void *arg)
{
    (void)arg;
    order_log l = {.n = 0};
    intptr_t args[10][2];
    aw_task *t[10];
    for (int i = 0; i < 10; i++) {
        args[i][0] = (intptr_t)&l;
        args[i][1] = i;
        t[i] = aw_spawn(log_id, args[i]);
    }
    aw_gather(t, 10, NULL);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(l.log[i], i, "task %d ran at position %d", l.log[i], i);
    return 0;
}

Test(task, ready_tasks_run_in_fifo_order) { tu_run(fifo_main, NULL); }

typedef struct {
    order_log *l;
    int id;
} waiter_arg;

static int wait_and_log(void *arg)
{
    waiter_arg *w = arg;
    cr_assert_eq(aw_event_wait(w->l->ev, 1000), 0);
    w->l->log[w->l->n++] = w->id;
    return 0;
}

static int wake_order_main(void *arg)
{
    (void)arg;
    order_log l = {.n = 0, .ev = aw_event_new()};
    waiter_arg a[5];
    aw_task *t[5];
    for (int i = 0; i < 5; i++) {
        a[i] = (waiter_arg){&l, i};
        t[i] = aw_spawn(wait_and_log, &a[i]);
    }
    aw_sleep(10);
    aw_event_set(l.ev);
    aw_gather(t, 5, NULL);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(l.log[i], i);
    aw_event_free(l.ev);
    return 0;
}

Test(task, woken_tasks_run_in_the_order_they_were_woken) { tu_run(wake_order_main, NULL); }

typedef struct {
    aw_event *ev;
    int waker_done;
    int seen_waker_done;
    aw_task *self;
    aw_task *seen_current;
} nesting;

static int woken(void *arg)
{
    nesting *n = arg;
    aw_event_wait(n->ev, 1000);
    /* If the waker had resumed us from inside its own step, it would not
     * have finished that step yet. */
    n->seen_waker_done = n->waker_done;
    n->seen_current = aw_current_task();
    return 0;
}

static int waker(void *arg)
{
    nesting *n = arg;
    aw_event_set(n->ev);
    for (volatile int i = 0; i < 1000; i++)
        ;
    n->waker_done = 1;
    return 0;
}

static int nesting_main(void *arg)
{
    (void)arg;
    nesting n = {.ev = aw_event_new()};
    aw_task *a = aw_spawn(woken, &n);
    n.self = a;
    aw_yield();
    aw_task *b = aw_spawn(waker, &n);
    cr_assert_eq(aw_join(b), 0);
    cr_assert_eq(aw_join(a), 0);
    cr_assert(n.seen_waker_done, "the woken task ran inside the waker's step");
    cr_assert_eq(n.seen_current, a);
    aw_event_free(n.ev);
    return 0;
}

Test(task, a_task_is_never_resumed_from_inside_another) { tu_run(nesting_main, NULL); }

static int yield_log(void *arg)
{
    order_log *l = ((order_log **)arg)[0];
    int id = (int)(intptr_t)((void **)arg)[1];
    for (int i = 0; i < 3; i++) {
        l->log[l->n++] = id;
        cr_assert_eq(aw_yield(), 0);
    }
    return 0;
}

static int yield_main(void *arg)
{
    (void)arg;
    order_log l = {.n = 0};
    void *a[2][2] = {{&l, (void *)1}, {&l, (void *)2}};
    aw_task *t[2] = {aw_spawn(yield_log, a[0]), aw_spawn(yield_log, a[1])};
    aw_gather(t, 2, NULL);
    int want[] = {1, 2, 1, 2, 1, 2};
    cr_assert_eq(l.n, 6);
    cr_assert_arr_eq(l.log, want, sizeof want);
    return 0;
}

Test(task, yield_interleaves_ready_tasks) { tu_run(yield_main, NULL); }

/* --- names, introspection ------------------------------------------------ */

static int name_check(void *arg)
{
    (void)arg;
    cr_assert_str_eq(aw_task_name(aw_current_task()), "worker");
    return aw_sleep(20);
}

static int names_main(void *arg)
{
    (void)arg;
    cr_assert_str_eq(aw_task_name(aw_current_task()), "main");
    aw_task *t = aw_spawn_ex(name_check, NULL, &(aw_task_opts){.name = "worker"});
    aw_task *u = aw_spawn(name_check, NULL);
    aw_task_set_name(u, "worker");
    aw_task *v = aw_spawn(add_one, &(long){0});
    char want[32];
    snprintf(want, sizeof want, "task-%llu", (unsigned long long)aw_task_id(v));
    cr_assert_str_eq(aw_task_name(v), want);
    aw_yield();
    aw_task *all[8];
    size_t n = aw_all_tasks(all, 8);
    cr_assert_eq(n, 4, "main, two workers and a finished unjoined task: got %zu", n);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found += all[i] == t || all[i] == u || all[i] == v || all[i] == aw_current_task();
    cr_assert_eq(found, 4);
    cr_assert(aw_task_done(v));
    cr_assert_not(aw_task_done(t));
    cr_assert_eq(aw_join(t), 0);
    cr_assert_eq(aw_join(u), 0);
    cr_assert_eq(aw_join(v), 7);
    cr_assert_eq(aw_all_tasks(all, 8), 1);
    return 0;
}

Test(task, tasks_have_names_and_can_be_listed) { tu_run(names_main, NULL); }

Test(task, current_task_is_null_outside_tasks)
{
    cr_assert_null(aw_current_task());
    cr_assert_null(aw_spawn(add_one, NULL));
    cr_assert_eq(aw_sleep(1), AW_ENOTASK);
}

/* --- join, cancel before start ------------------------------------------- */

static int never_runs(void *arg)
{
    *(int *)arg = 1;
    return 0;
}

static int cancel_before_start_main(void *arg)
{
    (void)arg;
    int ran = 0;
    aw_task *t = aw_spawn(never_runs, &ran);
    aw_cancel(t);
    cr_assert_eq(aw_join(t), AW_ECANCELED);
    cr_assert_eq(ran, 0);
    return 0;
}

Test(task, a_task_cancelled_before_it_starts_never_runs) { tu_run(cancel_before_start_main, NULL); }

static int join_self_main(void *arg)
{
    (void)arg;
    cr_assert_eq(aw_join(aw_current_task()), AW_EINVAL);
    return 0;
}

Test(task, joining_oneself_is_refused) { tu_run(join_self_main, NULL); }

static int returns_arg(void *arg) { return (int)(intptr_t)arg; }

Test(task, aw_run_returns_the_main_status)
{
    cr_assert_eq(aw_run(returns_arg, (void *)42), 42);
    cr_assert_eq(aw_run(returns_arg, (void *)(intptr_t)AW_EPIPE), AW_EPIPE);
}

static int nested_run(void *arg)
{
    (void)arg;
    cr_assert_eq(aw_run(returns_arg, NULL), AW_EBUSY);
    return 0;
}

Test(task, aw_run_does_not_nest) { tu_run(nested_run, NULL); }

/* Tasks left behind by main are cancelled and reaped by aw_run. */
static int sleeps_long(void *arg)
{
    int rc = aw_sleep(60000);
    *(int *)arg = rc;
    return rc;
}

static int leaves_tasks(void *arg)
{
    for (int i = 0; i < 10; i++)
        aw_spawn(sleeps_long, &((int *)arg)[i]);
    aw_sleep(5);
    return 0;
}

Test(task, tasks_left_by_main_are_cancelled_when_main_returns)
{
    int rcs[10] = {0};
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_run(leaves_tasks, rcs), 0);
    cr_assert_lt(tu_ms() - t0, 1000);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(rcs[i], AW_ECANCELED);
}

/* A wait that nothing can end: aw_run notices the loop has nothing left to
 * do and cancels the waiter instead of hanging. */
static int waits_for_nothing(void *arg)
{
    (void)arg;
    aw_event *e = aw_event_new();
    int rc = aw_event_wait(e, AW_FOREVER);
    aw_event_free(e);
    return rc;
}

Test(task, a_deadlocked_main_is_cancelled_not_hung)
{
    cr_assert_eq(aw_run(waits_for_nothing, NULL), AW_ECANCELED);
}

/* --- the cleanup stack --------------------------------------------------- */

typedef struct {
    char trace[32];
    int n;
} trace;

static void push_a(void *arg) { ((trace *)arg)->trace[((trace *)arg)->n++] = 'a'; }
static void push_b(void *arg) { ((trace *)arg)->trace[((trace *)arg)->n++] = 'b'; }
static void push_c(void *arg) { ((trace *)arg)->trace[((trace *)arg)->n++] = 'c'; }

static int defers_then_returns(void *arg)
{
    aw_defer(push_a, arg);
    aw_defer(push_b, arg);
    for (int i = 0; i < 10; i++) /* past the inline entries */
        aw_defer(push_c, arg);
    return 0;
}

static int defers_then_waits(void *arg)
{
    aw_defer(push_a, arg);
    aw_defer(push_b, arg);
    return aw_sleep(60000);
}

static int defer_main(void *arg)
{
    (void)arg;
    trace t1 = {.n = 0}, t2 = {.n = 0};
    cr_assert_eq(aw_join(aw_spawn(defers_then_returns, &t1)), 0);
    cr_assert_str_eq(t1.trace, "ccccccccccba", "cleanups run latest first");
    aw_task *t = aw_spawn(defers_then_waits, &t2);
    aw_sleep(5);
    aw_cancel(t);
    cr_assert_eq(aw_join(t), AW_ECANCELED);
    cr_assert_str_eq(t2.trace, "ba", "cleanups run on cancellation too");
    /* marks: a long-lived task releases per-unit resources */
    trace t3 = {.n = 0};
    size_t mark = aw_defer_depth();
    aw_defer(push_a, &t3);
    aw_defer(push_b, &t3);
    aw_defer_run_to(mark);
    cr_assert_str_eq(t3.trace, "ba");
    cr_assert_eq(aw_defer_depth(), mark);
    return 0;
}

Test(task, cleanups_run_in_reverse_when_the_task_ends_for_any_reason) { tu_run(defer_main, NULL); }
