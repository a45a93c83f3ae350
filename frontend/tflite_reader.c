/* frontend/tflite_reader.c — decode a TFLite flatbuffer into the structs of tflite_reader.h.
 *
 * Flatbuffer layout, as checked here (all little-endian):
 *   file[0..4)  uoffset of the root table (Model); "TFL3" optionally at [4..8).
 *   table T     int32 soffset at T; its vtable is at T - soffset.
 *   vtable V    uint16 vtable size (bytes, >= 4, even), uint16 table size (bytes, >= 4),
 *               then one uint16 per field id: the field's offset from T, 0 = absent.
 *   reference   a uint32 at P pointing forward to P + value (tables, vectors, strings).
 *   vector      uint32 element count, then the elements (tables: one reference each).
 *   string      a byte vector followed by a NUL.
 *   union       two field ids: a uint8 type, then a reference to the member table.
 * The schema has a fixed depth, so decoding needs no recursion; every reference points
 * forward and is followed a bounded number of times.  Because tables may be shared,
 * decoded output could grow quadratically with the file: a byte budget bounds it. */
#include "frontend/tflite_reader.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TFL_MAX_RANK 16

/* ------------------------------------------------------------------ names ------------ */

static const char *const type_names[] = {
    "FLOAT32", "FLOAT16",  "INT32",     "UINT8",  "INT64",   "STRING",
    "BOOL",    "INT16",    "COMPLEX64", "INT8",   "FLOAT64", "COMPLEX128",
    "UINT64",  "RESOURCE", "VARIANT",   "UINT32", "UINT16",  "INT4",
};
static const unsigned char type_sizes[] = {4, 2, 4, 1, 8, 0, 1, 2, 8, 1, 8, 16, 8, 0, 0, 4, 2, 0};

static const char *const activation_names[] = {"NONE",  "RELU", "RELU_N1_TO_1",
                                               "RELU6", "TANH", "SIGN_BIT"};

/* BuiltinOptions members in union order (type id = index). */
/* clang-format off */
static const char *const options_names[] = {
    "NONE", "Conv2DOptions", "DepthwiseConv2DOptions", "ConcatEmbeddingsOptions",
    "LSHProjectionOptions", "Pool2DOptions", "SVDFOptions", "RNNOptions",
    "FullyConnectedOptions", "SoftmaxOptions", "ConcatenationOptions", "AddOptions",
    "L2NormOptions", "LocalResponseNormalizationOptions", "LSTMOptions",
    "ResizeBilinearOptions", "CallOptions", "ReshapeOptions", "SkipGramOptions",
    "SpaceToDepthOptions", "EmbeddingLookupSparseOptions", "MulOptions", "PadOptions",
    "GatherOptions", "BatchToSpaceNDOptions", "SpaceToBatchNDOptions", "TransposeOptions",
    "ReducerOptions", "SubOptions", "DivOptions", "SqueezeOptions", "SequenceRNNOptions",
    "StridedSliceOptions", "ExpOptions", "TopKV2Options", "SplitOptions",
    "LogSoftmaxOptions", "CastOptions", "DequantizeOptions", "MaximumMinimumOptions",
    "ArgMaxOptions", "LessOptions", "NegOptions", "PadV2Options", "GreaterOptions",
    "GreaterEqualOptions", "LessEqualOptions", "SelectOptions", "SliceOptions",
    "TransposeConvOptions", "SparseToDenseOptions", "TileOptions", "ExpandDimsOptions",
    "EqualOptions", "NotEqualOptions", "ShapeOptions", "PowOptions", "ArgMinOptions",
    "FakeQuantOptions", "PackOptions", "LogicalOrOptions", "OneHotOptions",
    "LogicalAndOptions", "LogicalNotOptions", "UnpackOptions", "FloorDivOptions",
    "SquareOptions", "ZerosLikeOptions", "FillOptions", "BidirectionalSequenceLSTMOptions",
    "BidirectionalSequenceRNNOptions", "UnidirectionalSequenceLSTMOptions",
    "FloorModOptions", "RangeOptions", "ResizeNearestNeighborOptions", "LeakyReluOptions",
    "SquaredDifferenceOptions", "MirrorPadOptions", "AbsOptions", "SplitVOptions",
    "UniqueOptions", "ReverseV2Options", "AddNOptions", "GatherNdOptions", "CosOptions",
    "WhereOptions", "RankOptions", "ReverseSequenceOptions", "MatrixDiagOptions",
    "QuantizeOptions", "MatrixSetDiagOptions", "HardSwishOptions", "IfOptions",
    "WhileOptions", "DepthToSpaceOptions", "NonMaxSuppressionV4Options",
    "NonMaxSuppressionV5Options", "ScatterNdOptions", "SelectV2Options", "DensifyOptions",
    "SegmentSumOptions", "BatchMatMulOptions", "CumsumOptions", "CallOnceOptions",
    "BroadcastToOptions", "Rfft2dOptions", "Conv3DOptions", "HashtableOptions",
    "HashtableFindOptions", "HashtableImportOptions", "HashtableSizeOptions",
    "VarHandleOptions", "ReadVariableOptions", "AssignVariableOptions", "RandomOptions",
    "BucketizeOptions", "GeluOptions", "DynamicUpdateSliceOptions",
    "UnsortedSegmentProdOptions", "UnsortedSegmentMaxOptions", "UnsortedSegmentMinOptions",
    "UnsortedSegmentSumOptions", "ATan2Options", "SignOptions", "BitcastOptions",
    "BitwiseXorOptions", "RightShiftOptions",
};
/* clang-format on */
_Static_assert(sizeof options_names / sizeof *options_names == TFL_OPT_MAX + 1,
               "BuiltinOptions table out of sync");

typedef struct builtin_name {
  int32_t code;
  const char *name;
} builtin_name;
static const builtin_name builtin_names[] = {
#define TFL_X_NAME(name, code) {code, #name},
    TFL_BUILTIN_OPS(TFL_X_NAME)
#undef TFL_X_NAME
};

