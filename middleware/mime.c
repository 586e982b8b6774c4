/* The MIME table: extensions in sorted order, found by binary search. */
#include "mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct aw__mime {
    const char *ext, *type;
} aw__mime;

#define AW__UTF8 "; charset=utf-8"

/* Sorted by extension (lower case, ASCII order): the search depends on it
 * (tests/test_mw_static.c looks up the first, the last and some between). */
static const aw__mime aw__mimes[] = {
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"atom", "application/atom+xml"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"cjs", "text/javascript" AW__UTF8},
    {"css", "text/css" AW__UTF8},
    {"csv", "text/csv" AW__UTF8},
    {"doc", "application/msword"},
    {"eot", "application/vnd.ms-fontobject"},
    {"epub", "application/epub+zip"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html" AW__UTF8},
    {"html", "text/html" AW__UTF8},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar" AW__UTF8},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript" AW__UTF8},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"m4a", "audio/mp4"},
    {"map", "application/json"},
    {"md", "text/markdown" AW__UTF8},
    {"mid", "audio/midi"},
    {"mjs", "text/javascript" AW__UTF8},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"rss", "application/rss+xml"},
    {"rtf", "application/rtf"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain" AW__UTF8},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xml", "application/xml"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
};

static int aw__mime_cmp(const void *key, const void *item)
{
    return strcasecmp(key, ((const aw__mime *)item)->ext);
}

const char *aw_mime_type(const char *path, const char *fallback)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || !dot[1] || strlen(dot + 1) > 15)
        return fallback;
    const aw__mime *m = bsearch(dot + 1, aw__mimes, sizeof aw__mimes / sizeof aw__mimes[0],
                                sizeof aw__mimes[0], aw__mime_cmp);
    return m ? m->type : fallback;
}
