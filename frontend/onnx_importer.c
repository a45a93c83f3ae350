/* frontend/onnx_importer.c — an ONNX model (the main graph) as a module of tm ops.
 *
 * protobuf-c (generated at build time from Debian's onnx.proto) decodes and bounds-checks
 * the wire format.  This file checks what a graph needs beyond the schema (references to
 * defined values in topological order, initializer sizes against their dims, static
 * shapes, the opset) and maps each node to tm ops.
 *
 * Layout: the function keeps ONNX's NCHW inputs and outputs, and every value remembers
 * whether it is held in ONNX order or, for 4-D activations, in tm's NHWC order.  Ops that
 * need NHWC (convolutions, pooling) ask for it; layout-agnostic ops (elementwise, concat,
 * softmax over channels, ...) keep whatever they get, with constants re-laid out at
 * import; ops whose meaning depends on the element order (Reshape, Flatten, ...) ask for
 * ONNX order.  A tm.transpose is inserted only where a value crosses between the two,
 * and weights are converted at import (OIHW -> OHWI).  Result types come from the tm
 * ops' own shape inference, so value_info is not needed.  docs/import.md has the table. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "frontend/import_diag.h"
#include "onnx.pb-c.h"

#define MAX_ATTRS 8                  /* attributes of one tm op */
#define MAX_RANK 8                   /* tm's rank bound (TM_MAX_RANK) */
#define MAX_ELEMS (INT64_C(1) << 31) /* tm's bound on tensor sizes (ops.md) */
#define MAX_MASK (INT64_C(1) << 24)  /* elements of a constant the importer makes up */
#define MIN_OPSET 1
#define MAX_OPSET 18

/* One ONNX value (graph input, initializer or node output). */
typedef struct entry {
  const char *name;
  const tm_type *type;  /* in ONNX order */
  const uint8_t *data;  /* constant: elements of `type` in ONNX order, tm storage layout */
  tm_value *v;          /* the value as held ... */
  bool nhwc;            /* ... in NHWC order (4-D only) */
  tm_value *onnx, *tm;  /* cached conversions to ONNX order / NHWC order */
  bool defined, poisoned;
} entry;

typedef struct importer {
  tm_ctx *ctx;
  const char *file;
  const Onnx__GraphProto *g;
  int64_t opset;
  const tm_onnx_import_options *opt;
  tm_builder b;
  entry **table; /* open addressing by name */
  const tm_type **arg_types; /* the function's input types (DequantizeLinear may refine) */
  size_t cap;
  int nerrors;
} importer;

/* One node being imported. */
typedef struct node {
  importer *I;
  const Onnx__NodeProto *n;
  uint32_t index;
  const tm_loc *loc;
  entry *in[16]; /* inputs, NULL where absent ("") */
  int nin;
  bool as2d;     /* a 1-D window op imported as 2-D with H = 1 */
  entry *out0;   /* as2d: where output 0 goes instead of its entry */
} node;

/* error(I, loc, fmt, ...) -> false and error_null(...) -> NULL: frontend/import_diag.h */
#define error(I, ...) tm_import_error((I)->ctx, &(I)->nerrors, __VA_ARGS__)
#define error_null(I, ...) tm_import_error_null((I)->ctx, &(I)->nerrors, __VA_ARGS__)

/* "node 3 (Conv 'conv1')" for messages. */
static const char *node_desc(const node *o) {
  const char *nm = o->n->name && *o->n->name ? tm_arena_printf(o->I->ctx, " '%s'", o->n->name) : "";
  return tm_arena_printf(o->I->ctx, "node %" PRIu32 " (%s%s)", o->index, o->n->op_type, nm);
}

#define NODE_ERROR(o, fmt, ...) error((o)->I, (o)->loc, "%s: " fmt, node_desc(o), __VA_ARGS__)

/* ------------------------------------------------------------ names, locations ---- */
static const tm_loc *named_loc(importer *I, const char *what, uint32_t index, const char *name) {
  const char *s = tm_arena_printf(I->ctx, "%s:%s %" PRIu32, I->file, what, index);
  return tm_loc_name(I->ctx, s, name && *name ? tm_loc_name(I->ctx, name, NULL) : NULL);
}

static const tm_loc *value_loc(importer *I, const char *name) {
  return tm_loc_name(I->ctx, tm_arena_printf(I->ctx, "%s:value", I->file), tm_loc_name(I->ctx, name, NULL));
}

/* ------------------------------------------------------------- value table -------- */
static size_t hash_name(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static entry **slot(importer *I, const char *name) {
  size_t i = hash_name(name) & (I->cap - 1);
  while (I->table[i] && strcmp(I->table[i]->name, name)) i = (i + 1) & (I->cap - 1);
  return &I->table[i];
}

static entry *lookup(importer *I, const char *name) { return *slot(I, name); }

/* A new entry; NULL (after an error) if the name is already defined. */
static entry *define(importer *I, const char *name, const tm_loc *loc, const char *what) {
  entry **s = slot(I, name);
  if (*s) return error_null(I, loc, "%s '%s' is already defined", what, name);
  entry *e = TM_NEW(tm_ctx_arena(I->ctx), entry);
  e->name = name;
  return *s = e;
}

/* --------------------------------------------------------------------- types ------ */
static const tm_type *elem_type(tm_ctx *ctx, int32_t dt) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return tm_type_float(ctx, 32);
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return tm_type_float(ctx, 16);
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return tm_type_int(ctx, 8);
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return tm_type_int_signed(ctx, 8, TM_UNSIGNED);
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return tm_type_int(ctx, 16);
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return tm_type_int(ctx, 32);
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return tm_type_int(ctx, 64);
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return tm_type_int(ctx, 8); /* one byte, 0 or 1, as ONNX stores it */
  default: return NULL;
  }
}

static const char *dtype_name(int32_t dt) {
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&onnx__tensor_proto__data_type__descriptor, dt);
  return v ? v->name : "unknown";
}

/* tensor<dims x elem> with the size bound checked; NULL after an error at loc. */
static const tm_type *make_type(importer *I, const tm_loc *loc, const char *name, const tm_type *e, size_t rank,
                                const int64_t *dims) {
  if (rank > MAX_RANK)
    return error_null(I, loc, "value '%s' has rank %zu, more than the supported %d", name, rank, MAX_RANK);
  int64_t numel = 1;
  for (size_t i = 0; i < rank; i++) {
    if (dims[i] < 0) return error_null(I, loc, "value '%s' has negative dimension %" PRId64, name, dims[i]);
    if (dims[i] && (numel *= dims[i]) > MAX_ELEMS)
      return error_null(I, loc, "value '%s' has more than 2^31 elements", name);
  }
  return tm_type_tensor(I->ctx, e, (int)rank, dims);
}

static size_t elem_bytes(const tm_type *t) { return (tm_type_elem_bits(t) + 7) / 8; }

/* ----------------------------------------------------------------- constants ------ */
/* The elements of a TensorProto in tm storage layout (ONNX order), its type in *type. */
static const uint8_t *tensor_data(importer *I, const Onnx__TensorProto *t, const tm_loc *loc, const tm_type **type) {
  const char *name = t->name ? t->name : "";
  const tm_type *e = elem_type(I->ctx, t->data_type);
  if (!e)
    return error_null(I, loc, "tensor '%s' has element type %s, which is not supported", name,
                      dtype_name(t->data_type));
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return error_null(I, loc, "tensor '%s' keeps its data in an external file, which is not supported", name);
  const tm_type *ty = make_type(I, loc, name, e, t->n_dims, t->dims);
  if (!ty) return NULL;
  int64_t n = tm_type_numel(ty);
  size_t eb = elem_bytes(ty), nbytes = (size_t)n * eb;
  /* The bytes the file holds, checked before anything of the declared size is allocated. */
  size_t have;
  if (t->has_raw_data) have = t->raw_data.len; /* little-endian, ONNX's element size = tm's */
  else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) have = t->n_float_data * 4;
  else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) have = t->n_int64_data * 8;
  else have = t->n_int32_data * eb; /* the narrow integer types (and f16 bits), one per entry */
  if (have != nbytes)
    return error_null(I, loc, "tensor '%s' of type '%s' has %zu bytes of data, expected %zu", name,
                      tm_type_str(I->ctx, ty), have, nbytes);
  uint8_t *data = tm_arena_alloc(tm_ctx_arena(I->ctx), nbytes ? nbytes : 1, 16);
  *type = ty;
  if (!nbytes) return data;
  if (t->has_raw_data) {
    memcpy(data, t->raw_data.data, nbytes);
    if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
      for (size_t i = 0; i < nbytes; i++) data[i] = data[i] != 0;
  } else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    memcpy(data, t->float_data, nbytes);
  } else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) {
    memcpy(data, t->int64_data, nbytes);
  } else {
    for (size_t i = 0; i < t->n_int32_data; i++) {
      int32_t v = t->int32_data[i];
      if (eb == 4) {
        memcpy(data + 4 * i, &v, 4);
      } else if (eb == 2) {
        uint16_t h = (uint16_t)v;
        memcpy(data + 2 * i, &h, 2);
      } else {
        data[i] = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? v != 0 : (uint8_t)v;
      }
    }
  }
  return data;
}

static tm_value *make_const(importer *I, const tm_type *type, const uint8_t *data, const tm_loc *loc) {
  int64_t n = tm_type_numel(type);
  size_t eb = elem_bytes(type);
  bool splat = n > 1;
  for (int64_t i = 1; splat && i < n; i++) splat = memcmp(data, data + (size_t)i * eb, eb) == 0;
  const tm_type *st = tm_type_with_elem(I->ctx, type, tm_type_storage(type->elem));
  const tm_attr *value = tm_attr_dense(I->ctx, st, splat, data, splat ? eb : (size_t)n * eb);
  if (!value) return error_null(I, loc, "cannot hold a constant of type '%s'", tm_type_str(I->ctx, type));
  tm_builder b = I->b;
  b.loc = loc;
  return tm_op_result(tm_build_const(&b, value, type), 0);
}

static tm_value *const_f32(importer *I, int rank, const int64_t *dims, const float *v, const tm_loc *loc) {
  return make_const(I, tm_type_tensor(I->ctx, tm_type_float(I->ctx, 32), rank, dims), (const uint8_t *)v, loc);
}

/* Permute the elements of a constant: result dim i is input dim perm[i]. */
static uint8_t *permute_data(importer *I, const tm_type *t, const uint8_t *src, const int *perm, int64_t *out_dims) {
  int r = t->rank;
  size_t eb = elem_bytes(t);
  int64_t n = tm_type_numel(t), in_stride[MAX_RANK], idx[MAX_RANK] = {0};
  for (int64_t i = r - 1, s = 1; i >= 0; i--) in_stride[i] = s, s *= t->dims[i];
  for (int i = 0; i < r; i++) out_dims[i] = t->dims[perm[i]];
  uint8_t *dst = tm_arena_alloc(tm_ctx_arena(I->ctx), n ? (size_t)n * eb : 1, 16);
  for (int64_t k = 0; k < n; k++) {
    int64_t off = 0;
    for (int i = 0; i < r; i++) off += idx[i] * in_stride[perm[i]];
    memcpy(dst + (size_t)k * eb, src + (size_t)off * eb, eb);
    for (int i = r - 1; i >= 0 && ++idx[i] == out_dims[i]; i--) idx[i] = 0;
  }
  return dst;
}

/* ------------------------------------------------------------ building ops -------- */
static const tm_attr *ints_attr(importer *I, int n, const int64_t *v) { return tm_attr_int_array(I->ctx, n, v); }

/* Build a tm op whose result type comes from its shape inference; `rt` gives the result
 * type where it is the op's input (reshape, quantize).  The verifier runs on the whole
 * module afterwards.  NULL after an error located at the node (counted by the caller's
 * poisoning, reported by the infer hook). */
static tm_value *build(node *o, const char *name, int nops, tm_value *const *ops, int nattrs,
                       const tm_named_attr *attrs, const tm_type *rt) {
  importer *I = o->I;
  const tm_type *placeholder = rt ? rt : ops[0]->type;
  tm_named_attr a[MAX_ATTRS];
  for (int i = 0; i < nattrs; i++) a[i] = (tm_named_attr){tm_intern_cstr(I->ctx, attrs[i].name), attrs[i].value};
  tm_op_state st = {.name = name, .loc = o->loc, .noperands = nops, .operands = ops, .nresults = 1,
                    .result_types = &placeholder, .nattrs = nattrs, .attrs = a};
  tm_op *op = tm_build(&I->b, &st);
  const tm_type *types[1] = {placeholder};
  if (op->def->infer && op->def->infer(I->ctx, op, types)) {
    I->nerrors++; /* reported by the hook */
    return NULL;
  }
  op->results[0].type = types[0];
  return tm_op_result(op, 0);
}

static tm_value *build1(node *o, const char *name, tm_value *x) { return build(o, name, 1, &x, 0, NULL, NULL); }

static tm_value *build2(node *o, const char *name, tm_value *x, tm_value *y) {
  tm_value *ops[2] = {x, y};
  return build(o, name, 2, ops, 0, NULL, NULL);
}

static tm_value *reshape(node *o, tm_value *x, int r, const int64_t *dims);

/* A permutation that only moves size-1 dimensions keeps the element order: a reshape. */
static tm_value *transpose(node *o, tm_value *x, int r, const int *perm) {
  int64_t p[MAX_RANK], d[MAX_RANK];
  int last = -1;
  bool order_kept = true;
  for (int i = 0; i < r; i++) {
    d[i] = x->type->dims[perm[i]];
    if (d[i] == 1) continue;
    order_kept &= perm[i] > last;
    last = perm[i];
  }
  if (order_kept) return reshape(o, x, r, d);
  for (int i = 0; i < r; i++) p[i] = perm[i];
  tm_named_attr a = {"perm", ints_attr(o->I, r, p)};
  return build(o, "tm.transpose", 1, &x, 1, &a, NULL);
}

static tm_value *reshape(node *o, tm_value *x, int r, const int64_t *dims) {
  const tm_type *t = tm_type_tensor(o->I->ctx, tm_type_elem(x->type), r, dims);
  return build(o, "tm.reshape", 1, &x, 0, NULL, t);
}

static const int TO_NHWC[4] = {0, 2, 3, 1}, TO_NCHW[4] = {0, 3, 1, 2};
static const int NHWC_AXIS[4] = {0, 3, 1, 2}; /* ONNX axis a is NHWC axis NHWC_AXIS[a] */

/* The value in ONNX order. */
static tm_value *val_onnx(node *o, entry *e) {
  importer *I = o->I;
  if (e->onnx) return e->onnx;
  if (e->data) return e->onnx = make_const(I, e->type, e->data, value_loc(I, e->name));
  if (!e->nhwc) return e->onnx = e->v;
  return e->onnx = transpose(o, e->v, 4, TO_NCHW);
}

/* The 4-D value in NHWC order. */
static tm_value *val_nhwc(node *o, entry *e) {
  importer *I = o->I;
  if (e->tm) return e->tm;
  if (e->type->rank != 4)
    return error_null(I, o->loc, "%s: expected a 4-D (NCHW) input, got '%s'", node_desc(o), tm_type_str(I->ctx, e->type));
  if (e->data) {
    int64_t dims[4];
    uint8_t *d = permute_data(I, e->type, e->data, TO_NHWC, dims);
    return e->tm = make_const(I, tm_type_with_elem(I->ctx, tm_type_tensor(I->ctx, e->type->elem, 4, dims), e->type->elem), d,
                              value_loc(I, e->name));
  }
  if (e->nhwc) return e->tm = e->v;
  return e->tm = transpose(o, e->v, 4, TO_NHWC);
}

/* Define node output k as v, held in NHWC order if nhwc. */
static bool set_output(node *o, int k, tm_value *v, bool nhwc) {
  if (!v) return false;
  importer *I = o->I;
  if ((size_t)k >= o->n->n_output || !*o->n->output[k]) return true; /* unused optional output */
  entry *e = k == 0 && o->out0 ? o->out0 : lookup(I, o->n->output[k]);
  const tm_type *t = v->type;
  if (nhwc) {
    int64_t d[4] = {t->dims[0], t->dims[3], t->dims[1], t->dims[2]};
    t = tm_type_tensor(I->ctx, t->elem, 4, d);
  }
  e->type = t;
  e->v = v;
  e->nhwc = nhwc;
  if (nhwc) e->tm = v;
  else e->onnx = v;
  e->defined = true;
  return true;
}

