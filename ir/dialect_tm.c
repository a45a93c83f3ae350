/* ir/dialect_tm.c — the tm dialect registry, expanded from ir/ops.def, with the checks
 * every tm op shares, cost hooks, folds and canonicalization patterns.
 * Per-op verifiers and shape inference live in ir/dialect_tm_shape.c. */
#include <math.h>
#include <string.h>

#include "ir/dialect_tm.h"
#include "ir/dialects.h"

/* ------------------------------------------------------------- common checks ------ */
/* A ranked tensor with some '?' dimensions: legal before infer-shapes has run, but the
 * shape rules only ever see static types. */
static bool is_dynamic_tensor(const tm_type *t) {
  if (!t || t->kind != TM_TYPE_TENSOR || t->rank > TM_MAX_RANK) return false;
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i] == TM_DYNAMIC) return true;
  return false;
}

/* *dynamic is set if some operand still has '?' dimensions. */
static int check_operands(tm_ctx *ctx, const tm_op *op, bool *dynamic) {
  *dynamic = false;
  for (int i = 0; i < op->noperands; i++) {
    const tm_value *v = op->operands[i].value;
    if (!v) return tm_op_error(ctx, op, "operand #%d is missing", i);
    if (is_dynamic_tensor(v->type)) *dynamic = true;
    else if (tm_tmd_check_tensor(ctx, op, v->type, "operand", i)) return -1;
  }
  return 0;
}

/* Like MLIR's compatible return types: the declared result may leave dimensions '?'
 * where the inferred one is static; everything else must agree. */
static bool result_compatible(const tm_type *declared, const tm_type *inferred) {
  if (declared == inferred) return true;
  if (!is_dynamic_tensor(declared) || declared->rank != inferred->rank ||
      declared->elem != inferred->elem)
    return false;
  for (int i = 0; i < declared->rank; i++)
    if (declared->dims[i] != TM_DYNAMIC && declared->dims[i] != inferred->dims[i]) return false;
  return true;
}

typedef int (*verify_fn)(tm_ctx *ctx, tm_op *op);
typedef int (*infer_fn)(tm_ctx *ctx, tm_op *op, const tm_type **result_types);
typedef int64_t (*macs_fn)(const tm_op *op);

/* Runs infer on operands already checked; the inferred type must be within limits too. */
static int run_infer(tm_ctx *ctx, tm_op *op, const tm_type **rt, infer_fn infer) {
  rt[0] = NULL;
  if (infer(ctx, op, rt)) return -1;
  return rt[0] ? tm_tmd_check_tensor(ctx, op, rt[0], "inferred result", 0)
               : tm_op_error(ctx, op, "cannot infer the result type");
}

static int check_counts(tm_ctx *ctx, const tm_op *op) {
  if (op->def && op->noperands >= op->def->min_operands && op->nresults == 1) return 0;
  return tm_op_error(ctx, op, "has the wrong number of operands or results");
}

static int infer_tm(tm_ctx *ctx, tm_op *op, const tm_type **rt, infer_fn infer) {
  bool dynamic;
  if (check_counts(ctx, op) || check_operands(ctx, op, &dynamic)) return -1;
  if (dynamic) return tm_op_error(ctx, op, "cannot infer the result type from operands with '?' dimensions");
  return run_infer(ctx, op, rt, infer);
}

/* Operand and result types first, then the op's own rules, then its shape rules (by
 * inferring the result type, so the verifier and infer-shapes never disagree), and the
 * declared type must be the inferred one or a less refined form of it.  Ops whose
 * operands still have '?' dimensions wait for infer-shapes: only their types are checked. */
static int verify_tm(tm_ctx *ctx, tm_op *op, verify_fn verify, infer_fn infer) {
  const tm_type *inferred[1];
  bool dynamic;
  if (check_counts(ctx, op) || check_operands(ctx, op, &dynamic)) return -1;
  const tm_type *rt = op->results[0].type;
  if (!is_dynamic_tensor(rt) && tm_tmd_check_tensor(ctx, op, rt, "result", 0)) return -1;
  if (dynamic) return 0;
  if (verify(ctx, op) || run_infer(ctx, op, inferred, infer)) return -1;
  if (!result_compatible(rt, inferred[0]))
    return tm_op_error(ctx, op, "result type '%s' does not match the inferred type '%s'",
                       tm_type_str(ctx, op->results[0].type), tm_type_str(ctx, inferred[0]));
  return 0;
}

