/* Error codes to text: aweb's own codes here, the rest through libuv. */
#include "error.h"

#include <uv.h>

static const struct {
    int code;
    const char *name, *text;
} aw__own_errors[] = {
    {AW_ECLOSED, "ECLOSED", "closed"},
    {AW_EFULL, "EFULL", "limit reached, queue is full"},
    {AW_ENOTASK, "ENOTASK", "called outside a task"},
    {AW_EDNS, "EDNS", "name resolution failed"},
    {AW_ETLS, "ETLS", "TLS failure"},
    {AW_ECERT, "ECERT", "certificate verification failed"},
    {AW_EHTTP, "EHTTP", "malformed HTTP message"},
};

const char *aw_strerror(int err)
{
    if (err >= 0)
        return "success";
    for (size_t i = 0; i < sizeof aw__own_errors / sizeof aw__own_errors[0]; i++)
        if (aw__own_errors[i].code == err)
            return aw__own_errors[i].text;
    return uv_strerror(err);
}

const char *aw_err_name(int err)
{
    if (err >= 0)
        return "OK";
    for (size_t i = 0; i < sizeof aw__own_errors / sizeof aw__own_errors[0]; i++)
        if (aw__own_errors[i].code == err)
            return aw__own_errors[i].name;
    return uv_err_name(err);
}
