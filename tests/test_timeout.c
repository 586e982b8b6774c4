/* Deadlines: sleeps, per-operation timeouts and nested scopes. */
#include "testutil.h"

TestSuite(timeout, .timeout = 30, .fini = tu_fini);

static int sleep_main(void *arg)
{
    (void)arg;
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_sleep(100), 0);
    tu_assert_between(tu_ms() - t0, 95, 160);
    return 0;
}

Test(timeout, sleep_lasts_its_time) { tu_run(sleep_main, NULL); }

/* inner scope shorter than the outer: the inner one fires, and after the
 * pop the outer one still holds */
static int inner_shorter(void *arg)
{
    (void)arg;
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_timeout_push(400), 0);
    cr_assert_eq(aw_timeout_push(50), 0);
    cr_assert_eq(aw_sleep(1000), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 120);
    /* sticky while the scope is open */
    cr_assert_eq(aw_sleep(1), AW_ETIMEDOUT);
    cr_assert_eq(aw_yield(), AW_ETIMEDOUT);
    aw_timeout_pop();
    /* restored: the outer scope has time left */
    cr_assert_eq(aw_sleep(10), 0);
    int64_t left = aw_timeout_remaining();
    tu_assert_between(left, 200, 345);
    cr_assert_eq(aw_sleep(1000), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 390, 480);
    aw_timeout_pop();
    cr_assert_eq(aw_timeout_remaining(), AW_FOREVER);
    cr_assert_eq(aw_sleep(5), 0);
    return 0;
}

Test(timeout, an_inner_shorter_scope_fires_and_pop_restores_the_outer)
{
    tu_run(inner_shorter, NULL);
}

/* inner scope longer than the outer: the outer deadline still wins */
static int inner_longer(void *arg)
{
    (void)arg;
    int64_t t0 = tu_ms();
    aw_timeout_push(60);
    aw_timeout_push(5000);
    tu_assert_between(aw_timeout_remaining(), 40, 60);
    cr_assert_eq(aw_sleep(1000), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 55, 130);
    aw_timeout_pop();
    cr_assert_eq(aw_sleep(1), AW_ETIMEDOUT, "the outer scope has passed too");
    aw_timeout_pop();
    cr_assert_eq(aw_sleep(1), 0);
    return 0;
}

Test(timeout, an_inner_longer_scope_cannot_extend_the_outer) { tu_run(inner_longer, NULL); }

/* an operation's own timeout against the scope: the earlier wins */
static int op_vs_scope(void *arg)
{
    (void)arg;
    aw_event *e = aw_event_new();
    aw_timeout_push(1000);
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_event_wait(e, 50), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 120);
    aw_timeout_pop();
    aw_timeout_push(50);
    t0 = tu_ms();
    cr_assert_eq(aw_event_wait(e, 1000), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 120);
    aw_timeout_pop();
    /* deep nesting grows past the inline slots */
    for (int i = 0; i < 20; i++)
        cr_assert_eq(aw_timeout_push(10000 - i), 0);
    for (int i = 0; i < 20; i++)
        aw_timeout_pop();
    cr_assert_eq(aw_timeout_remaining(), AW_FOREVER);
    aw_event_free(e);
    return 0;
}

Test(timeout, the_earlier_of_operation_timeout_and_scope_wins) { tu_run(op_vs_scope, NULL); }

/* AW_DEFAULT: the loop's configured wait timeout */
static int default_wait(void *arg)
{
    (void)arg;
    aw_event *e = aw_event_new();
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_event_wait(e, AW_DEFAULT), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 70, 150);
    aw_event_free(e);
    return 0;
}

Test(timeout, aw_default_uses_the_configured_wait_timeout)
{
    aw_run_opts o = {.wait_timeout_ms = 75};
    cr_assert_eq(aw_run_ex(default_wait, NULL, &o), 0);
}

/* scopes belong to a task: a spawned task does not inherit them */
static int child_sleeps(void *arg)
{
    (void)arg;
    cr_assert_eq(aw_timeout_remaining(), AW_FOREVER);
    return aw_sleep(80);
}

static int scope_not_inherited(void *arg)
{
    (void)arg;
    aw_timeout_push(20);
    aw_task *t = aw_spawn(child_sleeps, NULL);
    aw_timeout_pop();
    cr_assert_eq(aw_join(t), 0);
    return 0;
}

Test(timeout, spawned_tasks_do_not_inherit_scopes) { tu_run(scope_not_inherited, NULL); }

/* wait_for: the awaited task is cancelled at the deadline */
typedef struct {
    int rc;
    int cleaned;
} sleeper;

static void mark_cleaned(void *arg) { ((sleeper *)arg)->cleaned = 1; }

static int long_sleeper(void *arg)
{
    sleeper *s = arg;
    aw_defer(mark_cleaned, s);
    s->rc = aw_sleep(5000);
    return s->rc;
}

static int wait_for_main(void *arg)
{
    (void)arg;
    sleeper s = {0};
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_wait_for(aw_spawn(long_sleeper, &s), 50), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 130);
    cr_assert_eq(s.rc, AW_ECANCELED);
    cr_assert(s.cleaned);
    /* in time: the result comes through */
    cr_assert_eq(aw_wait_for(aw_spawn(child_sleeps, NULL), 1000), 0);
    /* the caller's scope still applies after wait_for's own */
    cr_assert_eq(aw_sleep(1), 0);
    return 0;
}

Test(timeout, wait_for_cancels_the_task_at_its_deadline) { tu_run(wait_for_main, NULL); }

/* many deadlines at once fire in order */
typedef struct {
    int order[64];
    int n;
} fired;

static int sleep_n(void *arg)
{
    fired *f = ((fired **)arg)[0];
    int ms = (int)(intptr_t)((void **)arg)[1];
    aw_sleep(ms);
    f->order[f->n++] = ms;
    return 0;
}

static int heap_main(void *arg)
{
    (void)arg;
    fired f = {.n = 0};
    int ms[] = {70, 10, 50, 30, 90, 20, 60, 40, 80};
    void *args[9][2];
    aw_task *t[9];
    for (int i = 0; i < 9; i++) {
        args[i][0] = &f;
        args[i][1] = (void *)(intptr_t)ms[i];
        t[i] = aw_spawn(sleep_n, args[i]);
    }
    aw_gather(t, 9, NULL);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(f.order[i], (i + 1) * 10);
    return 0;
}

Test(timeout, deadlines_fire_in_order) { tu_run(heap_main, NULL); }
