/* passes/truncate.c — cut each function down to its computing ops [first, ops) (tm.const
 * ops are not counted).  The ops after the window are erased, and the function returns
 * what the window computed that they or the old func.return used, the last kept op's
 * results first.  The ops before it are erased too: what a prefix of `first` ops would
 * return becomes new arguments after the inputs, in the same order.  bench/layers.py
 * measures the model op by op with it: every prefix [0, k), and every op alone [k, k+1)
 * fed by prefix k's outputs.  With `ops` at least the op count and `first` 0 nothing
 * changes: the longest prefix is exactly the whole model. */
#include "passes/passes.h"

/* The op of `body` that is or encloses `op`. */
static tm_op *top_level(tm_op *op, const tm_block *body) {
  while (op && op->block != body) op = tm_op_parent(op);
  return op;
}

/* Whether v is used by an op after `cut` (the terminator included). */
static bool used_after(const tm_value *v, const tm_op *cut, const tm_block *body) {
  for (const tm_use *u = v->uses; u; u = u->next) {
    tm_op *user = top_level(u->user, body);
    if (user && user != cut && !tm_op_is_before_in_block(user, cut)) return true;
  }
  return false;
}

static bool counted(const tm_op *op) {
  return !tm_op_has_trait(op, TM_TRAIT_CONSTANT) && !tm_op_has_trait(op, TM_TRAIT_TERMINATOR);
}

/* What the ops [from, last] computed that ops after `last` use: `last`'s results first
 * (all of them), then in program order.  Arena-allocated; *n is the count. */
static tm_value **live_values(tm_ctx *ctx, tm_block *body, tm_op *from, tm_op *last, int *n) {
  int cap = 1;
  for (tm_op *op = from; op != last->next; op = op->next) cap += op->nresults;
  tm_value **vals = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_value *, cap);
  *n = 0;
  for (int r = 0; r < last->nresults; r++) vals[(*n)++] = &last->results[r];
  for (tm_op *op = from; op != last; op = op->next)
    for (int r = 0; r < op->nresults && counted(op); r++)
      if (used_after(&op->results[r], last, body)) vals[(*n)++] = &op->results[r];
  return vals;
}

static int truncate_func(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts) {
  int64_t keep = tm_pass_opt_int(opts, "ops"), first = tm_pass_opt_int(opts, "first");
  tm_block *body = tm_func_entry(func);
  tm_op *ret = body ? tm_block_terminator(body) : NULL;
  if (!ret || !tm_op_is(ret, "func.return")) return 0;
  tm_op *start = NULL, *cut = NULL, *head = NULL; /* first and last kept op, last op before */
  int64_t nops = 0;
  TM_FOREACH_OP(op, body) {
    if (!counted(op)) continue;
    if (nops < first) head = op;
    else if (nops < keep) start = start ? start : op, cut = op;
    nops++;
  }
  if (keep >= nops && !head) return 0;

  /* The head's values the window and the rest use become arguments, in the order a prefix
   * of `first` ops returns them, so that its outputs can feed them. */
  if (head && cut) {
    int n;
    tm_value **vals = live_values(ctx, body, body->first, head, &n);
    for (int i = 0; i < n; i++) {
      tm_value *arg = tm_block_add_arg(ctx, body, vals[i]->type, vals[i]->def->loc);
      TM_FOREACH_USE(u, vals[i])
        if (!tm_op_is_before_in_block(top_level(u->user, body), start)) tm_op_set_operand(u->user, (int)u->index, arg);
    }
  }
  int nvals = 0;
  tm_value **vals = cut ? live_values(ctx, body, start, cut, &nvals) : NULL;
  const tm_type **types = TM_NEW_ARRAY(tm_ctx_arena(ctx), const tm_type *, nvals + 1);
  for (int i = 0; i < nvals; i++) types[i] = vals[i]->type;

  /* Erased from the end: every user of an op comes after it, so it is gone first.  Then
   * the head, whose values the kept ops no longer use, and the constants only erased ops
   * used. */
  const tm_loc *loc = ret->loc;
  while (body->last && body->last != cut) tm_op_erase(body->last);
  for (tm_op *op = start ? start->prev : NULL, *prev; op; op = prev) {
    prev = op->prev;
    if (counted(op)) tm_op_erase(op);
  }
  TM_FOREACH_OP(op, body)
    if (tm_op_has_trait(op, TM_TRAIT_CONSTANT) && op->nresults == 1 && !tm_value_has_uses(&op->results[0]))
      tm_op_erase(op);

  tm_block_append(body, tm_op_create(ctx, &(tm_op_state){.name = "func.return", .loc = loc, .noperands = nvals,
                                                         .operands = vals}));
  const tm_type **ins = TM_NEW_ARRAY(tm_ctx_arena(ctx), const tm_type *, body->nargs + 1);
  for (int i = 0; i < body->nargs; i++) ins[i] = body->args[i]->type;
  tm_op_set_attr(ctx, func, "function_type", tm_attr_type(ctx, tm_type_func(ctx, body->nargs, ins, nvals, types)));
  /* The model's output names belong to the erased outputs. */
  tm_op_remove_attr(func, "tm.output_names");
  return 0;
}

static const tm_pass_option options[] = {
    {.name = "ops", .kind = TM_OPT_INT, .default_value = "0", .min = 0, .max = INT64_MAX,
     .help = "Computing ops (tm.const not counted) to keep in each function: the window's end"},
    {.name = "first", .kind = TM_OPT_INT, .default_value = "0", .min = 0, .max = INT64_MAX,
     .help = "The window's first op: the values it uses of earlier ops become arguments"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  return tm_pass_each_func(ctx, root, truncate_func, opts);
}

TM_REGISTER_PASS(truncate, "truncate",
                 "Keep each function's computing ops [first, ops) and return what they computed that later ops used",
                 run, TM_PASS_OPTIONS(options));
