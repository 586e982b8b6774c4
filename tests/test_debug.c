/* Debug mode (AW_DEBUG=1): slow steps, unjoined tasks, stack high-water. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(debug, .timeout = 30, .fini = tu_fini);

static int blocks_the_loop(void *arg)
{
    (void)arg;
    usleep(200 * 1000); /* a blocking call where an await belonged */
    return 0;
}

static int short_task(void *arg)
{
    (void)arg;
    return aw_sleep(1);
}

static int debug_main(void *arg)
{
    (void)arg;
    aw_join(aw_spawn_ex(blocks_the_loop, NULL, &(aw_task_opts){.name = "sluggish"}));
    aw_spawn_ex(short_task, NULL, &(aw_task_opts){.name = "forgotten"});
    aw_join(aw_spawn_ex(short_task, NULL, &(aw_task_opts){.name = "well-kept"}));
    aw_sleep(10);
    return 0;
}

static int run_debug(void *arg)
{
    (void)arg;
    setenv("AW_DEBUG", "1", 1);
    return aw_run(debug_main, NULL);
}

Test(debug, reports_slow_steps_unjoined_tasks_and_stack_use)
{
    char err[8192];
    int status = tu_run_child(run_debug, NULL, err, sizeof err, 10000);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "stderr: %s", err);
    cr_assert(strstr(err, "task sluggish held the loop for"), "stderr: %s", err);
    cr_assert(strstr(err, "task forgotten was never joined"), "stderr: %s", err);
    cr_assert_null(strstr(err, "task well-kept was never joined"), "stderr: %s", err);
    cr_assert(strstr(err, "stack high-water of well-kept:"), "stderr: %s", err);
}

static int run_quiet(void *arg)
{
    (void)arg;
    unsetenv("AW_DEBUG");
    return aw_run(debug_main, NULL);
}

Test(debug, is_silent_when_off)
{
    char err[8192];
    int status = tu_run_child(run_quiet, NULL, err, sizeof err, 10000);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_str_eq(err, "");
}
