/* frontend/import_diag.c — see import_diag.h. */
#include "frontend/import_diag.h"

#include <stdarg.h>
#include <string.h>

static void verror(tm_ctx *ctx, int *nerrors, const tm_loc *loc, const char *fmt, va_list ap) {
  if ((*nerrors)++ < TM_IMPORT_MAX_ERRORS) tm_emitv(ctx, TM_DIAG_ERROR, loc, fmt, ap);
}

bool tm_import_error(tm_ctx *ctx, int *nerrors, const tm_loc *loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verror(ctx, nerrors, loc, fmt, ap);
  va_end(ap);
  return false;
}

void *tm_import_error_null(tm_ctx *ctx, int *nerrors, const tm_loc *loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verror(ctx, nerrors, loc, fmt, ap);
  va_end(ap);
  return NULL;
}

void tm_import_note_stopped(tm_ctx *ctx, int nerrors, const tm_loc *loc) {
  if (nerrors >= TM_IMPORT_MAX_ERRORS) tm_note(ctx, loc, "too many errors; stopped after %d", TM_IMPORT_MAX_ERRORS);
}

const char *tm_import_stem_symbol(tm_ctx *ctx, const char *file) {
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  char *s = tm_arena_alloc(tm_ctx_arena(ctx), n + 2, 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    char c = base[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok && (k == 0 || i + 1 == n)) continue; /* "<stdin>" -> "stdin" */
    if (k == 0 && c >= '0' && c <= '9') s[k++] = '_';
    s[k++] = ok ? c : '_';
  }
  return k ? s : "model";
}
