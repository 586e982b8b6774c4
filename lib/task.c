/* Tasks: spawning, finishing, joining, cancelling, names, the cleanup stack.
 *
 * A task object is recycled through the loop's free list, and its stack is
 * taken from the stack pool only at its first step and given back the moment
 * it finishes, so a task that is spawned and joined costs no system call and
 * a finished-but-unjoined task holds no stack.
 */
#include "task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rt_int.h"

static aw_task *aw__task_alloc(aw__rt *rt)
{
    aw_task *t = rt->free_tasks;
    if (t) {
        rt->free_tasks = t->next_ready;
        if (--rt->nfree_tasks < rt->low_tasks)
            rt->low_tasks = rt->nfree_tasks;
    } else if (!(t = malloc(sizeof *t)))
        return NULL;
    memset(t, 0, sizeof *t);
    t->defer_cap = AW__DEFER_INLINE;
    t->defers = t->defer_inline;
    return t;
}

aw_task *aw__spawn(aw__rt *rt, aw_task_fn fn, void *arg, const aw_task_opts *opts)
{
    aw_task *t = aw__task_alloc(rt);
    if (!t)
        return NULL;
    if (opts && opts->name && !(t->name = strdup(opts->name))) {
        aw__task_free(rt, t);
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->state = AW__T_NEW;
    t->stack_size = opts && opts->stack_size ? opts->stack_size : rt->stack_size;
    t->scope_deadline = AW__NO_DEADLINE;
    t->scope_cap = AW__SCOPE_INLINE;
    t->scopes = t->scope_inline;
    t->id = rt->next_id++;
    aw__list_init(&t->sibling);
    aw__list_insert_tail(&rt->tasks, &t->all);
    rt->nlive++;
    aw_task *parent = rt->current;
    if (parent) {
        t->vars = aw__ctxvals_ref(parent->vars);
        t->flags |= parent->flags & AW__TF_SHIELDED;
    }
    /* While aw_run tears down, new work is cancelled unless shielded work
     * started it. */
    if (rt->teardown && !(t->flags & AW__TF_SHIELDED))
        t->cancelled = 1;
    aw__ready_push(rt, t);
    return t;
}

aw_task *aw_spawn_ex(aw_task_fn fn, void *arg, const aw_task_opts *opts)
{
    aw__rt *rt = aw__rt_get();
    return rt && fn ? aw__spawn(rt, fn, arg, opts) : NULL;
}

aw_task *aw_spawn(aw_task_fn fn, void *arg) { return aw_spawn_ex(fn, arg, NULL); }

aw_task *aw__spawn_detached(aw_task_fn fn, void *arg, const aw_task_opts *opts)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = rt && fn ? aw__spawn(rt, fn, arg, opts) : NULL;
    if (t)
        t->flags |= AW__TF_DETACHED;
    return t;
}

/* t's function has returned (or it was cancelled before starting): mark it
 * done and tell whoever waits. Runs on t's stack or on the loop's. */
void aw__task_finish(aw__rt *rt, aw_task *t)
{
    t->state = AW__T_DONE;
    rt->nlive--;
    if (t->on_done)
        t->on_done(t);
    if (t->joiner)
        aw__wake(t->joiner, 0);
}

/* At each trim tick, a task parked since the tick before gives back the
 * stack pages below its frames, once per wait: a connection that ran deep
 * and now idles keeps only the pages it uses. One madvise per such task and
 * interval, and nothing on the paths that run and wait. */
void aw__task_park_trim(aw__rt *rt)
{
    if (rt->debug)
        return; /* the stacks stay painted: see aw__stack_release_below */
    aw__list *pos;
    aw__list_each (pos, &rt->tasks) {
        aw_task *t = aw__container_of(pos, aw_task, all);
        if (t->state != AW__T_WAITING || !t->stack || (t->flags & AW__TF_PARK_TRIMMED))
            continue;
        if (t->flags & AW__TF_PARK_SEEN) {
            aw__stack_release_below(rt, t->stack, t->park_sp);
            t->flags |= AW__TF_PARK_TRIMMED;
        } else
            t->flags |= AW__TF_PARK_SEEN;
    }
}

void aw__task_trim_at_next_wait(void)
{
    aw_task *t = aw__current();
    if (t)
        t->flags |= AW__TF_TRIM_AT_WAIT;
}

void aw__task_trim(aw__rt *rt, size_t n)
{
    aw_task *t;
    while (n-- && (t = rt->free_tasks)) {
        rt->free_tasks = t->next_ready;
        rt->nfree_tasks--;
        free(t);
    }
    rt->low_tasks = rt->nfree_tasks;
}

