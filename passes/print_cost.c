/* passes/print_cost.c — an analysis: per op its multiply-accumulates, parameter bytes and
 * activation bytes (from each op's cost hook), and per function the activation peak in
 * the current op order: the largest sum of bytes of tensors live at one op (reshapes
 * count as views of their input).  That peak
 * is the lower bound any memory plan of this schedule must reach.  Printed to stderr so
 * the IR on stdout stays clean; the IR itself is not changed. */
#include <inttypes.h>
#include <stdio.h>

#include "passes/passes.h"

/* Index of the last op in `body` that uses v (directly or in a nested region). */
static int last_use(const tm_value *v, tm_op *const *order, int n) {
  int last = -1;
  for (const tm_use *u = v->uses; u; u = u->next)
    for (int i = n - 1; i > last; i--)
      if (tm_op_is_ancestor(order[i], u->user)) { last = i; break; }
  return last;
}

/* Reshapes are views: a tensor lives until the last use of any view of it. */
static bool is_view(const tm_op *op) { return tm_op_is(op, "tm.reshape") || tm_op_is(op, "tm.squeeze"); }

static int last_use_through_views(const tm_value *v, tm_op *const *order, int n) {
  int last = last_use(v, order, n);
  for (const tm_use *u = v->uses; u; u = u->next)
    if (is_view(u->user)) {
      int l = last_use_through_views(&u->user->results[0], order, n);
      if (l > last) last = l;
    }
  return last;
}

static int64_t value_bytes(const tm_value *v) {
  int64_t b = tm_type_is_shaped(v->type) ? tm_type_bytes(v->type) : 0;
  return b > 0 ? b : 0;
}

static void report_func(tm_ctx *ctx, tm_op *func, FILE *out) {
  tm_block *body = tm_func_entry(func);
  if (!body) return;
  int n = 0;
  TM_FOREACH_OP(op, body) n++;
  tm_op **order = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_op *, n ? n : 1);
  n = 0;
  TM_FOREACH_OP(op, body) order[n++] = op;

  /* live[i]: bytes of non-constant tensors alive while op i runs (its inputs and outputs
   * included); each value adds its bytes from its definition to its last use. */
  int64_t *live = TM_NEW_ARRAY(tm_ctx_arena(ctx), int64_t, n ? n : 1);
  for (int a = 0; a < body->nargs; a++) {
    int end = last_use_through_views(body->args[a], order, n);
    for (int i = 0; i <= end; i++) live[i] += value_bytes(body->args[a]);
  }
  fprintf(out, "cost of @%s:\n  %-4s %-24s %14s %12s %12s\n", tm_op_attr_str(func, "sym_name", "?"),
          "#", "op", "MACs", "param B", "activ. B");
  tm_cost total = {0};
  for (int i = 0; i < n; i++) {
    tm_op *op = order[i];
    for (int r = 0; r < op->nresults && !tm_op_has_trait(op, TM_TRAIT_CONSTANT) && !is_view(op); r++) {
      int end = last_use_through_views(&op->results[r], order, n);
      for (int j = i; j <= (end < i ? i : end); j++) live[j] += value_bytes(&op->results[r]);
    }
    tm_cost c = {0};
    if (!op->def || !op->def->cost || !op->def->cost(ctx, op, &c) || tm_op_has_trait(op, TM_TRAIT_CONSTANT))
      continue;
    fprintf(out, "  %-4d %-24s %14" PRId64 " %12" PRId64 " %12" PRId64 "\n", i, op->name, c.macs,
            c.param_bytes, c.activation_bytes);
    total.macs += c.macs, total.param_bytes += c.param_bytes;
  }
  int64_t peak = 0;
  int at = -1;
  for (int i = 0; i < n; i++)
    if (live[i] > peak) peak = live[i], at = i;
  fprintf(out, "  total: %" PRId64 " MACs, %" PRId64 " parameter bytes\n", total.macs, total.param_bytes);
  fprintf(out, "  activation peak: %" PRId64 " bytes live at op #%d (%s)\n", peak, at,
          at >= 0 ? order[at]->name : "-");
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  (void)opts;
  FILE *out = stderr;
  if (tm_op_is(root, "func.func")) {
    report_func(ctx, root, out);
    return 0;
  }
  for (tm_block *b = root->nregions ? root->regions[0].first : NULL; b; b = b->next)
    TM_FOREACH_OP(op, b)
      if (tm_op_is(op, "func.func")) report_func(ctx, op, out);
  return 0;
}

TM_REGISTER_PASS(print_cost, "print-cost",
                 "Print each op's MACs, parameter and activation bytes, and the activation peak", run);
