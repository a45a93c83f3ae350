/* ir/dialect_tm_shape.c — tm op verifiers, shape inference and MAC counts.
 *
 * The rules are those of TFLite's kernels (the checks in lite/kernels/<op>.cc Prepare),
 * so a verified op is one TFLite would run; docs/ops.md states them per op.  Operands
 * reach these functions already checked by tm_tmd_check_tensor: static tensors of rank
 * <= TM_MAX_RANK with <= TM_MAX_ELEMS elements, so sums and products of two dimensions
 * or attribute values bounded the same way cannot overflow int64. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir/dialect_tm.h"

/* ------------------------------------------------------------------ helpers ------- */
static const tm_type *operand_type(const tm_op *op, int i) {
  return i >= 0 && i < op->noperands && op->operands[i].value ? op->operands[i].value->type : NULL;
}
static const tm_type *result_type(const tm_op *op) { return op->nresults > 0 ? op->results[0].type : NULL; }
static const tm_type *elem_of(const tm_type *t) { return t ? tm_type_elem(t) : NULL; }
static const char *tstr(tm_ctx *ctx, const tm_type *t) { return t ? tm_type_str(ctx, t) : "<none>"; }

static bool is_float(const tm_type *e) {
  return e && e->kind == TM_TYPE_FLOAT && (e->width == 16 || e->width == 32);
}
static bool is_int(const tm_type *e) { return e && e->kind == TM_TYPE_INT; }
static bool is_quant(const tm_type *e) {
  return e && e->kind == TM_TYPE_QUANT && e->storage && e->storage->kind == TM_TYPE_INT && e->nscales >= 1;
}
static unsigned qbits(const tm_type *q) { return q->storage->width; }
static bool q_signed(const tm_type *q) { return q->storage->signedness != TM_UNSIGNED; }
static bool per_tensor(const tm_type *q) { return q->axis < 0; }
/* Activations as TFLite's int8 and int16 kernels take them. */
static bool is_qact(const tm_type *e) {
  return is_quant(e) && per_tensor(e) && q_signed(e) && (qbits(e) == 8 || qbits(e) == 16);
}

static bool str_is(const char *s, size_t len, const char *lit) {
  return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* A user string for a message: escaped like MLIR prints it, and bounded. */
static const char *quoted(tm_ctx *ctx, const char *s, size_t len) {
  char buf[80];
  size_t n = 0;
  buf[n++] = '"';
  for (size_t i = 0; i < len && n < sizeof buf - 8; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') buf[n++] = (char)c;
    else n += (size_t)snprintf(buf + n, sizeof buf - n, "\\%02X", c);
  }
  if (len && n >= sizeof buf - 8) buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
  buf[n++] = '"';
  return tm_arena_printf(ctx, "%.*s", (int)n, buf);
}

static const char *ints_str(tm_ctx *ctx, const int64_t *v, int n) {
  char buf[256];
  size_t k = 0;
  buf[k++] = '[';
  for (int i = 0; i < n && k < sizeof buf - 32; i++)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%" PRId64, i ? ", " : "", v[i]);
  buf[k++] = ']';
  return tm_arena_printf(ctx, "%.*s", (int)k, buf);
}

int64_t tm_tmd_sat_mul(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0) return 0;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

/* ------------------------------------------------------------- tensor checks ------ */
int tm_tmd_check_tensor(tm_ctx *ctx, const tm_op *op, const tm_type *t, const char *what, int index) {
  if (!t || t->kind != TM_TYPE_TENSOR)
    return tm_op_error(ctx, op, "%s #%d must be a tensor, got '%s'", what, index, tstr(ctx, t));
  if (t->rank > TM_MAX_RANK)
    return tm_op_error(ctx, op, "%s #%d has rank %d, more than the supported %d", what, index, t->rank,
                       TM_MAX_RANK);
  int64_t n = 1;
  bool big_dim = false;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i] < 0)
      return tm_op_error(ctx, op, "%s #%d must have a static shape, got '%s'", what, index, tstr(ctx, t));
    big_dim |= t->dims[i] > TM_MAX_ELEMS;
    n = tm_tmd_sat_mul(n, t->dims[i]);
  }
  if (big_dim)
    return tm_op_error(ctx, op, "%s #%d has a dimension larger than 2^31: '%s'", what, index, tstr(ctx, t));
  if (n > TM_MAX_ELEMS)
    return tm_op_error(ctx, op, "%s #%d has more than 2^31 elements: '%s'", what, index, tstr(ctx, t));
  const tm_type *e = t->elem;
  if (!e || e->kind != TM_TYPE_QUANT) return 0;
  if (!is_quant(e))
    return tm_op_error(ctx, op, "%s #%d has a malformed quantized type", what, index);
  for (int i = 0; i < e->nscales; i++) {
    if (!(e->scales[i] > 0) || !isfinite(e->scales[i]))
      return tm_op_error(ctx, op, "%s #%d has a quantization scale that is not positive and finite: '%s'",
                         what, index, tstr(ctx, e));
    if (e->zero_points[i] < e->storage_min || e->zero_points[i] > e->storage_max)
      return tm_op_error(ctx, op, "%s #%d has zero point %" PRId64 " outside the storage range [%" PRId64
                         ", %" PRId64 "]", what, index, e->zero_points[i], e->storage_min, e->storage_max);
  }
  if (per_tensor(e)) {
    if (e->nscales != 1)
      return tm_op_error(ctx, op, "%s #%d is quantized per tensor with %d scales", what, index, e->nscales);
    return 0;
  }
  if (e->axis >= t->rank)
    return tm_op_error(ctx, op, "%s #%d is quantized along axis %d, out of range for rank %d", what, index,
                       e->axis, t->rank);
  if (e->nscales != t->dims[e->axis])
    return tm_op_error(ctx, op, "%s #%d has %d quantization scales for dimension %d of size %" PRId64, what,
                       index, e->nscales, e->axis, t->dims[e->axis]);
  return 0;
}

/* ---------------------------------------------------------------- attributes ------ */
static int attr_error(tm_ctx *ctx, const tm_op *op, const char *name, const char *what) {
  return tm_op_error(ctx, op, "attribute '%s' must be %s", name, what);
}

static const tm_attr *get_attr(tm_ctx *ctx, const tm_op *op, const char *name, bool required, int *status) {
  const tm_attr *a = tm_op_attr(op, name);
  *status = !a && required ? tm_op_error(ctx, op, "requires attribute '%s'", name) : 0;
  return a;
}

static int get_int(tm_ctx *ctx, const tm_op *op, const char *name, bool required, int64_t dflt, int64_t *out) {
  int st;
  const tm_attr *a = get_attr(ctx, op, name, required, &st);
  *out = dflt;
  if (!a) return st;
  if (a->kind != TM_ATTR_INT) return attr_error(ctx, op, name, "an integer");
  *out = a->u.i;
  return 0;
}

static int get_bool(tm_ctx *ctx, const tm_op *op, const char *name, bool *out) {
  const tm_attr *a = tm_op_attr(op, name);
  *out = false;
  if (!a) return 0;
  if (a->kind != TM_ATTR_BOOL) return attr_error(ctx, op, name, "a boolean");
  *out = a->u.b;
  return 0;
}

static int get_float(tm_ctx *ctx, const tm_op *op, const char *name, double dflt, double *out) {
  const tm_attr *a = tm_op_attr(op, name);
  *out = dflt;
  if (!a) return 0;
  if (a->kind != TM_ATTR_FLOAT || !isfinite(a->u.f)) return attr_error(ctx, op, name, "a finite float");
  *out = a->u.f;
  return 0;
}

