/* passes/lowering.h — (private to passes/lower_*.c) what the files of the lower-to-loops
 * pass share: TFLite's compile-time quantization arithmetic, the emitter of lowered ops
 * (constants, loop nests, loads and stores, requantization), the buffers that stand for
 * tensors, and one entry per tm op kernel.
 *
 * Every integer formula here is TFLite's (tensorflow/lite/kernels/internal/common.h,
 * quantization_util.cc, kernel_util.cc, the reference/integer_ops kernels, gemmlowp's
 * fixedpoint.h) in its default double-rounding build (TFLITE_SINGLE_ROUNDING off), which
 * TFLite Micro's reference kernels use too. */
#ifndef TM_LOWERING_H
#define TM_LOWERING_H

#include "passes/passes.h"

/* ------------------------------------------- compile-time quantization (lower_quant.c) */
/* QuantizeMultiplier: m = q * 2^(shift - 31), |q| in [2^30, 2^31) (or 0), from frexp with
 * TFLite's rounding, its q == 2^31 fix-up and its flush of shift < -31 to (0, 0).
 * Returns false for an infinite or NaN m. */
bool tm_quantize_multiplier(double m, int32_t *q, int *shift);
/* gemmlowp / TFLite fixed-point primitives on int32, bit for bit. */
int32_t tm_fx_srdhm(int32_t a, int32_t b);              /* SaturatingRoundingDoublingHighMul */
int32_t tm_fx_rdbp(int32_t x, int exponent);            /* RoundingDivideByPOT, exponent in [0, 31] */
int32_t tm_fx_mbqm(int32_t x, int32_t q, int shift);    /* MultiplyByQuantizedMultiplier */
int32_t tm_fx_sat_shl(int32_t x, int exponent);         /* SaturatingRoundingMultiplyByPOT, exponent > 0 */
int32_t tm_fx_exp_on_negative_values(int32_t a, int integer_bits);
extern const int32_t tm_fx_exp_barrel[7]; /* its multipliers exp(-2^k), k = -2..4 (Q0.31) */
int32_t tm_fx_one_over_one_plus_x_for_x_in_0_1(int32_t a);
int32_t tm_fx_logistic(int32_t a, int integer_bits);
int32_t tm_fx_tanh(int32_t a, int integer_bits);
/* TfLiteRound on float: half away from zero. */
float tm_round_f32(float x);
/* CalculateActivationRangeQuantized for a "none"/"relu"/"relu6"/"relu_n1_to_1" clamp of a
 * result with (float) scale and zero point, within [qmin, qmax].  False for other names. */
bool tm_act_range_quant(const char *act, double scale, int64_t zero_point, int32_t qmin, int32_t qmax,
                        int32_t *lo, int32_t *hi);
/* CalculateInputRadius(input_integer_bits, input_left_shift, 31). */
int32_t tm_input_radius(int input_integer_bits, int input_left_shift);

/* ------------------------------------------------------------- the emitter ------- */
typedef enum {
  LW_HELPER_MBQM,      /* __tm_mbqm(i32 x, i32 q, i32 shift) -> i32 */
  LW_HELPER_SRDHM,     /* __tm_srdhm(i32 a, i32 b) -> i32 */
  LW_HELPER_RDBP,      /* __tm_rdbp(i32 x, i32 exponent) -> i32 */
  LW_HELPER_CLZ,       /* __tm_clz(i32 x) -> i32, x != 0 */
  LW_HELPER_RECIPROCAL, /* __tm_one_over_one_plus_x(i32 a) -> i32 (gemmlowp, Q0.31) */
  LW_HELPER_COUNT
} lw_helper;

