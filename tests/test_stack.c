/* Task stacks: guard pages, the overflow report, sizes. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "rt_int.h" /* aw__task_trim_at_next_wait */
#include "testutil.h"

TestSuite(stack, .timeout = 60, .fini = tu_fini);

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    return recurse(depth + 1) + frame[0];
}

static int overflows(void *arg)
{
    (void)arg;
    return recurse(0);
}

static int overflow_main(void *arg)
{
    (void)arg;
    aw_task *t = aw_spawn_ex(overflows, NULL, &(aw_task_opts){.name = "deep-recursion"});
    return aw_join(t);
}

static int run_overflow(void *arg)
{
    (void)arg;
    return aw_run(overflow_main, NULL);
}

Test(stack, an_overflow_is_reported_with_the_task_name)
{
    char err[8192];
    int status = tu_run_child(run_overflow, NULL, err, sizeof err, 20000);
    cr_assert(strstr(err, "stack overflow in task deep-recursion"), "stderr was: %s", err);
    cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "the process must fail");
}

static int uses_big_frames(void *arg)
{
    (void)arg;
    volatile char big[400 * 1024];
    big[0] = 1;
    big[sizeof big - 1] = 2;
    return big[0] + big[sizeof big - 1];
}

static int big_stack_main(void *arg)
{
    (void)arg;
    aw_task *t = aw_spawn_ex(uses_big_frames, NULL, &(aw_task_opts){.stack_size = 1 << 20});
    cr_assert_eq(aw_join(t), 3);
    return 0;
}

Test(stack, a_task_may_ask_for_a_bigger_stack) { tu_run(big_stack_main, NULL); }

static int default_is_configurable(void *arg)
{
    (void)arg;
    cr_assert_eq(aw_join(aw_spawn(uses_big_frames, NULL)), 3);
    return 0;
}

Test(stack, the_default_stack_size_is_configurable)
{
    aw_run_opts o = {.stack_size = 1 << 20};
    cr_assert_eq(aw_run_ex(default_is_configurable, NULL, &o), 0);
}

static int sleep_a_bit(void *arg)
{
    (void)arg;
    return aw_sleep(5);
}

/* Guarded stacks must not use up the kernel's map count: 100,000 suspended
 * tasks at once. */
static int waits(void *arg) { return aw_event_wait(arg, AW_FOREVER); }

static int count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static int many_stacks_main(void *arg)
{
    (void)arg;
    enum { N = 100000 };
    static aw_task *t[N];
    aw_event *e = aw_event_new();
    for (int i = 0; i < N; i++)
        t[i] = aw_spawn(waits, e);
    aw_yield();
    int maps = count_maps();
    cr_assert_lt(maps, 60000, "%d mappings for %d stacks", maps, N);
    aw_event_set(e);
    cr_assert_eq(aw_gather(t, N, NULL), 0);
    aw_event_free(e);
    return 0;
}

Test(stack, a_hundred_thousand_guarded_stacks_fit_the_map_count) { tu_run(many_stacks_main, NULL); }

/* Pools have no fixed size: a burst keeps its stacks while it lasts, and the
 * trim timer gives back what a whole interval did not need. */
static int burst_main(void *arg)
{
    (void)arg;
    enum { N = 2000 };
    static aw_task *t[N];
    size_t rss0 = tu_rss();
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++)
            t[i] = aw_spawn(sleep_a_bit, NULL);
        cr_assert_eq(aw_gather(t, N, NULL), 0);
    }
    size_t rss_burst = tu_rss();
    cr_assert_gt(rss_burst - rss0, N * 4096 / 2, "the burst's stacks are pooled");
    aw_sleep(250); /* two trim intervals */
    size_t rss_after = tu_rss();
    cr_assert_lt(rss_after, rss_burst - N * 4096 / 2, "RSS %zu -> %zu: the pool was not trimmed",
                 rss_burst, rss_after);
    return 0;
}

