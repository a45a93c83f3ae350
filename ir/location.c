/* ir/location.c — source locations (MLIR's loc(...) forms). */
#include "ir/ir_internal.h"

const tm_loc *tm_loc_unknown(tm_ctx *ctx) { return ctx->unknown_loc; }

const tm_loc *tm_loc_file(tm_ctx *ctx, const char *file, int line, int col) {
  tm_loc *l = TM_NEW(ctx->arena, tm_loc);
  l->kind = TM_LOC_FILE;
  l->file = tm_intern_cstr(ctx, file);
  l->line = line;
  l->col = col;
  return l;
}

const tm_loc *tm_loc_name(tm_ctx *ctx, const char *name, const tm_loc *child) {
  tm_loc *l = TM_NEW(ctx->arena, tm_loc);
  l->kind = TM_LOC_NAME;
  l->name = tm_intern_cstr(ctx, name);
  l->child = child;
  return l;
}

const tm_loc *tm_loc_fused(tm_ctx *ctx, int n, const tm_loc *const *locs) {
  tm_loc *l = TM_NEW(ctx->arena, tm_loc);
  l->kind = TM_LOC_FUSED;
  if (n > 0 && locs) {
    const tm_loc **copy = TM_NEW_ARRAY(ctx->arena, const tm_loc *, n);
    for (int i = 0; i < n; i++) copy[i] = locs[i] ? locs[i] : ctx->unknown_loc;
    l->nlocs = n;
    l->locs = copy;
  }
  return l;
}

const tm_loc *tm_loc_callsite(tm_ctx *ctx, const tm_loc *callee, const tm_loc *caller) {
  tm_loc *l = TM_NEW(ctx->arena, tm_loc);
  l->kind = TM_LOC_CALLSITE;
  l->child = callee ? callee : ctx->unknown_loc;
  l->caller = caller ? caller : ctx->unknown_loc;
  return l;
}

/* Locations are trees built bottom-up, so they are acyclic; the depth bound only keeps
 * a pathological nesting from exhausting the stack. */
static const tm_loc *find_file(const tm_loc *l, int depth) {
  if (!l || depth > 1000) return NULL;
  switch (l->kind) {
  case TM_LOC_FILE: return l;
  case TM_LOC_NAME: return find_file(l->child, depth + 1);
  case TM_LOC_CALLSITE: {
    const tm_loc *r = find_file(l->child, depth + 1);
    return r ? r : find_file(l->caller, depth + 1);
  }
  case TM_LOC_FUSED:
    for (int i = 0; i < l->nlocs; i++) {
      const tm_loc *r = find_file(l->locs[i], depth + 1);
      if (r) return r;
    }
    return NULL;
  case TM_LOC_UNKNOWN: return NULL;
  }
  return NULL;
}

const tm_loc *tm_loc_find_file(const tm_loc *loc) { return find_file(loc, 0); }
