/* Parsing JSON bodies within a task's stack; see json_int.h. */
#include "json_int.h"

#include <stdio.h>
#include <string.h>

/* The deepest nesting of arrays and objects, counted outside strings. It
 * only has to be no lower than jansson's own count: on malformed input,
 * jansson stops at the first error anyway. */
static size_t aw__json_depth(const char *s, size_t len, size_t limit, size_t *at)
{
    size_t depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = 0;
        } else if (c == '"')
            in_string = 1;
        else if (c == '[' || c == '{') {
            if (++depth > limit) {
                *at = i;
                return depth;
            }
        } else if ((c == ']' || c == '}') && depth)
            depth--;
    }
    return depth;
}

json_t *aw__json_parse(const char *data, size_t len, json_error_t *e)
{
    size_t at = 0;
    if (aw__json_depth(data, len, AW__JSON_MAX_DEPTH, &at) > AW__JSON_MAX_DEPTH) {
        /* where, as jansson would say it: line and column of the bracket */
        int line = 1, col = 1;
        for (size_t i = 0; i < at; i++)
            line += data[i] == '\n', col = data[i] == '\n' ? 1 : col + 1;
        memset(e, 0, sizeof *e);
        e->line = line;
        e->column = col;
        e->position = (int)at;
        snprintf(e->text, sizeof e->text, "nested deeper than %d levels", AW__JSON_MAX_DEPTH);
        snprintf(e->source, sizeof e->source, "<buffer>");
        return NULL;
    }
    return json_loadb(data, len, JSON_DECODE_ANY, e);
}