/* ---------------------------------------------------------------- attributes ------ */
static const Onnx__AttributeProto *attr(const node *o, const char *name) {
  for (size_t i = 0; i < o->n->n_attribute; i++)
    if (o->n->attribute[i]->name && !strcmp(o->n->attribute[i]->name, name)) return o->n->attribute[i];
  return NULL;
}

static int64_t attr_int(const node *o, const char *name, int64_t dflt) {
  const Onnx__AttributeProto *a = attr(o, name);
  return a && a->has_i ? a->i : dflt;
}

static float attr_float(const node *o, const char *name, float dflt) {
  const Onnx__AttributeProto *a = attr(o, name);
  return a && a->has_f ? a->f : dflt;
}

static const char *attr_str(const node *o, const char *name, const char *dflt) {
  const Onnx__AttributeProto *a = attr(o, name);
  if (!a || !a->has_s) return dflt;
  char *s = tm_arena_alloc(tm_ctx_arena(o->I->ctx), a->s.len + 1, 1);
  if (a->s.len) memcpy(s, a->s.data, a->s.len);
  return s;
}

/* An ints attribute of at most max values: true if present. */
static bool attr_ints(node *o, const char *name, int max, int64_t *v, int *n, bool *ok) {
  const Onnx__AttributeProto *a = attr(o, name);
  *ok = true;
  if (!a) return false;
  if (a->n_ints > (size_t)max) *ok = NODE_ERROR(o, "attribute '%s' has %zu values, at most %d supported", name, a->n_ints, max);
  else {
    if (a->n_ints) memcpy(v, a->ints, a->n_ints * sizeof *v);
    *n = (int)a->n_ints;
  }
  if (*ok && o->as2d && a->n_ints <= 2 && (size_t)max >= 2 * a->n_ints) {
    /* 1-D windows as 2-D ones of height 1: [k] -> [1, k]; pads [b, e] -> [0, b, 0, e] */
    bool is_pads = !strcmp(name, "pads"), is_count = !strcmp(name, "output_padding");
    int64_t w[4];
    if (is_pads && a->n_ints == 2) w[0] = 0, w[1] = v[0], w[2] = 0, w[3] = v[1], *n = 4;
    else if (a->n_ints == 1) w[0] = is_count ? 0 : 1, w[1] = v[0], *n = 2;
    else return true;
    memcpy(v, w, (size_t)*n * sizeof *v);
  }
  return true;
}

/* Integer values of a constant input (shapes, axes, pads): false after an error. */
static bool const_ints(node *o, int k, const char *what, int max, int64_t *v, int *n) {
  entry *e = k < o->nin ? o->in[k] : NULL;
  if (!e) return NODE_ERROR(o, "input %d (%s) is missing", k, what);
  if (!e->data)
    return NODE_ERROR(o, "input %d (%s) must be a constant (an initializer or Constant node)", k, what);
  const tm_type *el = e->type->elem;
  if (el->kind != TM_TYPE_INT || (el->width != 64 && el->width != 32))
    return NODE_ERROR(o, "input %d (%s) must hold int64 or int32 values", k, what);
  int64_t cnt = tm_type_numel(e->type);
  if (cnt > max) return NODE_ERROR(o, "input %d (%s) has %" PRId64 " values, at most %d supported", k, what, cnt, max);
  for (int64_t i = 0; i < cnt; i++) {
    if (el->width == 64) memcpy(&v[i], e->data + 8 * i, 8);
    else {
      int32_t x;
      memcpy(&x, e->data + 4 * i, 4);
      v[i] = x;
    }
  }
  *n = (int)cnt;
  return true;
}

/* Float values of a constant input: NULL if it is not a float constant. */
static const float *const_floats(const entry *e) {
  return e && e->data && e->type->elem->kind == TM_TYPE_FLOAT && e->type->elem->width == 32 ? (const float *)e->data
                                                                                              : NULL;
}

static bool norm_axis(node *o, int64_t *axis, int rank) {
  if (*axis < -rank || *axis >= rank)
    return NODE_ERROR(o, "axis %" PRId64 " is out of range for rank %d", *axis, rank);
  if (*axis < 0) *axis += rank;
  return true;
}

static bool expect_f32(node *o, const entry *e) {
  const tm_type *el = e->type->elem;
  if (el->kind == TM_TYPE_FLOAT && el->width == 32) return true;
  return NODE_ERROR(o, "input '%s' has element type '%s'; this operator is imported for f32 only", e->name,
                    tm_type_str(o->I->ctx, el));
}

/* ----------------------------------------------------------------- operators ------ */
/* Elementwise unary ops keep the input's layout. */
static bool unary(node *o, const char *name, int nattrs, const tm_named_attr *attrs) {
  entry *x = o->in[0];
  tm_value *v = x->nhwc ? x->v : val_onnx(o, x);
  return v && set_output(o, 0, build(o, name, 1, &v, nattrs, attrs, NULL), x->nhwc);
}

static bool op_relu(node *o) { return unary(o, "tm.relu", 0, NULL); }
static bool op_sigmoid(node *o) { return unary(o, "tm.logistic", 0, NULL); }
static bool op_tanh(node *o) { return unary(o, "tm.tanh", 0, NULL); }
static bool op_hard_swish(node *o) { return unary(o, "tm.hard_swish", 0, NULL); }

static bool op_identity(node *o) {
  entry *x = o->in[0], *y = lookup(o->I, o->n->output[0]);
  const char *name = y->name;
  *y = *x;
  y->name = name;
  y->defined = true;
  return true;
}

/* Dropout at inference is the identity, its mask all true (a constant); training mode
 * (random) is not supported. */
static bool op_dropout(node *o) {
  entry *t = o->nin > 2 ? o->in[2] : NULL, *x = o->in[0];
  if (attr_int(o, "is_test", 1) == 0 && o->I->opset < 7) return NODE_ERROR(o, "%s", "training mode is not supported");
  if (t && (!t->data || t->data[0])) return NODE_ERROR(o, "%s", "training mode is not supported");
  if (o->n->n_output > 1 && *o->n->output[1]) {
    int64_t n = tm_type_numel(x->type);
    if (n > MAX_MASK) return NODE_ERROR(o, "%s", "the mask output is too large");
    uint8_t *ones = tm_arena_alloc(tm_ctx_arena(o->I->ctx), n ? (size_t)n : 1, 16);
    memset(ones, 1, n ? (size_t)n : 1);
    entry *m = lookup(o->I, o->n->output[1]);
    m->type = tm_type_with_elem(o->I->ctx, x->type, tm_type_int(o->I->ctx, 8));
    m->data = ones;
    m->defined = true;
  }
  return op_identity(o);
}

static bool op_leaky_relu(node *o) {
  tm_named_attr a = {"alpha", tm_attr_float(o->I->ctx, tm_type_float(o->I->ctx, 32), attr_float(o, "alpha", 0.01f))};
  return unary(o, "tm.leaky_relu", 1, &a);
}

/* Broadcasting binary ops: in NHWC when the non-constant operands are, with constant
 * operands broadcast to 4-D and re-laid out; otherwise in ONNX order. */
static bool binary_values(node *o, entry *a, entry *b, tm_value **va, tm_value **vb, bool *nhwc) {
  bool an = a->nhwc && !a->data, bn = b->nhwc && !b->data;
  *nhwc = (an || bn) && (an || b->data || b->type->rank == 0) && (bn || a->data || a->type->rank == 0) &&
          a->type->rank <= 4 && b->type->rank <= 4;
  entry *pair[2] = {a, b};
  tm_value **out[2] = {va, vb};
  for (int i = 0; i < 2; i++) {
    entry *e = pair[i];
    if (!*nhwc || e->nhwc) {
      *out[i] = *nhwc ? e->v : val_onnx(o, e);
    } else { /* a constant: align it to 4-D, then NHWC */
      int64_t d[4] = {1, 1, 1, 1};
      for (int k = 0; k < e->type->rank; k++) d[4 - e->type->rank + k] = e->type->dims[k];
      const tm_type *t4 = tm_type_tensor(o->I->ctx, e->type->elem, 4, d);
      int64_t pd[4];
      uint8_t *data = permute_data(o->I, t4, e->data, TO_NHWC, pd);
      *out[i] = make_const(o->I, tm_type_tensor(o->I->ctx, e->type->elem, 4, pd), data, value_loc(o->I, e->name));
    }
    if (!*out[i]) return false;
  }
  return true;
}

static bool binary(node *o, const char *name) {
  tm_value *a, *b;
  bool nhwc;
  if (!binary_values(o, o->in[0], o->in[1], &a, &b, &nhwc)) return false;
  return set_output(o, 0, build2(o, name, a, b), nhwc);
}

static bool op_add(node *o) { return binary(o, "tm.add"); }
static bool op_sub(node *o) { return binary(o, "tm.sub"); }
static bool op_mul(node *o) { return binary(o, "tm.mul"); }

static bool op_div(node *o) { return binary(o, "tm.div"); }

/* x clamped to [lo, hi] with tm.relu / relu6 where they fit, else maximum / minimum
 * with scalar constants. */
static bool clamp(node *o, entry *x, float lo, float hi) {
  tm_value *v = x->nhwc ? x->v : val_onnx(o, x);
  if (!v) return false;
  if (lo == 0 && hi == 6) return set_output(o, 0, build1(o, "tm.relu6", v), x->nhwc);
  if (lo == 0 && isinf(hi) && hi > 0) return set_output(o, 0, build1(o, "tm.relu", v), x->nhwc);
  int64_t one = 1;
  if (!(isinf(lo) && lo < 0)) v = build2(o, "tm.maximum", v, const_f32(o->I, 1, &one, &lo, o->loc));
  if (v && !(isinf(hi) && hi > 0)) v = build2(o, "tm.minimum", v, const_f32(o->I, 1, &one, &hi, o->loc));
  return set_output(o, 0, v, x->nhwc);
}

/* Integer Clip: maximum / minimum with constants of the input's type. */
static bool clip_int(node *o) {
  entry *x = o->in[0];
  const tm_type *el = x->type->elem;
  tm_value *v = x->nhwc ? x->v : val_onnx(o, x);
  int64_t one = 1;
  const tm_type *t1 = tm_type_tensor(o->I->ctx, el, 1, &one);
  for (int k = 1; k <= 2 && v; k++) {
    entry *c = k < o->nin ? o->in[k] : NULL;
    if (!c) continue;
    if (!c->data || c->type->elem != el || tm_type_numel(c->type) != 1)
      return NODE_ERROR(o, "input %d (%s) must be a scalar constant of the input's type", k, k == 1 ? "min" : "max");
    v = build2(o, k == 1 ? "tm.maximum" : "tm.minimum", v, make_const(o->I, t1, c->data, o->loc));
  }
  return set_output(o, 0, v, x->nhwc);
}

static bool op_clip(node *o) {
  float lo = -INFINITY, hi = INFINITY;
  const tm_type *el = o->in[0]->type->elem;
  if (el->kind == TM_TYPE_INT && el->width >= 8 && o->I->opset >= 11) return clip_int(o);
  if (!expect_f32(o, o->in[0])) return false;
  if (o->I->opset < 11) {
    lo = attr_float(o, "min", lo), hi = attr_float(o, "max", hi);
  } else {
    for (int k = 1; k <= 2; k++) {
      if (k >= o->nin || !o->in[k]) continue;
      const float *f = const_floats(o->in[k]);
      if (!f || tm_type_numel(o->in[k]->type) != 1)
        return NODE_ERROR(o, "input %d (%s) must be a scalar f32 constant", k, k == 1 ? "min" : "max");
      *(k == 1 ? &lo : &hi) = f[0];
    }
  }
  return clamp(o, o->in[0], lo, hi);
}

/* max(0, min(1, alpha * x + beta)) */
static bool op_hard_sigmoid(node *o) {
  entry *x = o->in[0];
  if (!expect_f32(o, x)) return false;
  float alpha = attr_float(o, "alpha", 0.2f), beta = attr_float(o, "beta", 0.5f), zero = 0, one = 1;
  int64_t d1 = 1;
  tm_value *v = x->nhwc ? x->v : val_onnx(o, x);
  if (v) v = build2(o, "tm.mul", v, const_f32(o->I, 1, &d1, &alpha, o->loc));
  if (v) v = build2(o, "tm.add", v, const_f32(o->I, 1, &d1, &beta, o->loc));
  if (v) v = build2(o, "tm.maximum", v, const_f32(o->I, 1, &d1, &zero, o->loc));
  if (v) v = build2(o, "tm.minimum", v, const_f32(o->I, 1, &d1, &one, o->loc));
  return set_output(o, 0, v, x->nhwc);
}

/* Softmax over one axis (opset >= 13), or over the flattened trailing dims from axis on
 * (opset < 13). */
static bool op_softmax(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  int r = x->type->rank;
  int64_t axis = attr_int(o, "axis", I->opset >= 13 ? -1 : 1);
  if (!norm_axis(o, &axis, r ? r : 1)) return false;
  if (r == 0) return NODE_ERROR(o, "%s", "softmax of a scalar is not supported");
  if (x->nhwc && !x->data && axis == 1 && I->opset >= 13)
    return set_output(o, 0, build1(o, "tm.softmax", x->v), true); /* channels are last in NHWC */
  tm_value *v = val_onnx(o, x);
  if (!v) return false;
  if (I->opset < 13) {
    int64_t d[2] = {1, 1};
    for (int i = 0; i < r; i++) d[i < axis ? 0 : 1] *= x->type->dims[i];
    if (!(v = reshape(o, v, 2, d)) || !(v = build1(o, "tm.softmax", v))) return false;
    return set_output(o, 0, reshape(o, v, r, x->type->dims), false);
  }
  if (axis == r - 1) return set_output(o, 0, build1(o, "tm.softmax", v), false);
  int perm[MAX_RANK];
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[axis] = r - 1, perm[r - 1] = (int)axis; /* a swap is its own inverse */
  if (!(v = transpose(o, v, r, perm)) || !(v = build1(o, "tm.softmax", v))) return false;
  return set_output(o, 0, transpose(o, v, r, perm), false);
}

/* ---- convolution and pooling ---- */
typedef struct window {
  int64_t k[2], s[2], d[2], pads[4]; /* pads: top, left, bottom, right */
  const char *padding;               /* "same" / "valid", or NULL: explicit pads needed */
} window;

