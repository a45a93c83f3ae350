/* passes/plan_memory.c — place every function-level memref.alloc in one arena.
 *
 * The model function gets a new first argument %arena: memref<Nxi8> and the attribute
 * tm.arena_bytes = N; each alloc becomes "memref.view"(%arena, %offset) of its type.
 *
 * Lifetimes are intervals of op indices in the function body: from the first to the
 * last top-level op using the buffer, directly or through anything derived from it
 * (views, collapse_shape, loop results...), uses in nested regions counting for the op
 * that holds them.  Buffers whose lifetimes overlap get disjoint bytes.
 *
 * In place: a loop nest that reads buffer A for the last time and writes buffer B for
 * the first time may write B over A when it is elementwise in the strict sense that
 * every access to A and B is a load or store at the same indices, in one block, before
 * any store (for A's loads), where the indices are constants or the induction variables
 * of distinct enclosing loops and every enclosing loop contributes one: then iteration x
 * alone touches element x of both, reading A[x] before writing B[x].  Both views must
 * start at byte 0 and have the same shape and element width.  B then shares A's slot.
 * Trailing in place (trailing_delta, trailing_bytes): a nest going through the pixels of
 * A and B in order, pixel p of both in iteration p only (a 1x1 conv), or reading a block
 * of A before writing its outputs (the DSP kernels' flat 1x1 conv), may write B at
 * A + delta (< 0) or lower.
 *
 * Slots: a buffer written over A exactly joins A's slot; trailing, in one variant it
 * joins at delta, in the other it keeps a slot of its own, and its conflict with A then
 * only forbids the offsets A + delta + 1 .. A + size(A) - 1 (any lower one suits too).
 * Placement tries TFLite Micro's greedy planner (slots by decreasing size, each at the
 * lowest aligned offset where none of its buffers overlaps a placed buffer alive at the
 * same time) and best fit by lifetime (slots by birth, each in the smallest free gap
 * that holds it), on both variants, and keeps the smallest arena (option `placement`).
 *
 * io-in-arena: the model function's inputs and outputs get slots too.  Their arguments
 * stay (the interface does not change) but the body uses views of the arena at the
 * offsets recorded in tm.input_offsets / tm.output_offsets, tagged tm.model_input /
 * tm.model_output = i; an input is live from the start (the caller wrote it) and an
 * output until the end (the caller reads it), so a dead input's bytes are reused.
 *
 * tm_memory_report (passes.h) reads a planned function back: views of the arena,
 * offsets, sizes, lifetimes, and the lower bound of any plan of that schedule and those
 * in-place decisions (the most bytes live at one op, bytes shared in place counted once). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

typedef struct buffer {
  tm_op *def;        /* the alloc (planning) or the arena view (report) */
  int64_t size, offset;
  int start, end;    /* lifetime: op indices in the function body */
  int slot;          /* planning: the slot holding it */
  int64_t rel;       /* planning: its offset in the slot, from the slot's lowest byte `lo` */
  int over;          /* planning: the buffer it may be written over, -1 if none */
  int64_t delta;     /* planning, with `over` A: 0, at A's offset exactly; < 0, trailing: at
                        A's offset + delta or lower */
  int io;            /* 0, or 1 + input index, or -(1 + output index) */
  tm_value **aliases; /* the buffer and every memref derived from it */
  int naliases;
} buffer;

typedef struct slot {
  int64_t size, offset;
  int64_t lo;        /* the lowest `rel` of its buffers (<= 0: trailing outputs sit below) */
  int start, end;
  int last;          /* the buffer occupying it last (in-place chains) */
} slot;

typedef struct plan {
  tm_ctx *ctx;
  tm_block *body;
  tm_op **order; /* body ops by index */
  int nops;
  buffer *bufs;
  int nbufs;
} plan;

/* ------------------------------------------------------------------ lifetimes ----- */
/* The index of the body op holding op, -1 if none does. */
static int op_index(const plan *p, const tm_op *op) {
  while (op && op->block != p->body) op = tm_op_parent(op);
  for (int i = 0; op && i < p->nops; i++)
    if (p->order[i] == op) return i;
  return -1;
}

static bool has_alias(const buffer *b, const tm_value *v) {
  for (int i = 0; i < b->naliases; i++)
    if (b->aliases[i] == v) return true;
  return false;
}

static void add_alias(plan *p, buffer *b, tm_value *v, int *cap) {
  if (has_alias(b, v)) return;
  if (b->naliases == *cap) {
    *cap = *cap ? 2 * *cap : 8;
    tm_value **a = TM_NEW_ARRAY(tm_ctx_arena(p->ctx), tm_value *, *cap);
    if (b->naliases) memcpy(a, b->aliases, sizeof *a * (size_t)b->naliases);
    b->aliases = a;
  }
  b->aliases[b->naliases++] = v;
}

/* Follows the buffer through every op deriving a memref from it (results, and region
 * arguments such as loop-carried memrefs); -1 if it escapes through func.return. */
static int trace(plan *p, buffer *b, tm_value *root) {
  int cap = 0;
  b->naliases = 0;
  b->start = b->end = -1;
  add_alias(p, b, root, &cap);
  for (int k = 0; k < b->naliases; k++) {
    for (tm_use *u = b->aliases[k]->uses; u; u = u->next) {
      tm_op *user = u->user;
      /* a view only names the bytes: its users touch them */
      bool names_only = tm_op_has_trait(user, TM_TRAIT_PURE) && !user->nregions;
      int at = names_only ? -1 : op_index(p, user);
      if (at >= 0) {
        if (b->start < 0 || at < b->start) b->start = at;
        if (at > b->end) b->end = at;
      }
      if (tm_op_is(user, "func.return"))
        return tm_op_error(p->ctx, user, "a planned buffer cannot be returned");
      tm_op *from = user;
      if (tm_op_has_trait(user, TM_TRAIT_TERMINATOR)) from = tm_op_parent(user); /* yielded: the parent's */
      if (!from) continue;
      for (int r = 0; r < from->nresults; r++)
        if (from->results[r].type->kind == TM_TYPE_MEMREF) add_alias(p, b, &from->results[r], &cap);
      for (int r = 0; r < from->nregions; r++)
        for (tm_block *rb = from->regions[r].first; rb; rb = rb->next)
          for (int a = 0; a < rb->nargs; a++)
            if (rb->args[a]->type->kind == TM_TYPE_MEMREF) add_alias(p, b, rb->args[a], &cap);
    }
  }
  if (b->start < 0) b->start = b->end = op_index(p, b->def); /* unused: a point */
  return 0;
}

