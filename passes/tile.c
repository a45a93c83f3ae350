/* passes/tile.c — loop tiling of the lowered loop nests (scf.for).
 *
 * In every function, each top-level loop nest is searched for its two outermost loops of
 * more than one iteration (the output rows and columns of a conv, depthwise or pool nest;
 * a batch loop of one iteration is skipped), directly nested, constant bounds, no
 * iter_args.  Only nests with a reduction loop (iter_args) inside are tiled: those are
 * the window ops; elementwise nests gain nothing.  The pair (i, j) becomes
 *
 *   for ii = lb_i to ub_i step s_i*T0 { for jj = lb_j to ub_j step s_j*T1 {
 *     for i = ii to min(ii + s_i*T0, ub_i) step s_i { ...
 *       for j = jj to min(jj + s_j*T1, ub_j) step s_j { ... } } } }
 *
 * (no min when the tile divides the trip count).  The ops between the two loops are
 * pure, so repeating them per column tile changes nothing.  Reordering the iterations is
 * legal when they are independent: every memref.store in the nest indexes with both i
 * and j directly, so iterations write disjoint elements, and no memref stored in the
 * nest is loaded in it.  Buffers are told apart by their function argument, global or
 * memref.alloc (through the lowering's typed views); after plan-memory every buffer is a
 * view of the one arena, so run tile before plan-memory.  Calls are
 * accepted only to the lowering's pure fixed-point helpers (@__tm_*). */
#include <string.h>

#include "passes/passes.h"

typedef struct {
  tm_op *loop;
  int64_t lb, ub, step;
} loop_info;

static bool const_index(const tm_value *v, int64_t *out) {
  if (!v->def || !tm_op_is(v->def, "arith.constant")) return false;
  const tm_attr *a = tm_op_attr(v->def, "value");
  if (!a || a->kind != TM_ATTR_INT) return false;
  *out = a->u.i;
  return true;
}

/* A counted scf.for without iter_args and with constant bounds. */
static bool simple_loop(tm_op *op, loop_info *li) {
  if (!tm_op_is(op, "scf.for") || op->noperands != 3 || op->nresults) return false;
  li->loop = op;
  return const_index(tm_op_operand(op, 0), &li->lb) && const_index(tm_op_operand(op, 1), &li->ub) &&
         const_index(tm_op_operand(op, 2), &li->step) && li->step > 0;
}

static int64_t trips(const loop_info *li) { return li->ub > li->lb ? (li->ub - li->lb + li->step - 1) / li->step : 0; }

static tm_block *body_of(const tm_op *loop) { return loop->regions[0].first; }

/* The only scf.for directly in loop's body if every other op there is pure. */
static tm_op *single_inner_loop(tm_op *loop) {
  tm_op *inner = NULL;
  for (tm_op *op = body_of(loop)->first; op; op = op->next) {
    if (tm_op_is(op, "scf.for")) {
      if (inner) return NULL;
      inner = op;
    } else if (!tm_op_is(op, "scf.yield") && (!tm_op_has_trait(op, TM_TRAIT_PURE) || op->nregions)) {
      return NULL;
    }
  }
  return inner;
}

typedef struct {
  tm_value *iv[2];
  bool ok, reduction;
  int nstored, nloaded;
  const tm_value *stored[64], *loaded[64];
} nest_check;

/* The buffer behind a memref: a function argument, a global, or an allocation (seen
 * through the lowering's typed memref.view of it); NULL if unknown. */
static const tm_value *base_of(const tm_value *m) {
  if (m->def && tm_op_is(m->def, "memref.view")) m = tm_op_operand(m->def, 0);
  if (!m->def || tm_op_is(m->def, "memref.alloc") || tm_op_is(m->def, "memref.get_global")) return m;
  return NULL;
}