/* dflt NULL: required. */
static int get_str(tm_ctx *ctx, const tm_op *op, const char *name, const char *dflt, const char **s, size_t *len) {
  int st;
  const tm_attr *a = get_attr(ctx, op, name, !dflt, &st);
  *s = dflt ? dflt : "";
  *len = strlen(*s);
  if (!a) return st;
  if (a->kind != TM_ATTR_STRING) return attr_error(ctx, op, name, "a string");
  *s = a->u.str.data;
  *len = a->u.str.len;
  return 0;
}

/* An integer array of exactly n elements, or of any length up to max when n < 0.
 * Absent: dflt (n elements) if given, else an error when required, else empty. */
static int get_ints(tm_ctx *ctx, const tm_op *op, const char *name, bool required, const int64_t *dflt, int n,
                    int max, int64_t *out, int *count) {
  int st;
  const tm_attr *a = get_attr(ctx, op, name, required && !dflt, &st);
  *count = 0;
  if (!a) {
    if (dflt)
      for (int i = 0; i < n; i++) out[(*count)++] = dflt[i];
    return st;
  }
  int got = 0;
  if (!tm_attr_get_int_array(a, n >= 0 ? n : max, out, &got) || (n >= 0 && got != n))
    return n >= 0 ? tm_op_error(ctx, op, "attribute '%s' must be an array of %d integers", name, n)
                  : tm_op_error(ctx, op, "attribute '%s' must be an array of at most %d integers", name, max);
  *count = got;
  return 0;
}

static int check_range(tm_ctx *ctx, const tm_op *op, const char *name, const int64_t *v, int n, int64_t lo,
                       int64_t hi) {
  for (int i = 0; i < n; i++)
    if (v[i] < lo || v[i] > hi)
      return tm_op_error(ctx, op, "expected '%s' values in [%" PRId64 ", %" PRId64 "], got %s", name, lo, hi,
                         ints_str(ctx, v, n));
  return 0;
}

static int check_activation(tm_ctx *ctx, const tm_op *op) {
  static const char *const names[] = {"none", "relu", "relu_n1_to_1", "relu6", "tanh"};
  const char *s;
  size_t n;
  if (get_str(ctx, op, "fused_activation", "none", &s, &n)) return -1;
  for (size_t i = 0; i < TM_COUNTOF(names); i++)
    if (str_is(s, n, names[i])) return 0;
  return tm_op_error(ctx, op,
                     "attribute 'fused_activation' must be \"none\", \"relu\", \"relu_n1_to_1\", \"relu6\" "
                     "or \"tanh\", got %s",
                     quoted(ctx, s, n));
}

/* Normalizes an axis in [-rank, rank) to [0, rank). */
static int norm_axis(tm_ctx *ctx, const tm_op *op, const char *name, int64_t axis, int rank, int *out) {
  if (axis < -(int64_t)rank || axis >= rank)
    return tm_op_error(ctx, op, "'%s' value %" PRId64 " is out of range [%d, %d) for rank %d", name, axis, -rank,
                       rank, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return 0;
}

/* ------------------------------------------------------------ element types ------- */
static int elem_mismatch(tm_ctx *ctx, const tm_op *op, const char *what, const tm_type *got, const char *ref,
                         const tm_type *want) {
  return tm_op_error(ctx, op, "expected %s element type '%s' to match %s element type '%s'", what,
                     tstr(ctx, got), ref, tstr(ctx, want));
}

static int expect_qact(tm_ctx *ctx, const tm_op *op, const char *what, const tm_type *e) {
  if (is_qact(e)) return 0;
  return tm_op_error(ctx, op, "expected %s to be quantized per tensor with i8 or i16 storage, got '%s'", what,
                     tstr(ctx, e));
}

/* A quantized result of an op that rescales: any per-tensor parameters, the input's storage. */
static int expect_qresult(tm_ctx *ctx, const tm_op *op, const tm_type *y, const tm_type *x) {
  if (is_qact(y) && y->storage == x->storage) return 0;
  return tm_op_error(ctx, op, "expected result to be quantized per tensor with storage type '%s', got '%s'",
                     tstr(ctx, x->storage), tstr(ctx, y));
}

/* TFLite's 16-bit kernels are symmetric. */
static int expect_zp0_16(tm_ctx *ctx, const tm_op *op, const char *what, const tm_type *e) {
  if (qbits(e) != 16 || e->zero_points[0] == 0) return 0;
  return tm_op_error(ctx, op, "expected %s zero point 0 for i16 quantization, got %" PRId64, what, e->zero_points[0]);
}

static int expect_float_or_qact(tm_ctx *ctx, const tm_op *op, const tm_type *x) {
  if (is_float(x) || is_qact(x)) return 0;
  return tm_op_error(ctx, op, "expected input element type f16, f32 or quantized per tensor with i8 or i16 "
                     "storage, got '%s'", tstr(ctx, x));
}

/* A result element type: a quantized input keeps the declared quantization of a result
 * (the op rescales; verify checks it), anything else the input's element type. */
static const tm_type *requant_elem(const tm_op *op, const tm_type *in) {
  const tm_type *re = elem_of(result_type(op));
  return is_quant(in) && is_quant(re) ? re : in;
}

/* The same quantized type moved to another axis (data movement of per-axis tensors). */
static const tm_type *with_axis(tm_ctx *ctx, const tm_type *e, int axis) {
  if (!is_quant(e) || per_tensor(e) || e->axis == axis) return e;
  return tm_type_quant(ctx, e->storage, e->expressed, e->storage_min, e->storage_max, axis, e->nscales, e->scales,
                       e->zero_points);
}

static int set_result(tm_ctx *ctx, const tm_op *op, const tm_type **rt, const tm_type *elem, int rank,
                      const int64_t *dims) {
  rt[0] = tm_type_tensor(ctx, elem, rank, dims);
  return rt[0] ? 0 : tm_op_error(ctx, op, "cannot form a result type with element type '%s'", tstr(ctx, elem));
}

/* ------------------------------------------------------------------ tm.const ------ */
int tm_tmd_verify_const(tm_ctx *ctx, tm_op *op) {
  const tm_attr *v = tm_op_attr(op, "value");
  if (!v || v->kind != TM_ATTR_DENSE || !tm_type_is_shaped(v->type))
    return attr_error(ctx, op, "value", "a dense elements attribute");
  const tm_type *re = elem_of(result_type(op)), *ve = v->type->elem;
  if (!is_quant(re)) {
    if (ve != re) return elem_mismatch(ctx, op, "value", ve, "result", re);
    return 0;
  }
  if (ve != re->storage)
    return tm_op_error(ctx, op, "expected value element type '%s' (the storage type of '%s'), got '%s'",
                       tstr(ctx, re->storage), tstr(ctx, re), tstr(ctx, ve));
  int64_t n = v->u.dense.splat ? 1 : tm_dense_numel(v);
  for (int64_t i = 0; i < n; i++) {
    int64_t q = tm_dense_get_int(v, i);
    if (q < re->storage_min || q > re->storage_max)
      return tm_op_error(ctx, op, "value element #%" PRId64 " (%" PRId64 ") is outside the storage range [%" PRId64
                         ", %" PRId64 "]", i, q, re->storage_min, re->storage_max);
  }
  return 0;
}

int tm_tmd_infer_const(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_attr *v = tm_op_attr(op, "value");
  if (!v || v->kind != TM_ATTR_DENSE || !tm_type_is_shaped(v->type))
    return attr_error(ctx, op, "value", "a dense elements attribute");
  const tm_type *re = elem_of(result_type(op));
  rt[0] = is_quant(re) && v->type->elem == re->storage ? tm_type_with_elem(ctx, v->type, re) : v->type;
  if (rt[0] && rt[0]->kind != TM_TYPE_TENSOR) rt[0] = tm_type_tensor(ctx, rt[0]->elem, rt[0]->rank, rt[0]->dims);
  return rt[0] ? 0 : tm_op_error(ctx, op, "cannot form the result type of the value");
}

/* ----------------------------------------------------------- convolutions --------- */
typedef struct window {
  int64_t stride[2], dilation[2];
  bool same;
} window;

static int read_window(tm_ctx *ctx, const tm_op *op, bool has_dilation, window *w) {
  static const int64_t ones[2] = {1, 1};
  const char *s;
  size_t n;
  int cnt;
  if (get_str(ctx, op, "padding", NULL, &s, &n)) return -1;
  if (!str_is(s, n, "same") && !str_is(s, n, "valid"))
    return tm_op_error(ctx, op, "attribute 'padding' must be \"same\" or \"valid\", got %s", quoted(ctx, s, n));
  w->same = str_is(s, n, "same");
  if (get_ints(ctx, op, "stride", false, ones, 2, 2, w->stride, &cnt) ||
      check_range(ctx, op, "stride", w->stride, 2, 1, TM_MAX_ELEMS))
    return -1;
  w->dilation[0] = w->dilation[1] = 1;
  if (has_dilation && (get_ints(ctx, op, "dilation", false, ones, 2, 2, w->dilation, &cnt) ||
                       check_range(ctx, op, "dilation", w->dilation, 2, 1, TM_MAX_ELEMS)))
    return -1;
  return 0;
}

/* TFLite's ComputeOutSize; -1 if a "valid" window does not fit. */
static int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same) {
  int64_t eff = (k - 1) * dilation + 1;
  if (same) return (in + stride - 1) / stride;
  return in < eff ? -1 : (in - eff) / stride + 1;
}