static void collect_order(plan *p) {
  p->nops = 0;
  TM_FOREACH_OP(op, p->body) p->nops++;
  p->order = TM_NEW_ARRAY(tm_ctx_arena(p->ctx), tm_op *, p->nops + 1);
  int i = 0;
  TM_FOREACH_OP(op, p->body) p->order[i++] = op;
}

/* ------------------------------------------------------------------ in place ------ */
/* The value of an integer or index constant. */
static bool const_value(const tm_value *v, int64_t *out) {
  const tm_attr *c = tm_value_const(v);
  if (!c && v->def && tm_op_is(v->def, "arith.constant")) c = tm_op_attr(v->def, "value");
  if (!c || c->kind != TM_ATTR_INT) return false;
  *out = c->u.i;
  return true;
}

/* Whether m shows buffer b from its first byte on: b itself, a view of it at 0, or it
 * collapsed (a flat output of the DSP kernels). */
static bool view_at_zero(const buffer *b, const tm_value *m) {
  if (m == b->aliases[0]) return true;
  const tm_op *v = m->def;
  if (v && tm_op_is(v, "memref.collapse_shape") && v->noperands == 1 && tm_op_operand(v, 0) == b->aliases[0])
    return true;
  if (!v || !tm_op_is(v, "memref.view") || v->noperands != 2 || tm_op_operand(v, 0) != b->aliases[0]) return false;
  int64_t off;
  return const_value(tm_op_operand(v, 1), &off) && off == 0;
}

typedef struct access_scan {
  const buffer *a, *b;
  tm_block *block;         /* the one block all accesses are in */
  tm_use *indices;         /* the index operands of the first access */
  int nindices;
  const tm_type *type;     /* the memref type of the first access */
  tm_op *first_store;      /* first store to b */
  tm_op *last_load_a;
  bool ok;
} access_scan;

static bool same_indices(const access_scan *s, const tm_op *op, int first) {
  if (op->noperands - first != s->nindices) return false;
  for (int i = 0; i < s->nindices; i++)
    if (op->operands[first + i].value != s->indices[i].value) return false;
  return true;
}

typedef enum { ACC_NONE, ACC_LOAD, ACC_STORE, ACC_OTHER } access_kind;

/* How operand i of op touches A (*in_a) or B: not at all, as the memref of a load or a
 * store through a view at byte 0, or otherwise (a call, a view elsewhere, both). */
static access_kind access_of(const buffer *a, const buffer *b, const tm_op *op, int i, bool *in_a) {
  tm_value *v = op->operands[i].value;
  bool ia = has_alias(a, v), ib = has_alias(b, v);
  *in_a = ia;
  if (!ia && !ib) return ACC_NONE;
  if (ia == ib || !view_at_zero(ia ? a : b, v)) return ACC_OTHER;
  if (tm_op_is(op, "memref.load") && i == 0) return ACC_LOAD;
  return tm_op_is(op, "memref.store") && i == 1 ? ACC_STORE : ACC_OTHER;
}

static bool scan_op(tm_op *op, void *user) {
  access_scan *s = user;
  for (int i = 0; i < op->noperands && s->ok; i++) {
    tm_value *v = op->operands[i].value;
    bool in_a;
    access_kind k = access_of(s->a, s->b, op, i, &in_a);
    if (k == ACC_NONE) continue;
    bool load = k == ACC_LOAD, store = k == ACC_STORE;
    if (k == ACC_OTHER || (in_a && store)) {
      s->ok = false;
      break;
    }
    int first = load ? 1 : 2;
    const tm_type *t = v->type;
    if (!s->block) {
      s->block = op->block;
      s->indices = &op->operands[first];
      s->nindices = op->noperands - first;
      s->type = t;
    }
    bool same_layout = t->rank == s->type->rank && tm_type_elem_bits(t) == tm_type_elem_bits(s->type) &&
                       !memcmp(t->dims, s->type->dims, sizeof *t->dims * (size_t)t->rank);
    if (op->block != s->block || !same_layout || !same_indices(s, op, first)) s->ok = false;
    if (store && !s->first_store) s->first_store = op;
    if (in_a) s->last_load_a = op;
  }
  return s->ok;
}

static bool is_index_const(const tm_value *v) {
  return tm_value_const(v) || (v->def && tm_op_is(v->def, "arith.constant"));
}

/* The indices are constants (a batch dimension of one, whose loop the lowering drops) and
 * the induction variables of distinct loops around the block, one per enclosing loop up
 * to `nest`, so that no two iterations touch the same element. */
static bool injective(const access_scan *s, const tm_op *nest) {
  int loops = 0, consts = 0;
  for (int i = 0; i < s->nindices; i++) consts += is_index_const(s->indices[i].value);
  for (const tm_op *p = s->block->region ? s->block->region->op : NULL; p; p = tm_op_parent(p)) {
    if (tm_op_is(p, "scf.for")) {
      loops++;
      tm_value *iv = p->regions[0].first->args[0];
      int hits = 0;
      for (int i = 0; i < s->nindices; i++) hits += s->indices[i].value == iv;
      if (hits != 1) return false;
    } else if (!tm_op_is(p, "scf.if")) {
      return false;
    }
    if (p == nest) break;
  }
  return loops + consts == s->nindices;
}

/* A memref.copy of all of A into all of B (a reshape the lowering could not make a view:
 * of an input) copies nothing once B is placed over A; drop_self_copies removes it. */
static bool whole_copy(const buffer *a, const buffer *b, const tm_op *op) {
  return tm_op_is(op, "memref.copy") && op->noperands == 2 && has_alias(a, tm_op_operand(op, 0)) &&
         has_alias(b, tm_op_operand(op, 1)) && !has_alias(a, tm_op_operand(op, 1)) && a->size == b->size &&
         tm_type_bytes(tm_op_operand(op, 0)->type) == a->size && tm_type_bytes(tm_op_operand(op, 1)->type) == b->size;
}

static bool can_write_over(const plan *p, const buffer *a, const buffer *b) {
  tm_op *nest = p->order[b->start];
  if (a->end == b->start && whole_copy(a, b, nest)) return true;
  if (!tm_op_is(nest, "scf.for") || a->end != b->start) return false;
  access_scan s = {.a = a, .b = b, .ok = true};
  tm_op_walk(nest, scan_op, &s);
  if (!s.ok || !s.block || !s.first_store || !injective(&s, nest)) return false;
  return !s.last_load_a || tm_op_is_before_in_block(s.last_load_a, s.first_store);
}