/* Module-wide state: where globals and helper functions go, and their names. */
typedef struct lw_module {
  tm_ctx *ctx;
  tm_op *module;
  tm_op *anchor;    /* globals and helpers are inserted before this op (the first function) */
  bool inline_helpers;
  int kernels;      /* lw_kernels: which kernels the target gets */
  int64_t unroll_words; /* DSP products of at most this many words per pixel: no loop */
  int64_t loop_words;   /* ... longer ones: up to this many words a trip */
  double cold_percent;  /* ops under this share of their function's work are cold (lw_op_is_cold) */
  bool computed_tables; /* tables of a few constants computed into the arena, not stored */
  bool epilogue_loop;   /* DSP, RV32: residual convolutions' block results stored in a loop */
  bool channel_pairs;   /* DSP: two channels' weights in one word where it pays (docs/dsp.md) */
  bool row_pipeline;    /* DSP, RV32: chains of convolutions computed row by row (docs/dsp.md) */
  bool lane_pairs;      /* RV32: a batch-1 product's channel pairs in one multiply's halves (docs/dsp.md) */
  bool mve;             /* DSP kernels on an MVE core: convolutions as vector dot products (docs/dsp.md) */
  tm_op *helpers[LW_HELPER_COUNT];
  int nglobals;     /* for fresh names */
  struct lw_addends *addends; /* the addend tables by right shift, one per zero point */
  tm_op *exp_barrel;    /* computed softmax exps: the 7 multipliers exp(-2^k), k = -2..4 */
} lw_module;

typedef struct lw_const {
  const tm_type *type;
  uint64_t bits;
  tm_value *value;
} lw_const;

/* One function being built. */
typedef struct lw_fn {
  tm_ctx *ctx;
  lw_module *mod;
  tm_builder b;          /* where the next op goes */
  tm_block *entry;       /* constants are hoisted to the top of it */
  tm_op *last_const;
  lw_const *consts;      /* open-addressing table of hoisted constants */
  int nconsts, const_cap;
  const tm_loc *loc;     /* location given to created ops (the tm op being lowered) */
  bool cold;             /* lowering a cold op (lw_op_is_cold): helper calls are tm.cold */
} lw_fn;

void lw_fn_init(lw_fn *F, lw_module *mod, tm_op *func);
/* An op's work: its MACs plus its results' elements. */
int64_t lw_op_work(lw_module *M, const tm_op *op);
/* Puts the hoisted constants in a canonical order (done when the function is complete). */
void lw_fn_finish(lw_fn *F);

/* Common types. */
const tm_type *lw_i1(lw_fn *F);
const tm_type *lw_i8(lw_fn *F);
const tm_type *lw_i32(lw_fn *F);
const tm_type *lw_i64(lw_fn *F);
const tm_type *lw_f32(lw_fn *F);
const tm_type *lw_index(lw_fn *F);

/* Creating ops: one result (or none: rt NULL). */
tm_value *lw_op(lw_fn *F, const char *name, const tm_type *rt, int n, tm_value *const *operands, int nattrs,
                const tm_named_attr *attrs);
tm_value *lw_op2(lw_fn *F, const char *name, tm_value *a, tm_value *b); /* result type of a */

/* Constants, hoisted and shared. */
tm_value *lw_cidx(lw_fn *F, int64_t v);
tm_value *lw_cint(lw_fn *F, const tm_type *t, int64_t v);
tm_value *lw_ci32(lw_fn *F, int64_t v);
tm_value *lw_ci64(lw_fn *F, int64_t v);
tm_value *lw_cf32(lw_fn *F, float v);

/* arith, by name. */
#define LW_BIN(n) \
  static inline tm_value *lw_##n(lw_fn *F, tm_value *a, tm_value *b) { return lw_op2(F, "arith." #n, a, b); }
LW_BIN(addi) LW_BIN(subi) LW_BIN(muli) LW_BIN(divsi) LW_BIN(andi) LW_BIN(shli) LW_BIN(shrsi) LW_BIN(shrui)
LW_BIN(maxsi) LW_BIN(minsi) LW_BIN(addf) LW_BIN(subf) LW_BIN(mulf) LW_BIN(divf)
#undef LW_BIN
/* The arith.cmpi / arith.cmpf predicates the kernels use. */
enum { LW_EQ = 0, LW_SLT = 2, LW_SGT = 4, LW_SGE = 5 };
enum { LW_FOGT = 2, LW_FOGE = 3, LW_FOLT = 4, LW_FOLE = 5, LW_FULT = 11 };
tm_value *lw_cmpi(lw_fn *F, int pred, tm_value *a, tm_value *b);
tm_value *lw_cmpf(lw_fn *F, int pred, tm_value *a, tm_value *b);
tm_value *lw_select(lw_fn *F, tm_value *c, tm_value *a, tm_value *b);
tm_value *lw_cast(lw_fn *F, const char *name, tm_value *v, const tm_type *to); /* extsi, trunci, sitofp, ... */
/* Sign-extend or truncate an integer to `to` (no-op when equal). */
tm_value *lw_int_to(lw_fn *F, tm_value *v, const tm_type *to);
tm_value *lw_math(lw_fn *F, const char *name, tm_value *v); /* math.exp, ... */

