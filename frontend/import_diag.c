/* frontend/import_diag.c — see import_diag.h. */
#include "frontend/import_diag.h"

#include <stdarg.h>

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