/* Trailing in place: a nest whose accesses to A and B all index the same leading
 * (pixel) position p = (d0, .., d[r-2]) and any last (channel) index, with p's loops
 * nested in dimension order and no loop outside them in the nest, visits the pixels in
 * increasing row-major order, touching pixel p of both only in iteration p.  Loads of A
 * at pixel >= p then never read bytes that B's pixel p covers when B starts `delta`
 * bytes from A with delta + (p + 1) * pb <= p * pa for every p (pa, pb: bytes per
 * pixel): a pointwise conv writes its output one pixel behind its input, so the pair
 * takes one activation and one pixel instead of two activations. */
typedef struct trail_scan {
  const buffer *a, *b;
  tm_use *lead;            /* the leading indices of the first access */
  int nlead;
  const tm_type *ta, *tb;  /* the memref types A and B are accessed as */
  tm_op *first;
  bool ok;
} trail_scan;

static bool trail_op(tm_op *op, void *user) {
  trail_scan *s = user;
  for (int i = 0; i < op->noperands && s->ok; i++) {
    tm_value *v = op->operands[i].value;
    bool in_a;
    access_kind k = access_of(s->a, s->b, op, i, &in_a);
    if (k == ACC_NONE) continue;
    bool load = k == ACC_LOAD;
    const tm_type **t = in_a ? &s->ta : &s->tb;
    if (k != (in_a ? ACC_LOAD : ACC_STORE) || v->type->rank < 2 || (*t && *t != v->type)) {
      s->ok = false;
      break;
    }
    *t = v->type;
    int first = load ? 1 : 2, nlead = v->type->rank - 1;
    if (op->noperands - first != v->type->rank) s->ok = false;
    else if (!s->first) s->first = op, s->lead = &op->operands[first], s->nlead = nlead;
    else if (nlead != s->nlead) s->ok = false;
    for (int k = 0; s->ok && k < nlead; k++) s->ok = op->operands[first + k].value == s->lead[k].value;
  }
  return s->ok;
}

/* The pixel loops: every scf.for from the accesses out to `nest` is the loop of one
 * non-constant leading index, innermost the last dimension, none left over. */
static bool pixel_major(const trail_scan *s, const tm_op *nest) {
  int next = s->nlead - 1, consts = 0;
  for (int k = 0; k < s->nlead; k++) consts += is_index_const(s->lead[k].value);
  bool seen = false;
  int loops = 0;
  for (const tm_op *p = tm_op_parent(s->first); p; p = tm_op_parent(p)) {
    if (tm_op_is(p, "scf.for")) {
      tm_value *iv = p->regions[0].first->args[0];
      int dim = -1;
      for (int k = 0; k < s->nlead; k++)
        if (s->lead[k].value == iv) dim = k;
      if (dim < 0 ? seen : dim > next) return false; /* an outer loop, or out of order */
      if (dim >= 0) seen = true, next = dim - 1, loops++;
    } else if (!tm_op_is(p, "scf.if")) {
      return false;
    }
    if (p == nest) break;
  }
  return loops + consts == s->nlead;
}

/* The offset of B relative to A for a trailing in-place write (a multiple of `align`,
 * <= 0), or 1 if there is none. */
static int64_t trailing_delta(const plan *p, const buffer *a, const buffer *b, int64_t align) {
  tm_op *nest = p->order[b->start];
  if (!tm_op_is(nest, "scf.for") || a->end != b->start) return 1;
  trail_scan s = {.a = a, .b = b, .ok = true};
  tm_op_walk(nest, trail_op, &s);
  if (!s.ok || !s.ta || !s.tb || s.ta->rank != s.tb->rank || !pixel_major(&s, nest)) return 1;
  int r = s.ta->rank;
  int64_t pixels = 1;
  for (int k = 0; k < r - 1; k++) {
    if (s.ta->dims[k] != s.tb->dims[k] || s.ta->dims[k] <= 0) return 1;
    pixels *= s.ta->dims[k];
  }
  int64_t pa = s.ta->dims[r - 1] * (int64_t)((tm_type_elem_bits(s.ta) + 7) / 8);
  int64_t pb = s.tb->dims[r - 1] * (int64_t)((tm_type_elem_bits(s.tb) + 7) / 8);
  if (pa <= 0 || pb <= 0 || pixels * pa > a->size || pixels * pb > b->size) return 1;
  int64_t delta = -pb + (pa < pb ? (pixels - 1) * (pa - pb) : 0);
  return -((-delta + align - 1) / align * align);
}

/* The buffers of a slot keep fixed distances, so a trailing write joins A's slot only if
 * the slot then exceeds the larger of the two by at most 1/16: a pointwise chain drifting
 * one pixel down per layer stays in one slot, a write that mostly falls outside A (a
 * fully connected layer: one "pixel") keeps a slot of its own and its freedom of place. */
static bool trailing_pays(const slot *s, int64_t rel, int64_t size) {
  int64_t lo = rel < s->lo ? rel : s->lo, hi = s->lo + s->size > rel + size ? s->lo + s->size : rel + size;
  int64_t larger = s->size > size ? s->size : size;
  return hi - lo <= larger + larger / 16;
}

/* Trailing in place by byte ranges (trailing_bytes): an outer loop whose iteration t
 * reads A only before it writes B (every op of its body reading A comes before every op
 * writing B), through loads and stores at affine indices of the loops' induction
 * variables, A's bytes rising with t.  B's bytes written in iteration t must lie below
 * A's bytes read in iterations after t: B may start d bytes from A for any d below
 * min over t of (lowest A byte read in t + 1) - (highest B byte written in t), a concave
 * function of t, so its ends t = 0 and t = T - 2 bound it.  The DSP kernels' flat 1x1
 * convolutions (docs/dsp.md) expand a block of pixels of A into a scratch, then write
 * the block's outputs: the pixel rule above does not see their flat indices. */
enum { AFF_MAX = 8 };

/* c + sum of k[i] * (the induction variable of loop[i]). */
typedef struct affine {
  int64_t c;
  int n;
  const tm_op *loop[AFF_MAX];
  int64_t k[AFF_MAX];
} affine;

static bool aff_add(affine *a, const affine *x, int64_t scale) {
  a->c += x->c * scale;
  for (int i = 0; i < x->n; i++) {
    int j = 0;
    while (j < a->n && a->loop[j] != x->loop[i]) j++;
    if (j == AFF_MAX) return false;
    if (j == a->n) a->loop[a->n] = x->loop[i], a->k[a->n++] = 0;
    a->k[j] += x->k[i] * scale;
  }
  return true;
}

