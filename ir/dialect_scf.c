/* ir/dialect_scf.c — the scf dialect of the lowered level, expanded from
 * ir/ops_scf.def.  As in MLIR, the region ops check their terminators' operands (the
 * values passed along each control-flow edge); the terminators check only their parent.
 * Verifiers mirror SCF.cpp of MLIR 19 and its RegionBranchOpInterface messages. */
#include "ir/dialect_lowered.h"

/* ---------------------------------------------------------------- helpers ------- */
/* The types passed along a control-flow edge: operands, block arguments or results. */
typedef struct tlist {
  int n;
  const tm_use *uses;      /* operands ... */
  tm_value *const *args;   /* ... or block arguments ... */
  const tm_value *results; /* ... or results */
} tlist;

static const tm_type *tl_type(tlist l, int i) {
  const tm_value *v = l.uses ? l.uses[i].value : l.args ? l.args[i] : &l.results[i];
  return v ? v->type : NULL;
}

/* Empty when there is nothing from `first` on (the arrays may then be NULL). */
static tlist operands_from(const tm_op *op, int first) {
  return first < op->noperands ? (tlist){.n = op->noperands - first, .uses = op->operands + first} : (tlist){0};
}
static tlist args_from(const tm_block *b, int first) {
  return first < b->nargs ? (tlist){.n = b->nargs - first, .args = b->args + first} : (tlist){0};
}
static tlist results_of(const tm_op *op) { return (tlist){.n = op->nresults, .results = op->results}; }

static int check_edge(tm_ctx *ctx, const tm_op *op, const char *from, const char *to, tlist src, tlist dst) {
  if (src.n != dst.n)
    return tm_op_error(ctx, op, "region control flow edge from %s to %s: source has %d operands, but target successor needs %d",
                       from, to, src.n, dst.n);
  for (int i = 0; i < src.n; i++)
    if (tl_type(src, i) != tl_type(dst, i))
      return tm_op_error(ctx, op, "along control flow edge from %s to %s: source type #%d '%s' should match input type #%d '%s'",
                         from, to, i, tm_type_str(ctx, tl_type(src, i)), i, tm_type_str(ctx, tl_type(dst, i)));
  return 0;
}

/* The block of a region that must hold exactly one, or NULL with an error. */
static tm_block *single_block(tm_ctx *ctx, const tm_op *op, int r, const char *name) {
  tm_block *b = op->regions[r].first;
  if (b && b->next) {
    tm_op_error(ctx, op, "expects region #%d to have 0 or 1 blocks", r);
    return NULL;
  }
  if (!b) tm_op_error(ctx, op, "region #%d ('%s') failed to verify constraint: region with 1 blocks", r, name);
  return b;
}

/* The scf.yield ending a body, or NULL with MLIR's error (and note, which
 * --verify-diagnostics expects too). */
static tm_op *yield_of(tm_ctx *ctx, const tm_op *op, const tm_block *b) {
  const tm_op *last = b->last;
  if (!last) {
    tm_op_error(ctx, op, "expects a non-empty block");
    return NULL;
  }
  tm_op *y = tm_low_terminator(b, "scf.yield");
  if (y) return y;
  if (last->def && !(last->def->traits & TM_TRAIT_TERMINATOR)) {
    tm_error(ctx, last->loc, "block with no terminator, has '%s' operation", last->name);
  } else {
    tm_op_error(ctx, op, "expects regions to end with 'scf.yield', found '%s'", last->name);
    tm_note(ctx, op->loc, "in custom textual format, the absence of terminator implies 'scf.yield'");
  }
  return NULL;
}

/* scf.while's terminators, as MLIR's verifyAndGetTerminator reports them. */
static tm_op *terminator_of(tm_ctx *ctx, const tm_op *op, const tm_block *b, const char *name, const char *region) {
  tm_op *t = tm_low_terminator(b, name);
  if (t) return t;
  tm_op_error(ctx, op, "expects the '%s' region to terminate with '%s'", region, name);
  if (b->last) tm_note(ctx, b->last->loc, "terminator here");
  return NULL;
}

static bool is_i1(const tm_type *t) { return tm_low_is_signless(t) && t->width == 1; }

static bool int_or_index(const tm_type *t) { return tm_low_is_signless(t) || (t && t->kind == TM_TYPE_INDEX); }

