/* Structured concurrency: groups, gather, shield. */
#include "testutil.h"

TestSuite(group, .timeout = 30, .fini = tu_fini);

typedef struct {
    int ms;   /* sleep this long */
    int fail; /* then return this */
    int rc;   /* what the sleep returned */
    int cleaned;
} child;

static void mark_cleaned(void *arg) { ((child *)arg)->cleaned = 1; }

static int child_fn(void *arg)
{
    child *c = arg;
    aw_defer(mark_cleaned, c);
    c->rc = aw_sleep(c->ms);
    if (c->rc)
        return c->rc;
    return c->fail;
}

static int first_failure_main(void *arg)
{
    (void)arg;
    child c[5] = {{1000, 0}, {30, AW_EPIPE}, {1000, 0}, {60, AW_EPROTO}, {10, 0}};
    aw_group *g = aw_group_new();
    for (int i = 0; i < 5; i++)
        cr_assert_not_null(aw_group_spawn(g, child_fn, &c[i]));
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_group_wait(g), AW_EPIPE, "the first failure is the group's result");
    tu_assert_between(tu_ms() - t0, 25, 200);
    cr_assert_eq(c[0].rc, AW_ECANCELED, "siblings are cancelled");
    cr_assert_eq(c[2].rc, AW_ECANCELED);
    cr_assert_eq(c[3].rc, AW_ECANCELED, "the later failure never happened");
    cr_assert_eq(c[4].rc, 0, "a child that finished earlier kept its result");
    for (int i = 0; i < 5; i++)
        cr_assert(c[i].cleaned, "child %d's cleanup ran", i);
    return 0;
}

Test(group, the_first_failure_cancels_the_siblings_and_is_returned)
{
    tu_run(first_failure_main, NULL);
}

static int all_succeed_main(void *arg)
{
    (void)arg;
    child c[3] = {{10, 0}, {20, 0}, {5, 3}};
    aw_group *g = aw_group_new();
    for (int i = 0; i < 3; i++)
        aw_group_spawn(g, child_fn, &c[i]);
    cr_assert_eq(aw_group_running(g), 3);
    cr_assert_eq(aw_group_wait(g), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(c[i].rc, 0);
    /* an empty group waits for nothing */
    cr_assert_eq(aw_group_wait(aw_group_new()), 0);
    return 0;
}

Test(group, a_group_of_successes_returns_zero) { tu_run(all_succeed_main, NULL); }

typedef struct {
    child c[3];
    int rc;
} parent_state;

static int parent_fn(void *arg)
{
    parent_state *p = arg;
    aw_group *g = aw_group_new();
    for (int i = 0; i < 3; i++)
        aw_group_spawn(g, child_fn, &p->c[i]);
    p->rc = aw_group_wait(g);
    return p->rc;
}

static int parent_cancel_main(void *arg)
{
    (void)arg;
    parent_state p = {.c = {{5000, 0}, {5000, 0}, {5000, 0}}};
    aw_task *t = aw_spawn(parent_fn, &p);
    aw_sleep(20);
    aw_cancel(t);
    cr_assert_eq(aw_join(t), AW_ECANCELED);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(p.c[i].rc, AW_ECANCELED);
        cr_assert(p.c[i].cleaned);
    }
    /* the same with a timeout scope around the wait */
    parent_state q = {.c = {{5000, 0}, {10, 0}, {5000, 0}}};
    aw_timeout_push(30);
    int rc = parent_fn(&q);
    aw_timeout_pop();
    cr_assert_eq(rc, AW_ETIMEDOUT);
    cr_assert_eq(q.c[0].rc, AW_ECANCELED);
    cr_assert_eq(q.c[1].rc, 0);
    return 0;
}

Test(group, cancelling_the_waiter_cancels_the_children) { tu_run(parent_cancel_main, NULL); }

static int spawn_after_failure_main(void *arg)
{
    (void)arg;
    child c[2] = {{0, AW_EPIPE}, {10, 0}};
    aw_group *g = aw_group_new();
    aw_group_spawn(g, child_fn, &c[0]);
    aw_sleep(5);
    aw_group_spawn(g, child_fn, &c[1]);
    cr_assert_eq(aw_group_wait(g), AW_EPIPE);
    cr_assert_not(c[1].cleaned, "a child spawned into a failed group never runs");
    return 0;
}

Test(group, spawning_into_a_failed_group_gives_a_cancelled_child)
{
    tu_run(spawn_after_failure_main, NULL);
}

/* --- gather -------------------------------------------------------------- */

static int gather_main(void *arg)
{
    (void)arg;
    child c[3] = {{10, 5}, {5, AW_EPROTO}, {1, AW_EPIPE}};
    aw_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = aw_spawn(child_fn, &c[i]);
    int st[3];
    cr_assert_eq(aw_gather(t, 3, st), AW_EPROTO, "the first failure by index");
    cr_assert_eq(st[0], 5);
    cr_assert_eq(st[1], AW_EPROTO);
    cr_assert_eq(st[2], AW_EPIPE);
    return 0;
}

Test(group, gather_collects_every_status) { tu_run(gather_main, NULL); }

/* --- shield -------------------------------------------------------------- */

typedef struct {
    int done;
    int rc;
    int64_t caller_back_at;
    int caller_rc;
} shielded;

static int shielded_work(void *arg)
{
    shielded *s = arg;
    s->rc = aw_sleep(150);
    s->done = 1;
    return 11;
}

static int calls_shield(void *arg)
{
    shielded *s = arg;
    s->caller_rc = aw_shield(shielded_work, s);
    s->caller_back_at = tu_ms();
    return s->caller_rc;
}

static int shield_main(void *arg)
{
    (void)arg;
    shielded s = {0};
    aw_task *t = aw_spawn(calls_shield, &s);
    aw_sleep(20);
    int64_t t0 = tu_ms();
    aw_cancel(t);
    cr_assert_eq(aw_join(t), AW_ECANCELED);
    cr_assert_lt(s.caller_back_at - t0, 10, "the caller stops waiting at once");
    cr_assert_eq(s.done, 0);
    aw_sleep(200);
    cr_assert_eq(s.done, 1, "the shielded work ran to its end");
    cr_assert_eq(s.rc, 0, "and was not cancelled");
    /* uncancelled, shield returns the work's status */
    shielded s2 = {0};
    cr_assert_eq(aw_shield(shielded_work, &s2), 11);
    return 0;
}

Test(group, shielded_work_survives_the_callers_cancellation) { tu_run(shield_main, NULL); }

static shielded at_exit;

static int leaves_shielded_work(void *arg)
{
    (void)arg;
    aw_task *t = aw_spawn(calls_shield, &at_exit);
    aw_sleep(10);
    aw_cancel(t);
    aw_join(t);
    return 0; /* main ends while the shielded work still runs */
}

Test(group, aw_run_waits_for_shielded_work)
{
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_run(leaves_shielded_work, NULL), 0);
    cr_assert_eq(at_exit.done, 1, "aw_run returned before the shielded work finished");
    cr_assert_eq(at_exit.rc, 0);
    cr_assert_geq(tu_ms() - t0, 140);
}