/* v as an affine function of scf.for induction variables; false if it is not one. */
static bool affine_of(const tm_value *v, affine *out, int depth) {
  *out = (affine){0};
  if (const_value(v, &out->c)) return true;
  if (!v->def) {
    const tm_op *loop = v->block && v->block->region ? v->block->region->op : NULL;
    if (!loop || !tm_op_is(loop, "scf.for") || v->index != 0) return false;
    out->n = 1, out->loop[0] = loop, out->k[0] = 1;
    return true;
  }
  const tm_op *op = v->def;
  bool sub = tm_op_is(op, "arith.subi"), mul = tm_op_is(op, "arith.muli");
  affine x, y;
  if (depth > 12 || op->noperands != 2 || !(sub || mul || tm_op_is(op, "arith.addi")) ||
      !affine_of(tm_op_operand(op, 0), &x, depth + 1) || !affine_of(tm_op_operand(op, 1), &y, depth + 1))
    return false;
  if (!mul) return aff_add(out, &x, 1) && aff_add(out, &y, sub ? -1 : 1);
  return (!x.n || !y.n) && aff_add(out, x.n ? &x : &y, x.n ? y.c : x.c);
}

/* The first value, step and trip count of an scf.for with constant bounds. */
static bool loop_range(const tm_op *loop, int64_t *lb, int64_t *step, int64_t *trips) {
  int64_t ub;
  if (loop->noperands < 3 || !const_value(tm_op_operand(loop, 0), lb) || !const_value(tm_op_operand(loop, 1), &ub) ||
      !const_value(tm_op_operand(loop, 2), step) || *step <= 0)
    return false;
  *trips = ub > *lb ? (ub - *lb + *step - 1) / *step : 0;
  return true;
}

typedef struct byte_scan {
  const buffer *a, *b;
  const tm_op *outer;
  int64_t lb, step, trips;   /* the outer loop's */
  int64_t a_min[2], b_max[2]; /* A's lowest byte read in iterations 1 and T - 1, B's
                                 highest written in iterations 0 and T - 2 */
  const tm_op *last_a, *first_b; /* the ops of the outer body holding those accesses */
  bool ok;
} byte_scan;

/* Records an access of `width` bytes at the indices from operand `first` of op. */
static bool byte_access(byte_scan *s, const tm_op *op, int first, const tm_type *t, int64_t width, bool in_a) {
  if (op->noperands - first != t->rank) return false;
  affine at = {0};
  int64_t stride = (tm_type_elem_bits(t) + 7) / 8;
  for (int d = t->rank - 1; d >= 0; d--) {
    affine x;
    if (t->dims[d] < 0 || !affine_of(op->operands[first + d].value, &x, 0) || !aff_add(&at, &x, stride)) return false;
    stride *= t->dims[d];
  }
  int64_t so = 0, lo = at.c, hi = at.c + width - 1; /* so: per unit of the outer variable */
  for (int k = 0; k < at.n; k++) {
    int64_t lb, step, n;
    if (at.loop[k] == s->outer) {
      so = at.k[k];
      continue;
    }
    if (!loop_range(at.loop[k], &lb, &step, &n)) return false;
    int64_t k1 = at.k[k] * lb, k2 = at.k[k] * (lb + (n > 0 ? n - 1 : 0) * step);
    lo += k1 < k2 ? k1 : k2;
    hi += k1 < k2 ? k2 : k1;
  }
  const tm_op *top = op;
  while (top->block != s->outer->regions[0].first) top = tm_op_parent(top);
  for (int e = 0; e < 2; e++) {
    int64_t t = in_a ? (e ? s->trips - 1 : 1) : (e ? s->trips - 2 : 0), v = so * (s->lb + t * s->step);
    if (in_a && v + lo < s->a_min[e]) s->a_min[e] = v + lo;
    if (!in_a && v + hi > s->b_max[e]) s->b_max[e] = v + hi;
  }
  if (in_a && (!s->last_a || tm_op_is_before_in_block(s->last_a, top))) s->last_a = top;
  if (!in_a && (!s->first_b || tm_op_is_before_in_block(top, s->first_b))) s->first_b = top;
  return !in_a || so >= 0;
}

static bool byte_op(tm_op *op, void *user) {
  byte_scan *s = user;
  for (int i = 0; i < op->noperands && s->ok; i++) {
    tm_value *v = op->operands[i].value;
    bool in_a;
    access_kind k = access_of(s->a, s->b, op, i, &in_a);
    if (k == ACC_NONE) continue;
    /* a word of four bytes of A (DSP kernels) */
    bool word = k == ACC_OTHER && in_a && i == 0 && tm_op_is(op, "armdsp.load_word") && !has_alias(s->b, v) &&
                view_at_zero(s->a, v);
    if (!word && k != (in_a ? ACC_LOAD : ACC_STORE)) s->ok = false;
    else s->ok = byte_access(s, op, in_a ? 1 : 2, v->type, word ? 4 : (tm_type_elem_bits(v->type) + 7) / 8, in_a);
  }
  return s->ok;
}

/* The distance of B from A for a trailing write found by byte ranges (a multiple of
 * `align`, < 0), or 1 if there is none. */
static int64_t trailing_bytes(const plan *p, const buffer *a, const buffer *b, int64_t align) {
  tm_op *nest = p->order[b->start];
  byte_scan s = {.a = a, .b = b, .outer = nest, .a_min = {INT64_MAX, INT64_MAX}, .b_max = {INT64_MIN, INT64_MIN},
                 .ok = true};
  if (!tm_op_is(nest, "scf.for") || a->end != b->start || !loop_range(nest, &s.lb, &s.step, &s.trips)) return 1;
  tm_op_walk(nest, byte_op, &s);
  if (!s.ok || !s.last_a || !s.first_b || s.last_a == s.first_b || !tm_op_is_before_in_block(s.last_a, s.first_b))
    return 1;
  int64_t most = -align;
  for (int e = 0; s.trips > 1 && e < 2; e++)
    if (s.a_min[e] - s.b_max[e] - 1 < most) most = s.a_min[e] - s.b_max[e] - 1;
  return -((-most + align - 1) / align * align);
}

/* ------------------------------------------------------------------ placement ----- */
static int64_t align_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

typedef struct range {
  int64_t lo, hi;
} range;

static int by_lo(const void *x, const void *y) {
  const range *a = x, *b = y;
  return (a->lo > b->lo) - (a->lo < b->lo);
}

typedef enum { PLACE_BY_SIZE, PLACE_BY_LIFETIME, PLACE_COUNT } placement;
static const char *const placement_names[PLACE_COUNT] = {"size", "lifetime"};

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* Ties go to the earlier slot, so that every qsort gives the same order. */
static int by_size_desc(const void *x, const void *y) {
  const slot *a = *(const slot *const *)x, *b = *(const slot *const *)y;
  int c = cmp_i64(b->size, a->size);
  c = c ? c : cmp_i64(a->start, b->start);
  return c ? c : (a > b) - (a < b);
}