/* Output height and width of a window of size k[] sliding over in[]. */
static int spatial_out(tm_ctx *ctx, const tm_op *op, const window *w, const int64_t *in, const int64_t *k,
                       const char *kname, int64_t *out) {
  static const char *const names[] = {"height", "width"};
  for (int i = 0; i < 2; i++) {
    if (k[i] < 1)
      return tm_op_error(ctx, op, "expected a positive %s %s, got %" PRId64, kname, names[i], k[i]);
    out[i] = out_size(in[i], k[i], w->stride[i], w->dilation[i], w->same);
    if (out[i] < 0)
      return tm_op_error(ctx, op, "input %s (%" PRId64 ") is smaller than the %s%s %s (%" PRId64
                         ") with padding \"valid\"", names[i], in[i], w->dilation[i] > 1 ? "dilated " : "",
                         kname, names[i], (k[i] - 1) * w->dilation[i] + 1);
  }
  return 0;
}

static int expect_rank(tm_ctx *ctx, const tm_op *op, const char *what, const tm_type *t, int rank,
                       const char *layout) {
  if (t->rank == rank) return 0;
  return tm_op_error(ctx, op, "expected %s of rank %d%s, got '%s'", what, rank, layout, tstr(ctx, t));
}

static int check_bias(tm_ctx *ctx, const tm_op *op, int index, int64_t n) {
  const tm_type *b = op->noperands > index ? operand_type(op, index) : NULL;
  if (!b || (b->rank == 1 && b->dims[0] == n)) return 0;
  return tm_op_error(ctx, op, "expected bias of shape [%" PRId64 "], got '%s'", n, tstr(ctx, b));
}

/* Element types shared by conv2d, depthwise_conv2d, transpose_conv and fully_connected:
 * float throughout, or TFLite's int8/int16 scheme (per-tensor activations, filter per
 * tensor or along faxis, int32 bias for int8 and int32/int64 bias for int16). */
static int verify_conv_types(tm_ctx *ctx, tm_op *op, const char *fname, int faxis, bool filter_offset_ok) {
  if (check_activation(ctx, op)) return -1;
  const tm_type *x = elem_of(operand_type(op, 0)), *w = elem_of(operand_type(op, 1));
  const tm_type *b = op->noperands > 2 ? elem_of(operand_type(op, 2)) : NULL;
  const tm_type *y = elem_of(result_type(op));
  if (is_float(x)) {
    if (w != x) return elem_mismatch(ctx, op, fname, w, "input", x);
    if (b && b != x) return elem_mismatch(ctx, op, "bias", b, "input", x);
    if (y != x) return elem_mismatch(ctx, op, "result", y, "input", x);
    return 0;
  }
  if (expect_float_or_qact(ctx, op, x) || expect_qresult(ctx, op, y, x) || expect_zp0_16(ctx, op, "input", x) ||
      expect_zp0_16(ctx, op, "result", y))
    return -1;
  if (!is_quant(w) || !q_signed(w) || (qbits(w) != 8 && qbits(w) != 4))
    return tm_op_error(ctx, op, "expected %s to be quantized with i4 or i8 storage, got '%s'", fname, tstr(ctx, w));
  if (!per_tensor(w) && w->axis != faxis)
    return tm_op_error(ctx, op, "expected %s to be quantized per tensor or along axis %d, got axis %d", fname,
                       faxis, w->axis);
  /* Only the per-tensor int8 fully_connected kernel subtracts a filter zero point. */
  if (!(filter_offset_ok && per_tensor(w) && qbits(x) == 8))
    for (int i = 0; i < w->nscales; i++)
      if (w->zero_points[i] != 0)
        return tm_op_error(ctx, op, "expected %s zero points to be 0, got %" PRId64, fname, w->zero_points[i]);
  if (!b) return 0;
  const tm_type *bs = tm_type_storage(b);
  bool ok = (is_int(b) || is_quant(b)) && bs->kind == TM_TYPE_INT && bs->signedness != TM_UNSIGNED &&
            (bs->width == 32 || (qbits(x) == 16 && bs->width == 64));
  if (!ok)
    return tm_op_error(ctx, op, "expected bias element type %s (plain or as quantized storage) for %s input, got '%s'",
                       qbits(x) == 8 ? "i32" : "i32 or i64", qbits(x) == 8 ? "i8" : "i16", tstr(ctx, b));
  if (is_quant(b) && !per_tensor(b) && b->axis != 0)
    return tm_op_error(ctx, op, "expected bias to be quantized per tensor or along axis 0, got axis %d", b->axis);
  return 0;
}

int tm_tmd_verify_conv(tm_ctx *ctx, tm_op *op) { return verify_conv_types(ctx, op, "filter", 0, false); }
/* conv2d_add (made by the fuse pass): conv2d's checks, then the ADD's operands.
 * conv_type is the convolution's own result element type; the residual has the result's
 * shape; all three are the input's float type, or per-tensor int8/int16 quantizations
 * of the result's storage type. */
int tm_tmd_verify_conv_add(tm_ctx *ctx, tm_op *op) {
  if (verify_conv_types(ctx, op, "filter", 0, false)) return -1;
  const tm_attr *ct = tm_op_attr(op, "conv_type");
  const tm_type *x = elem_of(operand_type(op, 0)), *r = operand_type(op, 3), *y = result_type(op);
  if (!ct || ct->kind != TM_ATTR_TYPE) return tm_op_error(ctx, op, "expected a type attribute 'conv_type'");
  if (!r || !y || !tm_type_is_shaped(r) || !tm_type_is_shaped(y) || r->rank != y->rank ||
      memcmp(r->dims, y->dims, sizeof(int64_t) * (size_t)y->rank))
    return tm_op_error(ctx, op, "expected residual of the result's shape, got '%s'", tstr(ctx, r));
  const tm_type *es[] = {ct->type, elem_of(r), elem_of(y)};
  static const char *const what[] = {"conv_type", "residual", "result"};
  for (int i = 0; i < 3; i++) {
    bool ok = is_float(x) ? es[i] == x : is_qact(es[i]) && es[i]->storage == elem_of(y)->storage;
    if (!ok)
      return tm_op_error(ctx, op, "expected %s element type to be %s, got '%s'", what[i],
                         is_float(x) ? tstr(ctx, x) : "a per-tensor quantization of the result's storage",
                         tstr(ctx, es[i]));
  }
  static const char *const acts[] = {"none", "relu", "relu_n1_to_1", "relu6"};
  const char *act;
  size_t n;
  if (get_str(ctx, op, "add_activation", "none", &act, &n)) return -1;
  for (size_t i = 0; i < TM_COUNTOF(acts); i++)
    if (str_is(act, n, acts[i])) return 0;
  return tm_op_error(ctx, op,
                     "attribute 'add_activation' must be \"none\", \"relu\", \"relu_n1_to_1\" or \"relu6\", "
                     "got %s",
                     quoted(ctx, act, n));
}
/* conv2d_fc / depthwise_conv2d_fc (made by the fuse pass): the convolution's checks on
 * operands 0-2, conv_result of the convolution's element type (checked for shape by
 * infer), then the FULLY_CONNECTED's weights and bias: float, or int8 weights per tensor
 * or along axis 0 with an i32 bias. */
