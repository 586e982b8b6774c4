/* Task runtime benchmark: context switch, spawn + join, and memory per
 * suspended task. tests/bench/bench_runtime.py measures the same three things
 * in asyncio, and tests/bench/run.sh prints the two side by side.
 *
 * Output is one `key value` line per figure (what run.sh parses) and `#` lines
 * saying what each figure counts:
 *
 *   switch_ns           ns per context switch; one aw_yield() is counted as
 *                       TWO switches (task -> loop, loop -> next task)
 *   yield_ns            ns per aw_yield() call, the same run: 2 * switch_ns
 *   spawn_join_ns       ns per task to aw_spawn a trivial task and aw_join it,
 *                       in batches of SPAWN_BATCH spawns then as many joins
 *   spawn_yield_join_ns the same for tasks that aw_yield once before they
 *                       return, so that every task of a batch holds a stack
 *   rss_per_task_bytes  growth of VmRSS per task suspended in aw_sleep, with
 *                       the default 64 KiB stacks
 *
 * Timing figures are the best of REPS runs, because the machine is shared
 * and the best run is the one least disturbed by others. Clock:
 * CLOCK_MONOTONIC.
 *
 * Usage: bench_runtime [switch|spawn|rss]... (default: all three)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aweb.h"

#define REPS 3
#define SWITCH_YIELDS 2000000L /* aw_yield calls per run, over both tasks */
#define SPAWN_BATCH 1000
#define SPAWN_TOTAL 1000000L
#define SPAWN_YIELD_TOTAL 200000L /* fewer: each of these tasks is far dearer */
#define RSS_TASKS 100000
#define RSS_SLEEP_MS 60000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double best_of(const double *v, int n)
{
    double best = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < best)
            best = v[i];
    return best;
}

/* --- context switch --------------------------------------------------------- */

typedef struct pingpong {
    long yields;    /* per task */
    uint64_t start; /* set by the first task past its warm-up yield */
    uint64_t end;   /* set by the last task to finish */
} pingpong;

/* Both tasks yield once before the clock starts, so the spawns and each
 * task's first step (which takes a stack from the pool) are not timed: only
 * the alternation A, B, A, B ... through the ready queue is. */
static int pingpong_task(void *arg)
{
    pingpong *pp = arg;
    int rc = aw_yield();
    if (rc)
        return rc;
    if (!pp->start)
        pp->start = now_ns();
    for (long i = 0; i < pp->yields; i++)
        if ((rc = aw_yield()))
            return rc;
    pp->end = now_ns();
    return 0;
}

static int bench_switch(void)
{
    double yield_ns[REPS];
    for (int r = 0; r < REPS; r++) {
        pingpong pp = {.yields = SWITCH_YIELDS / 2};
        aw_task *a = aw_spawn(pingpong_task, &pp);
        aw_task *b = aw_spawn(pingpong_task, &pp);
        if (!a || !b)
            return AW_ENOMEM;
        int rc = aw_join(a);
        int rc2 = aw_join(b);
        if (rc || rc2)
            return rc ? rc : rc2;
        yield_ns[r] = (double)(pp.end - pp.start) / (double)SWITCH_YIELDS;
    }
    double y = best_of(yield_ns, REPS);
    printf("# switch: 2 tasks, %ld aw_yield calls in all, best of %d; "
           "one aw_yield = 2 switches (task->loop->task)\n",
           SWITCH_YIELDS, REPS);
    printf("switch_ns %.1f\n", y / 2);
    printf("yield_ns %.1f\n", y);
    fflush(stdout);
    return 0;
}

/* --- spawn + join ----------------------------------------------------------- */

static int trivial_task(void *arg)
{
    (void)arg;
    return 0;
}

/* Like a request handler, this one waits once, so it holds its stack while
 * the rest of its batch runs: a batch larger than the loop's stack pool
 * shows what a stack costs once the pool is empty. */
static int yield_once_task(void *arg)
{
    (void)arg;
    return aw_yield();
}

/* Best-of-REPS ns per task to spawn `total` tasks of fn, SPAWN_BATCH at a time,
 * joining each batch before the next; 0 on success, or a failure code. */
static int spawn_join_runs(aw_task_fn fn, long total, double *best)
{
    static aw_task *batch[SPAWN_BATCH];
    double task_ns[REPS];
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = now_ns();
        for (long done = 0; done < total; done += SPAWN_BATCH) {
            for (int i = 0; i < SPAWN_BATCH; i++)
                if (!(batch[i] = aw_spawn(fn, NULL)))
                    return AW_ENOMEM;
            for (int i = 0; i < SPAWN_BATCH; i++) {
                int rc = aw_join(batch[i]);
                if (rc)
                    return rc;
            }
        }
        task_ns[r] = (double)(now_ns() - t0) / (double)total;
    }
    *best = best_of(task_ns, REPS);
    return 0;
}