static int by_start(const void *x, const void *y) {
  const slot *a = *(const slot *const *)x, *b = *(const slot *const *)y;
  int c = cmp_i64(a->start, b->start);
  c = c ? c : cmp_i64(b->size, a->size);
  return c ? c : (a > b) - (a < b);
}

/* The offset for a point among the busy ranges (sorted by lo): by lifetime, the one
 * leaving the smallest gap above it; else the lowest. */
static int64_t choose(const range *busy, int nbusy, int64_t align, placement how) {
  int64_t best = -1, best_gap = INT64_MAX;
  for (int j = -1; j < nbusy; j++) {
    /* intervals may lie below 0 (trailing slots are placed by their lowest buffer) */
    int64_t off = j < 0 || busy[j].hi <= 0 ? 0 : align_up(busy[j].hi, align), next = INT64_MAX;
    bool free = true;
    for (int k = 0; k < nbusy && free; k++) {
      if (busy[k].hi > off && busy[k].lo <= off) free = false;
      else if (busy[k].lo > off && busy[k].lo < next) next = busy[k].lo;
    }
    if (!free) continue;
    int64_t gap = next == INT64_MAX ? INT64_MAX : next - off;
    if (how == PLACE_BY_SIZE ? best < 0 || off < best : gap < best_gap || (gap == best_gap && (best < 0 || off < best))) {
      best = off;
      best_gap = gap;
    }
  }
  return best;
}

/* The offsets of m, relative to the placed buffer o (m's offset - o's), that put them on
 * the same bytes; returns how many ranges.  Disjoint is always allowed; so is m written
 * over o in place (m->over), or o over m: exactly at the same offset, or trailing at the
 * distance delta or lower. */
static int conflicts(const plan *p, const buffer *m, const buffer *o, range out[2]) {
  out[0] = (range){1 - m->size, o->size};
  bool m_over_o = m->over >= 0 && &p->bufs[m->over] == o, o_over_m = o->over >= 0 && &p->bufs[o->over] == m;
  int64_t delta = m_over_o ? m->delta : o_over_m ? o->delta : 1;
  if (delta > 0) return 1;
  if (delta == 0) {
    out[1] = (range){1, o->size}, out[0].hi = 0;
    return 2;
  }
  if (m_over_o && delta + 1 > out[0].lo) out[0].lo = delta + 1;
  if (o_over_m && -delta < out[0].hi) out[0].hi = -delta;
  return 1;
}

/* Sets every slot's offset; returns the arena size: the end of the last slot.  Buffers
 * conflict, not slots: a slot holding several buffers (in place, trailing) only needs its
 * buffers' bytes free while each of them lives, so each pair of a buffer of the slot and
 * a placed buffer alive at the same time forbids an interval of the slot's offset (two,
 * or a shorter one, for a pair in place). */
static int64_t place(const plan *p, slot *slots, int n, int64_t align, placement how) {
  tm_arena *ar = tm_ctx_arena(p->ctx);
  slot **sorted = TM_NEW_ARRAY(ar, slot *, n + 1);
  int *count = TM_NEW_ARRAY(ar, int, n + 1), *first = TM_NEW_ARRAY(ar, int, n + 2);
  int *members = TM_NEW_ARRAY(ar, int, p->nbufs + 1), most = 0;
  for (int b = 0; b < p->nbufs; b++) count[p->bufs[b].slot]++;
  for (int i = 0; i < n; i++) first[i + 1] = first[i] + count[i], most = count[i] > most ? count[i] : most;
  memset(count, 0, sizeof *count * (size_t)n);
  for (int b = 0; b < p->nbufs; b++) members[first[p->bufs[b].slot] + count[p->bufs[b].slot]++] = b;
  range *busy = TM_NEW_ARRAY(ar, range, 2 * (size_t)most * (size_t)p->nbufs + 1);
  for (int i = 0; i < n; i++) sorted[i] = &slots[i];
  qsort(sorted, (size_t)n, sizeof *sorted, how == PLACE_BY_SIZE ? by_size_desc : by_start);
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    slot *s = sorted[i];
    int si = (int)(s - slots), nbusy = 0;
    for (int j = 0; j < i; j++) {
      const slot *t = sorted[j];
      int tj = (int)(t - slots);
      if (t->start > s->end || s->start > t->end) continue;
      for (int a = first[si]; a < first[si + 1]; a++)
        for (int c = first[tj]; c < first[tj + 1]; c++) {
          const buffer *m = &p->bufs[members[a]], *o = &p->bufs[members[c]];
          if (o->start > m->end || m->start > o->end) continue;
          /* m's offset - o's = s->offset + m->rel - s->lo - (t->offset + o->rel - t->lo) */
          int64_t at = t->offset + o->rel - t->lo - (m->rel - s->lo);
          range r[2];
          for (int k = conflicts(p, m, o, r); k-- > 0;)
            if (r[k].lo < r[k].hi) busy[nbusy++] = (range){at + r[k].lo, at + r[k].hi};
        }
    }
    qsort(busy, (size_t)nbusy, sizeof *busy, by_lo);
    s->offset = choose(busy, nbusy, align, how);
    if (s->offset + s->size > total) total = s->offset + s->size;
  }
  return total;
}

/* ------------------------------------------------------------------ the pass ------ */
static tm_value *index_const(tm_ctx *ctx, tm_op *before, int64_t v) {
  tm_builder bld = tm_builder_before(ctx, before);
  const tm_type *index = tm_type_index(ctx);
  tm_named_attr attr = {tm_intern_cstr(ctx, "value"), tm_attr_int(ctx, index, v)};
  tm_op_state st = {.name = "arith.constant", .loc = before->loc, .nresults = 1, .result_types = &index,
                    .nattrs = 1, .attrs = &attr};
  return tm_op_result(tm_build(&bld, &st), 0);
}

