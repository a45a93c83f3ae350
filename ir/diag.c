/* ir/diag.c — the diagnostic engine: every diagnostic goes through the context's
 * handler; the default one prints clang-style with the source line and a caret. */
#include <stdio.h>
#include <string.h>

#include "ir/ir_internal.h"

static const char *severity_name(tm_diag_severity s) {
  switch (s) {
  case TM_DIAG_NOTE: return "note";
  case TM_DIAG_REMARK: return "remark";
  case TM_DIAG_WARNING: return "warning";
  case TM_DIAG_ERROR: return "error";
  }
  return "error";
}

/* The first name inside a location without a file position, for "name: error: ...". */
static const tm_loc *find_name(const tm_loc *l, int depth) {
  if (!l || depth > 1000) return NULL;
  switch (l->kind) {
  case TM_LOC_NAME: return l;
  case TM_LOC_CALLSITE: return find_name(l->child, depth + 1);
  case TM_LOC_FUSED:
    for (int i = 0; i < l->nlocs; i++) {
      const tm_loc *r = find_name(l->locs[i], depth + 1);
      if (r) return r;
    }
    return NULL;
  default: return NULL;
  }
}

void tm_diag_print(tm_ctx *ctx, const tm_diag *d, void *stdio_file) {
  FILE *out = stdio_file ? stdio_file : stderr;
  const tm_loc *fl = tm_loc_find_file(d->loc);
  const char *sev = severity_name(d->severity);
  const char *msg = d->message ? d->message : "";
  if (fl) {
    fprintf(out, "%s:%d:%d: %s: %s\n", fl->file, fl->line, fl->col, sev, msg);
    const char *text;
    size_t len;
    if (tm_ctx_source_line(ctx, fl->file, fl->line, &text, &len)) {
      fprintf(out, "%.*s\n", (int)(len > INT32_MAX ? INT32_MAX : len), text);
      if (fl->col >= 1 && (size_t)fl->col <= len + 1) {
        /* Tabs stay tabs so the caret lines up however the terminal expands them. */
        for (int i = 0; i < fl->col - 1; i++) fputc(text[i] == '\t' ? '\t' : ' ', out);
        fputs("^\n", out);
      }
    }
    return;
  }
  const tm_loc *nl = find_name(d->loc, 0);
  fprintf(out, "%s: %s: %s\n", nl ? nl->name : "<unknown>", sev, msg);
}

void tm_diag_default_handler(tm_ctx *ctx, const tm_diag *d, void *user) {
  (void)user;
  tm_diag_print(ctx, d, stderr);
}

void tm_diag_set_handler(tm_ctx *ctx, tm_diag_handler fn, void *user) {
  ctx->diag_fn = fn;
  ctx->diag_user = fn ? user : NULL;
}

void tm_emitv(tm_ctx *ctx, tm_diag_severity sev, const tm_loc *loc, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  if (n < 0) n = 0;
  char *msg = tm_arena_alloc(ctx->arena, (size_t)n + 1, 1);
  vsnprintf(msg, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  /* Messages are one line; a trailing newline would break the caret layout. */
  while (n > 0 && msg[n - 1] == '\n') msg[--n] = '\0';
  tm_diag d = {sev, loc ? loc : ctx->unknown_loc, msg};
  if (sev == TM_DIAG_ERROR) ctx->nerrors++;
  if (ctx->diag_fn) ctx->diag_fn(ctx, &d, ctx->diag_user);
  else tm_diag_default_handler(ctx, &d, NULL);
}

void tm_emit(tm_ctx *ctx, tm_diag_severity sev, const tm_loc *loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tm_emitv(ctx, sev, loc, fmt, ap);
  va_end(ap);
}

/* Like MLIR's emitOpError: the message is prefixed with "'op.name' op ". */
int tm_op_error(tm_ctx *ctx, const tm_op *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *body;
  {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) n = 0;
    body = tm_arena_alloc(ctx->arena, (size_t)n + 1, 1);
    vsnprintf(body, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
  }
  va_end(ap);
  if (op) tm_emit(ctx, TM_DIAG_ERROR, op->loc, "'%s' op %s", op->name ? op->name : "?", body);
  else tm_emit(ctx, TM_DIAG_ERROR, NULL, "%s", body);
  return -1;
}

int tm_ctx_error_count(tm_ctx *ctx) { return ctx->nerrors; }