/* kernel, strides, dilations, pads/auto_pad of a 2-D window over in[2] (H, W). */
static bool read_window(node *o, const int64_t *in, const int64_t *kernel, window *w) {
  int64_t v[8];
  int n;
  bool ok;
  for (int i = 0; i < 2; i++) w->k[i] = kernel[i], w->s[i] = 1, w->d[i] = 1, w->pads[i] = w->pads[i + 2] = 0;
  if (attr_ints(o, "strides", 2, v, &n, &ok) && ok) {
    if (n != 2) return NODE_ERROR(o, "strides has %d values, expected 2", n);
    w->s[0] = v[0], w->s[1] = v[1];
  }
  if (!ok) return false;
  if (attr_ints(o, "dilations", 2, v, &n, &ok) && ok) {
    if (n != 2) return NODE_ERROR(o, "dilations has %d values, expected 2", n);
    w->d[0] = v[0], w->d[1] = v[1];
  }
  if (!ok) return false;
  for (int i = 0; i < 2; i++)
    if (w->s[i] < 1 || w->d[i] < 1 || w->k[i] < 1 || w->s[i] > 65536 || w->d[i] > 65536 || w->k[i] > 65536)
      return NODE_ERROR(o, "%s", "kernel, strides and dilations must be in [1, 65536]");
  const char *auto_pad = attr_str(o, "auto_pad", "NOTSET");
  if (!strcmp(auto_pad, "NOTSET")) {
    if (attr_ints(o, "pads", 4, v, &n, &ok) && ok) {
      if (n != 4) return NODE_ERROR(o, "pads has %d values, expected 4", n);
      /* ONNX: [top, left, bottom, right] */
      for (int i = 0; i < 4; i++) {
        if (v[i] < 0 || v[i] > 65536) return NODE_ERROR(o, "pad %" PRId64 " is out of range", v[i]);
        w->pads[i] = v[i];
      }
    }
    if (!ok) return false;
  } else if (strcmp(auto_pad, "VALID")) {
    bool upper = !strcmp(auto_pad, "SAME_UPPER");
    if (!upper && strcmp(auto_pad, "SAME_LOWER")) return NODE_ERROR(o, "unknown auto_pad '%s'", auto_pad);
    for (int i = 0; i < 2; i++) {
      int64_t out = (in[i] + w->s[i] - 1) / w->s[i], dk = (w->k[i] - 1) * w->d[i] + 1;
      int64_t total = (out - 1) * w->s[i] + dk - in[i];
      if (total < 0) total = 0;
      w->pads[i] = upper ? total / 2 : total - total / 2;
      w->pads[i + 2] = total - w->pads[i];
    }
  }
  /* TFLite's "same" puts the odd pad at the end; "valid" has none. */
  bool same = true, valid = true;
  for (int i = 0; i < 2; i++) {
    int64_t out = (in[i] + w->s[i] - 1) / w->s[i], dk = (w->k[i] - 1) * w->d[i] + 1;
    int64_t total = (out - 1) * w->s[i] + dk - in[i];
    if (total < 0) total = 0;
    same &= w->pads[i] == total / 2 && w->pads[i + 2] == total - total / 2;
    valid &= w->pads[i] == 0 && w->pads[i + 2] == 0;
    if (in[i] + w->pads[i] + w->pads[i + 2] < dk) return NODE_ERROR(o, "%s", "the window is larger than the padded input");
  }
  w->padding = valid ? "valid" : same ? "same" : NULL;
  return true;
}

/* Pad NHWC x explicitly by the window's pads (zeros). */
static tm_value *pad_hw(node *o, tm_value *x, const window *w) {
  importer *I = o->I;
  int64_t p[4][2] = {{0, 0}, {w->pads[0], w->pads[2]}, {w->pads[1], w->pads[3]}, {0, 0}};
  const tm_attr *pairs[4];
  for (int i = 0; i < 4; i++) pairs[i] = ints_attr(I, 2, p[i]);
  tm_named_attr a = {"paddings", tm_attr_array(I->ctx, 4, pairs)};
  return build(o, "tm.pad", 1, &x, 1, &a, NULL);
}

static bool only_2d(node *o, const entry *x) {
  if (x->type->rank == 4) return true;
  return NODE_ERROR(o, "only 2-D windows (4-D NCHW inputs) are supported, got '%s'", tm_type_str(o->I->ctx, x->type));
}

/* Conv: OIHW weights become OHWI (group 1) or [1, KH, KW, C * M] (depthwise); other
 * groups are split into per-group convolutions. */
static bool conv_group(node *o, tm_value *x, const entry *wt, int64_t g0, int64_t gsz, tm_value *bias, const window *w,
                       tm_value **out) {
  importer *I = o->I;
  const tm_type *t = wt->type;
  int64_t O = t->dims[0], CI = t->dims[1], KH = t->dims[2], KW = t->dims[3];
  size_t eb = elem_bytes(t);
  int64_t slice_dims[4] = {gsz, CI, KH, KW};
  const tm_type *st = tm_type_tensor(I->ctx, t->elem, 4, slice_dims);
  const uint8_t *src = wt->data + (size_t)(g0 * CI * KH * KW) * eb;
  int64_t fd[4];
  uint8_t *f = permute_data(I, st, src, TO_NHWC, fd);
  (void)O;
  tm_value *ops[3] = {x, make_const(I, tm_type_tensor(I->ctx, t->elem, 4, fd), f, value_loc(I, wt->name)), bias};
  int64_t s[2] = {w->s[0], w->s[1]}, d[2] = {w->d[0], w->d[1]};
  tm_named_attr a[3] = {{"padding", tm_attr_cstr(I->ctx, "valid")}, {"stride", ints_attr(I, 2, s)},
                        {"dilation", ints_attr(I, 2, d)}};
  return (*out = build(o, "tm.conv2d", bias ? 3 : 2, ops, 3, a, NULL)) != NULL;
}

static bool op_conv(node *o) {
  importer *I = o->I;
  entry *x = o->in[0], *wt = o->in[1], *b = o->nin > 2 ? o->in[2] : NULL;
  if (!expect_f32(o, x) || !only_2d(o, x)) return false;
  if (wt->type->rank != 4 || wt->type->elem != x->type->elem) return NODE_ERROR(o, "%s", "the weights must be 4-D f32");
  const tm_type *t = wt->type;
  int64_t group = attr_int(o, "group", 1), C = x->type->dims[1], O = t->dims[0];
  if (group < 1 || C % group || O % group || t->dims[1] != C / group)
    return NODE_ERROR(o, "weights '%s' do not fit input '%s' with group %" PRId64, tm_type_str(I->ctx, t),
                      tm_type_str(I->ctx, x->type), group);
  int64_t ks[2] = {t->dims[2], t->dims[3]}, v[2];
  int n;
  bool ok;
  if (attr_ints(o, "kernel_shape", 2, v, &n, &ok) && ok && (n != 2 || v[0] != ks[0] || v[1] != ks[1]))
    return NODE_ERROR(o, "%s", "kernel_shape does not match the weights");
  window w;
  if (!ok || !read_window(o, x->type->dims + 2, ks, &w)) return false;
  tm_value *in = val_nhwc(o, x), *bias = NULL;
  if (!in) return false;
  if (b && b->type->rank != 1) return NODE_ERROR(o, "%s", "the bias must be 1-D");
  if (!w.padding && !(in = pad_hw(o, in, &w))) return false;
  const char *padding = w.padding ? w.padding : "valid";
  int64_t s[2] = {w.s[0], w.s[1]}, d[2] = {w.d[0], w.d[1]};
  tm_value *y;
  if (group == 1 || (group == C && t->dims[1] == 1 && group > 1)) {
    if (b && !(bias = val_onnx(o, b))) return false;
    int64_t fd[4];
    uint8_t *f;
    const char *op = "tm.conv2d";
    int na = 3;
    tm_named_attr a[4] = {{"padding", tm_attr_cstr(I->ctx, padding)}, {"stride", ints_attr(I, 2, s)},
                          {"dilation", ints_attr(I, 2, d)}};
    /* [C*M, 1, KH, KW] -> [1, KH, KW, C*M] for depthwise: output channel c*M + m in both. */
    static const int DW[4] = {1, 2, 3, 0};
    const int *perm = group == 1 ? TO_NHWC : DW;
    if (group != 1) {
      op = "tm.depthwise_conv2d";
      if (O / C != 1) a[na++] = (tm_named_attr){"depth_multiplier", tm_attr_int(I->ctx, NULL, O / C)};
    }
    tm_value *filter;
    if (wt->data) { /* re-laid out at import */
      f = permute_data(I, t, wt->data, perm, fd);
      filter = make_const(I, tm_type_tensor(I->ctx, t->elem, 4, fd), f, value_loc(I, wt->name));
    } else {        /* weights computed at run time: transposed there */
      filter = val_onnx(o, wt);
      if (!filter || !(filter = transpose(o, filter, 4, perm))) return false;
    }
    tm_value *ops[3] = {in, filter, bias};
    y = build(o, op, bias ? 3 : 2, ops, na, a, NULL);
  } else {
    /* Grouped: slice the input channels, convolve each group, concatenate. */
    if (!wt->data) return NODE_ERROR(o, "%s", "a grouped convolution's weights must be a constant");
    if (w.padding && strcmp(w.padding, "valid") && !(in = pad_hw(o, in, &w))) return false;
    if (group > 64) return NODE_ERROR(o, "group %" PRId64 " is more than the supported 64", group);
    tm_value **parts = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), tm_value *, group);
    const tm_type *it = in->type;
    int64_t cg = C / group, og = O / group;
    for (int64_t g = 0; g < group; g++) {
      int64_t bg[4] = {0, 0, 0, g * cg}, en[4] = {it->dims[0], it->dims[1], it->dims[2], (g + 1) * cg}, st[4] = {1, 1, 1, 1};
      tm_named_attr a[3] = {{"begin", ints_attr(I, 4, bg)}, {"end", ints_attr(I, 4, en)}, {"strides", ints_attr(I, 4, st)}};
      tm_value *xg = build(o, "tm.strided_slice", 1, &in, 3, a, NULL), *bg_v = NULL;
      if (!xg) return false;
      if (b) {
        if (!const_floats(b)) return NODE_ERROR(o, "%s", "a grouped convolution's bias must be an f32 constant");
        bg_v = const_f32(I, 1, &og, const_floats(b) + g * og, value_loc(I, b->name));
      }
      if (!conv_group(o, xg, wt, g * og, og, bg_v, &w, &parts[g])) return false;
    }
    tm_named_attr a = {"axis", tm_attr_int(I->ctx, NULL, 3)};
    y = build(o, "tm.concat", (int)group, parts, 1, &a, NULL);
  }
  return set_output(o, 0, y, true);
}

/* ConvTranspose as a convolution (tm.transpose_conv has no kernel, and TFLite's cannot
 * express ONNX's pads, output_padding or dilations): the input upsampled with zeros
 * (reshape to [N, H, 1, W, 1, C], pad, reshape), padded by the dilated kernel size - 1,
 * cropped to ONNX's pads, then a "valid" tm.conv2d with the kernel flipped and its
 * channels swapped: F[o, kh, kw, c] = W[c, o, KH-1-kh, KW-1-kw]. */
