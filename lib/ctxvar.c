/* Context variables: each task points to an immutable-when-shared set of
 * values; spawning shares it (a reference), setting copies it first if it is
 * shared. So a spawn costs no copy and a child's writes never reach its parent.
 */
#include "ctxvar.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rt_int.h"

typedef struct aw__ctxval {
    const aw_ctxvar *var;
    void *value;
} aw__ctxval;

struct aw__ctxvals {
    unsigned refs, n, cap;
    aw__ctxval v[];
};

struct aw__ctxvals *aw__ctxvals_ref(struct aw__ctxvals *v)
{
    if (v)
        v->refs++;
    return v;
}

void aw__ctxvals_unref(struct aw__ctxvals *v)
{
    if (v && --v->refs == 0)
        free(v);
}

void *aw_ctxvar_get(const aw_ctxvar *var)
{
    aw_task *t = aw__current();
    struct aw__ctxvals *v = t ? t->vars : NULL;
    if (v)
        for (unsigned i = 0; i < v->n; i++)
            if (v->v[i].var == var)
                return v->v[i].value;
    return var->default_value;
}

int aw_ctxvar_set(const aw_ctxvar *var, void *value)
{
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    struct aw__ctxvals *v = t->vars;
    unsigned i = 0;
    if (v)
        while (i < v->n && v->v[i].var != var)
            i++;
    int found = v && i < v->n;
    unsigned need = (v ? v->n : 0) + !found;
    if (!v || v->refs > 1 || need > v->cap) {
        unsigned cap = need < 2 ? 2 : need * 2; /* most tasks set one or two */
        struct aw__ctxvals *c = malloc(sizeof *c + cap * sizeof c->v[0]);
        if (!c)
            return AW_ENOMEM;
        c->refs = 1;
        c->cap = cap;
        c->n = v ? v->n : 0;
        if (v)
            memcpy(c->v, v->v, v->n * sizeof v->v[0]);
        aw__ctxvals_unref(v);
        t->vars = v = c;
    }
    if (!found)
        v->v[v->n++].var = var;
    v->v[i].value = value;
    return 0;
}