int tm_tmd_verify_conv_fc(tm_ctx *ctx, tm_op *op) {
  if (verify_conv_types(ctx, op, "filter", tm_op_is(op, "tm.depthwise_conv2d_fc") ? 3 : 0, false)) return -1;
  const tm_attr *cr = tm_op_attr(op, "conv_result");
  const tm_type *x = elem_of(operand_type(op, 0)), *y = elem_of(result_type(op));
  const tm_type *w = elem_of(operand_type(op, 3)), *b = elem_of(operand_type(op, 4));
  if (!cr || cr->kind != TM_ATTR_TYPE || !tm_type_is_shaped(cr->type))
    return tm_op_error(ctx, op, "expected a tensor type attribute 'conv_result'");
  const tm_type *c = elem_of(cr->type);
  if (is_float(x) ? c != x : !(is_qact(c) && c->storage == y->storage))
    return elem_mismatch(ctx, op, "conv_result", c, "input", x);
  if (is_float(x)) {
    if (w != x) return elem_mismatch(ctx, op, "fc_weights", w, "input", x);
    if (b != x) return elem_mismatch(ctx, op, "fc_bias", b, "input", x);
    return 0;
  }
  if (!is_quant(w) || !q_signed(w) || qbits(w) != 8 || (!per_tensor(w) && w->axis != 0))
    return tm_op_error(ctx, op, "expected fc_weights quantized with i8 storage per tensor or along axis 0, got '%s'",
                       tstr(ctx, w));
  const tm_type *bs = tm_type_storage(b);
  if (!bs || bs->kind != TM_TYPE_INT || bs->width != 32 || bs->signedness == TM_UNSIGNED)
    return tm_op_error(ctx, op, "expected fc_bias element type i32, got '%s'", tstr(ctx, b));
  return 0;
}
int tm_tmd_verify_depthwise(tm_ctx *ctx, tm_op *op) { return verify_conv_types(ctx, op, "filter", 3, false); }
int tm_tmd_verify_fully_connected(tm_ctx *ctx, tm_op *op) {
  bool keep;
  if (get_bool(ctx, op, "keep_num_dims", &keep)) return -1;
  return verify_conv_types(ctx, op, "weights", 0, true);
}

int tm_tmd_infer_conv2d(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0), *w = operand_type(op, 1);
  window win;
  int64_t out[2];
  if (expect_rank(ctx, op, "input", x, 4, " (NHWC)") || expect_rank(ctx, op, "filter", w, 4, " (OHWI)"))
    return -1;
  if (w->dims[3] != x->dims[3])
    return tm_op_error(ctx, op, "expected filter input channels (%" PRId64 ") to match input channels (%" PRId64 ")",
                       w->dims[3], x->dims[3]);
  if (check_bias(ctx, op, 2, w->dims[0]) || read_window(ctx, op, true, &win) ||
      spatial_out(ctx, op, &win, x->dims + 1, w->dims + 1, "filter", out))
    return -1;
  int64_t dims[4] = {x->dims[0], out[0], out[1], w->dims[0]};
  return set_result(ctx, op, rt, requant_elem(op, x->elem), 4, dims);
}

int tm_tmd_infer_depthwise(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0), *w = operand_type(op, 1);
  window win;
  int64_t out[2], mult;
  if (expect_rank(ctx, op, "input", x, 4, " (NHWC)") || expect_rank(ctx, op, "filter", w, 4, " ([1, H, W, C * M])"))
    return -1;
  if (w->dims[0] != 1)
    return tm_op_error(ctx, op, "expected filter dimension 0 to be 1, got %" PRId64, w->dims[0]);
  if (get_int(ctx, op, "depth_multiplier", false, 1, &mult) ||
      check_range(ctx, op, "depth_multiplier", &mult, 1, 1, TM_MAX_ELEMS))
    return -1;
  if (w->dims[3] != x->dims[3] * mult)
    return tm_op_error(ctx, op, "expected filter channels (%" PRId64 ") to equal input channels (%" PRId64
                       ") * depth_multiplier (%" PRId64 ")", w->dims[3], x->dims[3], mult);
  if (check_bias(ctx, op, 2, w->dims[3]) || read_window(ctx, op, true, &win) ||
      spatial_out(ctx, op, &win, x->dims + 1, w->dims + 1, "filter", out))
    return -1;
  int64_t dims[4] = {x->dims[0], out[0], out[1], w->dims[3]};
  return set_result(ctx, op, rt, requant_elem(op, x->elem), 4, dims);
}

/* The convolution's shape (conv_result's), then the FULLY_CONNECTED's without keep_num_dims. */
int tm_tmd_infer_conv_fc(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *conv, *w = operand_type(op, 3);
  bool dw = tm_op_is(op, "tm.depthwise_conv2d_fc");
  if ((dw ? tm_tmd_infer_depthwise : tm_tmd_infer_conv2d)(ctx, op, &conv)) return -1;
  const tm_attr *cr = tm_op_attr(op, "conv_result");
  if (!cr || cr->kind != TM_ATTR_TYPE || !tm_type_is_shaped(cr->type) || cr->type->rank != 4 ||
      memcmp(cr->type->dims, conv->dims, 4 * sizeof(int64_t)))
    return tm_op_error(ctx, op, "expected conv_result of shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "]",
                       conv->dims[0], conv->dims[1], conv->dims[2], conv->dims[3]);
  if (expect_rank(ctx, op, "fc_weights", w, 2, " ([out, in])") || check_bias(ctx, op, 4, w->dims[0])) return -1;
  int64_t n = tm_type_numel(conv), in = w->dims[1];
  if (in < 1 || n % in != 0)
    return tm_op_error(ctx, op, "expected conv_result element count (%" PRId64 ") to be a multiple of the fc_weights "
                       "input size (%" PRId64 ")", n, in);
  int64_t dims[2] = {n / in, w->dims[0]};
  return set_result(ctx, op, rt, requant_elem(op, operand_type(op, 0)->elem), 2, dims);
}

/* The output size is not a function of the input (TFLite passes it as an operand; here
 * the result type carries it): any size whose forward convolution gives the input size
 * is valid.  A consistent declared result is kept; otherwise the smallest "valid" or
 * the stride-multiple "same" size is inferred. */