const char *tfl_builtin_name(int32_t code) {
  /* The table is dense up to its last entry except for a gap, so index, then verify. */
  size_t n = sizeof builtin_names / sizeof *builtin_names;
  if (code >= 0 && (size_t)code < n && builtin_names[code].code == code)
    return builtin_names[code].name;
  if (code == builtin_names[n - 1].code) return builtin_names[n - 1].name;
  return NULL;
}

const char *tfl_type_name(int type) {
  return type >= 0 && type <= TFL_TYPE_MAX ? type_names[type] : NULL;
}

unsigned tfl_type_size(int type) {
  return type >= 0 && type <= TFL_TYPE_MAX ? type_sizes[type] : 0;
}

const char *tfl_options_name(int options_type) {
  return options_type >= 0 && options_type <= TFL_OPT_MAX ? options_names[options_type] : NULL;
}

const char *tfl_activation_name(int activation) {
  return activation >= 0 && activation <= TFL_ACT_SIGN_BIT ? activation_names[activation] : NULL;
}

/* The options table each builtin must carry (when it carries one), for the ops whose
 * options are decoded; other builtins accept any valid options type. */
static int expected_options(int32_t code) {
  switch (code) {
  case TFL_OP_CONV_2D: return TFL_OPT_CONV2D;
  case TFL_OP_DEPTHWISE_CONV_2D: return TFL_OPT_DEPTHWISE_CONV2D;
  case TFL_OP_AVERAGE_POOL_2D:
  case TFL_OP_MAX_POOL_2D:
  case TFL_OP_L2_POOL_2D: return TFL_OPT_POOL2D;
  case TFL_OP_FULLY_CONNECTED: return TFL_OPT_FULLY_CONNECTED;
  case TFL_OP_SOFTMAX: return TFL_OPT_SOFTMAX;
  case TFL_OP_CONCATENATION: return TFL_OPT_CONCATENATION;
  case TFL_OP_ADD: return TFL_OPT_ADD;
  case TFL_OP_SUB: return TFL_OPT_SUB;
  case TFL_OP_MUL: return TFL_OPT_MUL;
  case TFL_OP_RESHAPE: return TFL_OPT_RESHAPE;
  case TFL_OP_PAD: return TFL_OPT_PAD;
  case TFL_OP_MEAN:
  case TFL_OP_SUM:
  case TFL_OP_REDUCE_PROD:
  case TFL_OP_REDUCE_MAX:
  case TFL_OP_REDUCE_MIN:
  case TFL_OP_REDUCE_ANY:
  case TFL_OP_REDUCE_ALL: return TFL_OPT_REDUCER;
  case TFL_OP_SQUEEZE: return TFL_OPT_SQUEEZE;
  case TFL_OP_STRIDED_SLICE: return TFL_OPT_STRIDED_SLICE;
  case TFL_OP_TRANSPOSE_CONV: return TFL_OPT_TRANSPOSE_CONV;
  case TFL_OP_LEAKY_RELU: return TFL_OPT_LEAKY_RELU;
  case TFL_OP_QUANTIZE: return TFL_OPT_QUANTIZE;
  case TFL_OP_DEQUANTIZE: return TFL_OPT_DEQUANTIZE;
  case TFL_OP_BATCH_MATMUL: return TFL_OPT_BATCH_MATMUL;
  default: return TFL_OPT_NONE;
  }
}

/* ------------------------------------------------------------ the reader ------------ */

/* A malloc'd block when the caller gives no allocator; the union keeps the payload
 * aligned like malloc's. */
typedef union block {
  union block *next;
  max_align_t align;
} block;

typedef struct reader {
  const uint8_t *p;
  uint64_t size;
  tfl_alloc_fn alloc;
  void *user;
  block *blocks;
  uint64_t budget; /* bytes of decoded output still allowed */
  tfl_error *err;
  char where[96]; /* "subgraph 0: tensor 12" */
} reader;

/* A validated table: its position, its vtable and both sizes. */
typedef struct table {
  uint64_t pos, vt;
  uint32_t vt_size, size;
} table;

/* A validated vector: position of element 0 and the count. */
typedef struct vec {
  uint64_t pos;
  uint32_t n;
} vec;