/* Returns t's memory to the free list. */
void aw__task_free(aw__rt *rt, aw_task *t)
{
    aw__list_remove(&t->all);
    aw__list_remove(&t->sibling);
    if (t->state != AW__T_DONE)
        rt->nlive--; /* abandoned at the very end of aw_run */
    if (t->heap_idx)
        aw__heap_remove(rt, t);
    if (t->stack) {
        aw__stack_put(rt, t->stack);
        t->stack = NULL;
    }
    aw__ctxvals_unref(t->vars);
    aw__scopes_free(t);
    if (t->defers != t->defer_inline)
        free(t->defers);
    free(t->name);
    t->next_ready = rt->free_tasks;
    rt->free_tasks = t;
    rt->nfree_tasks++;
}

int aw_join(aw_task *t)
{
    aw__rt *rt = aw__rt_get();
    aw_task *self = aw__current();
    if (!self)
        return AW_ENOTASK;
    if (!t || t == self || (t->flags & (AW__TF_JOINED | AW__TF_OWNED)))
        return AW_EINVAL;
    t->flags |= AW__TF_JOINED;
    int rc = 0;
    if (t->state != AW__T_DONE) {
        t->joiner = self;
        rc = aw__wait(self, AW__NO_DEADLINE, 1);
        if (rc < 0 && t->state != AW__T_DONE) {
            /* The joiner was cancelled or timed out: the child goes too, and
             * the joiner waits for it so nothing outlives its owner. */
            aw_cancel(t);
            while (t->state != AW__T_DONE)
                aw__wait(self, AW__NO_DEADLINE, 0);
        }
        t->joiner = NULL;
    }
    int status = rc < 0 ? rc : t->status;
    aw__task_free(rt, t);
    return status;
}

int aw_wait_for(aw_task *t, int64_t ms)
{
    int rc = aw_timeout_push(ms);
    if (rc)
        return rc;
    rc = aw_join(t);
    aw_timeout_pop();
    return rc;
}

void aw_cancel(aw_task *t)
{
    if (!t || t->state == AW__T_DONE)
        return;
    t->cancelled = 1;
    if (t->state == AW__T_WAITING)
        aw__wake(t, AW_ECANCELED);
}

int aw_yield(void)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    int rc = aw__timed_out(t, AW__NO_DEADLINE);
    if (rc)
        return rc;
    t->state = AW__T_READY;
    aw__ready_push(rt, t);
    aw__suspend(rt, t);
    return 0;
}

aw_task *aw_current_task(void) { return aw__current(); }

int aw_cancelled(void)
{
    aw_task *t = aw__current();
    return t && t->cancelled;
}

int aw_task_set_name(aw_task *t, const char *name)
{
    char *copy = name ? strdup(name) : NULL;
    if (name && !copy)
        return AW_ENOMEM;
    free(t->name);
    t->name = copy;
    return 0;
}

const char *aw__task_name(const aw_task *t, char *buf, size_t len)
{
    if (t->name)
        return t->name;
    snprintf(buf, len, "task-%llu", (unsigned long long)t->id);
    return buf;
}

const char *aw_task_name(const aw_task *t)
{
    static __thread char buf[32];
    return aw__task_name(t, buf, sizeof buf);
}

uint64_t aw_task_id(const aw_task *t) { return t->id; }

int aw_task_done(const aw_task *t) { return t->state == AW__T_DONE; }

size_t aw_all_tasks(aw_task **out, size_t cap)
{
    aw__rt *rt = aw__rt_get();
    size_t n = 0;
    aw__list *pos;
    if (!rt)
        return 0;
    aw__list_each (pos, &rt->tasks) {
        if (n < cap)
            out[n] = aw__container_of(pos, aw_task, all);
        n++;
    }
    return n;
}

/* --- the cleanup stack -------------------------------------------------- */

int aw_defer(void (*fn)(void *), void *arg)
{
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    if (t->ndefer == t->defer_cap) {
        uint32_t cap = t->defer_cap * 2;
        aw__defer_entry *d = t->defers == t->defer_inline ? malloc(cap * sizeof *d)
                                                          : realloc(t->defers, cap * sizeof *d);
        if (!d)
            return AW_ENOMEM;
        if (t->defers == t->defer_inline)
            memcpy(d, t->defer_inline, sizeof t->defer_inline);
        t->defers = d;
        t->defer_cap = cap;
    }
    t->defers[t->ndefer++] = (aw__defer_entry){fn, arg};
    return 0;
}

size_t aw_defer_depth(void)
{
    aw_task *t = aw__current();
    return t ? t->ndefer : 0;
}

static void aw__defer_run(aw_task *t, size_t mark)
{
    /* An entry may register further cleanups; they run too, before the
     * entries below them. */
    while (t->ndefer > mark) {
        aw__defer_entry e = t->defers[--t->ndefer];
        e.fn(e.arg);
    }
}

void aw_defer_run_to(size_t mark)
{
    aw_task *t = aw__current();
    if (t)
        aw__defer_run(t, mark);
}

void aw__defer_run_all(aw_task *t) { aw__defer_run(t, 0); }