static bool op_conv_transpose(node *o) {
  importer *I = o->I;
  entry *x = o->in[0], *wt = o->in[1], *b = o->nin > 2 ? o->in[2] : NULL;
  if (!expect_f32(o, x) || !only_2d(o, x)) return false;
  if (wt->type->rank != 4 || wt->type->elem != x->type->elem) return NODE_ERROR(o, "%s", "the weights must be 4-D f32");
  const tm_type *t = wt->type;
  if (attr_int(o, "group", 1) != 1) return NODE_ERROR(o, "%s", "only group 1 is supported");
  if (t->dims[0] != x->type->dims[1]) return NODE_ERROR(o, "%s", "the weights do not fit the input channels");
  int64_t s[2] = {1, 1}, d[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, opad[2] = {0, 0}, oshape[2] = {-1, -1}, v[4];
  int64_t k[2] = {t->dims[2], t->dims[3]}, in[2] = {x->type->dims[2], x->type->dims[3]};
  int n;
  bool ok;
  struct { const char *name; int64_t *dst; int count; } lists[] = {
      {"strides", s, 2}, {"dilations", d, 2}, {"pads", pads, 4}, {"output_padding", opad, 2}};
  for (size_t i = 0; i < TM_COUNTOF(lists); i++) {
    if (attr_ints(o, lists[i].name, 4, v, &n, &ok) && ok) {
      if (n != lists[i].count) return NODE_ERROR(o, "%s has %d values, expected %d", lists[i].name, n, lists[i].count);
      if (n) memcpy(lists[i].dst, v, (size_t)n * sizeof *v);
    }
    if (!ok) return false;
  }
  if (attr_ints(o, "output_shape", 4, v, &n, &ok) && ok) {
    if (n != 2 && n != 4) return NODE_ERROR(o, "output_shape has %d values", n);
    oshape[0] = v[n - 2], oshape[1] = v[n - 1];
  }
  if (!ok) return false;
  const char *auto_pad = attr_str(o, "auto_pad", "NOTSET");
  int64_t out[2], dk[2];
  for (int i = 0; i < 2; i++) {
    if (s[i] < 1 || d[i] < 1 || k[i] < 1 || s[i] > 1024 || d[i] > 1024 || k[i] > 1024 || opad[i] < 0 ||
        opad[i] >= (s[i] > d[i] ? s[i] : d[i]) || pads[i] < 0 || pads[i + 2] < 0 || pads[i] > 65536 || pads[i + 2] > 65536 ||
        oshape[i] > 65536)
      return NODE_ERROR(o, "%s", "strides, dilations, pads or output_padding are out of range");
    dk[i] = (k[i] - 1) * d[i] + 1;
    int64_t full = s[i] * (in[i] - 1) + opad[i] + dk[i];
    bool same = !strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER");
    if (oshape[i] >= 0 || same) {
      int64_t want = oshape[i] >= 0 ? oshape[i] : in[i] * s[i], total = full - want;
      bool upper = strcmp(auto_pad, "SAME_LOWER") != 0; /* NOTSET with output_shape too */
      pads[i] = upper ? total / 2 : total - total / 2;
      pads[i + 2] = total - pads[i];
    }
    out[i] = full - pads[i] - pads[i + 2];
    if (out[i] < 1) return NODE_ERROR(o, "%s", "the output would be empty");
  }
  tm_value *y = val_nhwc(o, x);
  if (!y) return false;
  int64_t N = x->type->dims[0], C = x->type->dims[1], O = t->dims[1];
  if (s[0] > 1 || s[1] > 1) { /* upsample: each element followed by s - 1 zeros */
    int64_t d6[6] = {N, in[0], 1, in[1], 1, C}, d4[4] = {N, in[0] * s[0], in[1] * s[1], C};
    int64_t p6[6][2] = {{0, 0}, {0, 0}, {0, s[0] - 1}, {0, 0}, {0, s[1] - 1}, {0, 0}};
    const tm_attr *pairs[6];
    for (int i = 0; i < 6; i++) pairs[i] = ints_attr(I, 2, p6[i]);
    tm_named_attr a = {"paddings", tm_attr_array(I->ctx, 6, pairs)};
    if (!(y = reshape(o, y, 6, d6)) || !(y = build(o, "tm.pad", 1, &y, 1, &a, NULL)) || !(y = reshape(o, y, 4, d4)))
      return false;
  }
  /* Full correlation padding, then the window ONNX's pads select. */
  /* Negative pads (from output_shape) extend the output with zeros beyond the full range. */
  int64_t neg[4];
  for (int i = 0; i < 4; i++) neg[i] = pads[i] < 0 ? -pads[i] : 0;
  window pw = {.pads = {dk[0] - 1 + neg[0], dk[1] - 1 + neg[1], dk[0] - 1 + opad[0] + neg[2], dk[1] - 1 + opad[1] + neg[3]}};
  if (!(y = pad_hw(o, y, &pw))) return false;
  const tm_type *yt = y->type;
  int64_t b0 = pads[0] + neg[0], b1 = pads[1] + neg[1];
  int64_t bg[4] = {0, b0, b1, 0}, en[4] = {N, b0 + out[0] + dk[0] - 1, b1 + out[1] + dk[1] - 1, C};
  if (bg[1] || bg[2] || en[1] != yt->dims[1] || en[2] != yt->dims[2]) {
    int64_t one[4] = {1, 1, 1, 1};
    tm_named_attr a[3] = {{"begin", ints_attr(I, 4, bg)}, {"end", ints_attr(I, 4, en)}, {"strides", ints_attr(I, 4, one)}};
    if (!(y = build(o, "tm.strided_slice", 1, &y, 3, a, NULL))) return false;
  }
  /* [C, O, KH, KW] -> [O, KH, KW, C], flipped in KH and KW. */
  static const int perm[4] = {1, 2, 3, 0};
  tm_value *filter;
  if (wt->data) {
    int64_t fd[4];
    uint8_t *f = permute_data(I, t, wt->data, perm, fd);
    float *ff = (float *)f, tmp;
    for (int64_t oo = 0; oo < O; oo++)
      for (int64_t h = 0; h < k[0]; h++)
        for (int64_t w = 0; w < k[1]; w++) {
          int64_t h2 = k[0] - 1 - h, w2 = k[1] - 1 - w;
          if (h * k[1] + w >= h2 * k[1] + w2) continue; /* swap each pair once */
          for (int64_t c = 0; c < C; c++) {
            float *p1 = &ff[((oo * k[0] + h) * k[1] + w) * C + c], *p2 = &ff[((oo * k[0] + h2) * k[1] + w2) * C + c];
            tmp = *p1, *p1 = *p2, *p2 = tmp;
          }
        }
    filter = make_const(I, tm_type_tensor(I->ctx, t->elem, 4, fd), f, value_loc(I, wt->name));
  } else {
    int64_t bgf[4] = {0, -1, -1, 0}, enf[4] = {O, 0, 0, C}, stf[4] = {1, -1, -1, 1};
    tm_named_attr a[4] = {{"begin", ints_attr(I, 4, bgf)}, {"end", ints_attr(I, 4, enf)},
                          {"strides", ints_attr(I, 4, stf)}, {"end_mask", tm_attr_int(I->ctx, NULL, 6)}};
    if (!(filter = val_onnx(o, wt)) || !(filter = transpose(o, filter, 4, perm)) ||
        !(filter = build(o, "tm.strided_slice", 1, &filter, 4, a, NULL)))
      return false;
  }
  tm_value *bias = b ? val_onnx(o, b) : NULL;
  if (b && !bias) return false;
  tm_value *ops[3] = {y, filter, bias};
  int64_t one2[2] = {1, 1};
  tm_named_attr a[3] = {{"padding", tm_attr_cstr(I->ctx, "valid")}, {"stride", ints_attr(I, 2, one2)},
                        {"dilation", ints_attr(I, 2, d)}};
  return set_output(o, 0, build(o, "tm.conv2d", bias ? 3 : 2, ops, 3, a, NULL), true);
}

/* A [1, H, W, 1] f32 constant. */
static tm_value *const_hw(node *o, int64_t h, int64_t w, const float *v) {
  int64_t d[4] = {1, h, w, 1};
  return const_f32(o->I, 4, d, v, o->loc);
}

/* The padded NHWC input of a max pool (hp x wp) plus a mask: 0 inside, -FLT_MAX in the
 * padding (exact, as x + 0 = x). */
static tm_value *mask_padding(node *o, tm_value *v, const window *w, const int64_t *in, int64_t hp, int64_t wp) {
  float *mask = TM_NEW_ARRAY(tm_ctx_arena(o->I->ctx), float, hp * wp);
  for (int64_t h = 0; h < hp; h++)
    for (int64_t c = 0; c < wp; c++) {
      bool inside = h >= w->pads[0] && h < w->pads[0] + in[0] && c >= w->pads[1] && c < w->pads[1] + in[1];
      mask[h * wp + c] = inside ? 0.0f : -3.4028234663852886e38f;
    }
  return build2(o, "tm.add", v, const_hw(o, hp, wp, mask));
}

/* A dilated max pool (tm.max_pool2d has no dilation): the maximum of one strided slice
 * of the (masked, padded) input per kernel tap. */
static bool dilated_max_pool(node *o, entry *x, const window *w) {
  importer *I = o->I;
  if (attr_int(o, "ceil_mode", 0)) return NODE_ERROR(o, "%s", "dilations with ceil_mode are not supported");
  if (w->k[0] * w->k[1] > 64) return NODE_ERROR(o, "%s", "dilated windows of more than 64 elements are not supported");
  const int64_t *in = x->type->dims + 2;
  int64_t hp = in[0] + w->pads[0] + w->pads[2], wp = in[1] + w->pads[1] + w->pads[3];
  if (hp * wp > MAX_MASK) return NODE_ERROR(o, "%s", "the padded input is too large");
  tm_value *v = val_nhwc(o, x), *y = NULL;
  if (v && (hp != in[0] || wp != in[1]) && (!(v = pad_hw(o, v, w)) || !(v = mask_padding(o, v, w, in, hp, wp))))
    return false;
  if (!v) return false;
  int64_t out[2] = {(hp - (w->k[0] - 1) * w->d[0] - 1) / w->s[0] + 1, (wp - (w->k[1] - 1) * w->d[1] - 1) / w->s[1] + 1};
  for (int64_t kh = 0; kh < w->k[0]; kh++)
    for (int64_t kw = 0; kw < w->k[1]; kw++) {
      int64_t b[4] = {0, kh * w->d[0], kw * w->d[1], 0}, st[4] = {1, w->s[0], w->s[1], 1};
      int64_t e[4] = {v->type->dims[0], b[1] + (out[0] - 1) * w->s[0] + 1, b[2] + (out[1] - 1) * w->s[1] + 1,
                      v->type->dims[3]};
      tm_named_attr a[3] = {{"begin", ints_attr(I, 4, b)}, {"end", ints_attr(I, 4, e)}, {"strides", ints_attr(I, 4, st)}};
      tm_value *t = build(o, "tm.strided_slice", 1, &v, 3, a, NULL);
      if (!t || !(y = y ? build2(o, "tm.maximum", y, t) : t)) return false;
    }
  return set_output(o, 0, y, true);
}

/* Pools whose padding TFLite cannot express are pooled "valid" over an explicitly
 * padded input: max pooling adds a mask (0 inside, -FLT_MAX in the padding: exact, as
 * x + 0 = x), average pooling rescales by window area / counted elements per output. */
static bool pool(node *o, bool is_max) {
  importer *I = o->I;
  entry *x = o->in[0];
  if (!expect_f32(o, x) || !only_2d(o, x)) return false;
  if (o->n->n_output > 1 && *o->n->output[1]) return NODE_ERROR(o, "%s", "the Indices output is not supported");
  int64_t ks[2];
  int n;
  bool ok;
  if (!attr_ints(o, "kernel_shape", 2, ks, &n, &ok) || !ok || n != 2)
    return ok ? NODE_ERROR(o, "%s", "kernel_shape must have 2 values") : false;
  window w;
  const int64_t *in = x->type->dims + 2;
  if (!read_window(o, in, ks, &w)) return false;
  if ((w.d[0] != 1 || w.d[1] != 1) && is_max) return dilated_max_pool(o, x, &w);
  if (w.d[0] != 1 || w.d[1] != 1) return NODE_ERROR(o, "%s", "dilations are not supported");
  if (attr_int(o, "storage_order", 0)) return NODE_ERROR(o, "%s", "storage_order 1 is not supported");
  bool include_pad = !is_max && attr_int(o, "count_include_pad", 0);
  /* ceil_mode: extra padding at the end, not counted (the last window must start
   * inside the input or its leading padding). */
  int64_t extra[2] = {0, 0}, out[2];
  for (int i = 0; i < 2; i++) {
    int64_t span = in[i] + w.pads[i] + w.pads[i + 2] - w.k[i];
    out[i] = span / w.s[i] + 1;
    if (attr_int(o, "ceil_mode", 0) && span % w.s[i]) {
      int64_t oc = span / w.s[i] + 2;
      if ((oc - 1) * w.s[i] < in[i] + w.pads[i]) out[i] = oc, extra[i] = (oc - 1) * w.s[i] + w.k[i] - (span + w.k[i]);
    }
  }
  tm_value *v = val_nhwc(o, x);
  if (!v) return false;
  const char *padding = w.padding;
  bool direct = padding && !extra[0] && !extra[1] && (!include_pad || !strcmp(padding, "valid"));
  bool rescale = false;
  float *scale = NULL;
  if (!direct) {
    window pw = w;
    pw.pads[2] += extra[0], pw.pads[3] += extra[1];
    if (!(v = pad_hw(o, v, &pw))) return false;
    int64_t hp = in[0] + pw.pads[0] + pw.pads[2], wp = in[1] + pw.pads[1] + pw.pads[3];
    if (hp * wp > MAX_MASK) return NODE_ERROR(o, "%s", "the padded input is too large");
    if (is_max) {
      if (!(v = mask_padding(o, v, &w, in, hp, wp))) return false;
    } else {
      /* Counted region: the input, plus the explicit pads with count_include_pad. */
      int64_t lo[2] = {include_pad ? 0 : w.pads[0], include_pad ? 0 : w.pads[1]};
      int64_t hi[2] = {include_pad ? hp - extra[0] : w.pads[0] + in[0], include_pad ? wp - extra[1] : w.pads[1] + in[1]};
      scale = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, out[0] * out[1]);
      for (int64_t oy = 0; oy < out[0]; oy++)
        for (int64_t ox = 0; ox < out[1]; ox++) {
          int64_t y0 = oy * w.s[0], x0 = ox * w.s[1], cy = 0, cx = 0;
          for (int64_t k = 0; k < w.k[0]; k++) cy += y0 + k >= lo[0] && y0 + k < hi[0];
          for (int64_t k = 0; k < w.k[1]; k++) cx += x0 + k >= lo[1] && x0 + k < hi[1];
          scale[oy * out[1] + ox] = cy && cx ? (float)((double)(w.k[0] * w.k[1]) / (double)(cy * cx)) : 0.0f;
          rescale |= cy * cx != w.k[0] * w.k[1];
        }
    }
    padding = "valid";
  }
  int64_t s[2] = {w.s[0], w.s[1]}, k[2] = {w.k[0], w.k[1]};
  tm_named_attr a[3] = {{"filter", ints_attr(I, 2, k)}, {"padding", tm_attr_cstr(I->ctx, padding)},
                        {"stride", ints_attr(I, 2, s)}};
  v = build(o, is_max ? "tm.max_pool2d" : "tm.avg_pool2d", 1, &v, 3, a, NULL);
  if (v && rescale) v = build2(o, "tm.mul", v, const_hw(o, out[0], out[1], scale));
  return set_output(o, 0, v, true);
}

/* A 3-D pool without padding or dilation as two 2-D ones: over (H, W) with the channels
 * and depth as the batch, then over D (max of maxima; mean of means over equal counts). */
static bool pool3d(node *o, bool is_max) {
  importer *I = o->I;
  entry *x = o->in[0];
  if (!expect_f32(o, x)) return false;
  if (o->n->n_output > 1 && *o->n->output[1]) return NODE_ERROR(o, "%s", "the Indices output is not supported");
  int64_t k[6], s[6] = {1, 1, 1}, v[6];
  int n;
  bool ok;
  if (!attr_ints(o, "kernel_shape", 3, k, &n, &ok) || !ok || n != 3)
    return ok ? NODE_ERROR(o, "%s", "kernel_shape must have 3 values") : false;
  if (attr_ints(o, "strides", 3, s, &n, &ok) && ok && n != 3) return NODE_ERROR(o, "%s", "strides must have 3 values");
  if (!ok) return false;
  bool plain = strcmp(attr_str(o, "auto_pad", "NOTSET"), "NOTSET") == 0 ||
               strcmp(attr_str(o, "auto_pad", "NOTSET"), "VALID") == 0;
  if (attr_ints(o, "pads", 6, v, &n, &ok) && ok)
    for (int i = 0; i < n; i++) plain &= v[i] == 0;
  if (!ok) return false;
  if (attr_ints(o, "dilations", 3, v, &n, &ok) && ok)
    for (int i = 0; i < n; i++) plain &= v[i] == 1;
  if (!ok) return false;
  if (!plain || attr_int(o, "ceil_mode", 0) || attr_int(o, "storage_order", 0))
    return NODE_ERROR(o, "%s", "3-D windows are supported without padding, dilations, ceil_mode or storage_order");
  const int64_t *d = x->type->dims;
  for (int i = 0; i < 3; i++)
    if (k[i] < 1 || s[i] < 1 || k[i] > d[2 + i] || s[i] > 65536)
      return NODE_ERROR(o, "%s", "the kernel or strides do not fit the input");
  int64_t od = (d[2] - k[0]) / s[0] + 1, oh = (d[3] - k[1]) / s[1] + 1, ow = (d[4] - k[2]) / s[2] + 1;
  int64_t d1[4] = {d[0] * d[1] * d[2], d[3], d[4], 1}, d2[4] = {d[0] * d[1], d[2], oh * ow, 1};
  int64_t d3[5] = {d[0], d[1], od, oh, ow};
  const char *name = is_max ? "tm.max_pool2d" : "tm.avg_pool2d";
  tm_value *y = val_onnx(o, x);
  for (int step = 0; step < 2 && y; step++) {
    int64_t f[2] = {step ? k[0] : k[1], step ? 1 : k[2]}, st[2] = {step ? s[0] : s[1], step ? 1 : s[2]};
    tm_named_attr a[3] = {{"filter", ints_attr(I, 2, f)}, {"padding", tm_attr_cstr(I->ctx, "valid")},
                          {"stride", ints_attr(I, 2, st)}};
    if ((y = reshape(o, y, 4, step ? d2 : d1))) y = build(o, name, 1, &y, 3, a, NULL);
  }
  return set_output(o, 0, y ? reshape(o, y, 5, d3) : NULL, false);
}

static bool op_max_pool(node *o) { return o->in[0]->type->rank == 5 ? pool3d(o, true) : pool(o, true); }
static bool op_avg_pool(node *o) { return o->in[0]->type->rank == 5 ? pool3d(o, false) : pool(o, false); }

static bool op_global_avg_pool(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  if (!expect_f32(o, x) || !only_2d(o, x)) return false;
  tm_value *in = val_nhwc(o, x);
  int64_t axes[2] = {1, 2};
  tm_named_attr a[2] = {{"axes", ints_attr(I, 2, axes)}, {"keep_dims", tm_attr_bool(I->ctx, true)}};
  return in && set_output(o, 0, build(o, "tm.mean", 1, &in, 2, a, NULL), true);
}

static bool op_reduce_mean(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  int r = x->type->rank;
  int64_t axes[MAX_RANK];
  int n = 0;
  bool ok = true;
  if (I->opset >= 18 && o->nin > 1 && o->in[1]) {
    if (!const_ints(o, 1, "axes", MAX_RANK, axes, &n)) return false;
  } else if (I->opset < 18) {
    attr_ints(o, "axes", MAX_RANK, axes, &n, &ok);
    if (!ok) return false;
  }
  if (!n) {
    if (I->opset >= 18 && attr_int(o, "noop_with_empty_axes", 0)) return op_identity(o);
    for (int i = 0; i < r; i++) axes[i] = i;
    n = r;
  }
  for (int i = 0; i < n; i++)
    if (!norm_axis(o, &axes[i], r)) return false;
  bool keep = attr_int(o, "keepdims", 1) != 0, nhwc = x->nhwc && !x->data && keep;
  tm_value *v = nhwc ? x->v : val_onnx(o, x);
  if (nhwc)
    for (int i = 0; i < n; i++) axes[i] = NHWC_AXIS[axes[i]];
  tm_named_attr a[2] = {{"axes", ints_attr(I, n, axes)}, {"keep_dims", tm_attr_bool(I->ctx, keep)}};
  return v && set_output(o, 0, build(o, "tm.mean", 1, &v, keep ? 2 : 1, a, NULL), nhwc);
}

/* tm.batch_norm normalizes the last dimension: NHWC's channels, or [N, C]. */
static bool op_batch_norm(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  if (!expect_f32(o, x)) return false;
  if (attr_int(o, "training_mode", 0)) return NODE_ERROR(o, "%s", "training mode is not supported");
  if (o->n->n_output > 1)
    for (size_t k = 1; k < o->n->n_output; k++)
      if (*o->n->output[k]) return NODE_ERROR(o, "%s", "training outputs are not supported");
  int r = x->type->rank;
  if (r != 4 && r != 2) return NODE_ERROR(o, "inputs of rank %d are not supported (2 or 4)", r);
  tm_value *ops[5];
  if (!(ops[0] = r == 4 ? val_nhwc(o, x) : val_onnx(o, x))) return false;
  for (int k = 1; k < 5; k++)
    if (!(ops[k] = val_onnx(o, o->in[k]))) return false;
  tm_named_attr a = {"epsilon", tm_attr_float(I->ctx, tm_type_float(I->ctx, 32), attr_float(o, "epsilon", 1e-5f))};
  return set_output(o, 0, build(o, "tm.batch_norm", 5, ops, 1, &a, NULL), r == 4);
}

/* ---- matrix products ---- */
/* [K, N] or (trans) [N, K] f32 constant data as fully_connected weights [N, K] * scale. */
static tm_value *fc_weights(node *o, const entry *b, bool trans, float scale) {
  importer *I = o->I;
  const float *f = const_floats(b);
  int64_t K = b->type->dims[trans ? 1 : 0], N = b->type->dims[trans ? 0 : 1];
  float *w = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, N * K + 1);
  for (int64_t nn = 0; nn < N; nn++)
    for (int64_t k = 0; k < K; k++) w[nn * K + k] = scale * (trans ? f[nn * K + k] : f[k * N + nn]);
  int64_t d[2] = {N, K};
  return const_f32(I, 2, d, w, value_loc(I, b->name));
}

