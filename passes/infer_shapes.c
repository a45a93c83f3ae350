/* passes/infer_shapes.c — refine result types from the ops' infer hooks.
 *
 * Where an inferred type is more refined than the declared one (a '?' dimension that
 * inference knows), the result takes it; where they disagree on a static dimension,
 * element type or rank, that is a located error.  func.call results follow their
 * callee's signature, and each func.func's function_type follows what its func.return
 * ops now return.  Calls can make a caller depend on a later function, so the walk
 * repeats until nothing changes (at most once per function, plus one). */
#include <string.h>

#include "passes/passes.h"

typedef struct state {
  tm_ctx *ctx;
  tm_op *root;
  bool changed, failed;
  int nfuncs;
} state;

/* The most refined type compatible with both a and b, or NULL if they conflict. */
static const tm_type *meet(tm_ctx *ctx, const tm_type *a, const tm_type *b) {
  if (a == b) return a;
  if (!a || !b || a->kind != b->kind || !tm_type_is_shaped(a) || a->elem != b->elem || a->rank != b->rank)
    return NULL;
  int64_t *dims = TM_NEW_ARRAY(tm_ctx_arena(ctx), int64_t, a->rank > 0 ? a->rank : 1);
  for (int i = 0; i < a->rank; i++) {
    if (a->dims[i] == b->dims[i] || b->dims[i] == TM_DYNAMIC) dims[i] = a->dims[i];
    else if (a->dims[i] == TM_DYNAMIC) dims[i] = b->dims[i];
    else return NULL;
  }
  return a->kind == TM_TYPE_TENSOR ? tm_type_tensor(ctx, a->elem, a->rank, dims)
                                   : tm_type_memref(ctx, a->elem, a->rank, dims);
}

static tm_op *enclosing_module(tm_op *op) {
  tm_op *m = tm_op_parent(op);
  while (m && !tm_op_is(m, "builtin.module")) m = tm_op_parent(m);
  return m;
}

/* The callee's declared result types, or NULL (the verifier reports bad calls). */
static const tm_type *const *callee_results(state *st, tm_op *call) {
  const tm_attr *callee = tm_op_attr(call, "callee");
  tm_op *m = enclosing_module(call);
  if (!callee || callee->kind != TM_ATTR_SYMREF || !m) return NULL;
  tm_op *f = tm_module_lookup(m, tm_intern(st->ctx, callee->u.str.data, callee->u.str.len));
  const tm_type *ft = f && tm_op_is(f, "func.func") ? tm_func_type(f) : NULL;
  return ft && ft->nresults == call->nresults ? ft->results : NULL;
}

static bool all_operands_static(const tm_op *op) {
  for (int i = 0; i < op->noperands; i++)
    if (!tm_type_is_static(op->operands[i].value->type)) return false;
  return true;
}

static bool visit_op(tm_op *op, void *user) {
  state *st = user;
  const tm_type *const *inferred = NULL;
  if (op->def && op->def->infer && op->nresults > 0) {
    /* infer hooks expect operands the verifier accepted, which for tm ops are static. */
    if (!all_operands_static(op)) return true;
    const tm_type **types = TM_NEW_ARRAY(tm_ctx_arena(st->ctx), const tm_type *, op->nresults);
    if (op->def->infer(st->ctx, op, types)) {
      st->failed = true;
      return false;
    }
    inferred = types;
  } else if (tm_op_is(op, "func.call")) {
    inferred = callee_results(st, op);
  }
  for (int i = 0; inferred && i < op->nresults; i++) {
    const tm_type *old = op->results[i].type;
    const tm_type *t = meet(st->ctx, old, inferred[i]);
    if (!t) {
      tm_op_error(st->ctx, op, "inferred type %s of result #%d conflicts with its declared type %s",
                  tm_type_str(st->ctx, inferred[i]), i, tm_type_str(st->ctx, old));
      st->failed = true;
      return false;
    }
    if (t != old) {
      op->results[i].type = t;
      st->changed = true;
    }
  }
  return true;
}

/* function_type results := the (refined) types the func.return ops return. */
static bool visit_func(tm_op *op, void *user) {
  state *st = user;
  if (!tm_op_is(op, "func.func")) return true;
  st->nfuncs++;
  const tm_type *ft = tm_func_type(op);
  if (!ft || !op->nregions) return true;
  const tm_type **results = TM_NEW_ARRAY(tm_ctx_arena(st->ctx), const tm_type *, ft->nresults + 1);
  if (ft->nresults) memcpy(results, ft->results, (size_t)ft->nresults * sizeof(*results));
  bool refined = false;
  for (tm_block *b = op->regions[0].first; b; b = b->next) {
    tm_op *ret = tm_block_terminator(b);
    if (!ret || !tm_op_is(ret, "func.return") || ret->noperands != ft->nresults) continue;
    for (int i = 0; i < ret->noperands; i++) {
      const tm_type *t = meet(st->ctx, results[i], ret->operands[i].value->type);
      if (!t) {
        tm_op_error(st->ctx, ret, "type %s of return operand #%d conflicts with the function's result type %s",
                    tm_type_str(st->ctx, ret->operands[i].value->type), i, tm_type_str(st->ctx, results[i]));
        st->failed = true;
        return false;
      }
      refined |= t != results[i];
      results[i] = t;
    }
  }
  if (refined) {
    const tm_type *nft = tm_type_func(st->ctx, ft->ninputs, ft->inputs, ft->nresults, results);
    tm_op_set_attr(st->ctx, op, "function_type", tm_attr_type(st->ctx, nft));
    st->changed = true;
  }
  return true;
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  (void)opts;
  state st = {.ctx = ctx, .root = root};
  for (int round = 0; round <= st.nfuncs + 1; round++) {
    st.changed = false;
    st.nfuncs = 0;
    tm_op_walk(root, visit_op, &st);
    if (!st.failed) tm_op_walk(root, visit_func, &st);
    if (st.failed) return -1;
    if (!st.changed) break;
  }
  return 0;
}

TM_REGISTER_PASS(infer_shapes, "infer-shapes",
                 "Refine result types and function signatures from the ops' shape inference", run);
