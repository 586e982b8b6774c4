/* Task groups (asyncio.TaskGroup) and aw_gather. */
#include <stdlib.h>

#include "error.h"
#include "group.h"
#include "rt_int.h"

struct aw_group {
    aw__list children; /* every child, through t->sibling, until the group ends */
    size_t running;
    int first_error; /* the first failure, which cancelled the rest */
    int cancelling;
    aw_task *waiter;
};

aw_group *aw_group_new(void)
{
    aw_group *g = calloc(1, sizeof *g);
    if (g)
        aw__list_init(&g->children);
    return g;
}

static void aw__group_cancel_children(aw_group *g)
{
    g->cancelling = 1;
    aw__list *pos;
    aw__list_each (pos, &g->children)
        aw_cancel(aw__container_of(pos, aw_task, sibling));
}

static void aw__group_child_done(aw_task *t)
{
    aw_group *g = t->owner;
    g->running--;
    /* A child that ends with AW_ECANCELED because it was cancelled did not
     * fail; any other negative status is the group's failure. */
    int failed = t->status < 0 && !(t->status == AW_ECANCELED && t->cancelled);
    if (failed && !g->first_error) {
        g->first_error = t->status;
        aw__group_cancel_children(g);
    }
    if (!g->running && g->waiter)
        aw__wake(g->waiter, 0);
}

aw_task *aw_group_spawn_ex(aw_group *g, aw_task_fn fn, void *arg, const aw_task_opts *opts)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = rt && fn ? aw__spawn(rt, fn, arg, opts) : NULL;
    if (!t)
        return NULL;
    t->flags |= AW__TF_OWNED;
    t->owner = g;
    t->on_done = aw__group_child_done;
    aw__list_insert_tail(&g->children, &t->sibling);
    g->running++;
    if (g->cancelling)
        t->cancelled = 1;
    return t;
}

aw_task *aw_group_spawn(aw_group *g, aw_task_fn fn, void *arg)
{
    return aw_group_spawn_ex(g, fn, arg, NULL);
}

void aw_group_cancel(aw_group *g) { aw__group_cancel_children(g); }

size_t aw_group_running(const aw_group *g) { return g->running; }

int aw_group_wait(aw_group *g)
{
    aw__rt *rt = aw__rt_get();
    aw_task *self = aw__current();
    if (!self)
        return AW_ENOTASK;
    int rc = 0;
    while (g->running && rc == 0) {
        g->waiter = self;
        rc = aw__wait(self, AW__NO_DEADLINE, 1);
    }
    if (rc < 0) {
        /* The waiter was cancelled or timed out: so are the children, and the
         * group still ends only when they have. */
        aw__group_cancel_children(g);
        while (g->running) {
            g->waiter = self;
            aw__wait(self, AW__NO_DEADLINE, 0);
        }
    }
    g->waiter = NULL;
    int result = g->first_error ? g->first_error : rc;
    while (!aw__list_empty(&g->children)) {
        aw_task *t = aw__container_of(g->children.next, aw_task, sibling);
        aw__task_free(rt, t);
    }
    free(g);
    return result;
}

int aw_gather(aw_task **tasks, size_t n, int *statuses)
{
    int first = 0;
    /* A cancelled or timed-out caller makes each remaining aw_join cancel its
     * task and wait for it, since both conditions are sticky. */
    for (size_t i = 0; i < n; i++) {
        int st = aw_join(tasks[i]);
        if (statuses)
            statuses[i] = st;
        if (st < 0 && !first)
            first = st;
    }
    return first;
}