/* ---------------------------------------------------------------------- cost ------ */
static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

/* Constant operands are parameters, everything else read or written is activations.
 * tm.const itself costs nothing: its bytes are counted where it is used. */
static bool cost_tm(tm_ctx *ctx, const tm_op *op, tm_cost *out, macs_fn macs) {
  (void)ctx;
  if (tm_op_has_trait(op, TM_TRAIT_CONSTANT)) return false;
  memset(out, 0, sizeof *out);
  for (int i = 0; i < op->noperands; i++) {
    const tm_value *v = op->operands[i].value;
    int64_t b = v ? tm_type_bytes(v->type) : -1;
    if (b < 0) continue;
    if (tm_value_const(v)) out->param_bytes = sat_add(out->param_bytes, b);
    else out->activation_bytes = sat_add(out->activation_bytes, b);
  }
  for (int i = 0; i < op->nresults; i++) {
    int64_t b = tm_type_bytes(op->results[i].type);
    if (b >= 0) out->activation_bytes = sat_add(out->activation_bytes, b);
  }
  out->macs = macs(op);
  return true;
}

/* ---------------------------------------------------------------- constants ------- */
tm_op *tm_build_const(tm_builder *b, const tm_attr *value, const tm_type *result_type) {
  if (!b || !value) return NULL;
  const tm_type *t = result_type ? result_type : value->type;
  tm_named_attr attr = {tm_intern_cstr(b->ctx, "value"), value};
  tm_op_state st = {.name = "tm.const", .loc = b->loc, .nresults = 1, .result_types = &t, .nattrs = 1,
                    .attrs = &attr};
  return tm_build(b, &st);
}

const tm_attr *tm_value_const(const tm_value *v) {
  if (!v || !v->def || !tm_op_has_trait(v->def, TM_TRAIT_CONSTANT)) return NULL;
  return tm_op_attr(v->def, "value");
}

/* --------------------------------------------------------------------- folds ------ */
/* Folding evaluates in the element type TFLite computes in (f32 stays f32) and stops at
 * tensors this large: bigger constants are not worth the compile time. */
#define FOLD_MAX_ELEMS (INT64_C(1) << 24)

static size_t elem_size(const tm_type *t) { return (tm_type_elem_bits(t) + 7) / 8; }

static void put_bits(uint8_t *p, size_t n, uint64_t v) {
  for (size_t b = 0; b < n; b++) p[b] = (uint8_t)(v >> (8 * b));
}

/* The dense attribute a constant of type t stores: quantized tensors keep storage values. */
static const tm_type *storage_type(tm_ctx *ctx, const tm_type *t) {
  return tm_type_tensor(ctx, tm_type_storage(t->elem), t->rank, t->dims);
}

/* A constant operand usable for folding into a result of type t. */
static bool dense_like(const tm_attr *a, const tm_type *t) {
  return a && a->kind == TM_ATTR_DENSE && tm_type_is_shaped(a->type) && tm_type_is_shaped(t) &&
         a->type->elem == tm_type_storage(t->elem) && tm_dense_numel(a) == tm_type_numel(t) &&
         tm_type_numel(t) >= 0 && tm_type_numel(t) <= FOLD_MAX_ELEMS;
}

typedef enum { EV_NONE, EV_F32, EV_F64, EV_INT } eval_kind;

static eval_kind eval_kind_of(const tm_type *e) {
  if (e->kind == TM_TYPE_FLOAT) return e->width == 32 ? EV_F32 : e->width == 64 ? EV_F64 : EV_NONE;
  if (e->kind == TM_TYPE_INT && e->width >= 8 && e->width <= 64) return EV_INT;
  return EV_NONE;
}

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_MAX, BIN_MIN } bin_kind;

/* Clamp of a fused activation (TFLite's ActivationFunctionWithMinMax); NaN passes. */
typedef struct { double lo, hi; bool ok; } clamp;

