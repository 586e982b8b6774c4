/* Debug mode (AW_DEBUG=1): slow steps, unjoined tasks, stack high-water marks.
 * Everything here runs only when rt->debug is set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_int.h"

#define AW__MARKS_MAX 64

typedef struct aw__mark {
    char name[48];
    size_t used, size;
    unsigned long tasks;
} aw__mark;

struct aw__debug_state {
    aw__mark marks[AW__MARKS_MAX];
    size_t nmarks;
};

void aw__debug_init(aw__rt *rt) { rt->dbg = calloc(1, sizeof *rt->dbg); }

void aw__debug_free(aw__rt *rt)
{
    free(rt->dbg);
    rt->dbg = NULL;
}

void aw__debug_step(aw__rt *rt, aw_task *t, uint64_t ns)
{
    uint64_t ms = ns / 1000000;
    if (ms >= rt->slow_step_ms) {
        char buf[32];
        fprintf(stderr, "aweb: task %s held the loop for %llu ms in one step\n",
                aw__task_name(t, buf, sizeof buf), (unsigned long long)ms);
    }
}

/* Records the stack use of a finished task under its name (unnamed tasks
 * share one line). */
void aw__debug_task_done(aw__rt *rt, aw_task *t)
{
    struct aw__debug_state *d = rt->dbg;
    if (!d || !t->stack)
        return;
    const char *name = t->name ? t->name : "(unnamed)";
    size_t i;
    for (i = 0; i < d->nmarks; i++)
        if (strcmp(d->marks[i].name, name) == 0)
            break;
    if (i == d->nmarks) {
        if (d->nmarks == AW__MARKS_MAX)
            return;
        snprintf(d->marks[i].name, sizeof d->marks[i].name, "%s", name);
        d->nmarks++;
    }
    aw__mark *m = &d->marks[i];
    size_t used = aw__stack_used(t->stack);
    if (used > m->used)
        m->used = used;
    m->size = aw__stack_size(t->stack);
    m->tasks++;
}

void aw__debug_report(aw__rt *rt)
{
    aw__list *pos;
    aw__list_each (pos, &rt->tasks) {
        aw_task *t = aw__container_of(pos, aw_task, all);
        if (t->flags & (AW__TF_JOINED | AW__TF_OWNED | AW__TF_DETACHED))
            continue;
        char buf[32];
        fprintf(stderr, "aweb: task %s was never joined\n", aw__task_name(t, buf, sizeof buf));
    }
    struct aw__debug_state *d = rt->dbg;
    for (size_t i = 0; d && i < d->nmarks; i++)
        fprintf(stderr, "aweb: stack high-water of %s: %zu of %zu bytes (%lu tasks)\n",
                d->marks[i].name, d->marks[i].used, d->marks[i].size, d->marks[i].tasks);
}