/* fully_connected weights [N, K] from B ([K, N], or [N, K] if trans): re-laid out at
 * import when constant (times `scale`; *scaled says so), else transposed at run time. */
static tm_value *fc_weight_value(node *o, entry *b, bool trans, float scale, bool *scaled) {
  *scaled = const_floats(b) != NULL;
  if (*scaled) return fc_weights(o, b, trans, scale);
  tm_value *w = val_onnx(o, b);
  return w && !trans ? transpose(o, w, 2, (const int[]){1, 0}) : w;
}

static bool op_gemm(node *o) {
  importer *I = o->I;
  entry *a = o->in[0], *b = o->in[1], *c = o->nin > 2 ? o->in[2] : NULL;
  if (!expect_f32(o, a) || !expect_f32(o, b) || (c && !expect_f32(o, c))) return false;
  if (a->type->rank != 2 || b->type->rank != 2) return NODE_ERROR(o, "%s", "A and B must be 2-D");
  bool ta = attr_int(o, "transA", 0), tb = attr_int(o, "transB", 0), scaled;
  float alpha = attr_float(o, "alpha", 1), beta = attr_float(o, "beta", 1);
  tm_value *va = val_onnx(o, a), *y;
  if (!va || (ta && !(va = transpose(o, va, 2, (const int[]){1, 0})))) return false;
  int64_t N = b->type->dims[tb ? 0 : 1], one = 1;
  tm_value *ops[3] = {va, fc_weight_value(o, b, tb, alpha, &scaled), NULL};
  if (!ops[1]) return false;
  /* A constant C of N elements ([N] or [1, N]) folds into the bias when alpha is folded. */
  bool c_bias = c && const_floats(c) && tm_type_numel(c->type) == N && c->type->rank >= 1 &&
                c->type->dims[c->type->rank - 1] == N && c->type->rank <= 2 && (scaled || alpha == 1);
  if (c_bias) {
    float *bias = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, N);
    for (int64_t i = 0; i < N; i++) bias[i] = beta * const_floats(c)[i];
    ops[2] = const_f32(I, 1, &N, bias, value_loc(I, c->name));
  }
  y = build(o, "tm.fully_connected", c_bias ? 3 : 2, ops, 0, NULL, NULL);
  if (y && !scaled && alpha != 1) y = build2(o, "tm.mul", y, const_f32(I, 1, &one, &alpha, o->loc));
  if (y && c && !c_bias) {
    tm_value *vc = val_onnx(o, c);
    if (vc && beta != 1) vc = build2(o, "tm.mul", vc, const_f32(I, 1, &one, &beta, o->loc));
    y = vc ? build2(o, "tm.add", y, vc) : NULL;
  }
  return set_output(o, 0, y, false);
}

static tm_value *slice0(node *o, tm_value *x, int64_t i) {
  const tm_type *t = x->type;
  int64_t b[3] = {i, 0, 0}, e[3] = {i + 1, t->dims[1], t->dims[2]}, s[3] = {1, 1, 1};
  tm_named_attr a[3] = {{"begin", ints_attr(o->I, 3, b)}, {"end", ints_attr(o->I, 3, e)}, {"strides", ints_attr(o->I, 3, s)}};
  tm_value *v = build(o, "tm.strided_slice", 1, &x, 3, a, NULL);
  int64_t d[2] = {t->dims[1], t->dims[2]};
  return v ? reshape(o, v, 2, d) : NULL;
}

/* MatMul: fully_connected with B (2-D) as weights; batched B is unrolled over the batch
 * (tm.batch_matmul has no kernel yet). */
static bool op_matmul(node *o) {
  importer *I = o->I;
  entry *a = o->in[0], *b = o->in[1];
  if (!expect_f32(o, a) || !expect_f32(o, b)) return false;
  int ra = a->type->rank, rb = b->type->rank;
  if (ra < 1 || rb < 1) return NODE_ERROR(o, "%s", "operands must have rank >= 1");
  tm_value *va = val_onnx(o, a), *y;
  if (!va) return false;
  int64_t d[MAX_RANK + 1];
  bool scaled;
  if (rb <= 2) {
    entry bb = *b;
    if (rb == 1) { /* [K] -> [K, 1] */
      int64_t kd[2] = {b->type->dims[0], 1};
      bb.type = tm_type_tensor(I->ctx, b->type->elem, 2, kd);
      bb.onnx = bb.tm = NULL;
      if (!b->data && !(bb.v = bb.onnx = reshape(o, val_onnx(o, b), 2, kd))) return false;
    }
    if (ra == 1) {
      d[0] = 1, d[1] = a->type->dims[0];
      if (!(va = reshape(o, va, 2, d))) return false;
    }
    tm_value *ops[2] = {va, fc_weight_value(o, &bb, false, 1, &scaled)};
    tm_named_attr k = {"keep_num_dims", tm_attr_bool(I->ctx, true)};
    y = ops[1] ? build(o, "tm.fully_connected", 2, ops, 1, &k, NULL) : NULL;
    if (y && (ra == 1 || rb == 1)) {
      const tm_type *t = y->type;
      int r = 0;
      for (int i = 0; i < t->rank; i++)
        if (!((ra == 1 && i == t->rank - 2) || (rb == 1 && i == t->rank - 1))) d[r++] = t->dims[i];
      y = reshape(o, y, r, d);
    }
    return set_output(o, 0, y, false);
  }
  /* Batched: [batch..., M, K] x [batch..., K, N] with equal batch dimensions. */
  if (ra != rb) return NODE_ERROR(o, "%s", "batched operands must have the same rank");
  int64_t nb = 1;
  for (int i = 0; i < ra - 2; i++) {
    if (a->type->dims[i] != b->type->dims[i]) return NODE_ERROR(o, "%s", "broadcast batch dimensions are not supported");
    nb *= a->type->dims[i];
  }
  if (nb > 64) return NODE_ERROR(o, "%" PRId64 " batches are more than the supported 64", nb);
  int64_t M = a->type->dims[ra - 2], K = a->type->dims[ra - 1], N = b->type->dims[rb - 1];
  int64_t da[3] = {nb, M, K}, db[3] = {nb, K, N};
  tm_value *vb = val_onnx(o, b);
  if (!vb || !(va = reshape(o, va, 3, da)) || !(vb = reshape(o, vb, 3, db))) return false;
  tm_value **parts = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), tm_value *, nb);
  for (int64_t i = 0; i < nb; i++) {
    tm_value *x = slice0(o, va, i), *w = slice0(o, vb, i);
    if (!x || !w || !(w = transpose(o, w, 2, (const int[]){1, 0}))) return false;
    tm_value *ops[2] = {x, w};
    if (!(parts[i] = build(o, "tm.fully_connected", 2, ops, 0, NULL, NULL))) return false;
  }
  tm_named_attr ax = {"axis", tm_attr_int(I->ctx, NULL, 0)};
  y = nb > 1 ? build(o, "tm.concat", (int)nb, parts, 1, &ax, NULL) : parts[0];
  for (int i = 0; i < ra - 2; i++) d[i] = a->type->dims[i];
  d[ra - 2] = M, d[ra - 1] = N;
  return set_output(o, 0, y ? reshape(o, y, ra, d) : NULL, false);
}

/* ---- shape ops (ONNX order) ---- */
static bool reshape_to(node *o, entry *x, int r, const int64_t *dims) {
  tm_value *v = val_onnx(o, x);
  return v && set_output(o, 0, reshape(o, v, r, dims), false);
}

static bool op_reshape(node *o) {
  entry *x = o->in[0];
  int64_t s[MAX_RANK];
  int n;
  if (o->I->opset < 5) return NODE_ERROR(o, "%s", "Reshape before opset 5 is not supported");
  if (!const_ints(o, 1, "shape", MAX_RANK, s, &n)) return false;
  bool allowzero = attr_int(o, "allowzero", 0);
  int64_t known = 1, numel = tm_type_numel(x->type);
  int infer = -1;
  for (int i = 0; i < n; i++) {
    if (s[i] == 0 && !allowzero) {
      if (i >= x->type->rank) return NODE_ERROR(o, "shape[%d] = 0 copies a dimension the input does not have", i);
      s[i] = x->type->dims[i];
    }
    if (s[i] == -1) {
      if (infer >= 0) return NODE_ERROR(o, "%s", "shape has more than one -1");
      infer = i;
    } else if (s[i] < 0 || (s[i] && known > MAX_ELEMS / s[i])) {
      return NODE_ERROR(o, "shape[%d] = %" PRId64 " is invalid", i, s[i]);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (!known || numel % known) return NODE_ERROR(o, "cannot infer the -1 of the shape for %" PRId64 " elements", numel);
    s[infer] = numel / known;
  }
  return reshape_to(o, x, n, s);
}

static bool op_flatten(node *o) {
  entry *x = o->in[0];
  int r = x->type->rank;
  int64_t axis = attr_int(o, "axis", 1), d[2] = {1, 1};
  if (axis < -r || axis > r) return NODE_ERROR(o, "axis %" PRId64 " is out of range for rank %d", axis, r);
  if (axis < 0) axis += r;
  for (int i = 0; i < r; i++) d[i < axis ? 0 : 1] *= x->type->dims[i];
  return reshape_to(o, x, 2, d);
}

/* Squeeze/Unsqueeze axes: the attribute before opset 13, the input from 13 on. */
static bool axes_of(node *o, int64_t *axes, int *n, bool *given) {
  bool ok = true;
  *n = 0;
  if (o->I->opset >= 13) {
    *given = o->nin > 1 && o->in[1];
    return !*given || const_ints(o, 1, "axes", MAX_RANK, axes, n);
  }
  *given = attr_ints(o, "axes", MAX_RANK, axes, n, &ok);
  return ok;
}

static bool op_squeeze(node *o) {
  entry *x = o->in[0];
  int64_t axes[MAX_RANK], d[MAX_RANK];
  int n, r = 0;
  bool given, drop[MAX_RANK] = {0};
  if (!axes_of(o, axes, &n, &given)) return false;
  for (int i = 0; i < n; i++) {
    if (!norm_axis(o, &axes[i], x->type->rank)) return false;
    if (x->type->dims[axes[i]] != 1) return NODE_ERROR(o, "axis %" PRId64 " does not have size 1", axes[i]);
    drop[axes[i]] = true;
  }
  for (int i = 0; i < x->type->rank; i++)
    if (!(given ? drop[i] : x->type->dims[i] == 1)) d[r++] = x->type->dims[i];
  return reshape_to(o, x, r, d);
}

static bool op_unsqueeze(node *o) {
  entry *x = o->in[0];
  int64_t axes[MAX_RANK], d[MAX_RANK];
  int n;
  bool given, ins[MAX_RANK] = {0};
  if (!axes_of(o, axes, &n, &given)) return false;
  int r = x->type->rank + n;
  if (!given || r > MAX_RANK) return NODE_ERROR(o, "%s", "axes are missing or the result rank is too large");
  for (int i = 0; i < n; i++) {
    if (!norm_axis(o, &axes[i], r)) return false;
    if (ins[axes[i]]) return NODE_ERROR(o, "axis %" PRId64 " is repeated", axes[i]);
    ins[axes[i]] = true;
  }
  for (int i = 0, k = 0; i < r; i++) d[i] = ins[i] ? 1 : x->type->dims[k++];
  return reshape_to(o, x, r, d);
}

static bool op_transpose(node *o) {
  entry *x = o->in[0];
  int r = x->type->rank, perm[MAX_RANK];
  int64_t p[MAX_RANK];
  int n = 0;
  bool ok, seen[MAX_RANK] = {0};
  if (!attr_ints(o, "perm", MAX_RANK, p, &n, &ok)) {
    if (!ok) return false;
    for (int i = 0; i < r; i++) p[i] = r - 1 - i;
    n = r;
  }
  if (!ok) return false;
  if (n != r) return NODE_ERROR(o, "perm has %d values for rank %d", n, r);
  for (int i = 0; i < r; i++) {
    if (p[i] < 0 || p[i] >= r || seen[p[i]]) return NODE_ERROR(o, "%s", "perm is not a permutation");
    seen[p[i]] = true;
  }
  tm_value *v;
  if (x->nhwc && !x->data) { /* compose with NCHW -> NHWC: no transpose back first */
    v = x->v;
    for (int i = 0; i < 4; i++) perm[i] = NHWC_AXIS[p[i]];
  } else {
    v = val_onnx(o, x);
    for (int i = 0; i < r; i++) perm[i] = (int)p[i];
  }
  return v && set_output(o, 0, transpose(o, v, r, perm), false);
}

static bool op_concat(node *o) {
  importer *I = o->I;
  int64_t axis = attr_int(o, "axis", I->opset < 4 ? 1 : INT64_MIN);
  if (axis == INT64_MIN) return NODE_ERROR(o, "%s", "the axis attribute is required");
  int r = o->in[0]->type->rank;
  if (!norm_axis(o, &axis, r)) return false;
  bool nhwc = r == 4;
  for (int k = 0; k < o->nin; k++) {
    if (!o->in[k]) return NODE_ERROR(o, "input %d is missing", k);
    nhwc &= o->in[k]->nhwc || o->in[k]->data;
  }
  bool any = false;
  for (int k = 0; k < o->nin; k++) any |= o->in[k]->nhwc && !o->in[k]->data;
  nhwc &= any;
  tm_value **vals = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), tm_value *, o->nin);
  for (int k = 0; k < o->nin; k++)
    if (!(vals[k] = nhwc ? val_nhwc(o, o->in[k]) : val_onnx(o, o->in[k]))) return false;
  tm_named_attr a = {"axis", tm_attr_int(I->ctx, NULL, nhwc ? NHWC_AXIS[axis] : axis)};
  return set_output(o, 0, build(o, "tm.concat", o->nin, vals, 1, &a, NULL), nhwc);
}

/* One step of a slice along `axis`: x[..., i:i+step, ...] (step 1) or the whole range. */
static tm_value *slice_axis(node *o, tm_value *x, int axis, int64_t lo, int64_t hi) {
  const tm_type *t = x->type;
  int64_t b[MAX_RANK], e[MAX_RANK], st[MAX_RANK];
  for (int i = 0; i < t->rank; i++) b[i] = 0, e[i] = t->dims[i], st[i] = 1;
  b[axis] = lo, e[axis] = hi;
  tm_named_attr a[3] = {{"begin", ints_attr(o->I, t->rank, b)}, {"end", ints_attr(o->I, t->rank, e)},
                        {"strides", ints_attr(o->I, t->rank, st)}};
  return build(o, "tm.strided_slice", 1, &x, 3, a, NULL);
}

/* Edge and reflect padding: per dimension, a concat of single-element slices around x. */
static tm_value *pad_copy(node *o, tm_value *x, const int64_t *before, const int64_t *after, bool reflect) {
  for (int ax = 0; ax < x->type->rank && x; ax++) {
    int64_t d = x->type->dims[ax], nb = before[ax], na = after[ax];
    if (!nb && !na) continue;
    if (nb + na > 256 || (reflect && (nb >= d || na >= d)) || d < 1) {
      error(o->I, o->loc, "%s: pads of %" PRId64 " and %" PRId64 " are not supported for a dimension of %" PRId64,
            node_desc(o), nb, na, d);
      return NULL;
    }
    tm_value **parts = TM_NEW_ARRAY(tm_ctx_arena(o->I->ctx), tm_value *, nb + na + 1);
    int np = 0;
    for (int64_t i = nb; i >= 1; i--) {
      int64_t src = reflect ? i : 0;
      if (!(parts[np++] = slice_axis(o, x, ax, src, src + 1))) return NULL;
    }
    parts[np++] = x;
    for (int64_t i = 1; i <= na; i++) {
      int64_t src = reflect ? d - 1 - i : d - 1;
      if (!(parts[np++] = slice_axis(o, x, ax, src, src + 1))) return NULL;
    }
    tm_named_attr a = {"axis", tm_attr_int(o->I->ctx, NULL, ax)};
    x = build(o, "tm.concat", np, parts, 1, &a, NULL);
  }
  return x;
}

