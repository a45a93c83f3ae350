/* passes/outline_repeats.c — outline-repeated-loops: the top-level loop nests of a
 * lowered function that repeat become one private function, called from each place.
 * Two nests repeat when they are equal op for op (names, attributes, types, regions)
 * up to what they read from outside: buffers (the planned views, globals of the same
 * type) and scalars become the function's arguments, but an index constant must be the
 * same value (loop bounds and offsets stay immediates); a constant that is the same
 * everywhere is copied in.  kws' four identical depthwise + pointwise blocks keep one
 * copy of their code.  The outlined function is marked tm.outlined: the backends do
 * not inline it back.  Run it after plan-memory, so that the arguments are the planned
 * views; it saves flash for a call's few instructions and the arguments' registers. */
#include <stdio.h>
#include <string.h>

#include "passes/passes.h"

/* A correspondence between nest a and nest b: values a defines inside -> b's, and what
 * they read from outside: slots (a value of each), and each use's slot in walk order. */
typedef struct match {
  tm_arena *arena;
  tm_ptrmap inner, inner_b; /* a's inner value -> b's, and b's -> a's */
  tm_ptrmap cap_a;          /* a's captured non-constant value -> its slot + 1 */
  tm_value **ca, **cb;      /* each slot's value in a and in b */
  int ncap, capcap;
  int *use_slot;            /* the captured uses' slots, in walk order */
  int nuse, usecap;
} match;

static bool is_const(const tm_value *v) { return v->def && tm_op_is(v->def, "arith.constant"); }

/* Whether v is a constant memref.global (weights, tables): nothing writes it. */
static bool constant_global(tm_op *module, const tm_value *v) {
  if (!v->def || !tm_op_is(v->def, "memref.get_global")) return false;
  const tm_attr *name = tm_op_attr(v->def, "name");
  tm_op *g = name ? tm_module_lookup(module, name->u.str.data) : NULL;
  return g && tm_op_attr(g, "constant");
}

static void add_use(match *m, int slot) {
  if (m->nuse == m->usecap) {
    m->usecap = m->usecap ? 2 * m->usecap : 64;
    int *n = TM_NEW_ARRAY(m->arena, int, m->usecap);
    for (int i = 0; i < m->nuse; i++) n[i] = m->use_slot[i];
    m->use_slot = n;
  }
  m->use_slot[m->nuse++] = slot;
}

/* va read from outside a's nest where b's reads vb.  A non-constant value of a has one
 * slot (it must stand for one value of b; b may pass one value in several slots: one
 * buffer twice, computed alike as separate arguments); a constant has a slot per use
 * (a shared 7 may be a shift in both nests and a zero point in one). */
static bool capture(match *m, tm_value *va, tm_value *vb) {
  intptr_t ia = is_const(va) ? 0 : (intptr_t)tm_ptrmap_get(&m->cap_a, va);
  if (ia) {
    add_use(m, (int)ia - 1);
    return m->cb[ia - 1] == vb;
  }
  if (va->type != vb->type) return false;
  /* index constants stay immediates (loop bounds, offsets): the same value, as constants
   * are CSE'd at the function's top; others may differ (buffers, zero points, sums) */
  if (va != vb && va->type->kind == TM_TYPE_INDEX && (is_const(va) || is_const(vb))) return false;
  if (m->ncap == m->capcap) {
    m->capcap = m->capcap ? 2 * m->capcap : 16;
    tm_value **na = TM_NEW_ARRAY(m->arena, tm_value *, m->capcap), **nb = TM_NEW_ARRAY(m->arena, tm_value *, m->capcap);
    for (int i = 0; i < m->ncap; i++) na[i] = m->ca[i], nb[i] = m->cb[i];
    m->ca = na, m->cb = nb;
  }
  m->ca[m->ncap] = va, m->cb[m->ncap] = vb, m->ncap++;
  if (!is_const(va)) tm_ptrmap_set(&m->cap_a, va, (void *)(intptr_t)m->ncap);
  add_use(m, m->ncap - 1);
  return true;
}

static bool same_op(match *m, tm_op *a, tm_op *b);

static bool same_block(match *m, tm_block *a, tm_block *b) {
  if (a->nargs != b->nargs) return false;
  for (int i = 0; i < a->nargs; i++) {
    if (a->args[i]->type != b->args[i]->type) return false;
    tm_ptrmap_set(&m->inner, a->args[i], b->args[i]);
    tm_ptrmap_set(&m->inner_b, b->args[i], a->args[i]);
  }
  tm_op *x = a->first, *y = b->first;
  for (; x && y; x = x->next, y = y->next)
    if (!same_op(m, x, y)) return false;
  return !x && !y;
}

