/* aw_queue: a bounded FIFO of pointers. Items are handed straight to a waiting
 * getter, and a getter that frees a slot moves the first waiting putter's item
 * in, so order is kept and nobody waits while there is room or an item. */
#include <stdlib.h>

#include "sync.h"
#include "waiter_int.h"

struct aw_queue {
    void **items;
    size_t cap, head, len;
    int closed;
    aw__list getters, putters;
};

aw_queue *aw_queue_new(size_t capacity)
{
    if (!capacity)
        return NULL;
    aw_queue *q = calloc(1, sizeof *q);
    if (!q || !(q->items = malloc(capacity * sizeof *q->items))) {
        free(q);
        return NULL;
    }
    q->cap = capacity;
    aw__list_init(&q->getters);
    aw__list_init(&q->putters);
    return q;
}

void aw_queue_free(aw_queue *q)
{
    if (!q)
        return;
    aw__sync_free_check(&q->getters, "queue");
    aw__sync_free_check(&q->putters, "queue");
    free(q->items);
    free(q);
}

static void aw__q_push(aw_queue *q, void *item) { q->items[(q->head + q->len++) % q->cap] = item; }

static void *aw__q_pop(aw_queue *q)
{
    void *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return item;
}

/* Puts without waiting: 0, AW_EFULL or AW_ECLOSED. */
int aw_queue_try_put(aw_queue *q, void *item)
{
    if (q->closed)
        return AW_ECLOSED;
    aw__list *n = aw__list_first(&q->getters);
    if (n) {
        aw__container_of(n, aw__waiter, link)->item = item;
        aw__wake_first(&q->getters, 0);
        return 0;
    }
    if (q->len == q->cap)
        return AW_EFULL;
    aw__q_push(q, item);
    return 0;
}

int aw_queue_try_get(aw_queue *q, void **item)
{
    if (!q->len)
        return q->closed ? AW_ECLOSED : AW_EAGAIN;
    *item = aw__q_pop(q);
    aw__list *n = aw__list_first(&q->putters);
    if (n) {
        aw__q_push(q, aw__container_of(n, aw__waiter, link)->item);
        aw__wake_first(&q->putters, 0);
    }
    return 0;
}

int aw_queue_put(aw_queue *q, void *item, int64_t timeout_ms)
{
    aw_task *t;
    uint64_t deadline;
    int rc = aw__wait_prologue(&t, &deadline, timeout_ms);
    if (rc)
        return rc;
    rc = aw_queue_try_put(q, item);
    if (rc != AW_EFULL)
        return rc;
    aw__waiter w;
    w.item = item;
    rc = aw__wait_on(&q->putters, &w, t, deadline, 1);
    return rc ? rc : w.status;
}

int aw_queue_get(aw_queue *q, void **item, int64_t timeout_ms)
{
    aw_task *t;
    uint64_t deadline;
    int rc = aw__wait_prologue(&t, &deadline, timeout_ms);
    if (rc)
        return rc;
    rc = aw_queue_try_get(q, item);
    if (rc != AW_EAGAIN)
        return rc;
    aw__waiter w;
    rc = aw__wait_on(&q->getters, &w, t, deadline, 1);
    if (rc == 0 && w.status == 0)
        *item = w.item;
    return rc ? rc : w.status;
}

void aw_queue_close(aw_queue *q)
{
    q->closed = 1;
    while (aw__wake_first(&q->getters, AW_ECLOSED))
        ;
    while (aw__wake_first(&q->putters, AW_ECLOSED))
        ;
}

size_t aw_queue_size(const aw_queue *q) { return q->len; }
size_t aw_queue_capacity(const aw_queue *q) { return q->cap; }