static bool add_base(const tm_value **set, int *n, const tm_value *m) {
  const tm_value *b = base_of(m);
  if (!b) return false;
  for (int i = 0; i < *n; i++)
    if (set[i] == b) return true;
  if (*n == 64) return false;
  set[(*n)++] = b;
  return true;
}

static bool indexes_with(const tm_op *store, const tm_value *iv) {
  for (int i = 2; i < store->noperands; i++)
    if (tm_op_operand(store, i) == iv) return true;
  return false;
}

static bool check_op(tm_op *op, void *user) {
  nest_check *c = user;
  if (tm_op_is(op, "memref.store")) {
    if (!indexes_with(op, c->iv[0]) || !indexes_with(op, c->iv[1]) ||
        !add_base(c->stored, &c->nstored, tm_op_operand(op, 1)))
      return c->ok = false;
  } else if (tm_op_is(op, "memref.load")) {
    if (!add_base(c->loaded, &c->nloaded, tm_op_operand(op, 0))) return c->ok = false;
  } else if (tm_op_is(op, "func.call")) {
    const tm_attr *callee = tm_op_attr(op, "callee");
    if (!callee || callee->kind != TM_ATTR_SYMREF || callee->u.str.len < 5 || strncmp(callee->u.str.data, "__tm_", 5))
      return c->ok = false;
  } else if (tm_op_is(op, "scf.for")) {
    if (op->nresults) c->reduction = true;
  } else if (!tm_op_has_trait(op, TM_TRAIT_PURE) && !tm_op_is(op, "scf.yield") && !tm_op_is(op, "scf.if")) {
    return c->ok = false;
  }
  return true;
}

/* Iterations of the (outer, inner) pair are independent; the nest is a window op. */
static bool legal(tm_op *outer, tm_op *inner) {
  nest_check c = {.iv = {body_of(outer)->args[0], body_of(inner)->args[0]}, .ok = true};
  for (tm_op *op = body_of(outer)->first; op && c.ok; op = op->next) tm_op_walk(op, check_op, &c);
  if (!c.ok || !c.reduction) return false;
  /* No buffer stored in the nest may be read in it. */
  for (int s = 0; s < c.nstored; s++)
    for (int l = 0; l < c.nloaded; l++)
      if (c.stored[s] == c.loaded[l]) return false;
  return true;
}

static tm_value *cidx(tm_builder *b, int64_t v) {
  const tm_type *it = tm_type_index(b->ctx);
  tm_named_attr a = {"value", tm_attr_int(b->ctx, it, v)};
  tm_op_state st = {.name = "arith.constant", .loc = b->loc, .nresults = 1, .result_types = &it, .nattrs = 1, .attrs = &a};
  return tm_op_result(tm_build(b, &st), 0);
}

static tm_value *binop(tm_builder *b, const char *name, tm_value *x, tm_value *y) {
  tm_value *ops[2] = {x, y};
  tm_op_state st = {.name = name, .loc = b->loc, .noperands = 2, .operands = ops, .nresults = 1, .result_types = &x->type};
  return tm_op_result(tm_build(b, &st), 0);
}

/* An empty scf.for (lb, ub, step) built at b; *iv its induction variable; returns a
 * builder before its scf.yield. */
static tm_builder new_loop(tm_builder *b, tm_value *lb, tm_value *ub, tm_value *step, tm_value **iv) {
  tm_value *ops[3] = {lb, ub, step};
  tm_op_state st = {.name = "scf.for", .loc = b->loc, .noperands = 3, .operands = ops, .nregions = 1};
  tm_op *loop = tm_build(b, &st);
  tm_block *body = tm_block_create(b->ctx);
  *iv = tm_block_add_arg(b->ctx, body, lb->type, b->loc);
  tm_region_add_block(&loop->regions[0], body);
  tm_builder in = tm_builder_at_end(b->ctx, body);
  in.loc = b->loc;
  tm_op_state y = {.name = "scf.yield", .loc = b->loc};
  tm_op *yield = tm_build(&in, &y);
  in = tm_builder_before(b->ctx, yield);
  in.loc = b->loc;
  return in;
}