static int bench_spawn_join(void)
{
    double ns;
    int rc = spawn_join_runs(trivial_task, SPAWN_TOTAL, &ns);
    if (rc)
        return rc;
    printf("# spawn+join: %ld trivial tasks in batches of %d (spawn all, join all), best of %d\n",
           SPAWN_TOTAL, SPAWN_BATCH, REPS);
    printf("spawn_join_ns %.1f\n", ns);
    fflush(stdout);
    if ((rc = spawn_join_runs(yield_once_task, SPAWN_YIELD_TOTAL, &ns)))
        return rc;
    printf("# spawn+yield+join: the same with %ld tasks that each aw_yield once\n",
           SPAWN_YIELD_TOTAL);
    printf("spawn_yield_join_ns %.1f\n", ns);
    fflush(stdout);
    return 0;
}

/* --- memory per suspended task ---------------------------------------------- */

/* A field of /proc/self/status in bytes (the file says kB), or -1. */
static long status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t n = strlen(field);
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kb = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

static long sleepers_started;

static int sleeper_task(void *arg)
{
    (void)arg;
    sleepers_started++;
    int rc = aw_sleep(RSS_SLEEP_MS);
    return rc == AW_ECANCELED ? 0 : rc; /* cancelled is how the benchmark ends it */
}

static int bench_rss(void)
{
    /* Allocated (and touched) before the baseline, so it is not counted. */
    aw_task **tasks = calloc(RSS_TASKS, sizeof *tasks);
    if (!tasks)
        return AW_ENOMEM;
    memset(tasks, 0xff, RSS_TASKS * sizeof *tasks);
    sleepers_started = 0;
    long rss0 = status_bytes("VmRSS"), pte0 = status_bytes("VmPTE");

    int rc = 0;
    long n = 0;
    for (; n < RSS_TASKS; n++)
        if (!(tasks[n] = aw_spawn(sleeper_task, NULL))) {
            rc = AW_ENOMEM;
            break;
        }
    /* The ready queue is FIFO, so one yield already comes back after every
     * sleeper's first step; loop anyway rather than rely on that. */
    while (!rc && sleepers_started < n)
        rc = aw_yield();

    long rss1 = status_bytes("VmRSS"), pte1 = status_bytes("VmPTE");
    if (!rc) {
        printf("# rss: %d tasks suspended in aw_sleep(%d) with default stacks; "
               "VmRSS growth per task (VmPTE, page tables, is not in VmRSS)\n",
               RSS_TASKS, RSS_SLEEP_MS);
        printf("rss_per_task_bytes %.0f\n", (double)(rss1 - rss0) / RSS_TASKS);
        printf("pte_per_task_bytes %.0f\n", (double)(pte1 - pte0) / RSS_TASKS);
        fflush(stdout);
    }

    for (long i = 0; i < n; i++)
        aw_cancel(tasks[i]);
    for (long i = 0; i < n; i++) {
        int trc = aw_join(tasks[i]);
        if (trc && !rc)
            rc = trc;
    }
    free(tasks);
    return rc;
}

/* --- driver ----------------------------------------------------------------- */

typedef struct bench {
    const char *name;
    int (*run)(void);
} bench;

static const bench benches[] = {
    {"switch", bench_switch},
    {"spawn", bench_spawn_join},
    {"rss", bench_rss},
};
#define NBENCHES (sizeof benches / sizeof benches[0])

typedef struct args {
    int argc;
    char **argv;
} args;

static int selected(const args *a, const char *name)
{
    if (a->argc < 2)
        return 1;
    for (int i = 1; i < a->argc; i++)
        if (strcmp(a->argv[i], name) == 0)
            return 1;
    return 0;
}

static int main_task(void *arg)
{
    const args *a = arg;
    for (size_t i = 0; i < NBENCHES; i++) {
        if (!selected(a, benches[i].name))
            continue;
        int rc = benches[i].run();
        if (rc) {
            fprintf(stderr, "bench_runtime: %s: %s\n", benches[i].name, aw_strerror(rc));
            return rc;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int known = 0;
        for (size_t b = 0; b < NBENCHES; b++)
            known |= strcmp(argv[i], benches[b].name) == 0;
        if (!known) {
            fprintf(stderr, "usage: %s [switch|spawn|rss]...\n", argv[0]);
            return 2;
        }
    }
    args a = {argc, argv};
    int rc = aw_run(main_task, &a);
    return rc ? 1 : 0;
}