/* Memory. */
tm_value *lw_load(lw_fn *F, tm_value *mem, int n, tm_value *const *idx);
void lw_store(lw_fn *F, tm_value *v, tm_value *mem, int n, tm_value *const *idx);
tm_value *lw_get_global(lw_fn *F, tm_op *global);
/* A private constant memref.global holding a (storage-typed) dense value, named `base`
 * (made unique in the module); its memref type has the value's shape. */
tm_op *lw_global(lw_module *M, const char *base, const tm_attr *dense, const tm_loc *loc);
/* A constant i32 table (per-channel multipliers, shifts, lookup tables). */
tm_op *lw_global_i32(lw_module *M, const char *base, int64_t n, const int32_t *vals, const tm_loc *loc);
/* A constant table of n bytes (packed weights, byte tables; words stored little-endian). */
tm_op *lw_global_i8(lw_module *M, const char *base, int64_t n, const void *bytes, const tm_loc *loc);

/* Loops: scf.for with at most LW_FOR_MAX_CARRIED iter args (RV32's 4 x 4 accumulator
 * block).  Between begin and end, ops go into the body; end appends scf.yield and returns
 * the loop's results (NULL when it has none). */
#define LW_FOR_MAX_CARRIED 16
typedef struct lw_for {
  tm_op *op;
  tm_value *iv;
  tm_value **args; /* the body's iter values */
  int nargs;
  tm_builder saved;
} lw_for;
void lw_for_begin(lw_fn *F, lw_for *L, tm_value *lb, tm_value *ub, tm_value *step, int ninits, tm_value *const *inits);
void lw_for_n(lw_fn *F, lw_for *L, int64_t n, int ninits, tm_value *const *inits); /* 0..n step 1 */
tm_value **lw_for_end(lw_fn *F, lw_for *L, int n, tm_value *const *yields);

/* scf.if with results of the given types: begin builds the then region, else_ switches to
 * the else region (yielding the then values), end yields the else values. */
typedef struct lw_if {
  tm_op *op;
  tm_builder saved;
} lw_if;
void lw_if_begin(lw_fn *F, lw_if *I, tm_value *cond, int nres, const tm_type *const *types);
void lw_if_else(lw_fn *F, lw_if *I, int n, tm_value *const *yields);
tm_value **lw_if_end(lw_fn *F, lw_if *I, int n, tm_value *const *yields);

/* A loop nest over a static shape; dimensions of size 1 get no loop (index 0). */
#define LW_MAX_RANK 8
typedef struct lw_nest {
  int rank;
  tm_value *iv[LW_MAX_RANK];
  lw_for loops[LW_MAX_RANK];
  bool looped[LW_MAX_RANK];
} lw_nest;
void lw_nest_begin(lw_fn *F, lw_nest *N, int rank, const int64_t *dims);
void lw_nest_end(lw_fn *F, lw_nest *N);

/* Index arithmetic iv * mul + add and a + b, folded when the operands are constants. */
tm_value *lw_affine(lw_fn *F, tm_value *iv, int64_t mul, int64_t add);
tm_value *lw_add_idx(lw_fn *F, tm_value *a, tm_value *b);

/* Fixed-point helpers (calls of the module's private __tm_* functions, or inline). */
tm_value *lw_mbqm(lw_fn *F, tm_value *x, tm_value *q, tm_value *shift);
tm_value *lw_srdhm(lw_fn *F, tm_value *a, tm_value *b);
tm_value *lw_rdbp(lw_fn *F, tm_value *x, tm_value *exponent);
tm_value *lw_helper_call(lw_fn *F, lw_helper h, int n, tm_value *const *args);
/* clamp(v, lo, hi) on i32 with maxsi/minsi, skipping bounds at the type's extremes. */
tm_value *lw_clamp_i32(lw_fn *F, tm_value *v, int32_t lo, int32_t hi);
/* TFLite's float clamp min(max(x, lo), hi) as compare+select (NaN and -0 pass). */
tm_value *lw_clamp_f(lw_fn *F, tm_value *v, tm_value *lo, tm_value *hi);

