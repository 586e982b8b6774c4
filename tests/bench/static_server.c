/* The static files benchmark's server: DIR under /static (middleware/
 * static.h) and, for the compression figure, GET /json: the file
 * DIR/data.json (read once at start) as a whole JSON body, compressed per
 * request by middleware/compress.h when --gzip LEVEL is given.
 *
 * Usage: static_server --dir DIR [--gzip LEVEL] [--listen HOST:PORT] [--conf FILE]
 * Prints "listening on ..." (aw_app_main) once it accepts connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aweb.h"
#include "compress.h"
#include "static.h"

static char *json;
static size_t json_len;

static aw_response *get_json(aw_request *req)
{
    return aw_response_static(req, 200, json, json_len, "application/json");
}

static void load_json(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    json = malloc(n > 0 ? (size_t)n : 1);
    json_len = json && n > 0 ? fread(json, 1, (size_t)n, f) : 0;
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int level = 0;
    char *rest[64];
    int nrest = 0;
    rest[nrest++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--gzip") && i + 1 < argc)
            level = atoi(argv[++i]);
        else if (nrest < 63)
            rest[nrest++] = argv[i];
    }
    rest[nrest] = NULL;
    if (!dir) {
        fprintf(stderr, "usage: %s --dir DIR [--gzip LEVEL] [--listen HOST:PORT] [--conf FILE]\n",
                argv[0]);
        return 2;
    }
    load_json(dir);
    aw_app *app = aw_app_new();
    if (level) {
        aw_compress_opts co;
        aw_compress_opts_default(&co);
        co.level = level;
        co.deflate = 0; /* as nginx: gzip only */
        if (!aw_compress_use(app, &co))
            return 1;
    }
    if (!aw_static_add(app, "/static", dir, NULL))
        return 1;
    aw_app_route(app, "GET", "/json", get_json, NULL);
    int rc = aw_app_main(app, nrest, rest);
    aw_app_free(app);
    free(json);
    return rc;
}
