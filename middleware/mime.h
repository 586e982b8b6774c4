/* Content types by file name: the table static files (static.h) answer
 * with. Text types carry "; charset=utf-8". The table is built in and
 * read-only; lookups take no lock and allocate nothing.
 */
#ifndef AW_MIME_H
#define AW_MIME_H

/* The content type for a file name or path by its extension (compared
 * without case), or fallback when the extension is unknown or missing. */
const char *aw_mime_type(const char *path, const char *fallback);

#endif