static clamp activation_clamp(const tm_op *op) {
  const char *a = tm_op_attr_str(op, "fused_activation", "none");
  if (strcmp(a, "none") == 0) return (clamp){-INFINITY, INFINITY, true};
  if (strcmp(a, "relu") == 0) return (clamp){0, INFINITY, true};
  if (strcmp(a, "relu6") == 0) return (clamp){0, 6, true};
  if (strcmp(a, "relu_n1_to_1") == 0) return (clamp){-1, 1, true};
  return (clamp){0, 0, false}; /* tanh: not folded */
}

static float clampf(float x, clamp c) {
  if (x < (float)c.lo) x = (float)c.lo;
  if ((float)c.hi < x) x = (float)c.hi;
  return x;
}
static double clampd(double x, clamp c) {
  if (x < c.lo) x = c.lo;
  if (c.hi < x) x = c.hi;
  return x;
}

static float bin_f32(bin_kind k, float a, float b) {
  switch (k) {
  case BIN_ADD: return a + b;
  case BIN_SUB: return a - b;
  case BIN_MUL: return a * b;
  case BIN_MAX: return a > b ? a : b; /* TFLite: el1 > el2 ? el1 : el2 */
  case BIN_MIN: return a < b ? a : b;
  }
  return 0;
}
static double bin_f64(bin_kind k, double a, double b) {
  switch (k) {
  case BIN_ADD: return a + b;
  case BIN_SUB: return a - b;
  case BIN_MUL: return a * b;
  case BIN_MAX: return a > b ? a : b;
  case BIN_MIN: return a < b ? a : b;
  }
  return 0;
}
/* Integers wrap in their width; unsigned ones compare unsigned. */
static uint64_t bin_int(bin_kind k, int64_t a, int64_t b, bool is_unsigned) {
  bool lt = is_unsigned ? (uint64_t)a < (uint64_t)b : a < b;
  switch (k) {
  case BIN_ADD: return (uint64_t)a + (uint64_t)b;
  case BIN_SUB: return (uint64_t)a - (uint64_t)b;
  case BIN_MUL: return (uint64_t)a * (uint64_t)b;
  case BIN_MAX: return (uint64_t)(lt ? b : a);
  case BIN_MIN: return (uint64_t)(lt ? a : b);
  }
  return 0;
}

/* Element i of a result of shape r, read from a constant of type t broadcast to r. */
static int64_t bcast_index(const tm_type *t, const tm_type *r, const int64_t *idx) {
  int64_t flat = 0;
  int off = r->rank - t->rank;
  for (int d = 0; d < t->rank; d++) flat = flat * t->dims[d] + (t->dims[d] == 1 ? 0 : idx[d + off]);
  return flat;
}

static void next_index(const tm_type *r, int64_t *idx) {
  for (int d = r->rank - 1; d >= 0; d--) {
    if (++idx[d] < r->dims[d]) return;
    idx[d] = 0;
  }
}

static bool all_elements(const tm_attr *a, bool (*pred)(const tm_attr *, int64_t)) {
  int64_t n = a->u.dense.splat ? 1 : tm_dense_numel(a);
  for (int64_t i = 0; i < n; i++)
    if (!pred(a, i)) return false;
  return true;
}
static bool is_neg_zero(const tm_attr *a, int64_t i) {
  double v = tm_dense_get_float(a, i);
  return v == 0 && signbit(v);
}
static bool is_pos_zero(const tm_attr *a, int64_t i) {
  double v = tm_dense_get_float(a, i);
  return v == 0 && !signbit(v);
}
static bool is_int_zero(const tm_attr *a, int64_t i) { return tm_dense_get_int(a, i) == 0; }
static bool is_one(const tm_attr *a, int64_t i) { return tm_dense_get_float(a, i) == 1.0; }
static bool is_int_one(const tm_attr *a, int64_t i) { return tm_dense_get_int(a, i) == 1; }

/* x op c == x exactly for every x: x + -0.0 (not +0.0: -0.0 + 0.0 is +0.0), x - +0.0,
 * x * 1, and integer 0 / 1; only without a fused activation and without broadcasting
 * x to a bigger shape. */
