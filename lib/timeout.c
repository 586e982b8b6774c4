/* Deadlines: the loop's deadline heap, timeout scopes and aw_sleep.
 *
 * Each waiting task with a deadline sits in one binary min-heap per loop, and
 * a single uv_timer is armed to the earliest entry: a task costs no timer
 * handle, and a wait that ends early only leaves the heap.
 */
#include "timeout.h"

#include <stdlib.h>

#include "error.h"
#include "rt_int.h"

/* --- the heap ----------------------------------------------------------- */

static void aw__heap_set(aw__rt *rt, uint32_t i, aw_task *t)
{
    rt->heap[i] = t;
    t->heap_idx = i + 1;
}

static void aw__heap_up(aw__rt *rt, uint32_t i)
{
    aw_task *t = rt->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (rt->heap[parent]->deadline <= t->deadline)
            break;
        aw__heap_set(rt, i, rt->heap[parent]);
        i = parent;
    }
    aw__heap_set(rt, i, t);
}

static void aw__heap_down(aw__rt *rt, uint32_t i)
{
    aw_task *t = rt->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= rt->heap_len)
            break;
        if (c + 1 < rt->heap_len && rt->heap[c + 1]->deadline < rt->heap[c]->deadline)
            c++;
        if (t->deadline <= rt->heap[c]->deadline)
            break;
        aw__heap_set(rt, i, rt->heap[c]);
        i = c;
    }
    aw__heap_set(rt, i, t);
}

static void aw__timer_arm(aw__rt *rt)
{
    if (!rt->heap_len) {
        uv_timer_stop(&rt->timer);
        rt->timer_due = AW__NO_DEADLINE;
        return;
    }
    uint64_t due = rt->heap[0]->deadline, now = aw__now(rt);
    if (due == rt->timer_due && uv_is_active((uv_handle_t *)&rt->timer))
        return;
    rt->timer_due = due;
    uv_timer_start(&rt->timer, aw__timer_cb, due > now ? due - now : 0, 0);
}

void aw__heap_insert(aw__rt *rt, aw_task *t, uint64_t deadline)
{
    if (rt->heap_len == rt->heap_cap) {
        uint32_t cap = rt->heap_cap ? rt->heap_cap * 2 : 64;
        aw_task **h = realloc(rt->heap, cap * sizeof *h);
        if (!h)
            abort(); /* a wait whose deadline cannot be kept must not go on */
        rt->heap = h;
        rt->heap_cap = cap;
    }
    t->deadline = deadline;
    rt->heap[rt->heap_len++] = t;
    aw__heap_up(rt, rt->heap_len - 1);
    if (deadline < rt->timer_due || !uv_is_active((uv_handle_t *)&rt->timer))
        aw__timer_arm(rt);
}

void aw__heap_remove(aw__rt *rt, aw_task *t)
{
    uint32_t i = t->heap_idx - 1;
    t->heap_idx = 0;
    aw_task *last = rt->heap[--rt->heap_len];
    if (i < rt->heap_len) {
        rt->heap[i] = last;
        last->heap_idx = i + 1;
        if (i > 0 && rt->heap[(i - 1) / 2]->deadline > last->deadline)
            aw__heap_up(rt, i);
        else
            aw__heap_down(rt, i);
    }
    /* The timer stays armed to the old minimum: a spurious expiry only
     * re-arms it. Stopping it when nothing is left lets the loop end. */
    if (!rt->heap_len) {
        uv_timer_stop(&rt->timer);
        rt->timer_due = AW__NO_DEADLINE;
    }
}

void aw__timer_cb(uv_timer_t *timer)
{
    aw__rt *rt = timer->data;
    uint64_t now = aw__now(rt);
    rt->timer_due = AW__NO_DEADLINE;
    while (rt->heap_len && rt->heap[0]->deadline <= now) {
        aw_task *t = rt->heap[0];
        aw__heap_remove(rt, t);
        aw__wake(t, AW_ETIMEDOUT);
    }
    aw__timer_arm(rt);
}

/* --- deadlines of operations -------------------------------------------- */

uint64_t aw__op_deadline(aw__rt *rt, int64_t timeout_ms, int64_t default_ms)
{
    if (timeout_ms == AW_DEFAULT)
        timeout_ms = default_ms;
    if (timeout_ms < 0)
        return AW__NO_DEADLINE;
    /* from now, not from when this loop iteration began: after a long
     * step (a 64 MiB memset, a big parse) the cached time is behind and the
     * timeout would fire early. libuv's fast clock: a vDSO read, no syscall */
    uv_update_time(&rt->loop);
    return aw__now(rt) + (uint64_t)timeout_ms;
}

/* --- scopes ------------------------------------------------------------- */

int aw_timeout_push(int64_t ms)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    if (t->nscopes == t->scope_cap) {
        uint32_t cap = t->scope_cap * 2;
        uint64_t *s = t->scopes == t->scope_inline ? malloc(cap * sizeof *s)
                                                   : realloc(t->scopes, cap * sizeof *s);
        if (!s)
            return AW_ENOMEM;
        if (t->scopes == t->scope_inline)
            for (uint32_t i = 0; i < t->nscopes; i++)
                s[i] = t->scope_inline[i];
        t->scopes = s;
        t->scope_cap = cap;
    }
    t->scopes[t->nscopes++] = t->scope_deadline;
    uint64_t d = aw__op_deadline(rt, ms < 0 ? AW_FOREVER : ms, 0);
    if (d < t->scope_deadline)
        t->scope_deadline = d;
    return 0;
}

void aw_timeout_pop(void)
{
    aw_task *t = aw__current();
    if (t && t->nscopes)
        t->scope_deadline = t->scopes[--t->nscopes];
}

int64_t aw_timeout_remaining(void)
{
    aw_task *t = aw__current();
    if (!t || t->scope_deadline == AW__NO_DEADLINE)
        return AW_FOREVER;
    uint64_t now = aw__now(aw__rt_get());
    return t->scope_deadline > now ? (int64_t)(t->scope_deadline - now) : 0;
}

void aw__scopes_free(aw_task *t)
{
    if (t->scopes != t->scope_inline)
        free(t->scopes);
    t->scopes = t->scope_inline;
    t->nscopes = 0;
    t->scope_cap = AW__SCOPE_INLINE;
}

int aw_sleep(int64_t ms)
{
    aw__rt *rt = aw__rt_get();
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    if (ms == 0)
        return aw_yield();
    uint64_t d = aw__op_deadline(rt, ms, AW_FOREVER);
    int rc = aw__wait(t, d, 1);
    /* The sleep's own deadline ending it is success; a scope's is a timeout. */
    if (rc == AW_ETIMEDOUT && d <= t->scope_deadline)
        return t->cancelled ? AW_ECANCELED : 0;
    return rc;
}