/* ------------------------------------------------------------- tensors ------- */
/* Quantization of a tensor type: per-tensor scale and zero point, or per-axis ones. */
typedef struct lw_quant {
  bool quantized;
  double scale;        /* per-tensor (or the first channel's) */
  int64_t zp;
  int axis, nscales;
  const double *scales;
  const int64_t *zps;
  const tm_type *storage; /* element storage type (also for float/int tensors) */
  bool uns;               /* unsigned storage (ui8): only quantize, dequantize and plain ops take it */
} lw_quant;
lw_quant lw_quant_of(const tm_type *tensor);
/* Scales are TFLite float32 values, which its kernels widen to double. */
static inline double lw_fscale(double s) { return (double)(float)s; }
static inline bool lw_is_f32(const lw_quant *q) {
  return !q->quantized && q->storage->kind == TM_TYPE_FLOAT && q->storage->width == 32;
}
/* int8 weights may be quantized per axis; activations are quantized per tensor. */
static inline bool lw_is_q8_weights(const lw_quant *q) {
  return q->quantized && !q->uns && q->storage->kind == TM_TYPE_INT && q->storage->width == 8;
}
static inline bool lw_is_q8(const lw_quant *q) { return lw_is_q8_weights(q) && q->axis < 0; }
/* int4 weights (lower_int4.c packs constant ones two per byte). */
static inline bool lw_is_q4_weights(const lw_quant *q) {
  return q->quantized && q->storage->kind == TM_TYPE_INT && q->storage->width == 4;
}
/* int16 activations of TFLite's 16x8 kernels, quantized per tensor. */
static inline bool lw_is_q16(const lw_quant *q) {
  return q->quantized && !q->uns && q->axis < 0 && q->storage->kind == TM_TYPE_INT && q->storage->width == 16;
}

/* The buffer a tensor value lives in: a typed memref, and the raw byte buffer it views
 * (NULL for function arguments, globals and out-params). */
typedef struct lw_buf {
  tm_value *mem;
  tm_value *raw;
} lw_buf;

/* The state of one function's lowering. */
typedef struct lw_entry {
  tm_value *key;
  lw_buf buf;
  bool target; /* buf.mem is the out-param this result is to be written to */
} lw_entry;

typedef struct lw_lower {
  tm_ctx *ctx;
  lw_module *M;
  lw_fn F;
  lw_entry *map; /* tensor value -> buffer, open addressing */
  int map_n, map_cap;
  struct lw_stage *stages; /* convolutions deferred into a row pipeline (lower_dsp.c) */
  int nstages, stages_cap;
  int64_t work;  /* the function's ops' lw_op_work, summed */
} lw_lower;
/* Whether op runs too little for speed to pay for code (lower-to-loops' cold-percent): its
 * work is under that share of its function's. */
bool lw_op_is_cold(const lw_lower *W, const tm_op *op);
lw_fn *lw_fn_of(lw_lower *W);
/* The buffer of an operand (globals are materialized on first use). */
tm_value *lw_in(lw_lower *W, tm_value *tensor);
lw_buf lw_in_buf(lw_lower *W, tm_value *tensor);
/* The buffer a result is written to: its out-param, or a fresh raw alloc + view. */
tm_value *lw_out(lw_lower *W, tm_value *tensor);
/* A scratch buffer of that memref type: a raw alloc plan-memory places, and its view. */
lw_buf lw_scratch(lw_lower *W, const tm_type *memref_type);
/* Whether a result is returned and not yet written: lw_out would give its out-param. */
bool lw_is_returned(lw_lower *W, tm_value *tensor);
/* Whether op may write over v's bytes: v is an op's result, not a view (tm.reshape,
 * tm.squeeze), and op is, in v's block, the last reader of its bytes: of v's uses and of
 * those of its views, transitively. */
bool lw_bytes_die_at(const tm_value *v, const tm_op *op);
/* Bind a result to an existing buffer (views). */
void lw_bind(lw_lower *W, tm_value *tensor, lw_buf buf);
/* A 1-D memref of all elements of a buffer (a view of the same bytes). */
tm_value *lw_flat(lw_lower *W, lw_buf buf);