static bool identity_operand(tm_op *op, bin_kind k, const tm_attr *const *c, int *which) {
  const tm_type *rt = op->results[0].type;
  if (strcmp(tm_op_attr_str(op, "fused_activation", "none"), "none") != 0) return false;
  if ((k == BIN_MAX || k == BIN_MIN) && tm_op_operand(op, 0) == tm_op_operand(op, 1)) {
    *which = 0;
    return tm_op_operand(op, 0)->type == rt;
  }
  for (int s = 0; s < 2; s++) {
    const tm_attr *a = c[s];
    const tm_value *other = tm_op_operand(op, 1 - s);
    if (!a || a->kind != TM_ATTR_DENSE || other->type != rt || (k == BIN_SUB && s == 0)) continue;
    const tm_type *e = rt->elem;
    bool fl = e->kind == TM_TYPE_FLOAT, in = e->kind == TM_TYPE_INT;
    if (!fl && !in) continue;
    bool id = false;
    if (k == BIN_ADD) id = all_elements(a, fl ? is_neg_zero : is_int_zero);
    else if (k == BIN_SUB) id = all_elements(a, fl ? is_pos_zero : is_int_zero);
    else if (k == BIN_MUL) id = all_elements(a, fl ? is_one : is_int_one);
    if (id) {
      *which = 1 - s;
      return true;
    }
  }
  return false;
}

static bool bin_kind_of(const tm_op *op, bin_kind *k) {
  static const struct { const char *name; bin_kind kind; } ops[] = {
      {"tm.add", BIN_ADD}, {"tm.sub", BIN_SUB}, {"tm.mul", BIN_MUL}, {"tm.maximum", BIN_MAX}, {"tm.minimum", BIN_MIN}};
  for (size_t i = 0; i < TM_COUNTOF(ops); i++)
    if (tm_op_is(op, ops[i].name)) {
      *k = ops[i].kind;
      return true;
    }
  return false;
}

static bool fold_binary(tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *res) {
  bin_kind k;
  int which;
  if (!bin_kind_of(op, &k) || op->noperands != 2) return false;
  if (identity_operand(op, k, c, &which)) {
    res[0].value = tm_op_operand(op, which);
    return true;
  }
  const tm_type *rt = op->results[0].type, *lt = tm_op_operand(op, 0)->type, *rht = tm_op_operand(op, 1)->type;
  eval_kind ev = eval_kind_of(rt->elem);
  clamp cl = activation_clamp(op);
  if (ev == EV_NONE || !cl.ok || !dense_like(c[0], lt) || !dense_like(c[1], rht) || lt->elem != rt->elem ||
      rht->elem != rt->elem || tm_type_numel(rt) > FOLD_MAX_ELEMS)
    return false;
  bool splat = c[0]->u.dense.splat && c[1]->u.dense.splat;
  int64_t n = splat ? 1 : tm_type_numel(rt);
  size_t eb = elem_size(rt);
  bool is_unsigned = rt->elem->signedness == TM_UNSIGNED;
  uint8_t *out = tm_arena_alloc(tm_ctx_arena(ctx), (size_t)n * eb + 1, 8);
  int64_t idx[TM_MAX_RANK] = {0};
  for (int64_t i = 0; i < n; i++, next_index(rt, idx)) {
    int64_t ia = splat ? 0 : bcast_index(lt, rt, idx), ib = splat ? 0 : bcast_index(rht, rt, idx);
    uint64_t bits;
    if (ev == EV_F32) {
      float v = clampf(bin_f32(k, (float)tm_dense_get_float(c[0], ia), (float)tm_dense_get_float(c[1], ib)), cl);
      uint32_t u;
      memcpy(&u, &v, sizeof u);
      bits = u;
    } else if (ev == EV_F64) {
      double v = clampd(bin_f64(k, tm_dense_get_float(c[0], ia), tm_dense_get_float(c[1], ib)), cl);
      memcpy(&bits, &v, sizeof bits);
    } else {
      bits = bin_int(k, tm_dense_get_int(c[0], ia), tm_dense_get_int(c[1], ib), is_unsigned);
      int64_t s = (int64_t)bits; /* activation bounds are small; compare in the result's signedness */
      if (!is_unsigned && cl.lo > -INFINITY && (double)s < cl.lo) bits = (uint64_t)(int64_t)cl.lo;
      if (!is_unsigned && cl.hi < INFINITY && (double)s > cl.hi) bits = (uint64_t)(int64_t)cl.hi;
    }
    put_bits(out + (size_t)i * eb, eb, bits);
  }
  res[0].attr = tm_attr_dense(ctx, rt, splat, out, (size_t)n * eb);
  return res[0].attr != NULL;
}