/* Upper bound of the point loop: tile start + span, clipped to ub unless the tile
 * divides the loop. */
static tm_value *point_ub(tm_builder *b, tm_value *start, const loop_info *li, int64_t span, tm_value *span_v,
                          tm_value *ub) {
  tm_value *end = binop(b, "arith.addi", start, span_v);
  return (li->ub - li->lb) % span ? binop(b, "arith.minsi", end, ub) : end;
}

static void tile_pair(tm_ctx *ctx, const loop_info *o, const loop_info *i, const int64_t *T) {
  tm_builder b = tm_builder_before(ctx, o->loop);
  b.loc = o->loop->loc;
  int64_t span0 = o->step * T[0], span1 = i->step * T[1];
  /* Fresh constants: the inner loop's bounds may be defined inside the outer loop. */
  tm_value *ii, *jj, *lb0 = cidx(&b, o->lb), *ub0 = cidx(&b, o->ub), *st0 = cidx(&b, span0);
  tm_value *lb1 = cidx(&b, i->lb), *ub1 = cidx(&b, i->ub), *st1 = cidx(&b, span1);
  tm_builder mid = new_loop(&b, lb0, ub0, st0, &ii);
  tm_builder in = new_loop(&mid, lb1, ub1, st1, &jj);
  tm_value *pub0 = point_ub(&in, ii, o, span0, st0, ub0), *pub1 = point_ub(&in, jj, i, span1, st1, ub1);
  tm_op_move_before(o->loop, in.before);
  tm_op_set_operand(o->loop, 0, ii);
  tm_op_set_operand(o->loop, 1, pub0);
  tm_op_set_operand(i->loop, 0, jj);
  tm_op_set_operand(i->loop, 1, pub1);
}

/* Tiles the first eligible pair in the nest rooted at top; returns whether it did. */
static bool tile_nest(tm_ctx *ctx, tm_op *top, const int64_t *T) {
  loop_info outer;
  if (!simple_loop(top, &outer)) return false;
  /* Skip loops of one iteration (the batch). */
  while (trips(&outer) == 1) {
    tm_op *inner = single_inner_loop(outer.loop);
    if (!inner || !simple_loop(inner, &outer)) return false;
  }
  tm_op *inner_op = single_inner_loop(outer.loop);
  loop_info inner;
  if (!inner_op || !simple_loop(inner_op, &inner)) return false;
  if (trips(&outer) <= T[0] && trips(&inner) <= T[1]) return false;
  if (!legal(outer.loop, inner.loop)) return false;
  tile_pair(ctx, &outer, &inner, T);
  return true;
}

static int run_func(tm_ctx *ctx, tm_op *func, const int64_t *T) {
  tm_block *body = tm_func_entry(func);
  if (!body) return 0;
  TM_FOREACH_OP(op, body)
    if (tm_op_is(op, "scf.for")) tile_nest(ctx, op, T);
  return 0;
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  int n = 0;
  const int64_t *sizes = tm_pass_opt_int_list(opts, "sizes", &n);
  if (n != 2) return tm_op_error(ctx, root, "tile: 'sizes' takes two tile sizes (rows, columns), got %d", n);
  if (tm_op_is(root, "func.func")) return run_func(ctx, root, sizes);
  for (tm_block *b = root->nregions ? root->regions[0].first : NULL; b; b = b->next)
    TM_FOREACH_OP(op, b)
      if (tm_op_is(op, "func.func")) run_func(ctx, op, sizes);
  return 0;
}

static const tm_pass_option options[] = {
    {"sizes", TM_OPT_INT_LIST, "8,8", "tile size (iterations) of the two outer spatial loops: rows, columns", 1, 4096},
};

TM_REGISTER_PASS(tile, "tile", "Tile the two outer spatial loops of the lowered conv, depthwise and pool nests", run,
                 TM_PASS_OPTIONS(options));
