/* Intrusive doubly linked lists (internal).
 *
 * A node lives inside the object it links; a list is a sentinel node. Nodes of
 * waiters usually live on the waiting task's stack, which is valid for exactly
 * as long as the task is suspended in that wait.
 */
#ifndef AW_LIST_INT_H
#define AW_LIST_INT_H

#include <stddef.h>

typedef struct aw__list {
    struct aw__list *prev, *next;
} aw__list;

#define aw__container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void aw__list_init(aw__list *l) { l->prev = l->next = l; }
static inline int aw__list_empty(const aw__list *l) { return l->next == l; }

/* A node that is not on any list points to itself, so removal is idempotent. */
static inline void aw__list_insert_tail(aw__list *l, aw__list *n)
{
    n->prev = l->prev;
    n->next = l;
    l->prev->next = n;
    l->prev = n;
}

static inline void aw__list_remove(aw__list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

static inline aw__list *aw__list_first(const aw__list *l) { return l->next == l ? NULL : l->next; }

#define aw__list_each(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

#endif