int tm_tmd_infer_transpose_conv(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0), *w = operand_type(op, 1), *r = result_type(op);
  window win;
  if (expect_rank(ctx, op, "input", x, 4, " (NHWC)") || expect_rank(ctx, op, "filter", w, 4, " (OHWI)"))
    return -1;
  if (w->dims[3] != x->dims[3])
    return tm_op_error(ctx, op, "expected filter input channels (%" PRId64 ") to match input channels (%" PRId64 ")",
                       w->dims[3], x->dims[3]);
  if (check_bias(ctx, op, 2, w->dims[0]) || read_window(ctx, op, false, &win)) return -1;
  int64_t dims[4] = {x->dims[0], 0, 0, w->dims[0]};
  for (int i = 0; i < 2; i++) {
    int64_t in = x->dims[1 + i], k = w->dims[1 + i], s = win.stride[i];
    if (k < 1)
      return tm_op_error(ctx, op, "expected a positive filter %s, got %" PRId64, i ? "width" : "height", k);
    int64_t declared = r && r->kind == TM_TYPE_TENSOR && r->rank == 4 ? r->dims[1 + i] : -1;
    if (declared >= 0 && declared <= TM_MAX_ELEMS && out_size(declared, k, s, 1, win.same) == in)
      dims[1 + i] = declared;
    else if (in == 0)
      dims[1 + i] = 0;
    else
      dims[1 + i] = win.same ? in * s : (in - 1) * s + k;
  }
  return set_result(ctx, op, rt, requant_elem(op, x->elem), 4, dims);
}

int tm_tmd_infer_fully_connected(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0), *w = operand_type(op, 1);
  bool keep;
  if (x->rank < 1) return tm_op_error(ctx, op, "expected input of rank >= 1, got '%s'", tstr(ctx, x));
  if (expect_rank(ctx, op, "weights", w, 2, " ([out, in])") || check_bias(ctx, op, 2, w->dims[0]) ||
      get_bool(ctx, op, "keep_num_dims", &keep))
    return -1;
  int64_t in = w->dims[1], dims[TM_MAX_RANK];
  if (keep) {
    if (x->dims[x->rank - 1] != in)
      return tm_op_error(ctx, op, "expected input last dimension (%" PRId64 ") to match the weights input size (%" PRId64
                         ")", x->dims[x->rank - 1], in);
    memcpy(dims, x->dims, (size_t)x->rank * sizeof(int64_t));
    dims[x->rank - 1] = w->dims[0];
    return set_result(ctx, op, rt, requant_elem(op, x->elem), x->rank, dims);
  }
  int64_t n = tm_type_numel(x);
  if (in < 1) return tm_op_error(ctx, op, "expected a positive weights input size, got %" PRId64, in);
  if (n % in != 0)
    return tm_op_error(ctx, op, "expected input element count (%" PRId64 ") to be a multiple of the weights input size (%"
                       PRId64 ")", n, in);
  dims[0] = n / in;
  dims[1] = w->dims[0];
  return set_result(ctx, op, rt, requant_elem(op, x->elem), 2, dims);
}

/* --------------------------------------------------------------- broadcasting ----- */
/* numpy rules: align trailing dimensions; each pair is equal or has a 1. */
static bool broadcast(const int64_t *a, int ar, const int64_t *b, int br, int64_t *out, int *rank) {
  int r = ar > br ? ar : br;
  for (int i = 0; i < r; i++) {
    int64_t da = i < r - ar ? 1 : a[i - (r - ar)], db = i < r - br ? 1 : b[i - (r - br)];
    if (da != db && da != 1 && db != 1) return false;
    out[i] = da == 1 ? db : da;
  }
  *rank = r;
  return true;
}

int tm_tmd_infer_broadcast(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *a = operand_type(op, 0), *b = operand_type(op, 1);
  int64_t dims[TM_MAX_RANK];
  int rank;
  if (!broadcast(a->dims, a->rank, b->dims, b->rank, dims, &rank))
    return tm_op_error(ctx, op, "operands are not broadcast-compatible: '%s' and '%s'", tstr(ctx, a), tstr(ctx, b));
  return set_result(ctx, op, rt, requant_elem(op, a->elem), rank, dims);
}

int tm_tmd_verify_arith(tm_ctx *ctx, tm_op *op) {
  if (check_activation(ctx, op)) return -1;
  const tm_type *l = elem_of(operand_type(op, 0)), *r = elem_of(operand_type(op, 1)), *y = elem_of(result_type(op));
  if (is_float(l) || is_int(l)) {
    if (r != l) return elem_mismatch(ctx, op, "rhs", r, "lhs", l);
    if (y != l) return elem_mismatch(ctx, op, "result", y, "lhs", l);
    return 0;
  }
  if (!is_quant(l))
    return tm_op_error(ctx, op, "expected lhs element type f16, f32, integer or quantized, got '%s'", tstr(ctx, l));
  if (expect_qact(ctx, op, "lhs", l) || expect_qact(ctx, op, "rhs", r)) return -1;
  if (r->storage != l->storage)
    return tm_op_error(ctx, op, "expected rhs storage type '%s' to match lhs storage type '%s'", tstr(ctx, r->storage),
                       tstr(ctx, l->storage));
  if (expect_qresult(ctx, op, y, l) || expect_zp0_16(ctx, op, "lhs", l) || expect_zp0_16(ctx, op, "rhs", r) ||
      expect_zp0_16(ctx, op, "result", y))
    return -1;
  return 0;
}

/* TFLite's maximum/minimum compare stored values: no rescaling, one quantization. */
int tm_tmd_verify_minmax(tm_ctx *ctx, tm_op *op) {
  const tm_type *l = elem_of(operand_type(op, 0)), *r = elem_of(operand_type(op, 1)), *y = elem_of(result_type(op));
  if (!is_float(l) && !is_int(l) && !is_qact(l))
    return tm_op_error(ctx, op, "expected lhs element type f16, f32, integer or quantized per tensor with i8 or i16 "
                       "storage, got '%s'", tstr(ctx, l));
  if (r != l) return elem_mismatch(ctx, op, "rhs", r, "lhs", l);
  if (y != l) return elem_mismatch(ctx, op, "result", y, "lhs", l);
  return 0;
}

int tm_tmd_infer_batch_matmul(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0), *y = operand_type(op, 1);
  bool adj_x, adj_y;
  if (get_bool(ctx, op, "adj_x", &adj_x) || get_bool(ctx, op, "adj_y", &adj_y)) return -1;
  if (x->rank < 2 || y->rank < 2)
    return tm_op_error(ctx, op, "expected operands of rank >= 2, got '%s' and '%s'", tstr(ctx, x), tstr(ctx, y));
  int xr = x->rank, yr = y->rank;
  int64_t m = x->dims[adj_x ? xr - 1 : xr - 2], kx = x->dims[adj_x ? xr - 2 : xr - 1];
  int64_t ky = y->dims[adj_y ? yr - 1 : yr - 2], n = y->dims[adj_y ? yr - 2 : yr - 1];
  if (kx != ky)
    return tm_op_error(ctx, op, "expected contraction dimensions to match, got %" PRId64 " (x) and %" PRId64 " (y)",
                       kx, ky);
  int64_t dims[TM_MAX_RANK + 2];
  int rank;
  if (!broadcast(x->dims, xr - 2, y->dims, yr - 2, dims, &rank))
    return tm_op_error(ctx, op, "batch dimensions of '%s' and '%s' are not broadcast-compatible", tstr(ctx, x),
                       tstr(ctx, y));
  dims[rank] = m;
  dims[rank + 1] = n;
  if (rank + 2 > TM_MAX_RANK)
    return tm_op_error(ctx, op, "result rank %d is more than the supported %d", rank + 2, TM_MAX_RANK);
  return set_result(ctx, op, rt, requant_elem(op, x->elem), rank + 2, dims);
}

