/* Static files' internals, shared by static.c (files) and static_dir.c
 * (directories). */
#ifndef AW_STATIC_INT_H
#define AW_STATIC_INT_H

#include <stdint.h>
#include <sys/stat.h>

#include "static.h"

/* Where the handler finds its state: in the state of the sub-app mounted at
 * the prefix (or of the app itself for "/"). */
#define AW__STATIC_KEY "aw.static"

struct aw_static {
    aw_static_opts o; /* its strings point at the owned copies below */
    char *name, *cache_control, *default_type;
    char *real; /* the directory, resolved */
    int dirfd;  /* opened (O_PATH) when the app starts serving */
};

typedef struct aw__range {
    uint64_t start, len;
} aw__range;

/* Parses a Range header against a file of size bytes into out (at most max
 * entries): the count of satisfiable ranges, 0 if none is (416), or -1 to
 * ignore the header (bad syntax, another unit, more than max ranges, or
 * overlapping ranges adding up to more than the file). */
int aw__static_ranges(const char *h, uint64_t size, aw__range *out, size_t max);

/* Opens rel (relative, no "." or ".." segments) inside the directory, not
 * through symlinks that lead out unless follow_symlinks: 0 or -errno
 * (-EXDEV: out of the directory). */
int aw__static_open(aw_static *st, const char *rel, int *fd);

/* Answers for an open regular file (the caller closes fd); name gives the
 * content type. */
aw_response *aw__static_file(aw_request *req, aw_static *st, const char *name, int fd,
                             const struct stat *sb);

/* Answers for an open directory rel (index.html, a listing, a redirect to
 * the path with a slash, or 403); takes fd. */
aw_response *aw__static_dir(aw_request *req, aw_static *st, const char *rel, int fd);

#endif