/* %arena becomes argument 0: the entry block and function_type (and arg_attrs) agree. */
static tm_value *add_arena_arg(tm_ctx *ctx, tm_op *func, int64_t bytes) {
  tm_block *entry = tm_func_entry(func);
  const tm_type *t = tm_type_memref(ctx, tm_type_int(ctx, 8), 1, &bytes);
  tm_value *arena = tm_block_add_arg(ctx, entry, t, func->loc);
  memmove(entry->args + 1, entry->args, sizeof *entry->args * (size_t)(entry->nargs - 1));
  entry->args[0] = arena;
  for (int i = 0; i < entry->nargs; i++) entry->args[i]->index = (unsigned)i;
  const tm_type *ft = tm_func_type(func);
  const tm_type **ins = TM_NEW_ARRAY(tm_ctx_arena(ctx), const tm_type *, ft->ninputs + 1);
  ins[0] = t;
  for (int i = 0; i < ft->ninputs; i++) ins[i + 1] = ft->inputs[i];
  tm_op_set_attr(ctx, func, "function_type",
                 tm_attr_type(ctx, tm_type_func(ctx, ft->ninputs + 1, ins, ft->nresults, ft->results)));
  const tm_attr *aa = tm_op_attr(func, "arg_attrs");
  if (aa && aa->kind == TM_ATTR_ARRAY) {
    const tm_attr **elts = TM_NEW_ARRAY(tm_ctx_arena(ctx), const tm_attr *, aa->u.array.n + 1);
    elts[0] = tm_attr_dict(ctx, 0, NULL);
    memcpy(elts + 1, aa->u.array.elts, sizeof *elts * (size_t)aa->u.array.n);
    tm_op_set_attr(ctx, func, "arg_attrs", tm_attr_array(ctx, aa->u.array.n + 1, elts));
  }
  return arena;
}

static bool nested_alloc(tm_op *op, void *user) {
  if (!tm_op_is(op, "memref.alloc") || op->block == *(tm_block **)user) return true;
  *(tm_block **)user = (tm_block *)op; /* report it */
  return false;
}

typedef struct plan_opts {
  int64_t align;
  bool in_place, io_in_arena;
  int how; /* a placement, or -1: the best */
} plan_opts;

/* io-in-arena: each input and output argument's uses go to an alloc at the top of the
 * body tagged with its index (the views replacing the allocs keep the tag). */
static void io_to_allocs(tm_ctx *ctx, tm_op *func, tm_block *body) {
  int k = (int)tm_op_attr_int(func, "tm.num_inputs", 0), n = body->nargs;
  for (int i = 0; i < n; i++) {
    tm_value *arg = body->args[i];
    if (arg->type->kind != TM_TYPE_MEMREF || !tm_type_is_static(arg->type)) continue; /* refused later */
    tm_builder bld = tm_builder_before(ctx, body->first);
    tm_named_attr tag = {tm_intern_cstr(ctx, i < k ? "tm.model_input" : "tm.model_output"),
                         tm_attr_int(ctx, NULL, i < k ? i : i - k)};
    tm_op_state st = {.name = "memref.alloc", .loc = arg->loc, .nresults = 1, .result_types = &arg->type,
                      .nattrs = 1, .attrs = &tag};
    tm_value_replace_all_uses(arg, tm_op_result(tm_build(&bld, &st), 0));
  }
}

/* 0, 1 + i for tm.model_input = i, -(1 + i) for tm.model_output = i. */
static int io_tag(const tm_op *op) {
  const tm_attr *in = tm_op_attr(op, "tm.model_input"), *out = tm_op_attr(op, "tm.model_output");
  if (in && in->kind == TM_ATTR_INT) return (int)(1 + in->u.i);
  if (out && out->kind == TM_ATTR_INT) return (int)-(1 + out->u.i);
  return 0;
}

/* An input is live from the start, an output until the end (func.return). */
static void pin_io(plan *p, buffer *b) {
  b->io = io_tag(b->def);
  if (b->io > 0) b->start = 0;
  if (b->io < 0) b->end = p->nops - 1;
}

static int by_birth(const void *x, const void *y) {
  const buffer *a = *(const buffer *const *)x, *b = *(const buffer *const *)y;
  if (a->start != b->start) return (a->start > b->start) - (a->start < b->start);
  return (a > b) - (a < b);
}

static int64_t buffer_offset(const slot *slots, const buffer *b) {
  const slot *s = &slots[b->slot];
  return s->offset + b->rel - s->lo;
}

static void drop_self_copies(plan *p, const slot *slots) {
  for (int i = 0; i < p->nbufs; i++) {
    const buffer *b = &p->bufs[i], *a = b->over >= 0 ? &p->bufs[b->over] : NULL;
    if (a && buffer_offset(slots, a) == buffer_offset(slots, b) && whole_copy(a, b, p->order[b->start]))
      tm_op_erase(p->order[b->start]);
  }
}

static const tm_attr *offsets_attr(tm_ctx *ctx, const plan *p, const slot *slots, int sign, int n) {
  const tm_attr **elts = TM_NEW_ARRAY(tm_ctx_arena(ctx), const tm_attr *, n + 1);
  for (int i = 0; i < p->nbufs; i++) {
    int io = p->bufs[i].io * sign;
    if (io > 0 && io <= n) elts[io - 1] = tm_attr_int(ctx, NULL, buffer_offset(slots, &p->bufs[i]));
  }
  return tm_attr_array(ctx, n, elts);
}

/* For each buffer B, a buffer A born before it and dying where B is born that B may be
 * written over (B->over): exactly if any can be, else trailing. */
static void find_in_place(plan *p, buffer **born, int64_t align) {
  for (int n = 0; n < p->nbufs; n++) {
    buffer *b = born[n];
    b->over = -1;
    for (int k = 0; k < n && (b->over < 0 || b->delta < 0); k++) {
      buffer *a = born[k];
      int j = (int)(a - p->bufs);
      if (a->end != b->start) continue;
      if (can_write_over(p, a, b)) {
        b->over = j, b->delta = 0;
      } else if (b->over < 0) {
        int64_t delta = trailing_delta(p, a, b, align);
        if (delta > 0) delta = trailing_bytes(p, a, b, align);
        if (delta <= 0) b->over = j, b->delta = delta;
      }
    }
  }
}

/* Slots, in order of birth: one per buffer, unless it joins the slot of the buffer it is
 * written over, still that slot's last, at their fixed distance: always when exactly,
 * when `trailing` if trailing_pays; returns how many.  Pairs in place in different slots
 * keep their freedom: the placement lets them overlap as their rule allows. */
static int assign_slots(plan *p, buffer **born, slot *slots, bool trailing) {
  int nslots = 0;
  for (int n = 0; n < p->nbufs; n++) {
    buffer *b = born[n];
    int i = (int)(b - p->bufs);
    buffer *a = b->over >= 0 ? &p->bufs[b->over] : NULL;
    if (a && slots[a->slot].last == b->over &&
        (b->delta == 0 || (trailing && trailing_pays(&slots[a->slot], a->rel + b->delta, b->size)))) {
      slot *s = &slots[a->slot];
      int64_t hi = s->lo + s->size;
      b->slot = a->slot;
      b->rel = a->rel + b->delta;
      if (b->rel < s->lo) s->lo = b->rel;
      if (b->rel + b->size > hi) hi = b->rel + b->size;
      s->size = hi - s->lo;
      if (b->end > s->end) s->end = b->end;
      s->last = i;
    } else {
      b->slot = nslots;
      b->rel = 0;
      slots[nslots++] = (slot){.size = b->size, .start = b->start, .end = b->end, .last = i};
    }
  }
  return nslots;
}