/* Pad: zeros by tm.pad; another constant value is added where the padding is (exact:
 * x + 0 = x and 0 + c = c); edge and reflect copy slices. */
static bool op_pad(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  int r = x->type->rank;
  int64_t pads[2 * MAX_RANK];
  int n = 0;
  bool ok = true;
  float value = 0;
  const char *mode = attr_str(o, "mode", "constant");
  bool constant = !strcmp(mode, "constant"), reflect = !strcmp(mode, "reflect");
  if (!constant && !reflect && strcmp(mode, "edge")) return NODE_ERROR(o, "unknown mode '%s'", mode);
  if (I->opset < 11) {
    if (!attr_ints(o, "pads", 2 * MAX_RANK, pads, &n, &ok)) return ok ? NODE_ERROR(o, "%s", "pads are missing") : false;
    value = attr_float(o, "value", 0);
  } else {
    if (!const_ints(o, 1, "pads", 2 * MAX_RANK, pads, &n)) return false;
    if (o->nin > 2 && o->in[2]) {
      const float *c = const_floats(o->in[2]);
      if (!c || tm_type_numel(o->in[2]->type) != 1)
        return NODE_ERROR(o, "%s", "constant_value must be an f32 scalar constant");
      value = c[0];
    }
    if (o->nin > 3 && o->in[3]) return NODE_ERROR(o, "%s", "the axes input is not supported");
  }
  if (n != 2 * r) return NODE_ERROR(o, "pads has %d values for rank %d", n, r);
  if (value != 0 && !expect_f32(o, x)) return false;
  bool nhwc = x->nhwc && !x->data && r == 4;
  const tm_attr *pairs[MAX_RANK];
  int64_t before[MAX_RANK], after[MAX_RANK], pdims[MAX_RANK], numel = 1;
  for (int i = 0; i < r; i++) {
    int src = nhwc ? TO_NHWC[i] : i; /* tm dim i is ONNX dim TO_NHWC[i] */
    before[i] = pads[src], after[i] = pads[src + r];
    if (before[i] < 0 || after[i] < 0 || before[i] > 65536 || after[i] > 65536)
      return NODE_ERROR(o, "%s", "negative or huge pads are not supported");
    pairs[i] = ints_attr(I, 2, (int64_t[]){before[i], after[i]});
  }
  tm_value *v = nhwc ? x->v : val_onnx(o, x);
  if (!v) return false;
  if (!constant) return set_output(o, 0, pad_copy(o, v, before, after, reflect), nhwc);
  for (int i = 0; i < r; i++)
    if ((numel *= (pdims[i] = v->type->dims[i] + before[i] + after[i])) > (value != 0 ? MAX_MASK : MAX_ELEMS))
      return NODE_ERROR(o, "%s", "the padded tensor is too large");
  tm_named_attr a = {"paddings", tm_attr_array(I->ctx, r, pairs)};
  v = build(o, "tm.pad", 1, &v, 1, &a, NULL);
  if (v && value != 0) {
    float *m = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, numel + 1);
    int64_t idx[MAX_RANK] = {0};
    for (int64_t k = 0; k < numel; k++) {
      bool inside = true;
      for (int i = 0; i < r; i++) inside &= idx[i] >= before[i] && idx[i] < pdims[i] - after[i];
      m[k] = inside ? 0.0f : value;
      for (int i = r - 1; i >= 0 && ++idx[i] == pdims[i]; i--) idx[i] = 0;
    }
    v = build2(o, "tm.add", v, const_f32(I, r, pdims, m, o->loc));
  }
  return set_output(o, 0, v, nhwc);
}

static bool op_slice(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  int r = x->type->rank;
  int64_t st[MAX_RANK], en[MAX_RANK], ax[MAX_RANK], sp[MAX_RANK];
  int ns, ne, na = 0, np = 0;
  bool ok = true;
  if (I->opset < 10) {
    if (!attr_ints(o, "starts", MAX_RANK, st, &ns, &ok) || !ok || !attr_ints(o, "ends", MAX_RANK, en, &ne, &ok) || !ok)
      return ok ? NODE_ERROR(o, "%s", "starts and ends are required") : false;
    attr_ints(o, "axes", MAX_RANK, ax, &na, &ok);
    if (!ok) return false;
  } else {
    if (!const_ints(o, 1, "starts", MAX_RANK, st, &ns) || !const_ints(o, 2, "ends", MAX_RANK, en, &ne)) return false;
    if (o->nin > 3 && o->in[3] && !const_ints(o, 3, "axes", MAX_RANK, ax, &na)) return false;
    if (o->nin > 4 && o->in[4] && !const_ints(o, 4, "steps", MAX_RANK, sp, &np)) return false;
  }
  if (ns != ne || (na && na != ns) || (np && np != ns)) return NODE_ERROR(o, "%s", "starts, ends, axes and steps differ in length");
  int64_t b[MAX_RANK], e[MAX_RANK], s[MAX_RANK];
  bool set[MAX_RANK] = {0};
  int64_t end_mask = 0;
  for (int i = 0; i < r; i++) b[i] = 0, e[i] = x->type->dims[i], s[i] = 1;
  for (int i = 0; i < ns; i++) {
    int64_t a = na ? ax[i] : i, step = np ? sp[i] : 1;
    if (!norm_axis(o, &a, r)) return false;
    if (set[a]) return NODE_ERROR(o, "axis %" PRId64 " is repeated", a);
    if (!step) return NODE_ERROR(o, "%s", "a step is 0");
    set[a] = true;
    int64_t d = x->type->dims[a], lo = st[i], hi = en[i];
    if (lo < 0) lo = lo < -d ? 0 : lo + d; /* (careful with INT64_MIN: no overflow) */
    if (hi < 0) hi = hi < -d ? -1 : hi + d;
    if (step > 0) {
      lo = lo > d ? d : lo, hi = hi < 0 ? 0 : hi > d ? d : hi;
    } else {
      lo = lo > d - 1 ? d - 1 : lo;
      hi = hi > d - 1 ? d - 1 : hi;
      if (hi < 0) end_mask |= INT64_C(1) << a, hi = 0; /* through index 0 */
    }
    b[a] = lo, e[a] = hi, s[a] = step;
  }
  tm_value *v = val_onnx(o, x);
  tm_named_attr at[4] = {{"begin", ints_attr(I, r, b)}, {"end", ints_attr(I, r, e)}, {"strides", ints_attr(I, r, s)},
                         {"end_mask", tm_attr_int(I->ctx, NULL, end_mask)}};
  return v && set_output(o, 0, build(o, "tm.strided_slice", 1, &v, end_mask ? 4 : 3, at, NULL), false);
}

/* ---- quantization ---- */
/* Scales and zero points of one quantization (per tensor: n = 1; per axis: n = channels). */
typedef struct qparams {
  const tm_type *storage; /* i8 or ui8 (from the zero point; default when absent) */
  int n;
  const float *scale;
  int64_t *zp;
} qparams;

/* The scale (f32 constant) and zero point (int8/uint8 constant of as many values) at
 * inputs ks and kz: one value, or `channels` values when channels > 0 (per axis). */
static bool read_qparams(node *o, int ks, int kz, const tm_type *storage, int64_t channels, qparams *p) {
  importer *I = o->I;
  entry *s = ks < o->nin ? o->in[ks] : NULL, *z = kz < o->nin ? o->in[kz] : NULL;
  p->scale = const_floats(s);
  int64_t n = s ? tm_type_numel(s->type) : 0;
  if (!p->scale || (n != 1 && n != channels))
    return NODE_ERROR(o, "input %d (scale) must be an f32 constant of %s", ks,
                      channels > 0 ? tm_arena_printf(I->ctx, "1 or %" PRId64 " values", channels) : "one value");
  for (int64_t i = 0; i < n; i++)
    if (!(p->scale[i] > 0) || !isfinite(p->scale[i]))
      return NODE_ERROR(o, "the scale %g is not positive and finite", (double)p->scale[i]);
  p->storage = z ? z->type->elem : storage;
  if (p->storage->kind != TM_TYPE_INT || p->storage->width != 8)
    return NODE_ERROR(o, "the quantized type must be int8 or uint8, got '%s'", tm_type_str(I->ctx, p->storage));
  if (z && (!z->data || tm_type_numel(z->type) != n))
    return NODE_ERROR(o, "input %d (zero point) must be a constant of as many values as the scale", kz);
  p->n = (int)n;
  p->zp = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), int64_t, n);
  bool u = p->storage->signedness == TM_UNSIGNED;
  for (int64_t i = 0; i < n; i++) p->zp[i] = !z ? 0 : u ? (int64_t)z->data[i] : (int64_t)(int8_t)z->data[i];
  return true;
}

/* A zero point alone (ConvInteger, MatMulInteger): one value, per tensor. */
static bool read_qparams_zp(node *o, int kz, const tm_type *storage, qparams *p) {
  entry *z = o->in[kz];
  if (!z->data || tm_type_numel(z->type) != 1 || z->type->elem != storage)
    return NODE_ERROR(o, "input %d (zero point) must be a constant scalar of the operand's type", kz);
  p->storage = storage;
  p->zp[0] = storage->signedness == TM_UNSIGNED ? (int64_t)z->data[0] : (int64_t)(int8_t)z->data[0];
  return true;
}

/* Whether the scale (input 1) has more than one value: quantization along `axis`. */
static bool per_axis_scale(const node *o) { return o->in[1] && tm_type_numel(o->in[1]->type) > 1; }

static bool is_u8(const tm_type *t) { return t->signedness == TM_UNSIGNED; }

/* !quant.uniform<storage:f32, scale:zp> */
static const tm_type *quant1(importer *I, const tm_type *storage, double scale, int64_t zp) {
  bool u = is_u8(storage);
  return tm_type_quant(I->ctx, storage, tm_type_float(I->ctx, 32), u ? 0 : -128, u ? 255 : 127, -1, 1, &scale, &zp);
}

/* An int8/uint8 ONNX tensor read as quantized type q (the same storage), in the layout it
 * is held in (*nhwc): a constant keeps its bytes; a graph input read only as quantized
 * data takes the type (the same bytes); a computed value must already have it. */
static tm_value *as_quant(node *o, entry *x, const tm_type *q, bool *nhwc) {
  importer *I = o->I;
  *nhwc = false;
  if (x->data) return make_const(I, tm_type_with_elem(I->ctx, x->type, q), x->data, value_loc(I, x->name));
  if (tm_type_elem(x->v->type) == q) return *nhwc = x->nhwc, x->v;
  if (!x->v->def && !x->nhwc && x->type->elem == q->storage && !tm_value_has_uses(x->v)) {
    x->v->type = tm_type_with_elem(I->ctx, x->v->type, q);
    I->arg_types[x->v->index] = x->v->type;
    return x->v;
  }
  return error_null(I, o->loc, "%s: input '%s' must be a constant, a graph input or a value of type '%s'", node_desc(o),
                    x->name, tm_type_str(I->ctx, q));
}

/* x - z (x int8 or uint8, z per tensor or per value along ONNX axis `axis`) as an f32
 * entry of exact integers, held as x is: constants converted at import, other values by
 * tm.dequantize with scale 1.  *bound: the largest |x - z|. */
static bool int_entry(node *o, entry *x, const qparams *z, int axis, entry *out, float *bound) {
  importer *I = o->I;
  bool u = is_u8(x->type->elem);
  *out = (entry){.name = x->name, .defined = true, .type = tm_type_with_elem(I->ctx, x->type, tm_type_float(I->ctx, 32))};
  *bound = 0;
  for (int i = 0; i < z->n; i++)
    *bound = fmaxf(*bound, fmaxf(fabsf((float)((u ? 0 : -128) - z->zp[i])), fabsf((float)((u ? 255 : 127) - z->zp[i]))));
  if (x->data) {
    int64_t n = tm_type_numel(x->type), inner = 1;
    for (int i = axis + 1; axis >= 0 && i < x->type->rank; i++) inner *= x->type->dims[i];
    float *f = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, n + 1);
    for (int64_t i = 0; i < n; i++) {
      int64_t zp = z->zp[z->n == 1 ? 0 : (i / inner) % z->n];
      f[i] = (float)((u ? (int64_t)x->data[i] : (int64_t)(int8_t)x->data[i]) - zp);
    }
    out->data = (const uint8_t *)f;
    return true;
  }
  if (z->n != 1) return NODE_ERROR(o, "%s", "per-axis zero points of a non-constant input are not supported");
  bool nhwc;
  tm_value *v = as_quant(o, x, quant1(I, x->type->elem, 1.0, z->zp[0]), &nhwc);
  if (v) v = build(o, "tm.dequantize", 1, &v, 0, NULL, tm_type_with_elem(I->ctx, v->type, tm_type_float(I->ctx, 32)));
  if (!v) return false;
  out->v = v, out->nhwc = nhwc;
  *(nhwc ? &out->tm : &out->onnx) = v;
  return true;
}

/* A constant of per-channel values broadcast along ONNX axis `axis` of rank r (NHWC when
 * nhwc): [1, .., n, .., 1]. */
static tm_value *channel_const(node *o, int r, int axis, bool nhwc, int n, const float *v) {
  int64_t d[MAX_RANK];
  for (int i = 0; i < r; i++) d[i] = 1;
  d[nhwc ? NHWC_AXIS[axis] : axis] = n;
  return const_f32(o->I, r, d, v, o->loc);
}

/* An f32 constant of one value. */
static tm_value *scalar_f32(node *o, float v) {
  int64_t one = 1;
  return const_f32(o->I, 1, &one, &v, o->loc);
}

/* v rounded half to even (ONNX's rounding): + and - 1.5 * 2^23 in f32, exact for
 * |v| < 2^22 (larger values saturate when quantized either way). */
static tm_value *round_even(node *o, tm_value *v) {
  const float magic = 12582912.0f;
  if (v) v = build2(o, "tm.add", v, scalar_f32(o, magic));
  return v ? build2(o, "tm.sub", v, scalar_f32(o, magic)) : NULL;
}

/* ONNX's QuantizeLinear: saturate(round_half_even(x / s) + z).  x / s is the same f32
 * division, rounded by round_even.  Per tensor, the integer r is
 * multiplied by s and quantized by tm.quantize (TFLite's AffineQuantize recovers r
 * exactly); per axis, r + z is quantized with scale 1 and zero point 0 (the stored
 * integers), as tm.quantize has no per-axis form. */
static bool op_quantize_linear(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  if (!expect_f32(o, x)) return false;
  int r = x->type->rank;
  int64_t axis = attr_int(o, "axis", 1);
  qparams p;
  if ((per_axis_scale(o) && !norm_axis(o, &axis, r)) ||
      !read_qparams(o, 1, 2, tm_type_int_signed(I->ctx, 8, TM_UNSIGNED), per_axis_scale(o) ? x->type->dims[axis] : -1, &p))
    return false;
  bool per_axis = p.n > 1;
  bool nhwc = x->nhwc && !x->data;
  tm_value *v = nhwc ? x->v : val_onnx(o, x);
  tm_value *sv = per_axis ? channel_const(o, r, (int)axis, nhwc, p.n, p.scale) : scalar_f32(o, p.scale[0]);
  if (v) v = round_even(o, build2(o, "tm.div", v, sv));
  const tm_type *q;
  if (per_axis) {
    float *zf = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, p.n);
    for (int i = 0; i < p.n; i++) zf[i] = (float)p.zp[i];
    if (v) v = build2(o, "tm.add", v, channel_const(o, r, (int)axis, nhwc, p.n, zf));
    q = quant1(I, p.storage, 1.0, 0);
  } else {
    if (v) v = build2(o, "tm.mul", v, sv);
    q = quant1(I, p.storage, p.scale[0], p.zp[0]);
  }
  return v && set_output(o, 0, build(o, "tm.quantize", 1, &v, 0, NULL, tm_type_with_elem(I->ctx, v->type, q)), nhwc);
}

/* DequantizeLinear of an int32 constant with zero point 0: the bias of QDQ models
 * (scale s_x * s_w).  It becomes the f32 constant x * s, which fold-qdq rounds back to
 * the same integers when it folds the layer into a quantized op. */