/* TFLite's float Relu is `x < 0 ? 0 : x` and Relu6 `x > 6 ? 6 : x < 0 ? 0 : x`. */
static bool fold_relu(tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *res) {
  const tm_type *rt = op->results[0].type;
  eval_kind ev = eval_kind_of(rt->elem);
  if ((ev != EV_F32 && ev != EV_F64) || !dense_like(c[0], rt) || tm_op_operand(op, 0)->type != rt) return false;
  clamp cl = {0, tm_op_is(op, "tm.relu6") ? 6 : INFINITY, true};
  int64_t n = c[0]->u.dense.splat ? 1 : tm_type_numel(rt);
  size_t eb = elem_size(rt);
  uint8_t *out = tm_arena_alloc(tm_ctx_arena(ctx), (size_t)n * eb + 1, 8);
  for (int64_t i = 0; i < n; i++) {
    uint64_t bits;
    if (ev == EV_F32) {
      float v = clampf((float)tm_dense_get_float(c[0], i), cl);
      uint32_t u;
      memcpy(&u, &v, sizeof u);
      bits = u;
    } else {
      double v = clampd(tm_dense_get_float(c[0], i), cl);
      memcpy(&bits, &v, sizeof bits);
    }
    put_bits(out + (size_t)i * eb, eb, bits);
  }
  res[0].attr = tm_attr_dense(ctx, rt, c[0]->u.dense.splat, out, (size_t)n * eb);
  return res[0].attr != NULL;
}

/* reshape and squeeze: the same bytes under a new shape. */
static bool fold_reshape(tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *res) {
  tm_value *x = tm_op_operand(op, 0);
  const tm_type *rt = op->results[0].type;
  if (x->type == rt) {
    res[0].value = x;
    return true;
  }
  if (!dense_like(c[0], x->type) || tm_type_numel(x->type) != tm_type_numel(rt)) return false;
  const tm_type *st = storage_type(ctx, rt);
  res[0].attr = st ? tm_attr_dense(ctx, st, c[0]->u.dense.splat, c[0]->u.dense.data, c[0]->u.dense.nbytes) : NULL;
  return res[0].attr != NULL;
}

static bool read_perm(const tm_op *op, int rank, int64_t *perm) {
  int n = 0;
  bool seen[TM_MAX_RANK] = {false};
  if (rank > TM_MAX_RANK || !tm_attr_get_int_array(tm_op_attr(op, "perm"), TM_MAX_RANK, perm, &n) || n != rank)
    return false;
  for (int i = 0; i < n; i++) {
    if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]) return false;
    seen[perm[i]] = true;
  }
  return true;
}

static bool is_identity_perm(const int64_t *perm, int n) {
  for (int i = 0; i < n; i++)
    if (perm[i] != i) return false;
  return true;
}

static bool fold_transpose(tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *res) {
  tm_value *x = tm_op_operand(op, 0);
  const tm_type *xt = x->type, *rt = op->results[0].type;
  int64_t perm[TM_MAX_RANK];
  if (!tm_type_is_shaped(xt) || !read_perm(op, xt->rank, perm) || rt->rank != xt->rank) return false;
  if (is_identity_perm(perm, xt->rank) && xt == rt) {
    res[0].value = x;
    return true;
  }
  const tm_type *st = storage_type(ctx, rt);
  if (!st || !dense_like(c[0], xt)) return false;
  if (c[0]->u.dense.splat) {
    res[0].attr = tm_attr_dense(ctx, st, true, c[0]->u.dense.data, c[0]->u.dense.nbytes);
    return res[0].attr != NULL;
  }
  /* Walk the result in order; the input offset moves by the permuted input strides. */
  int r = xt->rank;
  int64_t n = tm_type_numel(rt);
  size_t eb = elem_size(rt);
  if (c[0]->u.dense.nbytes != (size_t)n * eb) return false;
  if (n == 0) { /* other dimensions may be huge: no strides */
    res[0].attr = tm_attr_dense(ctx, st, false, NULL, 0);
    return res[0].attr != NULL;
  }
  int64_t in_stride[TM_MAX_RANK], stride[TM_MAX_RANK], idx[TM_MAX_RANK] = {0};
  for (int d = r - 1, s = 1; d >= 0; d--) in_stride[d] = s, s *= (int)xt->dims[d]; /* n <= 2^24 */
  for (int d = 0; d < r; d++) stride[d] = in_stride[perm[d]];
  uint8_t *out = tm_arena_alloc(tm_ctx_arena(ctx), (size_t)n * eb + 1, 8);
  for (int64_t i = 0; i < n; i++, next_index(rt, idx)) {
    int64_t off = 0;
    for (int d = 0; d < r; d++) off += idx[d] * stride[d];
    memcpy(out + (size_t)i * eb, c[0]->u.dense.data + (size_t)off * eb, eb);
  }
  res[0].attr = tm_attr_dense(ctx, st, false, out, (size_t)n * eb);
  return res[0].attr != NULL;
}