/* Places the slots without and with trailing joins (tying two buffers together can cost
 * the greedy placement more than the overlap saves), each with the placement `how` or
 * both (how < 0), and keeps the smallest arena, the first of equals; returns its size. */
static int64_t place_best(plan *p, buffer **born, slot *slots, int64_t align, int how) {
  int64_t best = INT64_MAX;
  int best_join = 0, best_how = 0;
  for (int j = 0; j < 2; j++)
    for (int h = how < 0 ? 0 : how; h < (how < 0 ? PLACE_COUNT : how + 1); h++) {
      int64_t total = place(p, slots, assign_slots(p, born, slots, j), align, (placement)h);
      if (total < best) best = total, best_join = j, best_how = h;
    }
  return place(p, slots, assign_slots(p, born, slots, best_join), align, (placement)best_how);
}

static int plan_func(tm_ctx *ctx, tm_op *func, const plan_opts *o) {
  plan pl = {.ctx = ctx, .body = tm_func_entry(func)}, *p = &pl;
  tm_block *probe = p->body;
  if (!tm_op_walk(func, nested_alloc, &probe))
    return tm_op_error(ctx, (tm_op *)probe, "plan-memory places function-level allocations only");
  bool io = o->io_in_arena && tm_op_attr(func, "tm.num_inputs") && p->body->first;
  int nin = io ? (int)tm_op_attr_int(func, "tm.num_inputs", 0) : 0, nout = io ? p->body->nargs - nin : 0;
  if (io && (nin < 0 || nout < 0))
    return tm_op_error(ctx, func, "tm.num_inputs = %d does not fit the %d arguments", nin, p->body->nargs);
  if (io) io_to_allocs(ctx, func, p->body);
  collect_order(p);
  for (int i = 0; i < p->nops; i++) p->nbufs += tm_op_is(p->order[i], "memref.alloc");
  p->bufs = TM_NEW_ARRAY(tm_ctx_arena(ctx), buffer, p->nbufs + 1);
  buffer **born = TM_NEW_ARRAY(tm_ctx_arena(ctx), buffer *, p->nbufs + 1);
  slot *slots = TM_NEW_ARRAY(tm_ctx_arena(ctx), slot, p->nbufs + 1);
  int nb = 0;
  for (int i = 0; i < p->nops; i++) {
    tm_op *op = p->order[i];
    if (!tm_op_is(op, "memref.alloc")) continue;
    buffer *b = &p->bufs[nb];
    born[nb++] = b;
    b->def = op;
    b->size = tm_type_bytes(op->results[0].type);
    if (op->results[0].type->kind != TM_TYPE_MEMREF || b->size < 0)
      return tm_op_error(ctx, op, "plan-memory needs statically shaped allocations");
    if (trace(p, b, &op->results[0])) return -1;
    pin_io(p, b);
  }
  qsort(born, (size_t)p->nbufs, sizeof *born, by_birth);
  for (int i = 0; i < p->nbufs; i++) p->bufs[i].over = -1;
  if (o->in_place) find_in_place(p, born, o->align);
  int64_t total = place_best(p, born, slots, o->align, o->how);
  if (o->in_place) drop_self_copies(p, slots);
  tm_value *arena = add_arena_arg(ctx, func, total);
  for (int i = 0; i < p->nbufs; i++) {
    tm_op *alloc = p->bufs[i].def;
    tm_value *off = index_const(ctx, alloc, buffer_offset(slots, &p->bufs[i]));
    tm_builder bld = tm_builder_before(ctx, alloc);
    tm_value *ops[2] = {arena, off};
    const tm_type *rt = alloc->results[0].type;
    int io = p->bufs[i].io;
    tm_named_attr tag = {tm_intern_cstr(ctx, io > 0 ? "tm.model_input" : "tm.model_output"),
                         tm_attr_int(ctx, NULL, io > 0 ? io - 1 : -io - 1)};
    tm_op_state st = {.name = "memref.view", .loc = alloc->loc, .noperands = 2, .operands = ops, .nresults = 1,
                      .result_types = &rt, .nattrs = io != 0, .attrs = &tag};
    tm_value *view = tm_op_result(tm_build(&bld, &st), 0);
    tm_op_replace(alloc, &view);
  }
  tm_op_set_attr(ctx, func, "tm.arena_bytes", tm_attr_int(ctx, NULL, total));
  if (io) {
    tm_op_set_attr(ctx, func, "tm.input_offsets", offsets_attr(ctx, p, slots, 1, nin));
    tm_op_set_attr(ctx, func, "tm.output_offsets", offsets_attr(ctx, p, slots, -1, nout));
  }
  return 0;
}

static bool has_alloc(tm_op *op, void *user) {
  (void)user;
  return !tm_op_is(op, "memref.alloc");
}

/* The model function (tm.num_inputs) and any other function allocating; once. */
static int plan_if_needed(tm_ctx *ctx, tm_op *func, const plan_opts *o) {
  if (!tm_func_entry(func) || tm_op_attr(func, "tm.arena_bytes")) return 0;
  bool allocates = !tm_op_walk(func, has_alloc, NULL);
  if (!allocates && !tm_op_attr(func, "tm.num_inputs")) return 0;
  const char *vis = tm_op_attr_str(func, "sym_visibility", "public");
  if (!strcmp(vis, "private") && !tm_op_attr(func, "tm.num_inputs"))
    return tm_op_error(ctx, func, "plan-memory cannot give private function @%s an arena argument",
                       tm_op_attr_str(func, "sym_name", "?"));
  return plan_func(ctx, func, o);
}