static bool dequantize_i32_const(node *o, entry *x, int64_t axis) {
  importer *I = o->I;
  const entry *s = o->in[1], *z = o->nin > 2 ? o->in[2] : NULL;
  const float *scale = const_floats(s);
  int64_t n = tm_type_numel(x->type), ns = s ? tm_type_numel(s->type) : 0, inner = 1;
  if (ns > 1 && !norm_axis(o, &axis, x->type->rank)) return false;
  if (!scale || (ns != 1 && ns != x->type->dims[axis]))
    return NODE_ERROR(o, "%s", "input 1 (scale) must be an f32 constant of one value or one per channel");
  if (z && (!z->data || z->type->elem != x->type->elem))
    return NODE_ERROR(o, "%s", "input 2 (zero point) must be an int32 constant");
  for (int64_t i = 0; z && i < tm_type_numel(z->type); i++)
    if (((const int32_t *)z->data)[i])
      return NODE_ERROR(o, "%s", "an int32 DequantizeLinear needs zero point 0");
  for (int i = ns > 1 ? (int)axis + 1 : x->type->rank; i < x->type->rank; i++) inner *= x->type->dims[i];
  float *f = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, n ? n : 1);
  for (int64_t i = 0; i < n; i++)
    f[i] = (float)((const int32_t *)x->data)[i] * scale[ns > 1 ? (i / inner) % ns : 0];
  entry *e = lookup(I, o->n->output[0]);
  e->type = tm_type_with_elem(I->ctx, x->type, tm_type_float(I->ctx, 32));
  e->data = (const uint8_t *)f;
  e->defined = true;
  return true;
}

/* ONNX's DequantizeLinear: (x - z) * s in f32: tm.dequantize per tensor (the same
 * product); per axis, the exact integers x - z times a per-channel constant. */
static bool op_dequantize_linear(node *o) {
  importer *I = o->I;
  entry *x = o->in[0];
  int r = x->type->rank;
  int64_t axis = attr_int(o, "axis", 1);
  qparams p;
  const tm_type *xs = tm_type_storage(x->type->elem);
  if (x->data && xs->kind == TM_TYPE_INT && xs->width == 32) return dequantize_i32_const(o, x, axis);
  const tm_type *xe = tm_type_storage(x->type->elem);
  if ((per_axis_scale(o) && !norm_axis(o, &axis, r)) ||
      !read_qparams(o, 1, 2, xe, per_axis_scale(o) ? x->type->dims[axis] : -1, &p))
    return false;
  if (p.storage != xe) return NODE_ERROR(o, "%s", "the zero point's type differs from the input's");
  bool nhwc;
  tm_value *v;
  if (p.n > 1) {
    int64_t zero = 0;
    qparams z0 = {p.storage, 1, NULL, &zero};
    float bound;
    entry xf;
    if (!int_entry(o, x, &z0, -1, &xf, &bound)) return false;
    nhwc = xf.nhwc && !xf.data;
    v = nhwc ? xf.v : val_onnx(o, &xf);
    float *zf = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, p.n);
    for (int i = 0; i < p.n; i++) zf[i] = (float)p.zp[i];
    if (v) v = build2(o, "tm.sub", v, channel_const(o, r, (int)axis, nhwc, p.n, zf));
    if (v) v = build2(o, "tm.mul", v, channel_const(o, r, (int)axis, nhwc, p.n, p.scale));
    return set_output(o, 0, v, nhwc);
  }
  if (!(v = as_quant(o, x, quant1(I, p.storage, p.scale[0], p.zp[0]), &nhwc))) return false;
  const tm_type *rt = tm_type_with_elem(I->ctx, v->type, tm_type_float(I->ctx, 32));
  return set_output(o, 0, build(o, "tm.dequantize", 1, &v, 0, NULL, rt), nhwc);
}

/* Integer products are computed in f32 where every partial sum is an integer below 2^24
 * (checked here from the operands' ranges and the constant weights), so the float
 * kernels give the exact i32 sums in any order; the result is rounded by tm.quantize. */
#define F32_EXACT 16777216.0

/* The import of `fn` (Conv or MatMul, f32) on substitute inputs; output 0 to *res. */
static bool run_f32(node *o, bool (*fn)(node *), entry **ins, int nin, entry *res) {
  node f = *o;
  for (int k = 0; k < nin; k++) f.in[k] = ins[k];
  f.nin = nin;
  *res = (entry){.name = o->n->output[0]};
  f.out0 = res;
  return fn(&f);
}

/* max over output channels (ONNX weight dimension `out_axis`) of sum |w| of f32 data. */
static double weight_l1(importer *I, const entry *w, int out_axis) {
  const float *f = (const float *)w->data;
  int64_t n = tm_type_numel(w->type), inner = 1, outer = w->type->dims[out_axis];
  for (int i = out_axis + 1; i < w->type->rank; i++) inner *= w->type->dims[i];
  double best = 0, *sum = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), double, outer + 1);
  for (int64_t i = 0; i < n; i++) sum[(i / inner) % outer] += fabs(f[i]);
  for (int64_t c = 0; c < outer; c++) best = fmax(best, sum[c]);
  return best;
}

/* ConvInteger and QLinearConv (conv), MatMulInteger and QLinearMatMul; q: QLinear*,
 * whose requantization is ONNX's, not TFLite's: TFLite's fixed-point MBQM rounds twice
 * when it shifts right, and differs from round_half_even(acc * sx * sw / sy) in about
 * 3 % of random cases (docs/import.md). */
static bool integer_product(node *o, bool conv, bool q) {
  importer *I = o->I;
  entry *x = o->in[0], *w = o->in[q ? 3 : 1], *bias = q && o->nin > 8 ? o->in[8] : NULL;
  qparams px, pw, py = {0};
  int64_t zx = 0, zw = 0;
  if (w->type->rank < (conv ? 3 : 1) || x->type->rank < 1)
    return NODE_ERROR(o, "%s", conv ? "the weights must have rank 3 or more" : "operands must have rank >= 1");
  int64_t out_dim = conv ? w->type->dims[0] : w->type->dims[w->type->rank - 1];
  int out_axis = conv ? 0 : w->type->rank - 1;
  if (q) {
    if (!read_qparams(o, 1, 2, x->type->elem, -1, &px) || !read_qparams(o, 4, 5, w->type->elem, out_dim, &pw) ||
        !read_qparams(o, 6, 7, x->type->elem, -1, &py))
      return false;
  } else {
    px = (qparams){x->type->elem, 1, NULL, &zx};
    pw = (qparams){w->type->elem, 1, NULL, &zw};
    if (o->nin > 2 && o->in[2] && !read_qparams_zp(o, 2, x->type->elem, &px)) return false;
    if (o->nin > 3 && o->in[3] && !read_qparams_zp(o, 3, w->type->elem, &pw)) return false;
  }
  if (px.storage != x->type->elem || pw.storage != w->type->elem || tm_type_storage(x->type->elem)->width != 8)
    return NODE_ERROR(o, "%s", "the operands and zero points must be int8 or uint8 of the same types");
  if (pw.n > 1 && pw.n != out_dim) return NODE_ERROR(o, "%s", "the weight zero points do not match the output channels");
  entry xf, wf, bf, res;
  float xb, wb;
  if (!int_entry(o, x, &px, -1, &xf, &xb) || !int_entry(o, w, &pw, out_axis, &wf, &wb)) return false;
  int64_t k = 1;
  for (int i = 0; i < w->type->rank; i++) k *= i == out_axis ? 1 : w->type->dims[i];
  double bound = wf.data ? xb * weight_l1(I, &wf, out_axis) : (double)xb * wb * (double)k;
  entry *ins[3] = {&xf, &wf, NULL};
  if (bias) {
    const tm_type *be = bias->type->elem;
    if (!bias->data || be->kind != TM_TYPE_INT || be->width != 32 || bias->type->rank != 1)
      return NODE_ERROR(o, "%s", "the bias must be a 1-D int32 constant");
    int64_t n = tm_type_numel(bias->type);
    float *f = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, n + 1);
    double bmax = 0;
    for (int64_t i = 0; i < n; i++) {
      int32_t v;
      memcpy(&v, bias->data + 4 * i, 4);
      f[i] = (float)v, bmax = fmax(bmax, fabs((double)v));
    }
    bound += bmax;
    bf = (entry){.name = bias->name, .defined = true, .data = (const uint8_t *)f,
                 .type = tm_type_with_elem(I->ctx, bias->type, tm_type_float(I->ctx, 32))};
    ins[2] = &bf;
  }
  if (bound > F32_EXACT)
    return NODE_ERROR(o, "sums up to %.0f exceed 2^24: not computed exactly in f32, which is how this operator is imported",
                      bound);
  if (!run_f32(o, conv ? op_conv : op_matmul, ins, bias ? 3 : 2, &res)) return false;
  tm_value *y = res.nhwc ? res.tm : res.onnx;
  const tm_type *rt;
  if (q) {
    /* saturate(round_half_even(acc * sx * sw / sy) + zy), the integer r = round(acc / d)
     * with d = sy / (sx * sw) (a division: a multiplication would be folded into the
     * weights, and the sums would no longer be exact), then quantized as r * sy. */
    float *d = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), float, pw.n);
    for (int i = 0; i < pw.n; i++) d[i] = (float)((double)py.scale[0] / ((double)px.scale[0] * pw.scale[i]));
    int yr = res.type->rank;
    y = build2(o, "tm.div", y, pw.n > 1 ? channel_const(o, yr, conv ? 1 : yr - 1, res.nhwc, pw.n, d) : scalar_f32(o, d[0]));
    if ((y = round_even(o, y))) y = build2(o, "tm.mul", y, scalar_f32(o, py.scale[0]));
    rt = quant1(I, py.storage, py.scale[0], py.zp[0]);
  } else {
    double one = 1;
    int64_t zero = 0;
    rt = tm_type_quant(I->ctx, tm_type_int(I->ctx, 32), tm_type_float(I->ctx, 32), INT32_MIN, INT32_MAX, -1, 1, &one,
                       &zero);
  }
  return y && set_output(o, 0, build(o, "tm.quantize", 1, &y, 0, NULL, tm_type_with_elem(I->ctx, y->type, rt)), res.nhwc);
}

/* MaxPool of 8-bit integers: exact in f32, where the maximum is taken; the result has
 * the input's storage (scale 1, zero point 0: the same integers). */
static bool op_max_pool_any(node *o) {
  entry *x = o->in[0], xf, res;
  const tm_type *el = x->type->elem;
  if (el->kind != TM_TYPE_INT || el->width != 8) return op_max_pool(o);
  int64_t zero = 0;
  qparams z = {el, 1, NULL, &zero};
  float bound;
  entry *ins[1] = {&xf};
  if (!int_entry(o, x, &z, -1, &xf, &bound) || !run_f32(o, op_max_pool, ins, 1, &res)) return false;
  tm_value *y = res.nhwc ? res.tm : res.onnx;
  const tm_type *rt = tm_type_with_elem(o->I->ctx, y->type, quant1(o->I, el, 1.0, 0));
  return set_output(o, 0, build(o, "tm.quantize", 1, &y, 0, NULL, rt), res.nhwc);
}

static bool op_conv_integer(node *o) { return integer_product(o, true, false); }
static bool op_matmul_integer(node *o) { return integer_product(o, false, false); }
static bool op_qlinear_conv(node *o) { return integer_product(o, true, true); }
static bool op_qlinear_matmul(node *o) { return integer_product(o, false, true); }

/* ONNX operator -> import function: X(op type, min inputs, max inputs, function). */
/* clang-format off */
#define ONNX_IMPORTED_OPS(X)                                  \
  X("Add", 2, 2, op_add)                                      \
  X("AveragePool", 1, 1, op_avg_pool)                         \
  X("BatchNormalization", 5, 5, op_batch_norm)                \
  X("Clip", 1, 3, op_clip)                                    \
  X("Concat", 1, 64, op_concat)                               \
  X("Conv", 2, 3, op_conv)                                    \
  X("ConvInteger", 2, 4, op_conv_integer)                     \
  X("ConvTranspose", 2, 3, op_conv_transpose)                 \
  X("DequantizeLinear", 2, 3, op_dequantize_linear)           \
  X("Div", 2, 2, op_div)                                      \
  X("Dropout", 1, 3, op_dropout)                              \
  X("Flatten", 1, 1, op_flatten)                              \
  X("Gemm", 2, 3, op_gemm)                                    \
  X("GlobalAveragePool", 1, 1, op_global_avg_pool)            \
  X("HardSigmoid", 1, 1, op_hard_sigmoid)                     \
  X("HardSwish", 1, 1, op_hard_swish)                         \
  X("Identity", 1, 1, op_identity)                            \
  X("LeakyRelu", 1, 1, op_leaky_relu)                         \
  X("MatMul", 2, 2, op_matmul)                                \
  X("MatMulInteger", 2, 4, op_matmul_integer)                 \
  X("MaxPool", 1, 1, op_max_pool_any)                         \
  X("Mul", 2, 2, op_mul)                                      \
  X("Pad", 1, 4, op_pad)                                      \
  X("QLinearConv", 8, 9, op_qlinear_conv)                     \
  X("QLinearMatMul", 8, 8, op_qlinear_matmul)                 \
  X("QuantizeLinear", 2, 3, op_quantize_linear)               \
  X("ReduceMean", 1, 2, op_reduce_mean)                       \
  X("Relu", 1, 1, op_relu)                                    \
  X("Reshape", 2, 2, op_reshape)                              \
  X("Sigmoid", 1, 1, op_sigmoid)                              \
  X("Slice", 1, 5, op_slice)                                  \
  X("Softmax", 1, 1, op_softmax)                              \
  X("Squeeze", 1, 2, op_squeeze)                              \
  X("Sub", 2, 2, op_sub)                                      \
  X("Tanh", 1, 1, op_tanh)                                    \
  X("Transpose", 1, 1, op_transpose)                          \
  X("Unsqueeze", 1, 2, op_unsqueeze)
/* clang-format on */

typedef struct op_rule {
  const char *op_type;
  int min_inputs, max_inputs;
  bool (*fn)(node *o);
} op_rule;

static const op_rule rules[] = {
#define ONNX_X_RULE(t, lo, hi, fn) {t, lo, hi, fn},
    ONNX_IMPORTED_OPS(ONNX_X_RULE)
#undef ONNX_X_RULE
};

static const op_rule *find_rule(const char *op_type) {
  for (size_t i = 0; i < TM_COUNTOF(rules); i++)
    if (!strcmp(rules[i].op_type, op_type)) return &rules[i];
  return NULL;
}

/* A Constant node: its value becomes a constant entry. */
static bool op_constant(node *o) {
  const Onnx__AttributeProto *a = attr(o, "value");
  if (!a || !a->t) return NODE_ERROR(o, "%s", "only the 'value' attribute (a tensor) is supported");
  entry *e = lookup(o->I, o->n->output[0]);
  if (!(e->data = tensor_data(o->I, a->t, o->loc, &e->type))) return false;
  e->defined = true;
  return true;
}

static bool is_window_op(const char *t) {
  return !strcmp(t, "Conv") || !strcmp(t, "ConvTranspose") || !strcmp(t, "MaxPool") || !strcmp(t, "AveragePool");
}

/* [N, C, L] as [N, C, 1, L] (and weights [O, C, K] as [O, C, 1, K]); the result back. */
static entry *as_4d(node *o, entry *e) {
  importer *I = o->I;
  entry *e4 = TM_NEW(tm_ctx_arena(I->ctx), entry);
  *e4 = *e;
  int64_t d[4] = {e->type->dims[0], e->type->dims[1], 1, e->type->dims[2]};
  e4->type = tm_type_tensor(I->ctx, e->type->elem, 4, d);
  e4->nhwc = false, e4->onnx = e4->tm = NULL;
  if (!e->data && !(e4->v = e4->onnx = reshape(o, val_onnx(o, e), 4, d))) return NULL;
  return e4;
}