/* The memref type holding a tensor type (storage element type). */
const tm_type *lw_memref_of(tm_ctx *ctx, const tm_type *tensor);

/* A located error for an op that cannot be lowered; returns -1. */
int lw_unsupported(lw_lower *W, tm_op *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------- kernels ------- */
/* One per tm op (lower_nn.c, lower_elementwise.c, lower_data.c); return 0 or -1 after a
 * located error. */
typedef int (*lw_kernel_fn)(lw_lower *W, tm_op *op);
int lw_lower_conv2d(lw_lower *W, tm_op *op);
int lw_lower_depthwise_conv2d(lw_lower *W, tm_op *op);
int lw_lower_fully_connected(lw_lower *W, tm_op *op);
int lw_lower_pool2d(lw_lower *W, tm_op *op);
int lw_lower_softmax(lw_lower *W, tm_op *op);
int lw_lower_mean(lw_lower *W, tm_op *op);
int lw_lower_binary(lw_lower *W, tm_op *op);     /* add, sub, mul, maximum, minimum */
int lw_lower_unary(lw_lower *W, tm_op *op);      /* relu, relu6, leaky_relu, logistic, tanh, hard_swish */
int lw_lower_quantize(lw_lower *W, tm_op *op);   /* quantize, dequantize */
int lw_lower_batch_norm(lw_lower *W, tm_op *op);
int lw_lower_reshape(lw_lower *W, tm_op *op);    /* reshape, squeeze */
int lw_lower_transpose(lw_lower *W, tm_op *op);
int lw_lower_concat(lw_lower *W, tm_op *op);
int lw_lower_pad(lw_lower *W, tm_op *op);
int lw_lower_strided_slice(lw_lower *W, tm_op *op);
/* Per-output-channel requantization MBQM(acc, q[c], shift[c]) + zp of the integer kernels
 * (lower_requant.c): lw_requant_init, lw_requant_set per channel, optionally a bound on
 * |acc| (lw_requant_bound_weights, or the kernel's own bound[]), lw_requant_materialize
 * (the tables, and the short exact form when the bound allows), then per channel
 * lw_requant_params (hoistable loads) and lw_requant_apply (+ zp, clamp, truncate). */
typedef struct lw_requant {
  int64_t n;
  int32_t *q, *shift;
  bool wide;           /* int64 accumulators: q holds the reduced multipliers, shift 15 - shift */
  const int64_t *bound; /* |acc| <= bound[c], or NULL: unknown */
  const int32_t *fixed; /* acc == fixed[c] (all-zero weights) where fixed_mask[c], or NULL */
  const bool *fixed_mask;
  const int32_t *fixed_q; /* the fixed channels' multipliers in the short form (lower_requant.c), or NULL */
  int64_t zp;
  bool uniform;        /* every channel's (q, shift) equal: constants, no tables */
  bool short_form, round, zp_folded, use_add;
  tm_value *qg, *sg, *ag; /* tables: multipliers, shifts (short form: right shifts, i8), addends */
  bool ag_by_shift;    /* ag is indexed by the right shift, not the channel (lower_requant.c) */
} lw_requant;
typedef struct lw_rq_ch {
  tm_value *q, *s, *add;
} lw_rq_ch;
void lw_requant_init(lw_lower *W, lw_requant *r, int64_t n, bool wide);
int lw_requant_set(lw_lower *W, tm_op *op, lw_requant *r, int64_t i, double m);
/* bound[c] = xmax * sum |w of channel c| + |bias[c]| for constant weights (and bias),
 * and the channels of all-zero weights fixed at bias[c] (lw_requant_fix); depthwise
 * filters are [1, KH, KW, n], others [n, ...].  No bound otherwise. */
void lw_requant_bound_weights(lw_lower *W, lw_requant *r, const tm_value *w, const tm_value *b, bool depthwise,
                              int64_t xmax);
/* Channel c's sums are always acc (its weights are all zero). */
void lw_requant_fix(lw_lower *W, lw_requant *r, int64_t c, int32_t acc);
void lw_requant_materialize(lw_lower *W, lw_requant *r, const char *base, int64_t zp);
/* Cut the addend tables by shift to the shifts some channel has, all to one length
 * (after all functions). */
void lw_requant_trim_addends(lw_module *M);
void lw_requant_params(lw_fn *F, const lw_requant *r, tm_value *ch, lw_rq_ch *p);
tm_value *lw_requant_apply(lw_fn *F, const lw_requant *r, const lw_rq_ch *p, tm_value *acc, int32_t lo, int32_t hi,
                           const tm_type *to);
tm_value *lw_requantize(lw_fn *F, const lw_requant *r, tm_value *ch, tm_value *acc, int32_t lo, int32_t hi,
                        const tm_type *to);
/* Quantized add/sub as TFLite computes it (lower_elementwise.c): lw_qadd_init from the
 * operands' and the result's quantization and the clamp, then lw_qadd_apply on two
 * stored values (the result in the result's storage type). */
typedef struct lw_qadd {
  int32_t q1, q2, qo;
  int e1, e2, eo, left_shift;
  int64_t zp1, zp2, zpo, bound1, bound2;
  int32_t lo, hi;
  const tm_type *out;
} lw_qadd;
int lw_qadd_init(lw_lower *W, tm_op *op, const lw_quant *aq, const lw_quant *bq, const lw_quant *oq, int32_t lo,
                 int32_t hi, lw_qadd *p);
tm_value *lw_qadd_apply(lw_fn *F, const lw_qadd *p, tm_value *x1, tm_value *x2, bool sub);
/* ... its last step: the result from the sum (or difference) of the two rescaled inputs. */
tm_value *lw_qadd_finish(lw_fn *F, const lw_qadd *p, tm_value *sum);
/* tm.conv2d_add's residual addition (lower_fused.c): lw_residual_init once per op (its
 * tables; -1 after an error), then lw_residual_apply to the convolution's value c at
 * output index idx, inside the kernel's output loop (NULL after an error). */
typedef struct lw_residual {
  tm_value *res;      /* the residual operand */
  bool flt, clamp;    /* float, and add_activation's clamp to [flo, fhi] */
  float flo, fhi;
  lw_qadd qa;         /* int8 */
  tm_value *t1, *t2;  /* the conv's, the residual's rescaled terms by value (NULL: a shift) */
  int64_t k;          /* constant term when neither has a table */
} lw_residual;
int lw_residual_init(lw_lower *W, tm_op *op, lw_residual *r);
tm_value *lw_residual_apply(lw_lower *W, const lw_residual *r, tm_value *c, int n, tm_value *const *idx);
/* MBQM(x, q, shift) for |x| <= bound: the short form when it applies, else lw_mbqm. */
tm_value *lw_mbqm_bounded(lw_fn *F, tm_value *x, int64_t bound, int32_t q, int shift);

/* Target kernels (lower_dsp.c, docs/dsp.md): int8 products blocked in registers, as Arm
 * DSP instructions (armdsp ops) or, on cores with many registers and no DSP (RV32), as
 * plain loads and multiplies; other targets keep the portable kernels.
 * lw_target_kernels: the lw_kernels of a target of backends/targets.def (and in *mve
 * whether it has MVE: convolutions as vector dot products), -1 if there is no such
 * target.  lw_lower_dsp_conv: an int8 conv2d (also tm.conv2d_add: residual), a
 * depthwise_conv2d with one input channel (depthwise, O = depth multiplier) or a
 * fully_connected (as a 1x1 conv of N = 1, H = 1, W = batch, C = inputs), given what the
 * generic kernel computed; 0 or -1 after an error.  lw_dsp_applies: whether it takes the
 * op (constant weights and bias, dilation 1 along the width, kernel rows of 4 bytes or
 * more). */
enum lw_kernels { LW_KERNELS_PORTABLE, LW_KERNELS_DSP, LW_KERNELS_SCALAR };
int lw_target_kernels(const char *name, bool *mve);
/* tm.conv2d_fc / tm.depthwise_conv2d_fc (lower_nn.c): the FULLY_CONNECTED's sums, which
 * the conv's kernel feeds value by value (the conv's result at flat pixel oy * OW + ox,
 * channel oc) in place of storing it. */
typedef struct lw_fc_sink lw_fc_sink;
void lw_fc_sink_add(lw_lower *W, lw_fc_sink *s, tm_value *v, tm_value *pixel, tm_value *oc);
typedef struct lw_dsp_conv {
  tm_value *x, *w, *b, *y;
  bool depthwise, residual;
  int64_t N, H, Wi, C, O, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl;
  int64_t in_off, zp_out;
  int32_t lo, hi;
  lw_requant *rq;   /* per output channel; the kernel bounds and materializes it */
  const char *name; /* of its tables */
  lw_fc_sink *fc;   /* a fused FULLY_CONNECTED takes the values (y is its result) */
} lw_dsp_conv;
bool lw_dsp_applies(const lw_dsp_conv *c);
/* Whether the input, weights and output are 8-bit (an int16 input with an int32 bias does
 * not have wide sums, but the kernels read bytes). */
bool lw_dsp_int8(const lw_dsp_conv *c);
int lw_lower_dsp_conv(lw_lower *W, tm_op *op, const lw_dsp_conv *c);
/* Lowers the convolutions lw_lower_dsp_conv deferred into a row pipeline (the next op
 * is not the one they feed); 0 or -1. */
int lw_flush_stages(lw_lower *W);
/* lower_dsp_depthwise.c: a depthwise_conv2d of depth multiplier 1, KH x 3 kernels and
 * stride 1 on DSP targets (two outputs per step); 0, -1 after an error, or 1 when it does
 * not take the op (nothing emitted: the caller lowers it). */
int lw_lower_dsp_depthwise(lw_lower *W, tm_op *op, const lw_dsp_conv *c);

int lw_lower_batch_matmul(lw_lower *W, tm_op *op);   /* lower_matmul.c */
int lw_lower_transpose_conv(lw_lower *W, tm_op *op); /* lower_matmul.c */

/* Sparse weights (lower_sparse.c): ops marked tm.sparse = "bcsr" by the prune pass keep
 * their weights as block-CSR rows along the last dimension.  init packs the constant
 * weights w into tables (S->on stays false for unmarked ops; -1 after an error); dot adds
 * a row's products to acc: sum over its stored weights of (val + w_off) * (x + off) for
 * integer accumulators, x * val for float, x indexed by idx[0..n-2] and, last, base +
 * the weight's position in the row (base may be NULL). */
typedef struct lw_sparse {
  bool on;
  int64_t block;
  tm_value *ptr, *col, *val;
  int64_t w_off;
} lw_sparse;
typedef struct lw_sparse_x {
  tm_value *mem;
  int n;
  tm_value *const *idx;
  tm_value *base;
  int64_t off;
} lw_sparse_x;
int lw_sparse_init(lw_lower *W, tm_op *op, tm_value *w, lw_sparse *S);
tm_value *lw_sparse_dot(lw_lower *W, const lw_sparse *S, tm_value *row, tm_value *acc, const lw_sparse_x *X);

/* Packed int4 weights (lower_int4.c): constants with i4 storage live in flash two per
 * byte along their last dimension.  lw_in_weights gives the buffer of weights w (the
 * packed global, or lw_in's); lw_load_weight loads element idx of it widened to `to`. */
bool lw_is_packed_i4(const tm_value *w);
/* Whether v, a result of op (operand < 0) or its operand #operand, is packed int4 weights
 * in a place the kernels unpack: the constant itself, or a conv/fully_connected filter. */
bool lw_packed_i4_use(const tm_op *op, const tm_value *v, int operand);
tm_value *lw_in_weights(lw_lower *W, tm_value *w);
tm_value *lw_load_weight(lw_fn *F, const tm_value *w, tm_value *mem, int n, tm_value *const *idx, const tm_type *to);

/* The fused_activation of a quantized result as an i32 clamp range; -1 after an error. */
int lw_act_range(lw_lower *W, tm_op *op, const lw_quant *out, int32_t *lo, int32_t *hi);
/* Float fused activation bounds: returns false for "none" (no clamp), or -1 on error. */
int lw_act_range_f(lw_lower *W, tm_op *op, float *lo, float *hi);
/* The i32 (q, shift) of a real multiplier, or -1 after an error. */
int lw_qmul(lw_lower *W, tm_op *op, double m, int32_t *q, int *shift);

#endif /* TM_LOWERING_H */