static bool same_op(match *m, tm_op *a, tm_op *b) {
  if (a->name != b->name || a->nattrs != b->nattrs || a->noperands != b->noperands || a->nresults != b->nresults ||
      a->nregions != b->nregions)
    return false;
  for (int i = 0; i < a->nattrs; i++)
    if (a->attrs[i].name != b->attrs[i].name || a->attrs[i].value != b->attrs[i].value) return false;
  for (int i = 0; i < a->noperands; i++) {
    tm_value *va = tm_op_operand(a, i), *vb = tm_op_operand(b, i), *in = tm_ptrmap_get(&m->inner, va);
    if (in ? in != vb : tm_ptrmap_get(&m->inner_b, vb) || !capture(m, va, vb)) return false;
  }
  for (int i = 0; i < a->nresults; i++) {
    if (a->results[i].type != b->results[i].type) return false;
    tm_ptrmap_set(&m->inner, &a->results[i], &b->results[i]);
    tm_ptrmap_set(&m->inner_b, &b->results[i], &a->results[i]);
  }
  for (int r = 0; r < a->nregions; r++) {
    tm_block *x = a->regions[r].first, *y = b->regions[r].first;
    for (; x && y; x = x->next, y = y->next)
      if (!same_block(m, x, y)) return false;
    if (x || y) return false;
  }
  return true;
}

static bool repeats(tm_arena *arena, tm_op *a, tm_op *b, match *m) {
  *m = (match){.arena = arena, .inner = {.arena = arena}, .inner_b = {.arena = arena}, .cap_a = {.arena = arena}};
  return a != b && same_op(m, a, b);
}

/* ops in the nest, and a hash of its shape (names and types; operands left out) */
typedef struct shape {
  uint64_t hash;
  int64_t ops;
} shape;

static bool shape_walk(tm_op *op, void *user) {
  shape *s = user;
  s->hash = (s->hash ^ (uint64_t)(uintptr_t)op->name) * 1099511628211u;
  for (int i = 0; i < op->nresults; i++) s->hash = (s->hash ^ (uint64_t)(uintptr_t)op->results[i].type) * 1099511628211u;
  s->ops++;
  return true;
}

/* A candidate: a top-level op with regions whose results no one uses. */
static bool candidate(const tm_op *op) {
  if (!op->nregions) return false;
  for (int i = 0; i < op->nresults; i++)
    if (op->results[i].uses) return false;
  return true;
}

/* copy (of a's nest) reads rep[slot] at each captured use: orig and copy walked in
 * step, in same_op's order. */
static void remap(const match *m, tm_op *orig, tm_op *copy, tm_value *const *rep, int *k) {
  for (int i = 0; i < orig->noperands; i++)
    if (!tm_ptrmap_get(&m->inner, tm_op_operand(orig, i))) tm_op_set_operand(copy, i, rep[m->use_slot[(*k)++]]);
  for (int r = 0; r < orig->nregions; r++)
    for (tm_block *x = orig->regions[r].first, *y = copy->regions[r].first; x; x = x->next, y = y->next)
      for (tm_op *o = x->first, *c = y->first; o; o = o->next, c = c->next) remap(m, o, c, rep, k);
}

typedef struct outliner {
  tm_ctx *ctx;
  tm_op *module, *func;
  int64_t min_ops;
  int count;
} outliner;