/* -------------------------------------------------------------------- for ------- */
static int verify_for(tm_ctx *ctx, tm_op *op) {
  for (int i = 0; i < 3; i++)
    if (tm_low_check_operand(ctx, op, i, int_or_index, "signless integer or index")) return -1;
  const tm_type *t = tm_low_operand_type(op, 0);
  if (tm_low_operand_type(op, 1) != t || tm_low_operand_type(op, 2) != t)
    return tm_op_error(ctx, op, "failed to verify that all of {lowerBound, upperBound, step} have same type");
  tlist inits = operands_from(op, 3), results = results_of(op);
  if (results.n != inits.n) return tm_op_error(ctx, op, "mismatch in number of loop-carried values and defined values");
  tm_block *body = single_block(ctx, op, 0, "region");
  if (!body) return -1;
  if (body->nargs < 1) return tm_op_error(ctx, op, "expected the body to take the induction variable as its first argument");
  tlist iter = args_from(body, 1);
  if (iter.n != inits.n)
    return tm_op_error(ctx, op, "different number of inits and region iter_args: %d != %d", inits.n, iter.n);
  if (body->args[0]->type != t) return tm_op_error(ctx, op, "expected induction variable to be same type as bounds and step");
  for (int i = 0; i < inits.n; i++) {
    if (tl_type(inits, i) != tl_type(iter, i))
      return tm_op_error(ctx, op, "%d-th init and %d-th region iter_arg have different type: '%s' != '%s'", i, i,
                         tm_type_str(ctx, tl_type(inits, i)), tm_type_str(ctx, tl_type(iter, i)));
    if (tl_type(iter, i) != tl_type(results, i))
      return tm_op_error(ctx, op, "%d-th region iter_arg and %d-th loop result have different type: '%s' != '%s'", i, i,
                         tm_type_str(ctx, tl_type(iter, i)), tm_type_str(ctx, tl_type(results, i)));
  }
  tm_op *y = yield_of(ctx, op, body);
  if (!y) return -1;
  tlist yielded = operands_from(y, 0);
  if (yielded.n != iter.n)
    return tm_op_error(ctx, op, "different number of region iter_args and yielded values: %d != %d", iter.n, yielded.n);
  for (int i = 0; i < iter.n; i++)
    if (tl_type(iter, i) != tl_type(yielded, i))
      return tm_op_error(ctx, op, "%d-th region iter_arg and %d-th yielded value have different type: '%s' != '%s'", i, i,
                         tm_type_str(ctx, tl_type(iter, i)), tm_type_str(ctx, tl_type(yielded, i)));
  return 0;
}

/* results: the init values' types */
static int infer_for(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  if (op->noperands < 3 || op->nresults != op->noperands - 3)
    return tm_op_error(ctx, op, "mismatch in number of loop-carried values and defined values");
  for (int i = 0; i < op->nresults; i++) rt[i] = tm_low_operand_type(op, 3 + i);
  return 0;
}

/* --------------------------------------------------------------------- if ------- */
static int verify_if(tm_ctx *ctx, tm_op *op) {
  if (tm_low_check_operand(ctx, op, 0, is_i1, "1-bit signless integer")) return -1;
  tm_block *then = single_block(ctx, op, 0, "thenRegion");
  if (!then) return -1;
  tm_block *els = op->regions[1].first;
  if (els && els->next) return tm_op_error(ctx, op, "expects region #1 to have 0 or 1 blocks");
  if (!els && op->nresults) return tm_op_error(ctx, op, "must have an else block if defining values");
  for (int r = 0; r < 2; r++) {
    tm_block *b = op->regions[r].first;
    if (!b) continue;
    if (b->nargs) return tm_op_error(ctx, op, "region #%d should have no arguments", r);
    tm_op *y = yield_of(ctx, op, b);
    if (!y || check_edge(ctx, op, r ? "Region #1" : "Region #0", "parent results", operands_from(y, 0), results_of(op)))
      return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ while ------- */
/* parent -> before(args) -> condition(c, forwarded) -> after(args) | results;
 * after -> yield(next) -> before(args) */
static int verify_while(tm_ctx *ctx, tm_op *op) {
  tm_block *before = single_block(ctx, op, 0, "before");
  tm_block *after = before ? single_block(ctx, op, 1, "after") : NULL;
  if (!after) return -1;
  if (check_edge(ctx, op, "parent operands", "Region #0", operands_from(op, 0), args_from(before, 0))) return -1;
  tm_op *cond = terminator_of(ctx, op, before, "scf.condition", "before");
  tm_op *y = cond ? terminator_of(ctx, op, after, "scf.yield", "after") : NULL;
  if (!y) return -1;
  tlist forwarded = operands_from(cond, 1);
  if (check_edge(ctx, op, "Region #0", "Region #1", forwarded, args_from(after, 0)) ||
      check_edge(ctx, op, "Region #0", "parent results", forwarded, results_of(op)) ||
      check_edge(ctx, op, "Region #1", "Region #0", operands_from(y, 0), args_from(before, 0)))
    return -1;
  return 0;
}

/* ------------------------------------------------------------- terminators ------ */
static int verify_condition(tm_ctx *ctx, tm_op *op) {
  tm_op *p = tm_op_parent(op);
  if (!p || !tm_op_is(p, "scf.while")) return tm_op_error(ctx, op, "expects parent op 'scf.while'");
  return tm_low_check_operand(ctx, op, 0, is_i1, "1-bit signless integer");
}

static int verify_yield(tm_ctx *ctx, tm_op *op) {
  tm_op *p = tm_op_parent(op);
  if (!p || !(tm_op_is(p, "scf.for") || tm_op_is(p, "scf.if") || tm_op_is(p, "scf.while")))
    return tm_op_error(ctx, op, "expects parent op to be one of 'scf.for, scf.if, scf.while'");
  return 0;
}

/* -------------------------------------------------------------------- table ------- */
#define TM_ATTRDEF_OF(key) SCF_ATTR_##key
#define SCF_ATTR_

#define TM_LOWERED_OP(...) TM_LOWERED_ATTRDEFS(__VA_ARGS__)
#include "ir/ops_scf.def"
#undef TM_LOWERED_OP

const tm_opdef tm_scf_dialect_ops[] = {
#define TM_LOWERED_OP(...) TM_LOWERED_OPDEF("scf", __VA_ARGS__)
#include "ir/ops_scf.def"
#undef TM_LOWERED_OP
};
const int tm_scf_dialect_nops = (int)TM_COUNTOF(tm_scf_dialect_ops);