int tm_tmd_verify_batch_matmul(tm_ctx *ctx, tm_op *op) {
  const tm_type *x = elem_of(operand_type(op, 0)), *y = elem_of(operand_type(op, 1)), *r = elem_of(result_type(op));
  if (is_float(x)) {
    if (y != x) return elem_mismatch(ctx, op, "y", y, "x", x);
    if (r != x) return elem_mismatch(ctx, op, "result", r, "x", x);
    return 0;
  }
  if (expect_float_or_qact(ctx, op, x) || expect_qact(ctx, op, "y", y)) return -1;
  if (y->storage != x->storage)
    return tm_op_error(ctx, op, "expected y storage type '%s' to match x storage type '%s'", tstr(ctx, y->storage),
                       tstr(ctx, x->storage));
  if (expect_qresult(ctx, op, r, x) || expect_zp0_16(ctx, op, "x", x) || expect_zp0_16(ctx, op, "y", y) ||
      expect_zp0_16(ctx, op, "result", r))
    return -1;
  return 0;
}

/* ----------------------------------------------------------------- unary ops ------ */
int tm_tmd_infer_unary(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  return set_result(ctx, op, rt, requant_elem(op, x->elem), x->rank, x->dims);
}

int tm_tmd_verify_activation(tm_ctx *ctx, tm_op *op) {
  const tm_type *x = elem_of(operand_type(op, 0)), *y = elem_of(result_type(op));
  if (expect_float_or_qact(ctx, op, x)) return -1;
  if (is_float(x)) return y == x ? 0 : elem_mismatch(ctx, op, "result", y, "input", x);
  return expect_qresult(ctx, op, y, x);
}

int tm_tmd_verify_leaky_relu(tm_ctx *ctx, tm_op *op) {
  double alpha;
  return get_float(ctx, op, "alpha", 0.2, &alpha) ? -1 : tm_tmd_verify_activation(ctx, op);
}

/* The int8/int16 logistic and tanh kernels produce a fixed output quantization. */
static int verify_fixed_output(tm_ctx *ctx, tm_op *op, double scale8, int64_t zp8) {
  if (tm_tmd_verify_activation(ctx, op)) return -1;
  const tm_type *y = elem_of(result_type(op));
  if (!is_quant(y)) return 0;
  double scale = qbits(y) == 8 ? scale8 : 1.0 / 32768;
  int64_t zp = qbits(y) == 8 ? zp8 : 0;
  if (y->scales[0] != scale || y->zero_points[0] != zp)
    return tm_op_error(ctx, op, "expected result scale %.9g and zero point %" PRId64 " for i%u storage, got scale %.9g "
                       "and zero point %" PRId64, scale, zp, qbits(y), y->scales[0], y->zero_points[0]);
  return 0;
}
int tm_tmd_verify_logistic(tm_ctx *ctx, tm_op *op) { return verify_fixed_output(ctx, op, 1.0 / 256, -128); }
int tm_tmd_verify_tanh(tm_ctx *ctx, tm_op *op) { return verify_fixed_output(ctx, op, 1.0 / 128, 0); }

int tm_tmd_infer_softmax(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  if (x->rank < 1) return tm_op_error(ctx, op, "expected input of rank >= 1, got '%s'", tstr(ctx, x));
  return tm_tmd_infer_unary(ctx, op, rt);
}

/* TFLite supports int8 -> int8 (scale 1/256, zero point -128), int8 -> int16 (zero
 * point -32768) and int16 -> int16 (symmetric). */
int tm_tmd_verify_softmax(tm_ctx *ctx, tm_op *op) {
  const tm_type *x = elem_of(operand_type(op, 0)), *y = elem_of(result_type(op));
  double beta;
  if (get_float(ctx, op, "beta", 1.0, &beta) || expect_float_or_qact(ctx, op, x)) return -1;
  if (is_float(x)) return y == x ? 0 : elem_mismatch(ctx, op, "result", y, "input", x);
  if (expect_qact(ctx, op, "result", y)) return -1;
  if (qbits(x) == 8 && qbits(y) == 8) {
    if (y->scales[0] != 1.0 / 256 || y->zero_points[0] != -128)
      return tm_op_error(ctx, op, "expected i8 result scale 0.00390625 and zero point -128, got scale %.9g and zero "
                         "point %" PRId64, y->scales[0], y->zero_points[0]);
    return 0;
  }
  if (qbits(x) == 8 && qbits(y) == 16) {
    if (y->zero_points[0] != -32768)
      return tm_op_error(ctx, op, "expected i16 result zero point -32768 for i8 input, got %" PRId64, y->zero_points[0]);
    return 0;
  }
  if (qbits(x) == 16 && qbits(y) == 16)
    return expect_zp0_16(ctx, op, "input", x) || expect_zp0_16(ctx, op, "result", y) ? -1 : 0;
  return tm_op_error(ctx, op, "unsupported quantized softmax from i%u to i%u", qbits(x), qbits(y));
}

/* ------------------------------------------------------------------ pooling ------- */
int tm_tmd_verify_pool(tm_ctx *ctx, tm_op *op) {
  if (check_activation(ctx, op)) return -1;
  return expect_float_or_qact(ctx, op, elem_of(operand_type(op, 0)));
}

/* Input and output share one quantization in TFLite's int8/int16 pooling kernels, so
 * the inferred element type is the input's. */
int tm_tmd_infer_pool(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  window win;
  int64_t k[2], out[2];
  int cnt;
  if (expect_rank(ctx, op, "input", x, 4, " (NHWC)") || get_ints(ctx, op, "filter", true, NULL, 2, 2, k, &cnt) ||
      check_range(ctx, op, "filter", k, 2, 1, TM_MAX_ELEMS) || read_window(ctx, op, false, &win) ||
      spatial_out(ctx, op, &win, x->dims + 1, k, "filter", out))
    return -1;
  int64_t dims[4] = {x->dims[0], out[0], out[1], x->dims[3]};
  return set_result(ctx, op, rt, x->elem, 4, dims);
}

/* --------------------------------------------------------------- reductions ------- */
int tm_tmd_verify_mean(tm_ctx *ctx, tm_op *op) {
  const tm_type *x = elem_of(operand_type(op, 0)), *y = elem_of(result_type(op));
  bool keep;
  if (get_bool(ctx, op, "keep_dims", &keep)) return -1;
  if (is_float(x) || is_int(x)) return y == x ? 0 : elem_mismatch(ctx, op, "result", y, "input", x);
  if (expect_float_or_qact(ctx, op, x)) return -1;
  return expect_qresult(ctx, op, y, x);
}

/* Reads a list of distinct axes of a rank-r tensor into mask[]. */
static int read_axes(tm_ctx *ctx, const tm_op *op, const char *name, bool required, int rank, bool *mask, int *naxes) {
  int64_t v[TM_MAX_RANK];
  int n;
  memset(mask, 0, TM_MAX_RANK * sizeof(bool));
  if (get_ints(ctx, op, name, required, NULL, -1, TM_MAX_RANK, v, &n)) return -1;
  for (int i = 0; i < n; i++) {
    int a = 0;
    if (norm_axis(ctx, op, name, v[i], rank, &a)) return -1;
    if (mask[a]) return tm_op_error(ctx, op, "'%s' names dimension %d twice", name, a);
    mask[a] = true;
  }
  *naxes = n;
  return 0;
}

int tm_tmd_infer_mean(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  bool mask[TM_MAX_RANK], keep;
  int64_t dims[TM_MAX_RANK];
  int n, rank = 0;
  if (read_axes(ctx, op, "axes", true, x->rank, mask, &n) || get_bool(ctx, op, "keep_dims", &keep)) return -1;
  for (int i = 0; i < x->rank; i++)
    if (!mask[i]) dims[rank++] = x->dims[i];
    else if (keep) dims[rank++] = 1;
  return set_result(ctx, op, rt, requant_elem(op, x->elem), rank, dims);
}

/* ------------------------------------------------------------ data movement ------- */
int tm_tmd_verify_none(tm_ctx *ctx, tm_op *op) {
  (void)ctx, (void)op;
  return 0;
}

