/* The loop and the ready queue: aw_run, resuming tasks, waiting and waking.
 *
 * Tasks become ready by being queued (aw__ready_push). The queue is drained by
 * a check handle after each poll; while it is non-empty an idle handle keeps
 * the poll from blocking. A drain runs at most AW__RUN_BUDGET steps so a task
 * that keeps yielding cannot starve I/O.
 */
#include "runtime.h"

#include <signal.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "buf_int.h"
#include "error.h"
#include "rt_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define AW__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AW__ASAN 1
#endif
#endif

#ifdef AW__ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif

#define AW__RUN_BUDGET 1024
#define AW__DEFAULT_STACK (64 * 1024)
#define AW__DEFAULT_WAIT_MS (60 * 1000)

__thread aw__rt *aw__rt_tls;

/* --- the ready queue ---------------------------------------------------- */

/* The idle handle only has to be active; its callback has nothing to do. */
static void aw__idle_noop(uv_idle_t *h) { (void)h; }

void aw__ready_push(aw__rt *rt, aw_task *t)
{
    t->next_ready = NULL;
    if (rt->ready_tail)
        rt->ready_tail->next_ready = t;
    else {
        rt->ready_head = t;
        uv_idle_start(&rt->idle, aw__idle_noop);
    }
    rt->ready_tail = t;
}

static aw_task *aw__ready_pop(aw__rt *rt)
{
    aw_task *t = rt->ready_head;
    if (t) {
        rt->ready_head = t->next_ready;
        if (!rt->ready_head)
            rt->ready_tail = NULL;
    }
    return t;
}

/* --- switching ---------------------------------------------------------- */

static void aw__task_entry(void);

/* Runs one step of t: from the loop's stack into the task and back. */
static void aw__resume(aw__rt *rt, aw_task *t)
{
    if (!t->stack) {
        t->stack = aw__stack_get(rt, t->stack_size);
        if (!t->stack) {
            fprintf(stderr, "aweb: cannot allocate a stack for task %s\n", aw_task_name(t));
            t->status = AW_ENOMEM;
            aw__task_finish(rt, t);
            return;
        }
        aw__ctx_make(&t->ctx, aw__stack_lo(t->stack), aw__stack_size(t->stack), aw__task_entry);
    }
    rt->current = t;
    t->state = AW__T_RUNNING;
    t->flags |= AW__TF_STARTED;
    uint64_t t0 = rt->debug ? uv_hrtime() : 0;
#ifdef AW__ASAN
    __sanitizer_start_switch_fiber(&rt->sched_fake_stack, aw__stack_lo(t->stack),
                                   aw__stack_size(t->stack));
#endif
    aw__ctx_switch(&rt->sched, &t->ctx);
#ifdef AW__ASAN
    __sanitizer_finish_switch_fiber(rt->sched_fake_stack, NULL, NULL);
#endif
    rt->current = NULL;
    aw__stack_check(rt, t);
    if (rt->debug)
        aw__debug_step(rt, t, uv_hrtime() - t0);
    if (t->state == AW__T_DONE) {
        if (rt->debug)
            aw__debug_task_done(rt, t);
        aw__stack_put(rt, t->stack);
        t->stack = NULL;
        if (t->flags & AW__TF_DETACHED)
            aw__task_free(rt, t);
    }
}

/* Switches from the running task t back to the loop. */
void aw__suspend(aw__rt *rt, aw_task *t)
{
#ifdef AW__ASAN
    __sanitizer_start_switch_fiber(&t->asan_fake_stack, rt->sched_stack_bottom,
                                   rt->sched_stack_size);
#endif
    aw__ctx_switch(&t->ctx, &rt->sched);
#ifdef AW__ASAN
    __sanitizer_finish_switch_fiber(t->asan_fake_stack, &rt->sched_stack_bottom,
                                    &rt->sched_stack_size);
#else
    (void)rt;
#endif
}

/* The first and last frame of every task's stack. */
static void aw__task_entry(void)
{
    aw__rt *rt = aw__rt_tls;
    aw_task *t = rt->current;
#ifdef AW__ASAN
    __sanitizer_finish_switch_fiber(NULL, &rt->sched_stack_bottom, &rt->sched_stack_size);
#endif
    t->status = t->fn(t->arg);
    aw__defer_run_all(t);
    aw__task_finish(rt, t);
#ifdef AW__ASAN
    /* NULL: this fiber is gone, ASan may free its fake stack. */
    __sanitizer_start_switch_fiber(NULL, rt->sched_stack_bottom, rt->sched_stack_size);
#endif
    aw__ctx_switch(&t->ctx, &rt->sched);
    abort(); /* a finished task is never resumed */
}