static bool fold_concat(tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *res) {
  (void)ctx, (void)c;
  tm_value *x = op->noperands == 1 ? tm_op_operand(op, 0) : NULL;
  if (!x || x->type != op->results[0].type || strcmp(tm_op_attr_str(op, "fused_activation", "none"), "none") != 0)
    return false;
  res[0].value = x;
  return true;
}

static bool fold_pad(tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *res) {
  (void)ctx, (void)c;
  tm_value *x = tm_op_operand(op, 0);
  const tm_attr *p = tm_op_attr(op, "paddings");
  if (x->type != op->results[0].type || !p || p->kind != TM_ATTR_ARRAY) return false;
  for (int i = 0; i < p->u.array.n; i++) {
    int64_t ba[2];
    int n = 0;
    if (!tm_attr_get_int_array(p->u.array.elts[i], 2, ba, &n) || n != 2 || ba[0] != 0 || ba[1] != 0) return false;
  }
  res[0].value = x;
  return true;
}

/* ----------------------------------------------------- canonicalization ----------- */
static bool is_reshape_like(const tm_op *d) { return d && (tm_op_is(d, "tm.reshape") || tm_op_is(d, "tm.squeeze")); }

static tm_op *create_unary(tm_rewriter *rw, tm_op *pos, const char *name, tm_value *x, const tm_type *rt,
                           int nattrs, const tm_named_attr *attrs) {
  tm_op_state st = {.name = name, .loc = pos->loc, .noperands = 1, .operands = &x, .nresults = 1,
                    .result_types = &rt, .nattrs = nattrs, .attrs = attrs};
  return tm_rw_create_before(rw, pos, &st);
}

/* reshape(reshape-like(x)) -> reshape(x); a reshape to its operand's type -> the operand.
 * The inner element type must be the result's: squeeze moves a per-axis quantization. */
static bool simplify_reshape(tm_rewriter *rw, tm_op *op) {
  tm_value *x = tm_op_operand(op, 0);
  const tm_type *rt = op->results[0].type;
  if (x->type == rt) {
    tm_rw_replace_op(rw, op, &x);
    return true;
  }
  if (!is_reshape_like(x->def) || x->def->noperands != 1) return false;
  tm_value *inner = tm_op_operand(x->def, 0);
  if (!tm_type_is_shaped(inner->type) || inner->type->elem != rt->elem) return false;
  tm_rw_set_operand(rw, op, 0, inner);
  return true;
}

/* squeeze(reshape-like(x)) -> reshape(x); a squeeze that removes nothing -> its operand. */
static bool simplify_squeeze(tm_rewriter *rw, tm_op *op) {
  tm_value *x = tm_op_operand(op, 0);
  const tm_type *rt = op->results[0].type;
  if (x->type == rt) {
    tm_rw_replace_op(rw, op, &x);
    return true;
  }
  if (!is_reshape_like(x->def) || x->def->noperands != 1) return false;
  tm_value *inner = tm_op_operand(x->def, 0);
  if (!tm_type_is_shaped(inner->type) || inner->type->elem != rt->elem) return false;
  tm_op *r = create_unary(rw, op, "tm.reshape", inner, rt, 0, NULL);
  tm_value *v = tm_op_result(r, 0);
  tm_rw_replace_op(rw, op, &v);
  return true;
}

/* transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2): result dimension i is
 * dimension p2[i] of the inner result, which is dimension p1[p2[i]] of x.  An identity
 * permutation disappears. */