static bool fail(reader *r, tfl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(reader *r, tfl_status st, const char *fmt, ...) {
  char msg[208]; /* with where[] and the prefix, fits tfl_error.message */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  r->err->status = st;
  snprintf(r->err->message, sizeof r->err->message, "tflite: %s%s%s", r->where,
           r->where[0] ? ": " : "", msg);
  return false;
}

static void where(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void where(reader *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->where, sizeof r->where, fmt, ap);
  va_end(ap);
}

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static float ldf32(const uint8_t *p) {
  uint32_t u = ld32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* [pos, pos + len) must lie inside the file; written so that nothing can overflow. */
static bool need(reader *r, uint64_t pos, uint64_t len, const char *what) {
  if (pos > r->size || len > r->size - pos)
    return fail(r, TFL_ERR_FORMAT,
                "%s at 0x%" PRIx64 " (%" PRIu64 " bytes) runs past end of file (size 0x%" PRIx64
                ")",
                what, pos, len, r->size);
  return true;
}

static void *grab(reader *r, uint64_t count, uint64_t elem) {
  uint64_t bytes = count * elem; /* count < 2^32, elem small: no overflow */
  if (bytes == 0) bytes = 1;
  if (bytes > r->budget) {
    fail(r, TFL_ERR_NOMEM, "decoded model exceeds the size budget (tables shared too often?)");
    return NULL;
  }
  r->budget -= bytes;
  void *p;
  if (r->alloc) {
    p = r->alloc(r->user, (size_t)bytes);
  } else {
    block *b = malloc(sizeof(block) + (size_t)bytes);
    if (b) {
      b->next = r->blocks;
      r->blocks = b;
    }
    p = b ? b + 1 : NULL;
  }
  if (!p) {
    fail(r, TFL_ERR_NOMEM, "out of memory (%" PRIu64 " bytes)", bytes);
    return NULL;
  }
  memset(p, 0, (size_t)bytes);
  return p;
}

static void free_blocks(block *b) {
  while (b) {
    block *next = b->next;
    free(b);
    b = next;
  }
}

/* ------------------------------------------------------- flatbuffer primitives ------ */

static bool table_at(reader *r, uint64_t pos, const char *what, table *t) {
  if (!need(r, pos, 4, what)) return false;
  int64_t vt = (int64_t)pos - (int32_t)ld32(r->p + pos);
  if (vt < 0 || (uint64_t)vt > r->size || r->size - (uint64_t)vt < 4)
    return fail(r, TFL_ERR_FORMAT,
                "%s at 0x%" PRIx64 ": vtable offset 0x%" PRIx64 " outside the file (size 0x%" PRIx64
                ")",
                what, pos, (uint64_t)vt, r->size);
  t->pos = pos;
  t->vt = (uint64_t)vt;
  t->vt_size = ld16(r->p + vt);
  t->size = ld16(r->p + vt + 2);
  if (t->vt_size < 4 || t->vt_size % 2)
    return fail(r, TFL_ERR_FORMAT, "%s at 0x%" PRIx64 ": invalid vtable size %" PRIu32, what, pos,
                t->vt_size);
  if (!need(r, t->vt, t->vt_size, "vtable")) return false;
  if (t->size < 4)
    return fail(r, TFL_ERR_FORMAT, "%s at 0x%" PRIx64 ": invalid table size %" PRIu32, what, pos,
                t->size);
  return need(r, pos, t->size, what);
}

/* Position of field `id` of `len` bytes, or 0 when absent. */
static bool field(reader *r, const table *t, unsigned id, unsigned len, const char *what,
                  uint64_t *at) {
  *at = 0;
  uint32_t slot = 4 + 2 * id;
  if (slot + 2 > t->vt_size) return true;
  uint16_t off = ld16(r->p + t->vt + slot);
  if (off == 0) return true;
  if (off < 4 || (uint32_t)off + len > t->size)
    return fail(r, TFL_ERR_FORMAT,
                "%s: field at table offset %u (%u bytes) outside its table at 0x%" PRIx64
                " (size %" PRIu32 ")",
                what, off, len, t->pos, t->size);
  *at = t->pos + off;
  return true;
}

/* Scalars: raw little-endian bits, `def` when absent. */
static bool scalar(reader *r, const table *t, unsigned id, unsigned len, uint64_t def,
                   const char *what, uint64_t *out) {
  uint64_t at;
  if (!field(r, t, id, len, what, &at)) return false;
  if (!at)
    *out = def;
  else if (len == 1)
    *out = r->p[at];
  else if (len == 4)
    *out = ld32(r->p + at);
  else
    *out = ld64(r->p + at);
  return true;
}

static bool get_u8(reader *r, const table *t, unsigned id, uint8_t def, const char *what,
                   uint8_t *out) {
  uint64_t v;
  if (!scalar(r, t, id, 1, def, what, &v)) return false;
  *out = (uint8_t)v;
  return true;
}

static bool get_bool(reader *r, const table *t, unsigned id, bool def, const char *what,
                     bool *out) {
  uint8_t v;
  if (!get_u8(r, t, id, def, what, &v)) return false;
  *out = v != 0;
  return true;
}

static bool get_i32(reader *r, const table *t, unsigned id, int32_t def, const char *what,
                    int32_t *out) {
  uint64_t v;
  if (!scalar(r, t, id, 4, (uint32_t)def, what, &v)) return false;
  *out = (int32_t)(uint32_t)v;
  return true;
}

static bool get_u32(reader *r, const table *t, unsigned id, const char *what, uint32_t *out) {
  uint64_t v;
  if (!scalar(r, t, id, 4, 0, what, &v)) return false;
  *out = (uint32_t)v;
  return true;
}

static bool get_u64(reader *r, const table *t, unsigned id, const char *what, uint64_t *out) {
  return scalar(r, t, id, 8, 0, what, out);
}

static bool get_f32(reader *r, const table *t, unsigned id, const char *what, float *out) {
  uint64_t at;
  if (!field(r, t, id, 4, what, &at)) return false;
  *out = at ? ldf32(r->p + at) : 0.0f;
  return true;
}

/* Follows the reference at `at` (a field or a vector element); the target is > at > 0. */
static bool follow(reader *r, uint64_t at, const char *what, uint64_t *target) {
  uint64_t t = at + ld32(r->p + at);
  if (t >= r->size)
    return fail(r, TFL_ERR_FORMAT,
                "%s: offset 0x%" PRIx64 " (from 0x%" PRIx64 ") past end of file (size 0x%" PRIx64
                ")",
                what, t, at, r->size);
  *target = t;
  return true;
}

/* Target of reference field `id`, or 0 when absent. */
static bool ref(reader *r, const table *t, unsigned id, const char *what, uint64_t *target) {
  uint64_t at;
  *target = 0;
  if (!field(r, t, id, 4, what, &at)) return false;
  return !at || follow(r, at, what, target);
}

static bool vector_at(reader *r, uint64_t pos, unsigned elem, const char *what, vec *v) {
  if (!need(r, pos, 4, what)) return false;
  v->n = ld32(r->p + pos);
  v->pos = pos + 4;
  if ((uint64_t)v->n * elem > r->size - v->pos)
    return fail(r, TFL_ERR_FORMAT,
                "%s: vector at 0x%" PRIx64 " of %" PRIu32
                " x %u bytes runs past end of file (size 0x%" PRIx64 ")",
                what, pos, v->n, elem, r->size);
  return true;
}

/* Vector field `id`; absent gives an empty vector and *present = false. */
static bool get_vec(reader *r, const table *t, unsigned id, unsigned elem, const char *what, vec *v,
                    bool *present) {
  uint64_t pos;
  v->pos = 0;
  v->n = 0;
  if (!ref(r, t, id, what, &pos)) return false;
  if (present) *present = pos != 0;
  return !pos || vector_at(r, pos, elem, what, v);
}

/* String field `id` (a pointer into the file, NUL-terminated), or `def` when absent. */
static bool get_str(reader *r, const table *t, unsigned id, const char *def, const char *what,
                    const char **out) {
  vec v;
  bool present;
  *out = def;
  if (!get_vec(r, t, id, 1, what, &v, &present)) return false;
  if (!present) return true;
  if (!need(r, v.pos + v.n, 1, what)) return false;
  if (r->p[v.pos + v.n] != 0)
    return fail(r, TFL_ERR_FORMAT,
                "%s: string at 0x%" PRIx64 " (length %" PRIu32 ") is not NUL-terminated", what,
                v.pos - 4, v.n);
  *out = (const char *)r->p + v.pos;
  return true;
}

/* Table field `id`; *present = false when absent. */
static bool get_table(reader *r, const table *t, unsigned id, const char *what, table *out,
                      bool *present) {
  uint64_t pos;
  if (!ref(r, t, id, what, &pos)) return false;
  *present = pos != 0;
  return !pos || table_at(r, pos, what, out);
}

/* Element i of a vector of tables. */
static bool elem_table(reader *r, const vec *v, uint32_t i, const char *what, table *out) {
  uint64_t pos = 0;
  return follow(r, v->pos + 4 * (uint64_t)i, what, &pos) && table_at(r, pos, what, out);
}

/* Copies an [int] vector field into a fresh array. */
static bool get_ints(reader *r, const table *t, unsigned id, const char *what, int32_t **out,
                     uint32_t *n, bool *present) {
  vec v;
  *out = NULL;
  *n = 0;
  if (!get_vec(r, t, id, 4, what, &v, present)) return false;
  if (v.n == 0) return true;
  int32_t *a = grab(r, v.n, sizeof *a);
  if (!a) return false;
  for (uint32_t i = 0; i < v.n; i++) a[i] = (int32_t)ld32(r->p + v.pos + 4 * (uint64_t)i);
  *out = a;
  *n = v.n;
  return true;
}

static bool get_floats(reader *r, const table *t, unsigned id, const char *what, float **out,
                       uint32_t *n) {
  vec v;
  *out = NULL;
  *n = 0;
  if (!get_vec(r, t, id, 4, what, &v, NULL)) return false;
  if (v.n == 0) return true;
  float *a = grab(r, v.n, sizeof *a);
  if (!a) return false;
  for (uint32_t i = 0; i < v.n; i++) a[i] = ldf32(r->p + v.pos + 4 * (uint64_t)i);
  *out = a;
  *n = v.n;
  return true;
}

/* Union value field `id` for a type already read: a table when type != 0. */
static bool union_value(reader *r, const table *t, unsigned id, uint8_t type, const char *what,
                        table *out, bool *present) {
  if (!get_table(r, t, id, what, out, present)) return false;
  if (type != 0 && !*present)
    return fail(r, TFL_ERR_FORMAT, "%s: union type %u without a value", what, type);
  return true;
}

/* ----------------------------------------------------------------- options ---------- */

static bool check_padding(reader *r, uint8_t v) {
  return v <= TFL_PAD_VALID ||
         fail(r, TFL_ERR_UNSUPPORTED, "padding %u is not SAME (0) or VALID (1)", v);
}

static bool check_activation(reader *r, uint8_t v) {
  return v <= TFL_ACT_SIGN_BIT ||
         fail(r, TFL_ERR_UNSUPPORTED, "fused_activation_function %u out of range (0..5)", v);
}

static bool check_tensor_type(reader *r, uint8_t v, const char *what) {
  return v <= TFL_TYPE_MAX || fail(r, TFL_ERR_UNSUPPORTED, "%s: unknown tensor type %u", what, v);
}

static bool check_positive(reader *r, int32_t v, const char *what) {
  return v >= 1 || fail(r, TFL_ERR_SCHEMA, "%s %" PRId32 " must be >= 1", what, v);
}

/* A table absent from the file (has = false) yields the schema defaults. */
static bool decode_options(reader *r, int type, const table *t, bool has, tfl_options *o) {
  static const table none = {0, 0, 4, 4}; /* empty vtable: every field absent */
  if (!has) t = &none;
  const char *w = options_names[type];
  switch (type) {
  case TFL_OPT_CONV2D: {
    tfl_conv2d_options *c = &o->conv2d;
    return get_u8(r, t, 0, 0, w, &c->padding) && get_i32(r, t, 1, 0, w, &c->stride_w) &&
           get_i32(r, t, 2, 0, w, &c->stride_h) && get_u8(r, t, 3, 0, w, &c->activation) &&
           get_i32(r, t, 4, 1, w, &c->dilation_w) && get_i32(r, t, 5, 1, w, &c->dilation_h) &&
           get_u8(r, t, 6, 0, w, &c->quantized_bias_type) && check_padding(r, c->padding) &&
           check_activation(r, c->activation) &&
           check_tensor_type(r, c->quantized_bias_type, "quantized_bias_type") &&
           check_positive(r, c->stride_w, "stride_w") &&
           check_positive(r, c->stride_h, "stride_h") &&
           check_positive(r, c->dilation_w, "dilation_w_factor") &&
           check_positive(r, c->dilation_h, "dilation_h_factor");
  }
  case TFL_OPT_DEPTHWISE_CONV2D: {
    tfl_depthwise_conv2d_options *c = &o->depthwise_conv2d;
    return get_u8(r, t, 0, 0, w, &c->padding) && get_i32(r, t, 1, 0, w, &c->stride_w) &&
           get_i32(r, t, 2, 0, w, &c->stride_h) && get_i32(r, t, 3, 0, w, &c->depth_multiplier) &&
           get_u8(r, t, 4, 0, w, &c->activation) && get_i32(r, t, 5, 1, w, &c->dilation_w) &&
           get_i32(r, t, 6, 1, w, &c->dilation_h) && check_padding(r, c->padding) &&
           check_activation(r, c->activation) && check_positive(r, c->stride_w, "stride_w") &&
           check_positive(r, c->stride_h, "stride_h") &&
           check_positive(r, c->dilation_w, "dilation_w_factor") &&
           check_positive(r, c->dilation_h, "dilation_h_factor");
  }
  case TFL_OPT_POOL2D: {
    tfl_pool2d_options *c = &o->pool2d;
    return get_u8(r, t, 0, 0, w, &c->padding) && get_i32(r, t, 1, 0, w, &c->stride_w) &&
           get_i32(r, t, 2, 0, w, &c->stride_h) && get_i32(r, t, 3, 0, w, &c->filter_w) &&
           get_i32(r, t, 4, 0, w, &c->filter_h) && get_u8(r, t, 5, 0, w, &c->activation) &&
           check_padding(r, c->padding) && check_activation(r, c->activation) &&
           check_positive(r, c->stride_w, "stride_w") &&
           check_positive(r, c->stride_h, "stride_h") &&
           check_positive(r, c->filter_w, "filter_width") &&
           check_positive(r, c->filter_h, "filter_height");
  }
  case TFL_OPT_FULLY_CONNECTED: {
    tfl_fully_connected_options *c = &o->fully_connected;
    if (!(get_u8(r, t, 0, 0, w, &c->activation) && get_u8(r, t, 1, 0, w, &c->weights_format) &&
          get_bool(r, t, 2, false, w, &c->keep_num_dims) &&
          get_bool(r, t, 3, false, w, &c->asymmetric_quantize_inputs) &&
          get_u8(r, t, 4, 0, w, &c->quantized_bias_type) && check_activation(r, c->activation) &&
          check_tensor_type(r, c->quantized_bias_type, "quantized_bias_type")))
      return false;
    return c->weights_format <= 1 ||
           fail(r, TFL_ERR_UNSUPPORTED, "weights_format %u out of range (0..1)", c->weights_format);
  }
  case TFL_OPT_SOFTMAX: return get_f32(r, t, 0, w, &o->softmax.beta);
  case TFL_OPT_CONCATENATION:
    return get_i32(r, t, 0, 0, w, &o->concatenation.axis) &&
           get_u8(r, t, 1, 0, w, &o->concatenation.activation) &&
           check_activation(r, o->concatenation.activation);
  case TFL_OPT_ADD:
  case TFL_OPT_SUB:
  case TFL_OPT_MUL: {
    tfl_binary_options *c = &o->add; /* the three members share one layout */
    return get_u8(r, t, 0, 0, w, &c->activation) &&
           get_bool(r, t, 1, type != TFL_OPT_MUL, w, &c->pot_scale_int16) &&
           check_activation(r, c->activation);
  }
  case TFL_OPT_RESHAPE:
    return get_ints(r, t, 0, "new_shape", &o->reshape.values, &o->reshape.count,
                    &o->reshape.present);
  case TFL_OPT_SQUEEZE:
    return get_ints(r, t, 0, "squeeze_dims", &o->squeeze.values, &o->squeeze.count,
                    &o->squeeze.present);
  case TFL_OPT_STRIDED_SLICE: {
    tfl_strided_slice_options *c = &o->strided_slice;
    return get_i32(r, t, 0, 0, w, &c->begin_mask) && get_i32(r, t, 1, 0, w, &c->end_mask) &&
           get_i32(r, t, 2, 0, w, &c->ellipsis_mask) && get_i32(r, t, 3, 0, w, &c->new_axis_mask) &&
           get_i32(r, t, 4, 0, w, &c->shrink_axis_mask) && get_bool(r, t, 5, false, w, &c->offset);
  }
  case TFL_OPT_LEAKY_RELU: return get_f32(r, t, 0, w, &o->leaky_relu.alpha);
  case TFL_OPT_REDUCER: return get_bool(r, t, 0, false, w, &o->reducer.keep_dims);
  case TFL_OPT_TRANSPOSE_CONV: {
    tfl_transpose_conv_options *c = &o->transpose_conv;
    return get_u8(r, t, 0, 0, w, &c->padding) && get_i32(r, t, 1, 0, w, &c->stride_w) &&
           get_i32(r, t, 2, 0, w, &c->stride_h) && get_u8(r, t, 3, 0, w, &c->activation) &&
           get_u8(r, t, 4, 0, w, &c->quantized_bias_type) && check_padding(r, c->padding) &&
           check_activation(r, c->activation) &&
           check_tensor_type(r, c->quantized_bias_type, "quantized_bias_type") &&
           check_positive(r, c->stride_w, "stride_w") && check_positive(r, c->stride_h, "stride_h");
  }
  case TFL_OPT_BATCH_MATMUL: {
    tfl_batch_matmul_options *c = &o->batch_matmul;
    return get_bool(r, t, 0, false, w, &c->adj_x) && get_bool(r, t, 1, false, w, &c->adj_y) &&
           get_bool(r, t, 2, false, w, &c->asymmetric_quantize_inputs);
  }
  default: return true; /* empty (Pad, Quantize, Dequantize) or not decoded */
  }
}

/* --------------------------------------------------------------- the model ---------- */

static bool tensor_index(reader *r, int32_t idx, uint32_t ntensors, bool allow_absent,
                         const char *what, uint32_t i) {
  if (idx == -1 && allow_absent) return true;
  if (idx < 0 || (uint32_t)idx >= ntensors)
    return fail(r, TFL_ERR_SCHEMA,
                "%s %" PRIu32 ": tensor index %" PRId32 " out of range (%" PRIu32 " tensors)", what,
                i, idx, ntensors);
  return true;
}

static bool read_buffers(reader *r, const table *model, tfl_model *m) {
  vec v;
  if (!get_vec(r, model, 4, 4, "buffers", &v, NULL)) return false;
  if (v.n && !(m->buffers = grab(r, v.n, sizeof *m->buffers))) return false;
  m->num_buffers = v.n;
  for (uint32_t i = 0; i < v.n; i++) {
    tfl_buffer *b = &m->buffers[i];
    table t;
    vec data;
    uint64_t offset, size;
    where(r, "buffer %" PRIu32, i);
    if (!elem_table(r, &v, i, "buffer", &t) || !get_vec(r, &t, 0, 1, "data", &data, NULL) ||
        !get_u64(r, &t, 1, "offset", &offset) || !get_u64(r, &t, 2, "size", &size))
      return false;
    /* Models over 2 GB keep data outside the flatbuffer; offset <= 1 means unused. */
    if (offset > 1) {
      if (offset > r->size || size > r->size - offset)
        return fail(r, TFL_ERR_FORMAT,
                    "external data at 0x%" PRIx64 " (%" PRIu64
                    " bytes) runs past end of file (size 0x%" PRIx64 ")",
                    offset, size, r->size);
      b->external = true;
      b->size = size;
      b->data = size ? r->p + offset : NULL;
    } else {
      b->size = data.n;
      b->data = data.n ? r->p + data.pos : NULL;
    }
  }
  return true;
}

static bool read_opcodes(reader *r, const table *model, tfl_model *m) {
  vec v;
  if (!get_vec(r, model, 1, 4, "operator_codes", &v, NULL)) return false;
  if (v.n && !(m->opcodes = grab(r, v.n, sizeof *m->opcodes))) return false;
  m->num_opcodes = v.n;
  for (uint32_t i = 0; i < v.n; i++) {
    tfl_opcode *c = &m->opcodes[i];
    table t;
    uint8_t dep;
    where(r, "operator code %" PRIu32, i);
    if (!elem_table(r, &v, i, "operator code", &t) ||
        !get_u8(r, &t, 0, 0, "deprecated_builtin_code", &dep) ||
        !get_str(r, &t, 1, NULL, "custom_code", &c->custom_code) ||
        !get_i32(r, &t, 2, 1, "version", &c->version) ||
        !get_i32(r, &t, 3, 0, "builtin_code", &c->builtin_code))
      return false;
    c->deprecated_builtin_code = (int8_t)dep;
    /* Old writers fill only the int8 field, new ones both (127 = see builtin_code). */
    if (c->deprecated_builtin_code > c->builtin_code) c->builtin_code = c->deprecated_builtin_code;
    if (c->builtin_code < 0)
      return fail(r, TFL_ERR_SCHEMA, "negative builtin code %" PRId32, c->builtin_code);
    if (c->builtin_code == TFL_OP_CUSTOM && !c->custom_code)
      return fail(r, TFL_ERR_SCHEMA, "CUSTOM operator code without custom_code");
  }
  return true;
}

static bool read_quant(reader *r, const table *t, tfl_tensor *x) {
  tfl_quant *q = grab(r, 1, sizeof *q);
  vec zp;
  table details;
  bool has_details;
  if (!q || !get_floats(r, t, 0, "quantization min", &q->min, &q->num_min) ||
      !get_floats(r, t, 1, "quantization max", &q->max, &q->num_max) ||
      !get_floats(r, t, 2, "quantization scale", &q->scales, &q->num_scales) ||
      !get_vec(r, t, 3, 8, "quantization zero_point", &zp, NULL) ||
      !get_u8(r, t, 4, 0, "quantization details_type", &q->details_type) ||
      !union_value(r, t, 5, q->details_type, "quantization details", &details, &has_details) ||
      !get_i32(r, t, 6, 0, "quantized_dimension", &q->quantized_dimension))
    return false;
  if (q->details_type > 1)
    return fail(r, TFL_ERR_UNSUPPORTED, "unknown quantization details type %u", q->details_type);
  if (zp.n != q->num_scales)
    return fail(r, TFL_ERR_SCHEMA,
                "quantization has %" PRIu32 " zero points but %" PRIu32 " scales", zp.n,
                q->num_scales);
  if (q->quantized_dimension < 0)
    return fail(r, TFL_ERR_SCHEMA, "negative quantized_dimension %" PRId32, q->quantized_dimension);
  if (q->num_scales > 1) {
    if ((uint32_t)q->quantized_dimension >= x->rank)
      return fail(r, TFL_ERR_SCHEMA,
                  "quantized_dimension %" PRId32 " out of range for rank %" PRIu32,
                  q->quantized_dimension, x->rank);
    int32_t dim = x->shape[q->quantized_dimension];
    if ((uint32_t)dim != q->num_scales)
      return fail(r, TFL_ERR_SCHEMA,
                  "%" PRIu32 " quantization scales for dimension %" PRId32 " of size %" PRId32
                  " (need 1 or %" PRId32 ")",
                  q->num_scales, q->quantized_dimension, dim, dim);
  }
  if (q->num_scales) {
    if (!(q->zero_points = grab(r, zp.n, sizeof *q->zero_points))) return false;
    for (uint32_t i = 0; i < zp.n; i++)
      q->zero_points[i] = (int64_t)ld64(r->p + zp.pos + 8 * (uint64_t)i);
  }
  x->quant = q;
  return true;
}

/* Constant data must hold exactly the tensor's elements. */
static bool check_buffer_size(reader *r, const tfl_tensor *x, const tfl_buffer *b) {
  unsigned elem = tfl_type_size(x->type);
  if (b->size == 0 || x->is_sparse || (elem == 0 && x->type != TFL_INT4)) return true;
  uint64_t n = 1;
  for (uint32_t i = 0; i < x->rank; i++) {
    uint64_t d = (uint64_t)x->shape[i];
    if (d && n > UINT64_MAX / 16 / d)
      return fail(r, TFL_ERR_SCHEMA, "element count of the shape overflows");
    n *= d;
  }
  if (x->type == TFL_INT4) {
    /* Converters store INT4 constants packed two per byte; older ones one per byte. */
    if (b->size == (n + 1) / 2 || b->size == n) return true;
    return fail(r, TFL_ERR_SCHEMA,
                "buffer %" PRIu32 " has %" PRIu64 " bytes, expected %" PRIu64
                " (packed) for %" PRIu64 " INT4 elements",
                x->buffer, b->size, (n + 1) / 2, n);
  }
  if (b->size != n * elem)
    return fail(r, TFL_ERR_SCHEMA,
                "buffer %" PRIu32 " has %" PRIu64 " bytes, expected %" PRIu64 " (%" PRIu64 " x %s)",
                x->buffer, b->size, n * elem, n, type_names[x->type]);
  return true;
}

static bool read_tensor(reader *r, const table *t, const tfl_model *m, tfl_tensor *x) {
  uint8_t type;
  table qt, sparsity;
  bool has_q, sparse;
  if (!get_ints(r, t, 0, "shape", &x->shape, &x->rank, NULL) ||
      !get_u8(r, t, 1, 0, "type", &type) || !get_u32(r, t, 2, "buffer", &x->buffer) ||
      !get_str(r, t, 3, "", "name", &x->name) || !get_table(r, t, 4, "quantization", &qt, &has_q) ||
      !get_bool(r, t, 5, false, "is_variable", &x->is_variable) ||
      !get_table(r, t, 6, "sparsity", &sparsity, &sparse) ||
      !get_ints(r, t, 7, "shape_signature", &x->shape_signature, &x->signature_rank,
                &x->has_shape_signature) ||
      !get_bool(r, t, 8, false, "has_rank", &x->has_rank))
    return false;
  if (!check_tensor_type(r, type, "type")) return false;
  x->type = (tfl_type)type;
  x->is_sparse = sparse;
  if (x->rank > TFL_MAX_RANK)
    return fail(r, TFL_ERR_UNSUPPORTED, "rank %" PRIu32 " exceeds %d", x->rank, TFL_MAX_RANK);
  for (uint32_t i = 0; i < x->rank; i++)
    if (x->shape[i] < 0)
      return fail(r, TFL_ERR_SCHEMA, "negative dimension %" PRId32 " at index %" PRIu32 " of shape",
                  x->shape[i], i);
  if (x->has_shape_signature) {
    if (x->signature_rank != x->rank)
      return fail(r, TFL_ERR_SCHEMA, "shape_signature has rank %" PRIu32 ", shape has %" PRIu32,
                  x->signature_rank, x->rank);
    for (uint32_t i = 0; i < x->rank; i++)
      if (x->shape_signature[i] < -1)
        return fail(r, TFL_ERR_SCHEMA,
                    "invalid dimension %" PRId32 " at index %" PRIu32 " of shape_signature",
                    x->shape_signature[i], i);
  }
  if (x->buffer >= m->num_buffers)
    return fail(r, TFL_ERR_SCHEMA, "buffer index %" PRIu32 " out of range (%" PRIu32 " buffers)",
                x->buffer, m->num_buffers);
  if (has_q && !read_quant(r, &qt, x)) return false;
  return check_buffer_size(r, x, &m->buffers[x->buffer]);
}

static bool read_operator(reader *r, const table *t, const tfl_model *m, uint32_t ntensors,
                          tfl_operator *op) {
  table opt, opt2;
  bool has_opt, has_opt2;
  vec custom;
  uint64_t large_off, large_size;
  if (!get_u32(r, t, 0, "opcode_index", &op->opcode_index)) return false;
  if (op->opcode_index >= m->num_opcodes)
    return fail(r, TFL_ERR_SCHEMA,
                "opcode index %" PRIu32 " out of range (%" PRIu32 " operator codes)",
                op->opcode_index, m->num_opcodes);
  op->builtin_code = m->opcodes[op->opcode_index].builtin_code;
  if (!get_ints(r, t, 1, "inputs", &op->inputs, &op->num_inputs, NULL) ||
      !get_ints(r, t, 2, "outputs", &op->outputs, &op->num_outputs, NULL) ||
      !get_u8(r, t, 3, 0, "builtin_options_type", &op->options_type))
    return false;
  for (uint32_t i = 0; i < op->num_inputs; i++)
    if (!tensor_index(r, op->inputs[i], ntensors, true, "input", i)) return false;
  for (uint32_t i = 0; i < op->num_outputs; i++)
    if (!tensor_index(r, op->outputs[i], ntensors, false, "output", i)) return false;
  if (op->options_type > TFL_OPT_MAX)
    return fail(r, TFL_ERR_UNSUPPORTED, "unknown builtin_options type %u", op->options_type);
  if (!union_value(r, t, 4, op->options_type, "builtin_options", &opt, &has_opt) ||
      !get_vec(r, t, 5, 1, "custom_options", &custom, NULL) ||
      !get_u8(r, t, 6, 0, "custom_options_format", &op->custom_options_format) ||
      !get_ints(r, t, 8, "intermediates", &op->intermediates, &op->num_intermediates, NULL) ||
      !get_u64(r, t, 9, "large_custom_options_offset", &large_off) ||
      !get_u64(r, t, 10, "large_custom_options_size", &large_size) ||
      !get_u8(r, t, 11, 0, "builtin_options_2_type", &op->options2_type))
    return false;
  if (op->options2_type > TFL_OPT2_MAX)
    return fail(r, TFL_ERR_UNSUPPORTED, "unknown builtin_options_2 type %u", op->options2_type);
  if (!union_value(r, t, 12, op->options2_type, "builtin_options_2", &opt2, &has_opt2))
    return false;
  for (uint32_t i = 0; i < op->num_intermediates; i++)
    if (!tensor_index(r, op->intermediates[i], ntensors, false, "intermediate", i)) return false;
  if (large_off > 1) {
    if (large_off > r->size || large_size > r->size - large_off)
      return fail(r, TFL_ERR_FORMAT,
                  "large custom options at 0x%" PRIx64 " (%" PRIu64
                  " bytes) run past end of file (size 0x%" PRIx64 ")",
                  large_off, large_size, r->size);
    op->custom_options = large_size ? r->p + large_off : NULL;
    op->custom_options_size = large_size;
  } else if (custom.n) {
    op->custom_options = r->p + custom.pos;
    op->custom_options_size = custom.n;
  }
  int expected = expected_options(op->builtin_code);
  if (op->options_type != TFL_OPT_NONE && expected != TFL_OPT_NONE && op->options_type != expected)
    return fail(r, TFL_ERR_SCHEMA, "%s has builtin_options %s, expected %s",
                tfl_builtin_name(op->builtin_code), options_names[op->options_type],
                options_names[expected]);
  /* With type NONE a stray value is ignored, as TFLite does; the defaults are used. */
  bool in_file = op->options_type != TFL_OPT_NONE;
  if (!in_file) op->options_type = (uint8_t)expected;
  return decode_options(r, op->options_type, &opt, in_file && has_opt, &op->options);
}

static bool read_index_list(reader *r, const table *t, unsigned id, const char *what,
                            uint32_t ntensors, int32_t **out, uint32_t *n) {
  if (!get_ints(r, t, id, what, out, n, NULL)) return false;
  for (uint32_t i = 0; i < *n; i++)
    if (!tensor_index(r, (*out)[i], ntensors, false, what, i)) return false;
  return true;
}

static bool read_subgraph(reader *r, uint32_t s, const table *t, const tfl_model *m,
                          tfl_subgraph *g) {
  vec tensors, ops;
  where(r, "subgraph %" PRIu32, s);
  if (!get_vec(r, t, 0, 4, "tensors", &tensors, NULL) ||
      !get_vec(r, t, 3, 4, "operators", &ops, NULL) || !get_str(r, t, 4, "", "name", &g->name))
    return false;
  if (tensors.n > INT32_MAX)
    return fail(r, TFL_ERR_SCHEMA, "too many tensors (%" PRIu32 ")", tensors.n);
  if (tensors.n && !(g->tensors = grab(r, tensors.n, sizeof *g->tensors))) return false;
  g->num_tensors = tensors.n;
  if (!read_index_list(r, t, 1, "subgraph input", tensors.n, &g->inputs, &g->num_inputs) ||
      !read_index_list(r, t, 2, "subgraph output", tensors.n, &g->outputs, &g->num_outputs))
    return false;
  for (uint32_t i = 0; i < tensors.n; i++) {
    table tt;
    where(r, "subgraph %" PRIu32 ": tensor %" PRIu32, s, i);
    if (!elem_table(r, &tensors, i, "tensor", &tt) || !read_tensor(r, &tt, m, &g->tensors[i]))
      return false;
  }
  if (ops.n && !(g->operators = grab(r, ops.n, sizeof *g->operators))) return false;
  g->num_operators = ops.n;
  for (uint32_t i = 0; i < ops.n; i++) {
    table ot;
    where(r, "subgraph %" PRIu32 ": operator %" PRIu32, s, i);
    if (!elem_table(r, &ops, i, "operator", &ot) ||
        !read_operator(r, &ot, m, tensors.n, &g->operators[i]))
      return false;
  }
  return true;
}

static bool read_metadata(reader *r, const table *model, tfl_model *m) {
  vec v;
  if (!get_vec(r, model, 6, 4, "metadata", &v, NULL)) return false;
  if (v.n && !(m->metadata = grab(r, v.n, sizeof *m->metadata))) return false;
  m->num_metadata = v.n;
  for (uint32_t i = 0; i < v.n; i++) {
    table t;
    where(r, "metadata %" PRIu32, i);
    if (!elem_table(r, &v, i, "metadata", &t) ||
        !get_str(r, &t, 0, "", "name", &m->metadata[i].name) ||
        !get_u32(r, &t, 1, "buffer", &m->metadata[i].buffer))
      return false;
    if (m->metadata[i].buffer >= m->num_buffers)
      return fail(r, TFL_ERR_SCHEMA, "buffer index %" PRIu32 " out of range (%" PRIu32 " buffers)",
                  m->metadata[i].buffer, m->num_buffers);
  }
  return true;
}

static bool read_model(reader *r, tfl_model *m) {
  table t;
  vec subgraphs;
  if (r->size < 4)
    return fail(r, TFL_ERR_FORMAT, "file of %" PRIu64 " bytes is too small", r->size);
  uint64_t root = ld32(r->p);
  if (root >= r->size)
    return fail(r, TFL_ERR_FORMAT,
                "root offset 0x%" PRIx64 " past end of file (size 0x%" PRIx64 ")", root, r->size);
  m->has_identifier = r->size >= 8 && memcmp(r->p + 4, "TFL3", 4) == 0;
  if (!table_at(r, root, "model", &t) || !get_u32(r, &t, 0, "version", &m->version) ||
      !get_str(r, &t, 3, "", "description", &m->description) || !read_buffers(r, &t, m) ||
      !read_opcodes(r, &t, m))
    return false;
  where(r, "%s", "");
  if (!get_vec(r, &t, 2, 4, "subgraphs", &subgraphs, NULL)) return false;
  if (subgraphs.n == 0) return fail(r, TFL_ERR_SCHEMA, "model has no subgraphs");
  if (!(m->subgraphs = grab(r, subgraphs.n, sizeof *m->subgraphs))) return false;
  m->num_subgraphs = subgraphs.n;
  for (uint32_t i = 0; i < subgraphs.n; i++) {
    table st;
    where(r, "subgraph %" PRIu32, i);
    if (!elem_table(r, &subgraphs, i, "subgraph", &st) ||
        !read_subgraph(r, i, &st, m, &m->subgraphs[i]))
      return false;
  }
  return read_metadata(r, &t, m);
}

tfl_status tfl_model_read(const uint8_t *data, size_t size, tfl_alloc_fn alloc, void *user,
                          tfl_model **out, tfl_error *err) {
  tfl_error scratch;
  if (!err) err = &scratch;
  err->status = TFL_OK;
  err->message[0] = 0;
  if (out) *out = NULL;
  if ((!data && size) || !out) {
    err->status = TFL_ERR_ARG;
    snprintf(err->message, sizeof err->message, "tflite: NULL %s", out ? "data" : "result pointer");
    return TFL_ERR_ARG;
  }
  /* Honest files decode to a few times their size; the slack covers tiny files. */
  uint64_t budget =
      (uint64_t)size > (UINT64_MAX >> 7) ? UINT64_MAX : (uint64_t)size * 64 + (1u << 20);
  reader r = {.p = data, .size = size, .alloc = alloc, .user = user, .budget = budget, .err = err};
  tfl_model *m = grab(&r, 1, sizeof *m);
  if (!m || !read_model(&r, m)) {
    free_blocks(r.blocks);
    return err->status;
  }
  m->owned_ = r.blocks;
  *out = m;
  return TFL_OK;
}

void tfl_model_free(tfl_model *model) {
  if (model) free_blocks(model->owned_);
}