Test(stack, pooled_stacks_are_released_when_unused_for_a_whole_interval)
{
    aw_run_opts o = {.pool_trim_ms = 100};
    cr_assert_eq(aw_run_ex(burst_main, NULL, &o), 0);
}

/* A parked task keeps only the stack pages its frames use: what it touched
 * deeper before waiting goes back to the kernel, at the trim tick after a
 * whole interval parked, or at once when asked before the wait. */
enum { DEEP_TASKS = 400, DEEP_BYTES = 32 * 1024 };

static __attribute__((noinline)) void touch_deep(void)
{
    volatile char deep[DEEP_BYTES];
    for (size_t i = 0; i < sizeof deep; i += 1024)
        deep[i] = 1;
}

static int deep_then_wait(void *arg)
{
    touch_deep();
    return aw_event_wait(arg, AW_FOREVER);
}

static int deep_then_trim_and_wait(void *arg)
{
    touch_deep();
    aw__task_trim_at_next_wait();
    return aw_event_wait(arg, AW_FOREVER);
}

static int parked_trim_main(void *arg)
{
    (void)arg;
    static aw_task *t[DEEP_TASKS];
    const size_t deep = (size_t)DEEP_TASKS * DEEP_BYTES;
    aw_event *e = aw_event_new();
    size_t rss0 = tu_rss();
    for (int i = 0; i < DEEP_TASKS; i++)
        t[i] = aw_spawn(deep_then_wait, e);
    aw_yield(); /* they all run, touch their stacks and park */
    size_t rss1 = tu_rss();
    cr_assert_gt(rss1, rss0 + deep / 2, "the stacks were not touched: %zu -> %zu", rss0, rss1);
    aw_sleep(50); /* less than an interval parked: they keep their pages */
    size_t rss2 = tu_rss();
    cr_assert_gt(rss2 + deep / 4, rss1, "released too early: %zu -> %zu", rss1, rss2);
    aw_sleep(400); /* past two trim ticks */
    size_t rss3 = tu_rss();
    cr_assert_lt(rss3 + deep / 2, rss1, "RSS %zu -> %zu: the pages were kept", rss1, rss3);
    aw_event_set(e);
    cr_assert_eq(aw_gather(t, DEEP_TASKS, NULL), 0);
    aw_event_free(e);
    return 0;
}

Test(stack, a_task_parked_for_a_whole_interval_gives_back_the_pages_below_its_frames)
{
    aw_run_opts o = {.pool_trim_ms = 150};
    cr_assert_eq(aw_run_ex(parked_trim_main, NULL, &o), 0);
}

/* What DEEP_TASKS tasks running fn add to the RSS once they all parked. */
static size_t parked_growth(aw_task_fn fn)
{
    static aw_task *t[DEEP_TASKS];
    aw_event *e = aw_event_new();
    size_t rss0 = tu_rss();
    for (int i = 0; i < DEEP_TASKS; i++)
        t[i] = aw_spawn(fn, e);
    aw_yield();
    size_t rss1 = tu_rss();
    aw_event_set(e);
    cr_assert_eq(aw_gather(t, DEEP_TASKS, NULL), 0);
    aw_event_free(e);
    return rss1 > rss0 ? rss1 - rss0 : 0;
}

static int trim_at_wait_main(void *arg)
{
    (void)arg;
    /* the trimming batch first: the control then reuses its pooled stacks,
     * whose deep pages it has to bring back */
    size_t trimmed = parked_growth(deep_then_trim_and_wait);
    size_t kept = parked_growth(deep_then_wait);
    cr_assert_gt(kept, trimmed + (size_t)DEEP_TASKS * DEEP_BYTES / 2,
                 "parked tasks grew the RSS by %zu with the trim, %zu without", trimmed, kept);
    return 0;
}

Test(stack, a_task_may_give_back_its_dead_stack_pages_when_it_next_parks)
{
    tu_run(trim_at_wait_main, NULL);
}