static bool import_1d(node *o, const op_rule *r) {
  o->as2d = true;
  for (int k = 0; k < 2 && k < o->nin; k++)
    if (o->in[k] && o->in[k]->type->rank == 3 && !(o->in[k] = as_4d(o, o->in[k]))) return false;
  entry tmp = {.name = o->n->output[0]};
  o->out0 = &tmp;
  if (!r->fn(o)) return false;
  tm_value *v = val_onnx(o, &tmp);
  int64_t d[3] = {tmp.type->dims[0], tmp.type->dims[1], tmp.type->dims[3]};
  o->out0 = NULL;
  return v && set_output(o, 0, reshape(o, v, 3, d), false);
}

static bool import_node(importer *I, uint32_t i) {
  const Onnx__NodeProto *n = I->g->node[i];
  node o = {.I = I, .n = n, .index = i, .loc = named_loc(I, "node", i, n->name)};
  const char *type = n->op_type;
  if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx"))
    return error(I, o.loc, "unsupported ONNX operator '%s' of domain '%s' at node '%s'", type, n->domain,
                 n->name ? n->name : "");
  const op_rule *r = strcmp(type, "Constant") ? find_rule(type) : NULL;
  if (!r && strcmp(type, "Constant"))
    return error(I, o.loc, "unsupported ONNX operator '%s' (opset %" PRId64 ") at node '%s'", type, I->opset,
                 n->name && *n->name ? n->name : tm_arena_printf(I->ctx, "#%" PRIu32, i));
  size_t nin = n->n_input;
  while (nin && !*n->input[nin - 1]) nin--; /* trailing "" are absent optional inputs */
  int lo = r ? r->min_inputs : 0, hi = r ? r->max_inputs : 0;
  if (nin < (size_t)lo || nin > (size_t)hi)
    return NODE_ERROR(&o, "has %zu inputs, expected %d to %d", nin, lo, hi);
  if (n->n_output < 1 || !*n->output[0]) return NODE_ERROR(&o, "%s", "has no output");
  o.nin = (int)nin;
  for (size_t k = 0; k < nin; k++) {
    if (!*n->input[k]) {
      if ((int)k < lo) return NODE_ERROR(&o, "required input %zu is missing", k);
      continue;
    }
    entry *e = lookup(I, n->input[k]);
    if (!e) return NODE_ERROR(&o, "input %zu ('%s') is not a graph input, an initializer or a node output", k, n->input[k]);
    if (e->poisoned) return false;
    if (!e->defined)
      return NODE_ERROR(&o, "input %zu ('%s') is used before the node writing it: nodes must be in topological order", k,
                        n->input[k]);
    if (!e->type->rank && !e->data && !strcmp(type, "Conv")) return NODE_ERROR(&o, "input %zu is a scalar", k);
    o.in[k] = e;
  }
  if (r && is_window_op(type) && o.in[0]->type->rank == 3) return import_1d(&o, r);
  return r ? r->fn(&o) : op_constant(&o);
}

/* ------------------------------------------------------------------- graph -------- */
static const tm_onnx_input_shape *input_shape_opt(importer *I, const char *name) {
  for (int i = 0; I->opt && i < I->opt->ninput_shapes; i++)
    if (!strcmp(I->opt->input_shapes[i].name, name)) return &I->opt->input_shapes[i];
  return NULL;
}

/* A graph input's type, with dynamic dims fixed by --input-shape. */
static const tm_type *value_info_type(importer *I, const Onnx__ValueInfoProto *vi) {
  const char *name = vi->name;
  const tm_loc *loc = value_loc(I, name);
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return error_null(I, loc, "value '%s' is not a tensor", name);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  const tm_type *e = elem_type(I->ctx, tt->elem_type);
  if (!e)
    return error_null(I, loc, "value '%s' has element type %s, which is not supported", name, dtype_name(tt->elem_type));
  const tm_onnx_input_shape *fix = input_shape_opt(I, name);
  if (!tt->shape) {
    if (fix) return make_type(I, loc, name, e, (size_t)fix->rank, fix->dims);
    return error_null(I, loc, "input '%s' has no shape (give one with --input-shape)", name);
  }
  size_t rank = tt->shape->n_dim;
  if (rank > MAX_RANK) return error_null(I, loc, "value '%s' has rank %zu, more than the supported %d", name, rank, MAX_RANK);
  if (fix && (size_t)fix->rank != rank)
    return error_null(I, loc, "--input-shape for '%s' has rank %d, but the model's has rank %zu", name, fix->rank, rank);
  int64_t dims[MAX_RANK];
  for (size_t i = 0; i < rank; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    bool known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    if (fix) {
      if (known && d->dim_value != fix->dims[i])
        return error_null(I, loc, "--input-shape for '%s' gives dimension %zu as %" PRId64 ", but the model has %" PRId64,
                          name, i, fix->dims[i], d->dim_value);
      dims[i] = fix->dims[i];
    } else if (known) {
      dims[i] = d->dim_value;
    } else {
      const char *p = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? d->dim_param : "?";
      return error_null(I, loc, "input '%s' has dynamic dimension %zu ('%s'); fix it with --input-shape=%s:...", name, i,
                        p, name);
    }
  }
  return make_type(I, loc, name, e, rank, dims);
}

/* A graph output's declared static type, NULL if not fully declared (it is inferred). */
static const tm_type *declared_type(importer *I, const Onnx__ValueInfoProto *vi) {
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type || !tp->tensor_type->shape)
    return NULL;
  const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
  const tm_type *e = elem_type(I->ctx, tp->tensor_type->elem_type);
  if (!e || sh->n_dim > MAX_RANK) return NULL;
  int64_t dims[MAX_RANK];
  for (size_t i = 0; i < sh->n_dim; i++) {
    if (sh->dim[i]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || sh->dim[i]->dim_value < 0)
      return NULL;
    dims[i] = sh->dim[i]->dim_value;
  }
  return tm_type_tensor(I->ctx, e, (int)sh->n_dim, dims);
}

static const tm_attr *io_names(importer *I, size_t n, Onnx__ValueInfoProto *const *vi) {
  const tm_attr **names = TM_NEW_ARRAY(tm_ctx_arena(I->ctx), const tm_attr *, n + 1);
  for (size_t i = 0; i < n; i++) names[i] = tm_attr_cstr(I->ctx, vi[i]->name);
  return tm_attr_array(I->ctx, (int)n, names);
}

static tm_op *import_graph(importer *I, const char *func_name) {
  tm_ctx *ctx = I->ctx;
  const Onnx__GraphProto *g = I->g;
  tm_arena *A = tm_ctx_arena(ctx);
  size_t count = g->n_input + g->n_initializer;
  for (size_t i = 0; i < g->n_node; i++) count += g->node[i]->n_output;
  for (I->cap = 16; I->cap < 2 * count; I->cap *= 2) {}
  I->table = TM_NEW_ARRAY(A, entry *, I->cap);

  /* Initializers first: graph inputs of the same name (old IR versions) are constants. */
  for (size_t i = 0; i < g->n_initializer; i++) {
    const Onnx__TensorProto *t = g->initializer[i];
    const char *name = t->name ? t->name : "";
    const tm_loc *loc = value_loc(I, name);
    if (!*name) {
      error(I, loc, "initializer %zu has no name", i);
      continue;
    }
    entry *e = define(I, name, loc, "initializer");
    if (e && (e->data = tensor_data(I, t, loc, &e->type))) e->defined = true;
    else if (e) e->poisoned = true;
  }
  const tm_type **ins = TM_NEW_ARRAY(A, const tm_type *, g->n_input + 1);
  Onnx__ValueInfoProto **in_vi = TM_NEW_ARRAY(A, Onnx__ValueInfoProto *, g->n_input + 1);
  int nins = 0;
  for (size_t i = 0; i < g->n_input; i++) {
    Onnx__ValueInfoProto *vi = g->input[i];
    if (!vi->name || !*vi->name) {
      error(I, tm_loc_name(ctx, I->file, NULL), "graph input %zu has no name", i);
      continue;
    }
    entry *e = lookup(I, vi->name);
    if (e && e->data) continue; /* an initializer */
    if (!(e = define(I, vi->name, value_loc(I, vi->name), "graph input"))) continue;
    if (!(e->type = value_info_type(I, vi))) {
      e->poisoned = true;
      continue;
    }
    e->defined = true;
    in_vi[nins] = vi;
    ins[nins++] = e->type;
  }
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    for (size_t k = 0; k < n->n_output; k++)
      if (*n->output[k] && !define(I, n->output[k], named_loc(I, "node", (uint32_t)i, n->name), "node output")) break;
  }
  if (I->nerrors) return NULL;

  tm_op *module = tm_module_create(ctx, tm_loc_name(ctx, I->file, NULL));
  /* The function type's results are filled in once the outputs are known. */
  const tm_type *ft = tm_type_func(ctx, nins, ins, 0, NULL);
  tm_op *func = tm_func_create(ctx, func_name, ft, named_loc(I, "graph", 0, g->name));
  tm_block_append(tm_module_body(module), func);
  tm_block *entry_block = tm_func_entry(func);
  for (int i = 0; i < nins; i++) {
    entry *e = lookup(I, in_vi[i]->name);
    e->v = e->onnx = entry_block->args[i];
    entry_block->args[i]->loc = value_loc(I, e->name);
  }
  if (nins) tm_op_set_attr(ctx, func, "tm.input_names", io_names(I, (size_t)nins, in_vi));
  if (g->n_output) tm_op_set_attr(ctx, func, "tm.output_names", io_names(I, g->n_output, g->output));

  I->b = tm_builder_at_end(ctx, entry_block);
  I->arg_types = ins;
  for (uint32_t i = 0; i < g->n_node && I->nerrors < TM_IMPORT_MAX_ERRORS; i++)
    if (!import_node(I, i))
      for (size_t k = 0; k < g->node[i]->n_output; k++) {
        entry *e = *g->node[i]->output[k] ? lookup(I, g->node[i]->output[k]) : NULL;
        if (e) e->poisoned = true;
      }

  tm_value **results = TM_NEW_ARRAY(A, tm_value *, g->n_output + 1);
  const tm_type **outs = TM_NEW_ARRAY(A, const tm_type *, g->n_output + 1);
  for (size_t i = 0; i < g->n_output && I->nerrors < TM_IMPORT_MAX_ERRORS; i++) {
    const Onnx__ValueInfoProto *vi = g->output[i];
    entry *e = vi->name ? lookup(I, vi->name) : NULL;
    const tm_loc *loc = value_loc(I, vi->name ? vi->name : "");
    if (e && e->poisoned) continue;
    if (!e || !e->defined) {
      error(I, loc, "graph output %zu ('%s') is not a graph input, an initializer or a node output", i,
            vi->name ? vi->name : "");
      continue;
    }
    node o = {.I = I, .n = NULL, .index = 0, .loc = loc};
    if (!(results[i] = val_onnx(&o, e))) continue;
    outs[i] = results[i]->type;
    /* A declared static shape must agree with the inferred one. */
    const tm_type *declared = declared_type(I, vi);
    if (declared && declared != tm_type_with_elem(ctx, outs[i], tm_type_storage(outs[i]->elem)))
      error(I, loc, "graph output '%s' is declared as '%s', but the graph computes '%s'", vi->name,
            tm_type_str(ctx, declared), tm_type_str(ctx, outs[i]));
  }
  if (I->nerrors) return NULL;
  tm_op_set_attr(ctx, func, "function_type",
                 tm_attr_type(ctx, tm_type_func(ctx, nins, ins, (int)g->n_output, outs)));
  tm_op_state ret = {.name = "func.return", .loc = func->loc, .noperands = (int)g->n_output, .operands = results};
  tm_build(&I->b, &ret);
  return module;
}

/* proto2 strings that are absent decode as NULL: every name the importer reads becomes
 * "" instead, once, so no use has to check. */
static void fix_str(char **s) {
  if (!*s) *s = (char *)"";
}

static void fix_tensor(Onnx__TensorProto *t) {
  if (t) fix_str(&t->name);
}

static void fix_value_infos(size_t n, Onnx__ValueInfoProto **v) {
  for (size_t i = 0; i < n; i++) fix_str(&v[i]->name);
}

static void fix_strings(Onnx__GraphProto *g) {
  fix_str(&g->name);
  fix_value_infos(g->n_input, g->input);
  fix_value_infos(g->n_output, g->output);
  for (size_t i = 0; i < g->n_initializer; i++) fix_tensor(g->initializer[i]);
  for (size_t i = 0; i < g->n_node; i++) {
    Onnx__NodeProto *n = g->node[i];
    fix_str(&n->name), fix_str(&n->op_type), fix_str(&n->domain);
    for (size_t k = 0; k < n->n_attribute; k++) {
      fix_str(&n->attribute[k]->name);
      fix_tensor(n->attribute[k]->t);
    }
  }
}

static void *pb_alloc(void *user, size_t size) { return tm_arena_alloc(user, size ? size : 1, 16); }
static void pb_free(void *user, void *p) { (void)user, (void)p; } /* the arena owns it */

tm_op *tm_import_onnx(tm_ctx *ctx, const char *filename, const uint8_t *data, size_t size,
                      const tm_onnx_import_options *opt) {
  const char *file = tm_intern_cstr(ctx, filename ? filename : "<onnx>");
  const tm_loc *file_loc = tm_loc_name(ctx, file, NULL);
  ProtobufCAllocator alloc = {pb_alloc, pb_free, tm_ctx_arena(ctx)};
  Onnx__ModelProto *m = onnx__model_proto__unpack(&alloc, size, data);
  if (!m) {
    tm_error(ctx, file_loc, "invalid ONNX file: not a ModelProto (protobuf decoding failed)");
    return NULL;
  }
  if (!m->graph) {
    tm_error(ctx, file_loc, "invalid ONNX file: the model has no graph");
    return NULL;
  }
  fix_strings(m->graph);
  int64_t opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *s = m->opset_import[i];
    if ((!s->domain || !*s->domain || !strcmp(s->domain, "ai.onnx")) && s->has_version) opset = s->version;
  }
  if (opset < 0 && m->n_opset_import == 0) opset = 1; /* IR version 1-2 files have none */
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    tm_error(ctx, file_loc, "unsupported ONNX opset %" PRId64 " (supported: %d to %d)", opset, MIN_OPSET, MAX_OPSET);
    return NULL;
  }
  importer I = {.ctx = ctx, .file = file, .g = m->graph, .opset = opset, .opt = opt};
  const char *name = opt && opt->func_name ? opt->func_name : tm_import_stem_symbol(ctx, file);
  tm_op *module = import_graph(&I, name);
  tm_import_note_stopped(ctx, I.nerrors, file_loc);
  return module;
}

int tm_onnx_parse_input_shapes(tm_ctx *ctx, const char *text, tm_onnx_import_options *opt) {
  tm_arena *A = tm_ctx_arena(ctx);
  int cap = 1;
  for (const char *p = text; *p; p++) cap += *p == ',';
  tm_onnx_input_shape *shapes = TM_NEW_ARRAY(A, tm_onnx_input_shape, cap);
  int n = 0;
  for (const char *p = text; *p;) {
    size_t len = strcspn(p, ","), colon = strcspn(p, ":");
    if (colon >= len || colon == 0) {
      tm_error(ctx, NULL, "invalid --input-shape '%.*s': expected NAME:DxDx...", (int)len, p);
      return -1;
    }
    char *name = tm_arena_alloc(A, colon + 1, 1);
    memcpy(name, p, colon);
    int64_t *dims = TM_NEW_ARRAY(A, int64_t, MAX_RANK);
    int rank = 0;
    const char *q = p + colon + 1, *end = p + len;
    while (q < end) {
      char *stop;
      long long d = strtoll(q, &stop, 10);
      if (stop == q || stop > end || d < 0 || d > MAX_ELEMS || rank == MAX_RANK || (stop < end && *stop != 'x')) {
        tm_error(ctx, NULL, "invalid --input-shape '%.*s': expected NAME:DxDx... with at most %d dimensions",
                 (int)len, p, MAX_RANK);
        return -1;
      }
      dims[rank++] = d;
      q = stop < end ? stop + 1 : stop;
    }
    shapes[n++] = (tm_onnx_input_shape){name, rank, dims};
    p += len + (p[len] == ',');
  }
  opt->input_shapes = shapes;
  opt->ninput_shapes = n;
  return 0;
}