/* Runs up to a budget of ready tasks; tasks they wake run in the same drain
 * if the budget allows, in FIFO order. */
static void aw__drain(uv_check_t *check)
{
    aw__rt *rt = check->data;
    for (int n = 0; n < AW__RUN_BUDGET; n++) {
        aw_task *t = aw__ready_pop(rt);
        if (!t)
            break;
        if (t->state == AW__T_NEW && t->cancelled) {
            /* Cancelled before its first step: fn never runs. */
            t->status = AW_ECANCELED;
            aw__task_finish(rt, t);
            if (t->flags & AW__TF_DETACHED)
                aw__task_free(rt, t);
            continue;
        }
        aw__resume(rt, t);
    }
    if (!rt->ready_head)
        uv_idle_stop(&rt->idle);
    if (rt->teardown ? rt->nlive == 0 : rt->main && rt->main->state == AW__T_DONE)
        uv_stop(&rt->loop);
}

/* --- waiting and waking ------------------------------------------------- */

static inline uint64_t aw__min(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* The code a wait ending at deadline d must return without waiting, or 0. */
static int aw__precheck(aw__rt *rt, aw_task *t, uint64_t d)
{
    if (t->cancelled)
        return AW_ECANCELED;
    if (d != AW__NO_DEADLINE && d <= aw__now(rt))
        return AW_ETIMEDOUT;
    return 0;
}

/* A wait that fails without waiting still yields once: a loop that ignores
 * these codes must give the loop to others, or one cancelled task would
 * starve every other. */
static void aw__yield_once(aw__rt *rt, aw_task *t)
{
    t->state = AW__T_READY;
    aw__ready_push(rt, t);
    aw__suspend(rt, t);
}

int aw__timed_out(aw_task *t, uint64_t op_deadline)
{
    aw__rt *rt = aw__rt_tls;
    int rc = aw__precheck(rt, t, aw__min(op_deadline, t->scope_deadline));
    if (rc)
        aw__yield_once(rt, t);
    return rc;
}

int aw__wait(aw_task *t, uint64_t deadline, int interruptible)
{
    aw__rt *rt = aw__rt_tls;
    /* a new wait: its stack pages are the trim tick's to consider afresh */
    uint16_t flags = t->flags & ~(AW__TF_INTR | AW__TF_PARK_SEEN | AW__TF_PARK_TRIMMED);
    if (interruptible) {
        uint64_t d = aw__min(deadline, t->scope_deadline);
        int rc = aw__precheck(rt, t, d);
        if (rc) {
            /* Leave the wait queue before yielding, so no waker hands this
             * task something it will not take. */
            if (t->wait_link) {
                aw__list_remove(t->wait_link);
                t->wait_link = NULL;
            }
            aw__yield_once(rt, t);
            return rc;
        }
        if (d != AW__NO_DEADLINE)
            aw__heap_insert(rt, t, d);
        flags |= AW__TF_INTR;
    }
    t->park_sp = __builtin_frame_address(0);
    if (flags & AW__TF_TRIM_AT_WAIT) {
        aw__stack_release_below(rt, t->stack, t->park_sp);
        flags = (flags & ~AW__TF_TRIM_AT_WAIT) | AW__TF_PARK_TRIMMED;
    }
    t->flags = flags;
    t->state = AW__T_WAITING;
    aw__suspend(rt, t);
    if (t->heap_idx)
        aw__heap_remove(rt, t);
    return t->wake_status;
}

void aw__wake(aw_task *t, int status)
{
    if (t->state != AW__T_WAITING)
        return; /* already woken: the first wake wins */
    if (status && !(t->flags & AW__TF_INTR))
        return; /* only a real wake ends an uninterruptible wait */
    if (t->wait_link) {
        aw__list_remove(t->wait_link);
        t->wait_link = NULL;
    }
    t->wake_status = status;
    t->state = AW__T_READY;
    aw__ready_push(aw__rt_tls, t);
}

/* --- aw_run ------------------------------------------------------------- */

/* Releases what the pools did not need during the last interval. */
static void aw__trim_cb(uv_timer_t *timer)
{
    aw__rt *rt = timer->data;
    aw__task_trim(rt, rt->low_tasks);
    aw__stack_trim(rt, rt->low_stacks);
    aw__task_park_trim(rt);
    aw__buf_trim(rt, rt->low_bufs);
    aw__arena_pool_trim();
#ifdef __GLIBC__
    /* glibc keeps freed pages in the middle of its heap resident: without
     * this, what the pools just gave back (and every freed connection's
     * memory) stays in the RSS at its high-water mark. The soak test saw
     * 1.5 MiB of an 8.4 MiB idle RSS go back this way. */
    malloc_trim(0);
#endif
}

static int aw__rt_init(aw__rt *rt, const aw_run_opts *o)
{
    memset(rt, 0, sizeof *rt);
    int rc = uv_loop_init(&rt->loop);
    if (rc)
        return rc;
    uv_check_init(&rt->loop, &rt->check);
    uv_idle_init(&rt->loop, &rt->idle);
    uv_timer_init(&rt->loop, &rt->timer);
    rt->check.data = rt;
    rt->timer.data = rt;
    uv_check_start(&rt->check, aw__drain);
    uv_unref((uv_handle_t *)&rt->check);
    uv_timer_init(&rt->loop, &rt->trim);
    rt->trim.data = rt;
    uint64_t trim_ms = o && o->pool_trim_ms > 0 ? (uint64_t)o->pool_trim_ms : AW__TRIM_MS;
    uv_timer_start(&rt->trim, aw__trim_cb, trim_ms, trim_ms);
    uv_unref((uv_handle_t *)&rt->trim);
    aw__list_init(&rt->tasks);
    rt->stack_size = o && o->stack_size ? o->stack_size : AW__DEFAULT_STACK;
    rt->wait_timeout_ms = o && o->wait_timeout_ms > 0 ? o->wait_timeout_ms : AW__DEFAULT_WAIT_MS;
    rt->slow_step_ms = o && o->slow_step_ms > 0 ? (uint64_t)o->slow_step_ms : 100;
    const char *env = getenv("AW_DEBUG");
    if (o && o->debug)
        rt->debug = o->debug > 0;
    else
        rt->debug = env && *env && strcmp(env, "0") != 0;
    rt->next_id = 1;
    return 0;
}

/* Cancels every task not yet done (sparing shielded ones if asked); returns
 * how many of them that woke. */
static size_t aw__cancel_all(aw__rt *rt, int spare_shielded)
{
    size_t woken = 0;
    aw__list *pos;
    aw__list_each (pos, &rt->tasks) {
        aw_task *t = aw__container_of(pos, aw_task, all);
        if (t->state == AW__T_DONE || (spare_shielded && (t->flags & AW__TF_SHIELDED)))
            continue;
        int was_waiting = t->state == AW__T_WAITING;
        aw_cancel(t);
        woken += was_waiting && t->state == AW__T_READY;
    }
    return woken;
}

/* Cancels what main left behind, except shielded work, and runs the loop until
 * every task has ended. Tasks spawned meanwhile start cancelled (aw__spawn). If
 * the loop runs dry with tasks still waiting, they wait for something no handle
 * can bring (an AW_FOREVER wait on an event nobody will set): they are
 * cancelled too, shielded or not, so aw_run always returns. */
static void aw__rt_teardown(aw__rt *rt)
{
    rt->teardown = 1;
    aw__cancel_all(rt, 1);
    while (rt->nlive) {
        uv_run(&rt->loop, UV_RUN_DEFAULT);
        if (rt->nlive && !rt->ready_head) {
            fprintf(stderr,
                    "aweb: %zu task(s) wait for something that cannot happen; cancelling them\n",
                    rt->nlive);
            if (!aw__cancel_all(rt, 0)) {
                fprintf(stderr, "aweb: %zu task(s) cannot be woken; abandoning them\n", rt->nlive);
                break;
            }
        }
    }
}

struct aw__exit_hook {
    struct aw__exit_hook *next;
    void (*fn)(void *);
    void *arg;
};

int aw_at_loop_exit(void (*fn)(void *), void *arg)
{
    aw__rt *rt = aw__rt_tls;
    if (!rt)
        return AW_ENOTASK;
    struct aw__exit_hook *h = malloc(sizeof *h);
    if (!h)
        return AW_ENOMEM;
    *h = (struct aw__exit_hook){rt->exit_hooks, fn, arg};
    rt->exit_hooks = h;
    return 0;
}

static void aw__run_exit_hooks(aw__rt *rt)
{
    struct aw__exit_hook *h;
    while ((h = rt->exit_hooks)) {
        rt->exit_hooks = h->next;
        h->fn(h->arg);
        free(h);
    }
}

static void aw__close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int aw_run_ex(aw_task_fn main_fn, void *arg, const aw_run_opts *opts)
{
    if (aw__rt_tls)
        return AW_EBUSY;
    aw__rt *rt = malloc(sizeof *rt);
    if (!rt)
        return AW_ENOMEM;
    int rc = aw__rt_init(rt, opts);
    if (rc) {
        free(rt);
        return rc;
    }
    aw__rt_tls = rt;
    aw__overflow_handler_install(rt);
    /* A peer that hung up must give a write EPIPE, not kill the process;
     * libuv writes with write(2), which raises SIGPIPE. */
    struct sigaction pipe_sa;
    if (sigaction(SIGPIPE, NULL, &pipe_sa) == 0 && pipe_sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    if (rt->debug)
        aw__debug_init(rt);

    aw_task_opts mo = {.name = "main"};
    rt->main = aw__spawn(rt, main_fn, arg, &mo);
    if (!rt->main) {
        rc = AW_ENOMEM;
    } else {
        rt->main->flags |= AW__TF_JOINED;
        /* uv_run returns when main is done (aw__drain stops the loop) or when
         * nothing can happen any more: a deadlock, resolved by the teardown. */
        uv_run(&rt->loop, UV_RUN_DEFAULT);
        if (rt->main->state != AW__T_DONE)
            fprintf(stderr, "aweb: the main task waits for something that cannot happen\n");
        aw__rt_teardown(rt);
        rc = rt->main->status;
    }
    if (rt->debug)
        aw__debug_report(rt);

    aw__run_exit_hooks(rt);
    /* Free the tasks nobody joined, then close every handle. */
    while (!aw__list_empty(&rt->tasks)) {
        aw_task *t = aw__container_of(rt->tasks.next, aw_task, all);
        aw__task_free(rt, t);
    }
    uv_close((uv_handle_t *)&rt->check, NULL);
    uv_close((uv_handle_t *)&rt->idle, NULL);
    uv_close((uv_handle_t *)&rt->timer, NULL);
    uv_close((uv_handle_t *)&rt->trim, NULL);
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&rt->loop) == UV_EBUSY) {
        fprintf(stderr, "aweb: handles were left open when the loop ended; closing them\n");
        uv_walk(&rt->loop, aw__close_walk, NULL);
        uv_run(&rt->loop, UV_RUN_DEFAULT);
        uv_loop_close(&rt->loop);
    }
    aw__task_trim(rt, SIZE_MAX);
    aw__stack_pool_free(rt);
    aw__buf_pool_free(rt);
    aw__arena_pool_trim();
    free(rt->heap);
    if (rt->debug)
        aw__debug_free(rt);
    aw__overflow_handler_remove(rt);
    aw__rt_tls = NULL;
    free(rt);
    return rc;
}

int aw_run(aw_task_fn main_fn, void *arg) { return aw_run_ex(main_fn, arg, NULL); }


struct uv_loop_s *aw_loop(void) { return aw__rt_tls ? &aw__rt_tls->loop : NULL; }

uint64_t aw_now(void) { return aw__rt_tls ? uv_now(&aw__rt_tls->loop) : 0; }

int aw_debug_enabled(void) { return aw__rt_tls && aw__rt_tls->debug; }

static void aw__count_handle(uv_handle_t *h, void *arg)
{
    aw__rt *rt = aw__rt_tls;
    size_t *n = arg;
    int own = h == (uv_handle_t *)&rt->check || h == (uv_handle_t *)&rt->idle ||
              h == (uv_handle_t *)&rt->timer || h == (uv_handle_t *)&rt->trim;
    *n += !own && !uv_is_closing(h);
}

size_t aw_open_handles(void)
{
    size_t n = 0;
    if (aw__rt_tls)
        uv_walk(&aw__rt_tls->loop, aw__count_handle, &n);
    return n;
}
