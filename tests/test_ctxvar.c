/* Context variables: per task, copied into spawned tasks. */
#include "testutil.h"

TestSuite(ctxvar, .timeout = 30, .fini = tu_fini);

static aw_ctxvar request_id = AW_CTXVAR_INIT("request_id", "none");
static aw_ctxvar user = AW_CTXVAR_INIT("user", NULL);

typedef struct {
    const char *seen_at_start, *seen_later, *user_seen;
} child_view;

static int child(void *arg)
{
    child_view *v = arg;
    v->seen_at_start = aw_ctxvar_get(&request_id);
    v->user_seen = aw_ctxvar_get(&user);
    aw_ctxvar_set(&request_id, "child's own");
    aw_sleep(20);
    v->seen_later = aw_ctxvar_get(&request_id);
    return 0;
}

static int ctx_main(void *arg)
{
    (void)arg;
    cr_assert_str_eq(aw_ctxvar_get(&request_id), "none");
    cr_assert_eq(aw_ctxvar_set(&request_id, "req-1"), 0);
    aw_ctxvar_set(&user, "alice");
    cr_assert_str_eq(aw_ctxvar_get(&request_id), "req-1");
    child_view v = {0};
    aw_task *t = aw_spawn(child, &v);
    aw_sleep(5);
    /* the parent changes its value after the spawn: the child keeps its copy */
    aw_ctxvar_set(&request_id, "req-2");
    cr_assert_eq(aw_join(t), 0);
    cr_assert_str_eq(v.seen_at_start, "req-1");
    cr_assert_str_eq(v.user_seen, "alice");
    cr_assert_str_eq(v.seen_later, "child's own");
    cr_assert_str_eq(aw_ctxvar_get(&request_id), "req-2", "the child's set did not leak back");
    /* many variables */
    static aw_ctxvar many[20];
    for (int i = 0; i < 20; i++) {
        many[i] = (aw_ctxvar)AW_CTXVAR_INIT("v", NULL);
        aw_ctxvar_set(&many[i], (void *)(intptr_t)(i + 1));
    }
    for (int i = 0; i < 20; i++)
        cr_assert_eq((intptr_t)aw_ctxvar_get(&many[i]), i + 1);
    return 0;
}

Test(ctxvar, values_are_per_task_and_copied_into_children) { tu_run(ctx_main, NULL); }

Test(ctxvar, outside_a_task_get_gives_the_default_and_set_fails)
{
    cr_assert_str_eq(aw_ctxvar_get(&request_id), "none");
    cr_assert_eq(aw_ctxvar_set(&request_id, "x"), AW_ENOTASK);
}