/* The result type is the new shape; the elements and their quantization stay. */
int tm_tmd_infer_reshape(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0), *r = result_type(op);
  if (tm_tmd_check_tensor(ctx, op, r, "result", 0)) return -1;
  if (tm_type_numel(r) != tm_type_numel(x))
    return tm_op_error(ctx, op, "expected result element count (%" PRId64 ") to match input element count (%" PRId64
                       ")", tm_type_numel(r), tm_type_numel(x));
  return set_result(ctx, op, rt, x->elem, r->rank, r->dims);
}

int tm_tmd_infer_squeeze(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  bool mask[TM_MAX_RANK];
  int64_t dims[TM_MAX_RANK];
  int n, rank = 0, axis = -1;
  if (read_axes(ctx, op, "squeeze_dims", false, x->rank, mask, &n)) return -1;
  for (int i = 0; i < x->rank; i++) {
    if (n == 0) mask[i] = x->dims[i] == 1;
    else if (mask[i] && x->dims[i] != 1)
      return tm_op_error(ctx, op, "cannot squeeze dimension %d of size %" PRId64, i, x->dims[i]);
    if (is_quant(x->elem) && x->elem->axis == i) {
      if (mask[i]) return tm_op_error(ctx, op, "cannot squeeze the quantization axis %d", i);
      axis = rank;
    }
    if (!mask[i]) dims[rank++] = x->dims[i];
  }
  return set_result(ctx, op, rt, with_axis(ctx, x->elem, axis), rank, dims);
}

static int read_perm(tm_ctx *ctx, const tm_op *op, int rank, int64_t *perm) {
  bool seen[TM_MAX_RANK] = {false};
  int n;
  if (get_ints(ctx, op, "perm", true, NULL, -1, TM_MAX_RANK, perm, &n)) return -1;
  if (n != rank) return tm_op_error(ctx, op, "expected 'perm' of length %d (the input rank), got %d", rank, n);
  for (int i = 0; i < n; i++) {
    if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
      return tm_op_error(ctx, op, "'perm' %s is not a permutation of [0, %d)", ints_str(ctx, perm, n), rank);
    seen[perm[i]] = true;
  }
  return 0;
}

int tm_tmd_infer_transpose(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  int64_t perm[TM_MAX_RANK], dims[TM_MAX_RANK];
  int axis = -1;
  if (read_perm(ctx, op, x->rank, perm)) return -1;
  for (int i = 0; i < x->rank; i++) {
    dims[i] = x->dims[perm[i]];
    if (is_quant(x->elem) && x->elem->axis == perm[i]) axis = i;
  }
  return set_result(ctx, op, rt, with_axis(ctx, x->elem, axis), x->rank, dims);
}

int tm_tmd_verify_concat(tm_ctx *ctx, tm_op *op) { return check_activation(ctx, op); }

/* TFLite's int8/int16 concatenation copies bytes, so every input and the result share
 * one element type, quantization included. */
int tm_tmd_infer_concat(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  int64_t a, dims[TM_MAX_RANK];
  int axis = 0;
  if (op->noperands < 1) return tm_op_error(ctx, op, "expected at least one operand");
  if (get_int(ctx, op, "axis", true, 0, &a) || norm_axis(ctx, op, "axis", a, x->rank, &axis)) return -1;
  memcpy(dims, x->dims, (size_t)x->rank * sizeof(int64_t));
  for (int i = 1; i < op->noperands; i++) {
    const tm_type *t = operand_type(op, i);
    if (t->elem != x->elem)
      return tm_op_error(ctx, op, "expected operand #%d element type '%s' to match operand #0 element type '%s'", i,
                         tstr(ctx, t->elem), tstr(ctx, x->elem));
    if (t->rank != x->rank)
      return tm_op_error(ctx, op, "expected operand #%d of rank %d, got '%s'", i, x->rank, tstr(ctx, t));
    for (int d = 0; d < x->rank; d++)
      if (d != axis && t->dims[d] != x->dims[d])
        return tm_op_error(ctx, op, "expected operand #%d dimension %d to be %" PRId64 ", got %" PRId64, i, d,
                           x->dims[d], t->dims[d]);
    dims[axis] += t->dims[axis];
    if (dims[axis] > TM_MAX_ELEMS)
      return tm_op_error(ctx, op, "concatenated dimension %d is larger than 2^31", axis);
  }
  return set_result(ctx, op, rt, x->elem, x->rank, dims);
}

int tm_tmd_infer_pad(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  int st;
  const tm_attr *p = get_attr(ctx, op, "paddings", true, &st);
  int64_t dims[TM_MAX_RANK];
  if (!p) return st;
  if (p->kind != TM_ATTR_ARRAY || p->u.array.n != x->rank)
    return tm_op_error(ctx, op, "attribute 'paddings' must hold one [before, after] pair per dimension (%d)", x->rank);
  for (int i = 0; i < x->rank; i++) {
    int64_t ba[2];
    int n;
    if (!tm_attr_get_int_array(p->u.array.elts[i], 2, ba, &n) || n != 2)
      return tm_op_error(ctx, op, "attribute 'paddings' must hold one [before, after] pair per dimension (%d)",
                         x->rank);
    if (ba[0] < 0 || ba[1] < 0 || ba[0] > TM_MAX_ELEMS || ba[1] > TM_MAX_ELEMS)
      return tm_op_error(ctx, op, "expected paddings of dimension %d in [0, 2^31], got %s", i, ints_str(ctx, ba, 2));
    dims[i] = x->dims[i] + ba[0] + ba[1];
  }
  return set_result(ctx, op, rt, x->elem, x->rank, dims);
}

int tm_tmd_verify_strided_slice(tm_ctx *ctx, tm_op *op) {
  const tm_type *x = elem_of(operand_type(op, 0));
  if (is_quant(x) && !per_tensor(x))
    return tm_op_error(ctx, op, "expected an input quantized per tensor, got '%s'", tstr(ctx, x));
  return 0;
}

/* TFLite's strided_slice_logic.h: StartForAxis, StopForAxis and the output size. */
int tm_tmd_infer_strided_slice(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  int r = x->rank, n;
  int64_t begin[TM_MAX_RANK], end[TM_MAX_RANK], strides[TM_MAX_RANK], masks[3], dims[TM_MAX_RANK];
  static const char *const mask_names[] = {"begin_mask", "end_mask", "shrink_axis_mask"};
  if (get_ints(ctx, op, "begin", true, NULL, r, TM_MAX_RANK, begin, &n) ||
      get_ints(ctx, op, "end", true, NULL, r, TM_MAX_RANK, end, &n) ||
      get_ints(ctx, op, "strides", true, NULL, r, TM_MAX_RANK, strides, &n) ||
      check_range(ctx, op, "begin", begin, r, INT32_MIN, INT32_MAX) ||
      check_range(ctx, op, "end", end, r, INT32_MIN, INT32_MAX) ||
      check_range(ctx, op, "strides", strides, r, INT32_MIN, INT32_MAX))
    return -1;
  for (int i = 0; i < 3; i++)
    if (get_int(ctx, op, mask_names[i], false, 0, &masks[i]) ||
        check_range(ctx, op, mask_names[i], &masks[i], 1, 0, ((int64_t)1 << r) - 1))
      return -1;
  int rank = 0;
  for (int i = 0; i < r; i++) {
    int64_t size = x->dims[i], s = strides[i];
    bool shrink = masks[2] >> i & 1;
    if (s == 0) return tm_op_error(ctx, op, "expected non-zero 'strides', got %s", ints_str(ctx, strides, r));
    if (shrink) {
      if (begin[i] < -size || begin[i] >= size)
        return tm_op_error(ctx, op, "shrunk dimension %d: begin index %" PRId64 " is out of range for size %" PRId64, i,
                           begin[i], size);
      continue;
    }
    int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? size : size - 1;
    int64_t start = begin[i] < 0 ? begin[i] + size : begin[i], stop = end[i] < 0 ? end[i] + size : end[i];
    start = start < lo ? lo : start > hi ? hi : start;
    stop = stop < lo ? lo : stop > hi ? hi : stop;
    /* A masked bound is the extreme in the stride's direction (TFLite: the int limits). */
    if (masks[0] >> i & 1) start = s > 0 ? lo : hi;
    if (masks[1] >> i & 1) stop = s > 0 ? hi : lo;
    int64_t len = s > 0 ? (stop - start + s - 1) / s : (start - stop - s - 1) / -s;
    dims[rank++] = size == 0 || len < 0 ? 0 : len;
  }
  return set_result(ctx, op, rt, x->elem, rank, dims);
}