static bool simplify_transpose(tm_rewriter *rw, tm_op *op) {
  tm_value *x = tm_op_operand(op, 0);
  const tm_type *rt = op->results[0].type;
  int64_t p2[TM_MAX_RANK], p1[TM_MAX_RANK], c[TM_MAX_RANK];
  if (!tm_type_is_shaped(x->type)) return false;
  int r = x->type->rank;
  if (!read_perm(op, r, p2)) return false;
  if (is_identity_perm(p2, r) && x->type == rt) {
    tm_rw_replace_op(rw, op, &x);
    return true;
  }
  if (!x->def || !tm_op_is(x->def, "tm.transpose") || x->def->noperands != 1) return false;
  tm_value *inner = tm_op_operand(x->def, 0);
  if (!tm_type_is_shaped(inner->type) || inner->type->rank != r || !read_perm(x->def, r, p1)) return false;
  for (int i = 0; i < r; i++) c[i] = p1[p2[i]];
  if (is_identity_perm(c, r)) {
    if (inner->type != rt) return false;
    tm_rw_replace_op(rw, op, &inner);
    return true;
  }
  tm_named_attr perm = {tm_intern_cstr(rw->ctx, "perm"), tm_attr_int_array(rw->ctx, r, c)};
  tm_op *t = create_unary(rw, op, "tm.transpose", inner, rt, 1, &perm);
  tm_value *v = tm_op_result(t, 0);
  tm_rw_replace_op(rw, op, &v);
  return true;
}

/* quantize(dequantize(q)) -> q when the quantized types are equal: the f32 value
 * (q - zp) * s divided by s again is within a few ulps of the integer q - zp (|q - zp|
 * < 2^16), so rounding recovers q exactly, provided (q - zp) * s stays a normal float.
 * The reverse, dequantize(quantize(x)), rounds x and is never removed. */
static bool remove_requant_roundtrip(tm_rewriter *rw, tm_op *op) {
  tm_value *d = tm_op_operand(op, 0);
  if (!d->def || !tm_op_is(d->def, "tm.dequantize") || d->def->noperands != 1) return false;
  tm_value *q = tm_op_operand(d->def, 0);
  const tm_type *e = tm_type_elem(q->type);
  if (q->type != op->results[0].type || !e || e->kind != TM_TYPE_QUANT || !e->storage || e->storage->width > 16)
    return false;
  for (int i = 0; i < e->nscales; i++)
    if (!(e->scales[i] >= 1e-30 && e->scales[i] <= 1e30)) return false;
  tm_rw_replace_op(rw, op, &q);
  return true;
}

static const tm_pattern reshape_patterns[] = {{"tm.reshape", simplify_reshape, 1, "simplify-reshape"}};
static const tm_pattern squeeze_patterns[] = {{"tm.squeeze", simplify_squeeze, 1, "simplify-squeeze"}};
static const tm_pattern transpose_patterns[] = {{"tm.transpose", simplify_transpose, 1, "simplify-transpose"}};
static const tm_pattern quantize_patterns[] = {
    {"tm.quantize", remove_requant_roundtrip, 1, "remove-requantize-roundtrip"}};

/* -------------------------------------------------------------------- table ------- */
/* ATTRS(a, b, ...) in ops.def becomes the attrdefs TM_ATTR_a, TM_ATTR_b, ...: a
 * bounded for-each over the macro arguments (ATTRS() picks TM_FE_1 with an empty name,
 * which expands to the empty TM_ATTR_). */
#define TM_FE_1(m, x) m(x)
#define TM_FE_2(m, x, ...) m(x) TM_FE_1(m, __VA_ARGS__)
#define TM_FE_3(m, x, ...) m(x) TM_FE_2(m, __VA_ARGS__)
#define TM_FE_4(m, x, ...) m(x) TM_FE_3(m, __VA_ARGS__)
#define TM_FE_5(m, x, ...) m(x) TM_FE_4(m, __VA_ARGS__)
#define TM_FE_6(m, x, ...) m(x) TM_FE_5(m, __VA_ARGS__)
#define TM_FE_7(m, x, ...) m(x) TM_FE_6(m, __VA_ARGS__)
#define TM_FE_8(m, x, ...) m(x) TM_FE_7(m, __VA_ARGS__)
#define TM_FE_PICK(_1, _2, _3, _4, _5, _6, _7, _8, n, ...) n
#define TM_FOR_EACH(m, ...) \
  TM_FE_PICK(__VA_ARGS__, TM_FE_8, TM_FE_7, TM_FE_6, TM_FE_5, TM_FE_4, TM_FE_3, TM_FE_2, TM_FE_1, ~)(m, __VA_ARGS__)
