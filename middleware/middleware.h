/* aweb's middlewares: the umbrella header. Each is optional and built only
 * on the public http/ API; each has an options struct with a defaults
 * function, an aw_NAME_use(app, &opts) that adds it to an app, and a
 * [NAME] section of the configuration file (see conf/aweb.conf).
 *
 * A sensible order, outermost first (aw_app_use order):
 *
 *     aw_request_id_use        every log line and response carries the id
 *     aw_error_pages_use       JSON/HTML bodies for errors, 5xx logged
 *     aw_security_headers_use  (a response hook: order does not matter)
 *     aw_cors_use              preflights answered before authentication
 *     aw_rate_limit_use        before authentication, so guessing is limited
 *     aw_normalize_path_use
 *     aw_basic_auth_use
 *     aw_compress_use          bodies from here inward are compressed
 *     aw_deadline_use          innermost: it times the handler
 *
 * Static files (static.h: aw_static_add) are routes, wrapped by all of them.
 * The access log (access_log.h) is the server's, configured in [log].
 */
#ifndef AW_MIDDLEWARE_H
#define AW_MIDDLEWARE_H

#include "access_log.h"
#include "basic_auth.h"
#include "compress.h"
#include "cors.h"
#include "deadline.h"
#include "error_pages.h"
#include "mime.h"
#include "normalize_path.h"
#include "rate_limit.h"
#include "request_id.h"
#include "security_headers.h"
#include "static.h"

#endif