/* ------------------------------------------------------------ quantization -------- */
int tm_tmd_verify_quantize(tm_ctx *ctx, tm_op *op) {
  const tm_type *x = elem_of(operand_type(op, 0)), *y = elem_of(result_type(op));
  if (!is_float(x) && !is_qact(x))
    return tm_op_error(ctx, op, "expected a float input or one quantized per tensor with i8 or i16 storage, got '%s'",
                       tstr(ctx, x));
  if (!is_quant(y)) return tm_op_error(ctx, op, "expected a quantized result, got '%s'", tstr(ctx, y));
  if (is_quant(x)) return expect_qact(ctx, op, "result of a requantization", y);
  return 0;
}

int tm_tmd_infer_quantize(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0), *re = elem_of(result_type(op));
  return set_result(ctx, op, rt, re ? re : x->elem, x->rank, x->dims);
}

int tm_tmd_verify_dequantize(tm_ctx *ctx, tm_op *op) {
  const tm_type *x = elem_of(operand_type(op, 0));
  if (is_quant(x) || (x && x->kind == TM_TYPE_FLOAT && x->width == 16)) return 0;
  return tm_op_error(ctx, op, "expected a quantized or f16 input, got '%s'", tstr(ctx, x));
}

int tm_tmd_infer_dequantize(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  const tm_type *x = operand_type(op, 0);
  return set_result(ctx, op, rt, tm_type_float(ctx, 32), x->rank, x->dims);
}

/* -------------------------------------------------------------- batch norm -------- */
int tm_tmd_verify_batch_norm(tm_ctx *ctx, tm_op *op) {
  static const char *const names[] = {"x", "scale", "offset", "mean", "variance"};
  const tm_type *x = elem_of(operand_type(op, 0));
  double eps;
  if (get_float(ctx, op, "epsilon", 1e-5, &eps)) return -1;
  if (eps < 0) return tm_op_error(ctx, op, "expected a non-negative 'epsilon', got %g", eps);
  if (!is_float(x)) return tm_op_error(ctx, op, "expected x element type f16 or f32, got '%s'", tstr(ctx, x));
  for (int i = 1; i < op->noperands && i < 5; i++)
    if (elem_of(operand_type(op, i)) != x)
      return elem_mismatch(ctx, op, names[i], elem_of(operand_type(op, i)), "x", x);
  return 0;
}

int tm_tmd_infer_batch_norm(tm_ctx *ctx, tm_op *op, const tm_type **rt) {
  static const char *const names[] = {"x", "scale", "offset", "mean", "variance"};
  const tm_type *x = operand_type(op, 0);
  if (x->rank < 1) return tm_op_error(ctx, op, "expected x of rank >= 1, got '%s'", tstr(ctx, x));
  int64_t c = x->dims[x->rank - 1];
  for (int i = 1; i < op->noperands && i < 5; i++) {
    const tm_type *t = operand_type(op, i);
    if (t->rank != 1 || t->dims[0] != c)
      return tm_op_error(ctx, op, "expected %s of shape [%" PRId64 "] (the channels of x), got '%s'", names[i], c,
                         tstr(ctx, t));
  }
  return set_result(ctx, op, rt, x->elem, x->rank, x->dims);
}

/* ------------------------------------------------------------------- MACs --------- */
static int64_t dim(const tm_type *t, int i) {
  return t && tm_type_is_shaped(t) && i >= 0 && i < t->rank && t->dims[i] > 0 ? t->dims[i] : 0;
}
static int64_t count(const tm_type *t) {
  int64_t n = t ? tm_type_numel(t) : 0;
  return n > 0 ? n : 0;
}

int64_t tm_tmd_macs_none(const tm_op *op) {
  (void)op;
  return 0;
}
int64_t tm_tmd_macs_elementwise(const tm_op *op) { return count(result_type(op)); }

/* N*OH*OW*OC * KH*KW*IC */
int64_t tm_tmd_macs_conv2d(const tm_op *op) {
  const tm_type *w = operand_type(op, 1);
  return tm_tmd_sat_mul(count(result_type(op)), tm_tmd_sat_mul(dim(w, 1) * dim(w, 2), dim(w, 3)));
}
/* N*OH*OW*(C*M) * KH*KW */
int64_t tm_tmd_macs_depthwise(const tm_op *op) {
  const tm_type *w = operand_type(op, 1);
  return tm_tmd_sat_mul(count(result_type(op)), dim(w, 1) * dim(w, 2));
}
/* N*H*W*IC * KH*KW*OC: every input element meets every filter tap of its channel. */
int64_t tm_tmd_macs_transpose_conv(const tm_op *op) {
  const tm_type *w = operand_type(op, 1);
  return tm_tmd_sat_mul(count(operand_type(op, 0)), tm_tmd_sat_mul(dim(w, 0) * dim(w, 1), dim(w, 2)));
}
/* the convolution's MACs (conv_result) + the FULLY_CONNECTED's */
int64_t tm_tmd_macs_conv_fc(const tm_op *op) {
  const tm_attr *cr = tm_op_attr(op, "conv_result");
  const tm_type *w = operand_type(op, 1), *c = cr && cr->kind == TM_ATTR_TYPE ? cr->type : NULL;
  int64_t taps = dim(w, 1) * dim(w, 2) * (tm_op_is(op, "tm.depthwise_conv2d_fc") ? 1 : dim(w, 3));
  return tm_tmd_sat_mul(count(c), taps) + tm_tmd_sat_mul(count(result_type(op)), dim(operand_type(op, 3), 1));
}
/* batch*out * in */
int64_t tm_tmd_macs_fully_connected(const tm_op *op) {
  return tm_tmd_sat_mul(count(result_type(op)), dim(operand_type(op, 1), 1));
}
/* batch*M*N * K */
int64_t tm_tmd_macs_batch_matmul(const tm_op *op) {
  const tm_type *x = operand_type(op, 0);
  bool adj_x = tm_op_attr(op, "adj_x") && tm_op_attr(op, "adj_x")->kind == TM_ATTR_BOOL && tm_op_attr(op, "adj_x")->u.b;
  int r = x && tm_type_is_shaped(x) ? x->rank : 0;
  return tm_tmd_sat_mul(count(result_type(op)), dim(x, adj_x ? r - 2 : r - 1));
}
/* One accumulation per window element. */
int64_t tm_tmd_macs_avg_pool(const tm_op *op) {
  int64_t k[2] = {0, 0};
  int n = 0;
  if (!tm_attr_get_int_array(tm_op_attr(op, "filter"), 2, k, &n) || n != 2 || k[0] < 0 || k[1] < 0) return 0;
  return tm_tmd_sat_mul(count(result_type(op)), tm_tmd_sat_mul(k[0], k[1]));
}
int64_t tm_tmd_macs_mean(const tm_op *op) { return count(operand_type(op, 0)); }