static const tm_pass_option options[] = {
    {.name = "alignment", .kind = TM_OPT_INT, .default_value = "16", .min = 1, .max = 4096,
     .help = "Byte alignment of every buffer offset (a power of 2; the arena itself is 16-byte aligned)"},
    {.name = "in-place", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Let an elementwise loop nest write its output over an input dying there"},
    {.name = "io-in-arena", .kind = TM_OPT_BOOL, .default_value = "false",
     .help = "Place the model's inputs and outputs in the arena too (tm.input_offsets, tm.output_offsets)"},
    {.name = "placement", .kind = TM_OPT_STRING, .default_value = "best",
     .help = "Offset assignment: size (greedy by decreasing size), lifetime (best fit by birth), best (the smaller)"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  plan_opts o = {.align = tm_pass_opt_int(opts, "alignment"), .in_place = tm_pass_opt_bool(opts, "in-place"),
                 .io_in_arena = tm_pass_opt_bool(opts, "io-in-arena"), .how = -1};
  const char *how = tm_pass_opt_str(opts, "placement");
  for (int h = 0; h < PLACE_COUNT; h++)
    if (!strcmp(how, placement_names[h])) o.how = h;
  if (o.how < 0 && strcmp(how, "best"))
    return tm_op_error(ctx, root, "plan-memory: placement '%s' is not size, lifetime or best", how);
  if (o.align & (o.align - 1))
    return tm_op_error(ctx, root, "plan-memory: alignment %" PRId64 " is not a power of 2", o.align);
  if (tm_op_is(root, "func.func")) return plan_if_needed(ctx, root, &o);
  TM_FOREACH_OP(op, tm_module_body(root))
    if (tm_op_is(op, "func.func") && plan_if_needed(ctx, op, &o)) return -1;
  return 0;
}

TM_REGISTER_PASS(plan_memory, "plan-memory",
                 "Place every memref.alloc in one arena argument: lifetimes, in-place reuse, best of two placements",
                 run, TM_PASS_OPTIONS(options));

/* ------------------------------------------------------------------ report -------- */
/* "model.tflite:op 3 (conv2d_1/Relu)": a file without directories, a TFLite tensor name
 * up to its first ';'. */
static const char *loc_label(tm_ctx *ctx, const tm_loc *l) {
  while (l && (l->kind == TM_LOC_FUSED || l->kind == TM_LOC_CALLSITE))
    l = l->kind == TM_LOC_FUSED ? (l->nlocs ? l->locs[0] : NULL) : l->child;
  if (!l || (l->kind != TM_LOC_FILE && l->kind != TM_LOC_NAME)) return "";
  const char *where = l->kind == TM_LOC_FILE ? l->file : l->name, *slash = strrchr(where, '/');
  const char *base = slash ? slash + 1 : where;
  if (l->kind == TM_LOC_FILE) return tm_arena_printf(ctx, "%s:%d:%d", base, l->line, l->col);
  if (l->child && l->child->kind == TM_LOC_NAME)
    return tm_arena_printf(ctx, "%s (%.*s)", base, (int)strcspn(l->child->name, ";"), l->child->name);
  return base;
}

static void report_func(tm_ctx *ctx, tm_op *func, FILE *out) {
  plan pl = {.ctx = ctx, .body = tm_func_entry(func)}, *p = &pl;
  if (!p->body || !p->body->nargs) return;
  tm_value *arena = p->body->args[0];
  collect_order(p);
  p->bufs = TM_NEW_ARRAY(tm_ctx_arena(ctx), buffer, p->nops + 1);
  for (int i = 0; i < p->nops; i++) {
    tm_op *op = p->order[i];
    if (!tm_op_is(op, "memref.view") || op->noperands != 2 || tm_op_operand(op, 0) != arena) continue;
    const tm_op *c = tm_op_operand(op, 1)->def;
    const tm_attr *off = c && tm_op_is(c, "arith.constant") ? tm_op_attr(c, "value") : NULL;
    buffer *b = &p->bufs[p->nbufs++];
    b->def = op;
    b->offset = off && off->kind == TM_ATTR_INT ? off->u.i : -1;
    b->size = tm_type_bytes(op->results[0].type);
    if (trace(p, b, &op->results[0])) return;
    pin_io(p, b);
  }
  /* lower bound: the most bytes live at one op; buffers sharing bytes there (in place,
   * exact or trailing) count the bytes they cover together once */
  int64_t bound = 0;
  range *live = TM_NEW_ARRAY(tm_ctx_arena(ctx), range, p->nbufs + 1);
  for (int k = 0; k < p->nops; k++) {
    int n = 0;
    for (int i = 0; i < p->nbufs; i++)
      if (p->bufs[i].start <= k && k <= p->bufs[i].end)
        live[n++] = (range){p->bufs[i].offset, p->bufs[i].offset + p->bufs[i].size};
    qsort(live, (size_t)n, sizeof *live, by_lo);
    int64_t bytes = 0, end = INT64_MIN;
    for (int i = 0; i < n; i++) {
      int64_t lo = live[i].lo > end ? live[i].lo : end;
      if (live[i].hi > lo) bytes += live[i].hi - lo;
      if (live[i].hi > end) end = live[i].hi;
    }
    if (bytes > bound) bound = bytes;
  }
  int64_t total = tm_op_attr_int(func, "tm.arena_bytes", 0);
  fprintf(out, "memory plan of @%s: arena %" PRId64 " bytes, lower bound %" PRId64 " bytes, %d buffers\n",
          tm_op_attr_str(func, "sym_name", "?"), total, bound, p->nbufs);
  fprintf(out, "  %-6s %10s %10s  %-11s %s\n", "buffer", "offset", "bytes", "live ops", "at");
  for (int i = 0; i < p->nbufs; i++) {
    buffer *b = &p->bufs[i];
    char live[32];
    snprintf(live, sizeof live, "%d..%d", b->start, b->end);
    const char *at = b->io > 0   ? tm_arena_printf(ctx, "input %d", b->io - 1)
                     : b->io < 0 ? tm_arena_printf(ctx, "output %d", -b->io - 1)
                                 : loc_label(ctx, b->def->loc);
    fprintf(out, "  #%-5d %10" PRId64 " %10" PRId64 "  %-11s %s\n", i, b->offset, b->size, live, at);
  }
  /* what a caller needs besides stack: the arena, and the inputs and outputs outside it */
  int64_t k = tm_op_attr_int(func, "tm.num_inputs", -1), io_in = 0, io_out = 0;
  for (int i = 1; k >= 0 && i < p->body->nargs; i++) {
    int64_t bytes = tm_type_bytes(p->body->args[i]->type);
    if (bytes > 0) *(i <= k ? &io_in : &io_out) += bytes;
  }
  if (tm_op_attr(func, "tm.input_offsets"))
    fprintf(out, "  inputs and outputs in the arena: %" PRId64 " + %" PRId64 " bytes; arena + I/O = %" PRId64 " bytes\n",
            io_in, io_out, total);
  else if (k >= 0)
    fprintf(out, "  inputs and outputs outside the arena: %" PRId64 " + %" PRId64 " bytes; arena + I/O = %" PRId64
                 " bytes\n", io_in, io_out, total + io_in + io_out);
}

void tm_memory_report(tm_ctx *ctx, tm_op *module, void *stdio_file) {
  TM_FOREACH_OP(op, tm_module_body(module))
    if (tm_op_is(op, "func.func") && tm_op_attr(op, "tm.arena_bytes")) report_func(ctx, op, stdio_file);
}
