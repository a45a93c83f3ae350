/* frontend/import_diag.h — what the model importers (TFLite, ONNX) share: error reporting
 * (located errors, at most TM_IMPORT_MAX_ERRORS of them printed so that a broken file does
 * not flood the terminal; the rest are only counted) and the function's default name.
 * Internal to frontend/. */
#ifndef TM_IMPORT_DIAG_H
#define TM_IMPORT_DIAG_H
#include <stdbool.h>

#include "ir/ir.h"

enum { TM_IMPORT_MAX_ERRORS = 20 };

/* Reports an error (if fewer than the maximum were printed) and counts it in *nerrors;
 * false, or NULL, for the caller to return. */
bool tm_import_error(tm_ctx *ctx, int *nerrors, const tm_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void *tm_import_error_null(tm_ctx *ctx, int *nerrors, const tm_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* After an import: a note when errors were left unprinted. */
void tm_import_note_stopped(tm_ctx *ctx, int nerrors, const tm_loc *loc);

/* The model function's default name, a C identifier from the file name's stem:
 * "dir/kws-v2.tflite" -> "kws_v2", "<stdin>" -> "stdin"; "model" if nothing is left. */
const char *tm_import_stem_symbol(tm_ctx *ctx, const char *file);

#endif /* TM_IMPORT_DIAG_H */