#define TM_ATTRDEF_OF(a) TM_ATTR_##a
#define TM_ATTR_
#define ATTRS(...) TM_FOR_EACH(TM_ATTRDEF_OF, __VA_ARGS__)
#define REQUIRED true
#define OPTIONAL false
#define TM_ATTR(name, kind, required, dflt, doc) {#name, TM_AK_##kind, required, dflt, doc},

#define PURE TM_TRAIT_PURE
#define COMMUTATIVE TM_TRAIT_COMMUTATIVE
#define ELEMENTWISE TM_TRAIT_ELEMENTWISE
#define CONSTANT TM_TRAIT_CONSTANT
#define NO_FOLD NULL
#define NO_PATTERNS .canonical_patterns = NULL, .ncanonical_patterns = 0
#define PATTERNS(p) .canonical_patterns = p, .ncanonical_patterns = (int)TM_COUNTOF(p)

typedef bool (*fold_fn)(tm_ctx *, tm_op *, const tm_attr *const *, tm_fold_result *);

static bool has_dynamic_types(const tm_op *op) {
  for (int i = 0; i < op->noperands; i++)
    if (op->operands[i].value && is_dynamic_tensor(op->operands[i].value->type)) return true;
  return op->nresults > 0 && is_dynamic_tensor(op->results[0].type);
}

/* Folds compute with static shapes only; '?' types wait for infer-shapes. */
static bool fold_static(fold_fn fold, tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *r) {
  return fold && !has_dynamic_types(op) && fold(ctx, op, c, r);
}

/* Per op: its attrdefs (NULL-terminated, so ops without attributes still get an array)
 * and the hooks that wrap the op's functions in the common checks. */
#define TM_OP(name, min_operands, max_operands, results, traits, attrs, verify, infer, fold, macs, patterns, \
              operands, summary)                                                                           \
  static const tm_attrdef attrdefs_##name[] = {attrs{NULL, TM_AK_ANY, false, NULL, NULL}};                    \
  static int verify_op_##name(tm_ctx *ctx, tm_op *op) {                                                    \
    return verify_tm(ctx, op, tm_tmd_##verify, tm_tmd_##infer);                                            \
  }                                                                                                        \
  static int infer_op_##name(tm_ctx *ctx, tm_op *op, const tm_type **rt) {                                 \
    return infer_tm(ctx, op, rt, tm_tmd_##infer);                                                          \
  }                                                                                                        \
  static bool cost_op_##name(tm_ctx *ctx, const tm_op *op, tm_cost *out) {                                 \
    return !has_dynamic_types(op) && cost_tm(ctx, op, out, tm_tmd_##macs);                                 \
  }                                                                                                        \
  static bool fold_op_##name(tm_ctx *ctx, tm_op *op, const tm_attr *const *c, tm_fold_result *r) {         \
    return fold_static(fold, ctx, op, c, r);                                                               \
  }
#include "ir/ops.def"
#undef TM_OP

const tm_opdef tm_tm_dialect_ops[] = {
#define TM_OP(name_, min_operands_, max_operands_, results_, traits_, attrs_, verify_, infer_, fold_, macs_, \
              patterns_, operands_, summary_)                                                            \
  {.name = "tm." #name_,                                                                                 \
   .summary = summary_,                                                                                  \
   .min_operands = min_operands_,                                                                        \
   .max_operands = max_operands_,                                                                        \
   .min_results = results_,                                                                              \
   .max_results = results_,                                                                              \
   .traits = traits_,                                                                                    \
   .attrs = attrdefs_##name_,                                                                               \
   .nattrs = (int)TM_COUNTOF(attrdefs_##name_) - 1,                                                         \
   .verify = verify_op_##name_,                                                                          \
   .infer = infer_op_##name_,                                                                            \
   .fold = fold_op_##name_,                                                                              \
   patterns_,                                                                                            \
   .cost = cost_op_##name_},
#include "ir/ops.def"
#undef TM_OP
};

const int tm_tm_dialect_nops = (int)TM_COUNTOF(tm_tm_dialect_ops);