/* members[0..n) repeat members[0] (m[j]: members[0] against members[j + 1]). */
static void outline(outliner *O, tm_op **members, int n, match *m) {
  tm_ctx *ctx = O->ctx;
  tm_arena *arena = tm_ctx_arena(ctx);
  int ncap = m[0].ncap;
  /* a slot is an argument unless it is the same constant everywhere; slots with the
   * same value in every member share one (arg[i]: its index + 1) */
  int *arg = TM_NEW_ARRAY(arena, int, ncap);
  const tm_type **types = TM_NEW_ARRAY(arena, const tm_type *, ncap + 1);
  int nargs = 0;
  for (int i = 0; i < ncap; i++) {
    tm_value *v = m[0].ca[i];
    bool same = is_const(v);
    for (int j = 0; j < n - 1 && same; j++) same = m[j].cb[i] == v;
    arg[i] = 0;
    for (int e = 0; e < i && !same && !arg[i]; e++) {
      bool all = arg[e] && m[0].ca[e] == v;
      for (int j = 0; j < n - 1 && all; j++) all = m[j].cb[e] == m[j].cb[i];
      if (all) arg[i] = arg[e];
    }
    if (!same && !arg[i]) types[nargs] = v->type, arg[i] = ++nargs;
  }
  char name[48];
  tm_op *f;
  do {
    snprintf(name, sizeof name, "__tm_repeated_%d", O->count++);
  } while (tm_module_lookup(O->module, name));
  f = tm_func_create(ctx, name, tm_type_func(ctx, nargs, types, 0, NULL), members[0]->loc);
  tm_op_set_attr(ctx, f, "sym_visibility", tm_attr_cstr(ctx, "private"));
  tm_op_set_attr(ctx, f, "tm.outlined", tm_attr_unit(ctx));
  /* the arguments that are constant globals in every call: the backends tell their
   * compilers nothing writes them (LLVM noalias readonly), as they knew of the globals */
  int64_t *ro = TM_NEW_ARRAY(arena, int64_t, nargs + 1);
  int nro = 0;
  for (int i = 0; i < ncap; i++) {
    bool all = arg[i] && constant_global(O->module, m[0].ca[i]);
    for (int j = 0; j < n - 1 && all; j++) all = constant_global(O->module, m[j].cb[i]);
    bool seen = false;
    for (int e = 0; e < nro; e++) seen |= ro[e] == arg[i] - 1;
    if (all && !seen) ro[nro++] = arg[i] - 1;
  }
  if (nro) tm_op_set_attr(ctx, f, "tm.readonly_args", tm_attr_int_array(ctx, nro, ro));
  tm_op_insert_before(O->func, f);
  tm_block *entry = tm_func_entry(f);
  tm_value **rep = TM_NEW_ARRAY(arena, tm_value *, ncap + 1);
  tm_ptrmap consts = {.arena = arena}; /* one copy of each constant */
  for (int i = 0; i < ncap; i++) {
    if (arg[i]) {
      rep[i] = entry->args[arg[i] - 1];
    } else if (!(rep[i] = tm_ptrmap_get(&consts, m[0].ca[i]))) {
      tm_op *c = tm_op_clone(ctx, m[0].ca[i]->def);
      tm_block_append(entry, c);
      tm_ptrmap_set(&consts, m[0].ca[i], rep[i] = &c->results[0]);
    }
  }
  tm_op *body = tm_op_clone(ctx, members[0]);
  int k = 0;
  remap(&m[0], members[0], body, rep, &k);
  tm_block_append(entry, body);
  tm_block_append(entry, tm_op_create(ctx, &(tm_op_state){.name = "func.return", .loc = members[0]->loc}));
  tm_named_attr callee = {tm_intern_cstr(ctx, "callee"), tm_attr_symref(ctx, name, strlen(name))};
  tm_value **ops = TM_NEW_ARRAY(arena, tm_value *, nargs + 1);
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < ncap; i++)
      if (arg[i]) ops[arg[i] - 1] = j ? m[j - 1].cb[i] : m[0].ca[i];
    tm_op *call = tm_op_create(ctx, &(tm_op_state){.name = "func.call", .loc = members[j]->loc, .noperands = nargs,
                                                   .operands = ops, .nattrs = 1, .attrs = &callee});
    tm_op_insert_before(members[j], call);
    tm_op_erase(members[j]);
  }
}

static int outline_func(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts) {
  tm_block *body = tm_func_entry(func);
  if (!body) return 0;
  tm_arena *arena = tm_ctx_arena(ctx);
  outliner O = {.ctx = ctx, .module = tm_op_parent(func), .func = func, .min_ops = tm_pass_opt_int(opts, "min-ops")};
  if (!O.module) return 0;
  int n = 0;
  for (tm_op *op = body->first; op; op = op->next) n += candidate(op);
  tm_op **cand = TM_NEW_ARRAY(arena, tm_op *, n + 1);
  shape *shapes = TM_NEW_ARRAY(arena, shape, n + 1);
  n = 0;
  for (tm_op *op = body->first; op; op = op->next)
    if (candidate(op)) {
      shapes[n] = (shape){.hash = 14695981039346656037u};
      tm_op_walk(op, shape_walk, &shapes[n]);
      cand[n++] = op;
    }
  tm_op **members = TM_NEW_ARRAY(arena, tm_op *, n + 1);
  match *m = TM_NEW_ARRAY(arena, match, n + 1);
  for (int i = 0; i < n; i++) {
    if (!cand[i] || shapes[i].ops < O.min_ops) continue;
    int k = 0;
    members[k++] = cand[i];
    for (int j = i + 1; j < n; j++)
      if (cand[j] && shapes[j].hash == shapes[i].hash && shapes[j].ops == shapes[i].ops &&
          repeats(arena, cand[i], cand[j], &m[k - 1])) {
        members[k++] = cand[j];
        cand[j] = NULL;
      }
    if (k > 1) outline(&O, members, k, m);
  }
  return 0;
}

static const tm_pass_option options[] = {
    {.name = "min-ops", .kind = TM_OPT_INT, .default_value = "40", .min = 1, .max = INT64_MAX,
     .help = "Nests of fewer ops stay where they are (a call and its arguments cost more than they save)"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  return tm_pass_each_func(ctx, root, outline_func, opts);
}

TM_REGISTER_PASS(outline_repeats, "outline-repeated-loops",
                 "Outline top-level loop nests that repeat, up to the buffers and integer constants they read, into "
                 "one private function called from each place (less flash)",
                 run, TM_PASS_OPTIONS(options));
