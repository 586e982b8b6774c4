/* Task stacks: guard pages, the overflow report, sizes. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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
