/* passes/lower_elementwise.c — kernels of the elementwise ops: add, sub, mul, div, maximum,
 * minimum (with numpy broadcasting), the activations, quantize, dequantize, batch_norm. */
#include <math.h>
#include <string.h>

#include "passes/lowering.h"

static bool is_plain_int(const lw_quant *q) { return !q->quantized && q->storage->kind == TM_TYPE_INT; }

/* The indices of an operand broadcast to the result's loop nest: aligned at the last
 * dimension, index 0 on size-1 dimensions. */
static void broadcast_idx(lw_fn *F, const tm_type *t, const lw_nest *N, tm_value **idx) {
  int off = N->rank - t->rank;
  for (int j = 0; j < t->rank; j++) idx[j] = t->dims[j] == 1 ? lw_cidx(F, 0) : N->iv[j + off];
}

/* --------------------------------------------------------------- binary ops ------- */
typedef enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN } binop;

static binop binop_of(const tm_op *op) {
  if (tm_op_is(op, "tm.add")) return B_ADD;
  if (tm_op_is(op, "tm.sub")) return B_SUB;
  if (tm_op_is(op, "tm.mul")) return B_MUL;
  if (tm_op_is(op, "tm.div")) return B_DIV;
  if (tm_op_is(op, "tm.maximum")) return B_MAX;
  return B_MIN;
}

/* Float: reference_ops Add/Sub/Mul with ActivationFunctionWithMinMax, Maximum/Minimum
 * (el1 > el2 ? el1 : el2).  int8: reference_integer_ops AddFunc (and Sub): inputs shifted
 * left by 20 and rescaled to twice the larger input scale, summed, rescaled to the
 * output (add_common.cc's multipliers); MulElementwise: MBQM((x1 - zp1) * (x2 - zp2)) with
 * QuantizeMultiplier(s1 * s2 / s_out); maximum/minimum compare the stored values.
 * int16: TFLite Micro runs the same general paths (reference_ops::AddGeneralParamScale,
 * SubElementwise, the MulElementwise template) with a left shift of 15 and the int16
 * range. */
int lw_lower_binary(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  binop k = binop_of(op);
  tm_value *a = tm_op_operand(op, 0), *b = tm_op_operand(op, 1), *y = tm_op_result(op, 0);
  lw_quant aq = lw_quant_of(a->type), bq = lw_quant_of(b->type), oq = lw_quant_of(y->type);
  bool flt = lw_is_f32(&aq) && lw_is_f32(&bq) && lw_is_f32(&oq);
  bool q8 = lw_is_q8(&aq) && lw_is_q8(&bq) && lw_is_q8(&oq);
  bool q16 = lw_is_q16(&aq) && lw_is_q16(&bq) && lw_is_q16(&oq);
  bool plain = is_plain_int(&aq) && aq.storage == bq.storage && aq.storage == oq.storage;
  if (!flt && !q8 && !q16 && !plain)
    return lw_unsupported(W, op, "only f32, per-tensor int8 or int16 and plain integer operands are supported");
  /* int16 zero points are 0 (the verifier's rule, TFLite's too), which keeps the i32
   * intermediates (x << 15, x1 * x2) in range. */
  int32_t lo = 0, hi = 0;
  float flo = 0, fhi = 0;
  int fact = 0;
  int32_t qo = 0;
  int eo = 0;
  lw_qadd qa;
  if (flt) {
    if ((fact = lw_act_range_f(W, op, &flo, &fhi)) < 0) return -1;
  } else if (plain) {
    if (strcmp(tm_op_attr_str(op, "fused_activation", "none"), "none"))
      return lw_unsupported(W, op, "a fused activation on plain integers is not supported");
  } else {
    if (lw_act_range(W, op, &oq, &lo, &hi)) return -1;
    if (k == B_ADD || k == B_SUB) {
      if (lw_qadd_init(W, op, &aq, &bq, &oq, lo, hi, &qa)) return -1;
    } else if (k == B_MUL) {
      if (lw_qmul(W, op, lw_fscale(aq.scale) * lw_fscale(bq.scale) / lw_fscale(oq.scale), &qo, &eo)) return -1;
    } else if (aq.scale != bq.scale || aq.zp != bq.zp || aq.scale != oq.scale || aq.zp != oq.zp) {
      return lw_unsupported(W, op, "operands and result must share one quantization");
    }
  }

  tm_value *am = lw_in(W, a), *bm = lw_in(W, b), *ym = lw_out(W, y);
  lw_nest N;
  lw_nest_begin(F, &N, y->type->rank, y->type->dims);
  tm_value *ai[LW_MAX_RANK], *bi[LW_MAX_RANK];
  broadcast_idx(F, a->type, &N, ai);
  broadcast_idx(F, b->type, &N, bi);
  tm_value *x1 = lw_load(F, am, a->type->rank, ai), *x2 = lw_load(F, bm, b->type->rank, bi), *r = NULL;
  if (flt) {
    switch (k) {
    case B_ADD: r = lw_addf(F, x1, x2); break;
    case B_SUB: r = lw_subf(F, x1, x2); break;
    case B_MUL: r = lw_mulf(F, x1, x2); break;
    case B_DIV: r = lw_divf(F, x1, x2); break;
    case B_MAX: r = lw_select(F, lw_cmpf(F, LW_FOGT, x1, x2), x1, x2); break;
    case B_MIN: r = lw_select(F, lw_cmpf(F, LW_FOLT, x1, x2), x1, x2); break;
    }
    if (fact > 0) r = lw_clamp_f(F, r, lw_cf32(F, flo), lw_cf32(F, fhi));
  } else if (plain || k == B_MAX || k == B_MIN) {
    switch (k) {
    case B_ADD: r = lw_addi(F, x1, x2); break;
    case B_SUB: r = lw_subi(F, x1, x2); break;
    case B_MUL: r = lw_muli(F, x1, x2); break;
    /* truncates, as C, ONNX and TFLite; ui8 (ONNX's uint8) compares and divides unsigned */
    case B_DIV: r = aq.uns ? lw_op2(F, "arith.divui", x1, x2) : lw_divsi(F, x1, x2); break;
    case B_MAX: r = aq.uns ? lw_op2(F, "arith.maxui", x1, x2) : lw_maxsi(F, x1, x2); break;
    case B_MIN: r = aq.uns ? lw_op2(F, "arith.minui", x1, x2) : lw_minsi(F, x1, x2); break;
    }
  } else if (k == B_MUL) {
    const tm_type *i32 = lw_i32(F);
    tm_value *v1 = lw_int_to(F, x1, i32), *v2 = lw_int_to(F, x2, i32);
    if (aq.zp) v1 = lw_addi(F, v1, lw_ci32(F, -aq.zp));
    if (bq.zp) v2 = lw_addi(F, v2, lw_ci32(F, -bq.zp));
    int64_t m1 = INT64_C(1) << aq.storage->width, m2 = INT64_C(1) << bq.storage->width;
    tm_value *raw = lw_mbqm_bounded(F, lw_muli(F, v1, v2), m1 * m2, qo, eo);
    if (oq.zp) raw = lw_addi(F, raw, lw_ci32(F, oq.zp));
    r = lw_int_to(F, lw_clamp_i32(F, raw, lo, hi), oq.storage);
  } else {
    r = lw_qadd_apply(F, &qa, x1, x2, k == B_SUB);
  }
  lw_store(F, r, ym, N.rank, N.iv);
  lw_nest_end(F, &N);
  return 0;
}

/* TFLite's quantized add/sub (reference_integer_ops AddFunc, int8; the int16 Add with
 * zero points 0): both inputs minus their zero points, shifted left (20; int16 15),
 * rescaled to twice the larger input scale, summed, rescaled to the output. */
int lw_qadd_init(lw_lower *W, tm_op *op, const lw_quant *aq, const lw_quant *bq, const lw_quant *oq, int32_t lo,
                 int32_t hi, lw_qadd *p) {
  *p = (lw_qadd){.zp1 = aq->zp, .zp2 = bq->zp, .zpo = oq->zp, .lo = lo, .hi = hi, .out = oq->storage};
  p->left_shift = oq->storage->width == 16 ? 15 : 20;
  double s1 = lw_fscale(aq->scale), s2 = lw_fscale(bq->scale), twice_max = 2 * (s1 > s2 ? s1 : s2);
  if (lw_qmul(W, op, s1 / twice_max, &p->q1, &p->e1) || lw_qmul(W, op, s2 / twice_max, &p->q2, &p->e2) ||
      lw_qmul(W, op, twice_max / ((double)(1 << p->left_shift) * lw_fscale(oq->scale)), &p->qo, &p->eo))
    return -1;
  if (p->e1 > 0 || p->e2 > 0 || p->eo > 0) return lw_unsupported(W, op, "the output scale is too small for TFLite's add");
  /* |x - zp| < 2^width: bounds of the shifted inputs, and of the two rescaled ones' sum */
  p->bound1 = (INT64_C(1) << aq->storage->width) << p->left_shift;
  p->bound2 = (INT64_C(1) << bq->storage->width) << p->left_shift;
  return 0;
}

tm_value *lw_qadd_apply(lw_fn *F, const lw_qadd *p, tm_value *x1, tm_value *x2, bool sub) {
  const tm_type *i32 = lw_i32(F);
  tm_value *v1 = lw_int_to(F, x1, i32), *v2 = lw_int_to(F, x2, i32), *shift = lw_ci32(F, p->left_shift);
  if (p->zp1) v1 = lw_addi(F, v1, lw_ci32(F, (int32_t)-p->zp1));
  if (p->zp2) v2 = lw_addi(F, v2, lw_ci32(F, (int32_t)-p->zp2));
  tm_value *s1 = lw_mbqm_bounded(F, lw_shli(F, v1, shift), p->bound1, p->q1, p->e1);
  tm_value *s2 = lw_mbqm_bounded(F, lw_shli(F, v2, shift), p->bound2, p->q2, p->e2);
  return lw_qadd_finish(F, p, sub ? lw_subi(F, s1, s2) : lw_addi(F, s1, s2));
}

tm_value *lw_qadd_finish(lw_fn *F, const lw_qadd *p, tm_value *sum) {
  tm_value *raw = lw_mbqm_bounded(F, sum, p->bound1 + p->bound2 + 2, p->qo, p->eo);
  if (p->zpo) raw = lw_addi(F, raw, lw_ci32(F, (int32_t)p->zpo));
  return lw_int_to(F, lw_clamp_i32(F, raw, p->lo, p->hi), p->out);
}

/* ---------------------------------------------------------------- unary ops ------- */
/* int8 activations are 256-entry tables: each entry is what the TFLite Micro kernel
 * computes for that input value, evaluated here with the same integer arithmetic, so the
 * run time is one load per element.  A table builder returns NULL on success, else what
 * makes the quantization unusable. */
typedef const char *(*lut_fn)(const lw_quant *in, const lw_quant *out, float alpha, int8_t *table);

static int32_t clamp8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }

/* ReluQuantized (activations_common.cc): zp_out + MBQM(x - zp_in, s_in / s_out), clamped
 * to [max(-128, zp_out), 127]. */
static const char *relu_table(const lw_quant *in, const lw_quant *out, float alpha, int8_t *t) {
  (void)alpha;
  int32_t q;
  int shift;
  if (!tm_quantize_multiplier(lw_fscale(in->scale) / lw_fscale(out->scale), &q, &shift) || shift > 30)
    return "the scales give no usable multiplier";
  int32_t lo = out->zp > -128 ? (int32_t)out->zp : -128;
  for (int v = -128; v <= 127; v++) {
    int32_t r = (int32_t)out->zp + tm_fx_mbqm(v - (int32_t)in->zp, q, shift);
    t[v + 128] = (int8_t)(r < lo ? lo : r > 127 ? 127 : r);
  }
  return NULL;
}

/* Relu6Quantized: the stored value clamped to [zp_in, six] with six the input's
 * quantization of 6.0 (FloatToQuantizedType); it does not rescale, so input and result
 * must share their quantization. */
static const char *relu6_table(const lw_quant *in, const lw_quant *out, float alpha, int8_t *t) {
  (void)alpha;
  if (in->scale != out->scale || in->zp != out->zp)
    return "TFLite Micro's RELU6 needs one quantization for input and result";
  float six_f = roundf(6.0f / (float)in->scale);
  if (!(fabsf(six_f) < 1e9f)) return "the input scale gives no quantized 6";
  int32_t six = clamp8((int32_t)six_f + (int32_t)in->zp), zero = (int32_t)in->zp;
  for (int v = -128; v <= 127; v++) t[v + 128] = (int8_t)(v > six ? six : v < zero ? zero : v);
  return NULL;
}

/* QuantizeLeakyRelu with leaky_relu_common.cc's multipliers, computed in float:
 * identity s_in / s_out, alpha s_in * alpha / s_out (negative alphas allowed). */
static const char *leaky_relu_table(const lw_quant *in, const lw_quant *out, float alpha, int8_t *t) {
  int32_t qi, qa;
  int si, sa;
  float s_in = (float)in->scale, s_out = (float)out->scale;
  if (!tm_quantize_multiplier((double)(s_in / s_out), &qi, &si) || si > 30 ||
      !tm_quantize_multiplier((double)(s_in * alpha / s_out), &qa, &sa) || sa > 30)
    return "the scales and alpha give no usable multipliers";
  for (int v = -128; v <= 127; v++) {
    int32_t d = v - (int32_t)in->zp;
    int32_t r = (int32_t)out->zp + (d >= 0 ? tm_fx_mbqm(d, qi, si) : tm_fx_mbqm(d, qa, sa));
    t[v + 128] = (int8_t)clamp8(r);
  }
  return NULL;
}

/* Logistic and Tanh (reference_integer_ops) with TFLite Micro's parameters
 * (logistic_common.cc, tanh.cc): the input multiplier and left shift come from a bare
 * frexp of s_in * 2^27 (no QuantizeMultiplier fix-ups); inputs beyond
 * CalculateInputRadius(4, shift) saturate; the rest go through gemmlowp's logistic or
 * tanh on Q4.27 and are rounded back by 2^23 (logistic, then - 128) or 2^24 (tanh). */
static const char *sigmoid_like_table(const lw_quant *in, bool tanh_, int8_t *t) {
  int shift;
  const double frac = frexp(lw_fscale(in->scale) * (double)(1 << (31 - 4)), &shift);
  const int64_t q64 = (int64_t)round(frac * (double)(INT64_C(1) << 31));
  if (q64 > INT32_MAX || shift < 0 || shift > 30) return "the input scale is out of range";
  const int32_t q = (int32_t)q64, radius = tm_input_radius(4, shift);
  for (int v = -128; v <= 127; v++) {
    const int32_t d = v - (int32_t)in->zp;
    int32_t r;
    if (d <= -radius) {
      r = -128;
    } else if (d >= radius) {
      r = 127;
    } else {
      const int32_t x = tm_fx_mbqm(d, q, shift);
      r = tanh_ ? tm_fx_rdbp(tm_fx_tanh(x, 4), 24) : tm_fx_rdbp(tm_fx_logistic(x, 4), 23) - 128;
    }
    t[v + 128] = (int8_t)clamp8(r);
  }
  return NULL;
}

static const char *logistic_table(const lw_quant *in, const lw_quant *out, float alpha, int8_t *t) {
  (void)alpha;
  if (out->zp != -128 || (float)out->scale != 1.0f / 256)
    return "an int8 logistic result must have scale 1/256 and zero point -128";
  return sigmoid_like_table(in, false, t);
}

static const char *tanh_table(const lw_quant *in, const lw_quant *out, float alpha, int8_t *t) {
  (void)alpha;
  if (out->zp != 0 || (float)out->scale != 1.0f / 128)
    return "an int8 tanh result must have scale 1/128 and zero point 0";
  return sigmoid_like_table(in, true, t);
}

/* reference_ops::HardSwish on int8 with hard_swish_common.cc's parameters: 16-bit
 * gemmlowp arithmetic on the input scaled by 2^7. */
static int16_t srdhm16(int16_t a, int16_t b) {
  bool overflow = a == b && a == INT16_MIN;
  int32_t ab = (int32_t)a * (int32_t)b;
  int16_t high = (int16_t)((ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15));
  return overflow ? INT16_MAX : high;
}

static int16_t rdbp16(int16_t x, int e) {
  const int16_t mask = (int16_t)((INT64_C(1) << e) - 1);
  const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
  return (int16_t)((x >> e) + ((int16_t)(x & mask) > threshold ? 1 : 0));
}

static int16_t sat_shl16(int16_t v, int amount) {
  int64_t r = (int64_t)v * (INT64_C(1) << amount);
  return (int16_t)(r > INT16_MAX ? INT16_MAX : r < INT16_MIN ? INT16_MIN : r);
}

/* DownScaleInt32ToInt16Multiplier */
static int16_t downscale16(int32_t m) {
  return m >= INT32_MAX - (1 << 15) ? INT16_MAX : (int16_t)((m + (1 << 15)) >> 16);
}

static const char *hard_swish_table(const lw_quant *in, const lw_quant *out, float alpha, int8_t *t) {
  (void)alpha;
  const float hires_input_scale = (1.0f / 128.0f) * (float)in->scale;
  const float reluish_scale = 3.0f / 32768.0f;
  int32_t qo, qr;
  int eo, er;
  if (!tm_quantize_multiplier((double)(hires_input_scale / (float)out->scale), &qo, &eo) || eo > 0 || eo < -31 ||
      !tm_quantize_multiplier((double)(hires_input_scale / reluish_scale), &qr, &er) || er > 31 || er < -31)
    return "the scales give no usable multipliers";
  const int16_t mo = downscale16(qo), mr = downscale16(qr);
  for (int v = -128; v <= 127; v++) {
    const int16_t input_value = (int16_t)(v - (int32_t)in->zp);
    const int16_t hires = (int16_t)(input_value * (1 << 7));
    const int16_t preshift_output = srdhm16(hires, mo);
    int16_t reluish = hires;
    if (er > 0) reluish = sat_shl16(reluish, er - 1);
    reluish = srdhm16(reluish, mr);
    if (er > 0) reluish = sat_shl16(reluish, 1);
    if (er < 0) reluish = rdbp16(reluish, -er);
    reluish = (int16_t)((reluish + (1 << 15)) >> 1);
    /* SaturatingDoublingHighMul: truncating, not rounding */
    const bool overflow = reluish == preshift_output && reluish == INT16_MIN;
    const int16_t product = overflow ? INT16_MAX : (int16_t)(((int32_t)reluish * preshift_output) / (1 << 15));
    int16_t r = rdbp16(product, -eo);
    r = (int16_t)(r + out->zp);
    t[v + 128] = (int8_t)(r > 127 ? 127 : r < -128 ? -128 : r);
  }
  return NULL;
}

/* int16 relu, relu6 and leaky_relu (TFLite Micro's ReluQuantized<int16_t>,
 * Relu6Quantized<int16_t>, QuantizeLeakyRelu<int16_t>) have the parameters of the int8
 * tables above, but 65536-entry tables would not fit: the same arithmetic runs at run
 * time.  Returns NULL and sets *why when the quantization is unusable. */
static tm_value *act16(lw_fn *F, int kind, const lw_quant *in, const lw_quant *out, float alpha, tm_value *v,
                       const char **why) {
  const tm_type *i32 = lw_i32(F);
  tm_value *d = lw_int_to(F, v, i32), *r;
  if (kind == 1) { /* relu6: x > six ? six : (x < zero ? zero : x) on stored values */
    if (in->scale != out->scale || in->zp != out->zp)
      return *why = "TFLite Micro's RELU6 needs one quantization for input and result", NULL;
    float six_f = roundf(6.0f / (float)in->scale);
    if (!(fabsf(six_f) < 1e9f)) return *why = "the input scale gives no quantized 6", NULL;
    int32_t six = (int32_t)six_f + (int32_t)in->zp;
    six = six < INT16_MIN ? INT16_MIN : six > INT16_MAX ? INT16_MAX : six;
    tm_value *six_v = lw_ci32(F, six), *zero = lw_ci32(F, in->zp);
    tm_value *low = lw_select(F, lw_cmpi(F, LW_SLT, d, zero), zero, d);
    return lw_int_to(F, lw_select(F, lw_cmpi(F, LW_SGT, d, six_v), six_v, low), out->storage);
  }
  if (in->zp) d = lw_addi(F, d, lw_ci32(F, -in->zp));
  int32_t lo = INT16_MIN;
  if (kind == 0) { /* relu */
    int32_t q;
    int shift;
    if (!tm_quantize_multiplier(lw_fscale(in->scale) / lw_fscale(out->scale), &q, &shift) || shift > 30)
      return *why = "the scales give no usable multiplier", NULL;
    r = lw_mbqm(F, d, lw_ci32(F, q), lw_ci32(F, shift));
    if (out->zp > lo) lo = (int32_t)out->zp;
  } else { /* leaky_relu */
    int32_t qi, qa;
    int si, sa;
    float s_in = (float)in->scale, s_out = (float)out->scale;
    if (!tm_quantize_multiplier((double)(s_in / s_out), &qi, &si) || si > 30 ||
        !tm_quantize_multiplier((double)(s_in * alpha / s_out), &qa, &sa) || sa > 30)
      return *why = "the scales and alpha give no usable multipliers", NULL;
    tm_value *pos = lw_mbqm(F, d, lw_ci32(F, qi), lw_ci32(F, si));
    tm_value *neg = lw_mbqm(F, d, lw_ci32(F, qa), lw_ci32(F, sa));
    r = lw_select(F, lw_cmpi(F, LW_SGE, d, lw_ci32(F, 0)), pos, neg);
  }
  if (out->zp) r = lw_addi(F, r, lw_ci32(F, out->zp));
  return lw_int_to(F, lw_clamp_i32(F, r, lo, INT16_MAX), out->storage);
}

/* TFLite's sigmoid(i / 24) in 0.16 format (sigmoid_table_uint16, shared by the int16
 * logistic and tanh kernels: tanh(x) = 2 * sigmoid(2x) - 1). */
static const int32_t sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

/* CheckedLog2 (float arithmetic): the rounded log2 of x, and whether x is a power of two. */
static bool checked_log2(float x, int *log2) {
  const float l = logf(x) * (1.0f / logf(2.0f)), r = roundf(l);
  *log2 = (int)r;
  return fabsf(l - r) < 1e-3f;
}

/* int16 logistic and tanh (reference_integer_ops::Logistic / Tanh on int16 with TFLite
 * Micro's logistic_common.cc / tanh.cc parameters): the input scaled to 1/(3 * 4096)
 * by (x * m + round) >> shift, its magnitude split into a table index (>> 9 for logistic,
 * >> 8 for tanh) and an interpolation fraction, mirrored for negative inputs. */
static tm_value *sigmoid16(lw_fn *F, lw_lower *W, bool tanh_, const lw_quant *in, const lw_quant *out, tm_value *x,
                           const char **why) {
  /* the verifier holds the result to scale 2^-15 and zero point 0 */
  int in_log2;
  if (in->zp) return *why = "int16 logistic and tanh need input zero point 0", NULL;
  if (!((float)in->scale > 0.0f)) return *why = "the input scale is out of range", NULL;
  bool pot = checked_log2((float)in->scale, &in_log2);
  int shift = 12 + in_log2;
  int32_t mult;
  pot &= shift == 0 || (tanh_ && shift == 1);
  if (pot) {
    mult = 3 << shift, shift = 0;
  } else {
    double m = (double)(float)in->scale * 4096.0 * 3.0;
    shift = 0;
    while (m <= 32767.0 / 2.0 && shift <= 30) shift++, m *= 2.0;
    if (m > 32767.0) return *why = "the input scale is too large for TFLite's int16 table", NULL;
    mult = (int32_t)m;
  }
  const tm_type *i32 = lw_i32(F);
  tm_value *table = lw_get_global(F, lw_global_i32(W->M, "sigmoid_table", 256, sigmoid_table, F->loc));
  tm_value *d = lw_muli(F, lw_int_to(F, x, i32), lw_ci32(F, mult));
  if (shift > 0) d = lw_shrsi(F, lw_addi(F, d, lw_ci32(F, 1 << (shift - 1))), lw_ci32(F, shift));
  tm_value *zero = lw_ci32(F, 0), *nonneg = lw_cmpi(F, LW_SGE, d, zero);
  tm_value *mag = lw_select(F, nonneg, d, lw_subi(F, zero, d));
  const int bits = tanh_ ? 8 : 9;
  tm_value *uh = lw_shrsi(F, mag, lw_ci32(F, bits));
  tm_value *sat = lw_cmpi(F, LW_SGE, uh, lw_ci32(F, 255));
  /* the index is clamped so that the (unused) saturated lanes load in bounds */
  tm_value *ia = lw_cast(F, "arith.index_cast", lw_minsi(F, uh, lw_ci32(F, 254)), lw_index(F));
  tm_value *ib = lw_add_idx(F, ia, lw_cidx(F, 1));
  tm_value *ua = lw_load(F, table, 1, &ia), *ub = lw_load(F, table, 1, &ib);
  tm_value *ut = lw_andi(F, mag, lw_ci32(F, (1 << bits) - 1));
  tm_value *interp = lw_addi(F, lw_shli(F, ua, lw_ci32(F, bits)), lw_muli(F, ut, lw_subi(F, ub, ua)));
  tm_value *r = lw_select(F, sat, lw_ci32(F, tanh_ ? 0xFFFF << 8 : 0x7FFF << 10), interp), *pos, *neg;
  if (tanh_) {
    pos = lw_addi(F, r, lw_ci32(F, -(1 << 23) + (1 << 7)));
    neg = lw_subi(F, lw_ci32(F, (1 << 23) + (1 << 7) - 1), r);
  } else {
    pos = lw_addi(F, r, lw_ci32(F, 1 << 9));
    neg = lw_subi(F, lw_ci32(F, (1 << 25) + (1 << 9) - 1), r);
  }
  r = lw_shrsi(F, lw_select(F, nonneg, pos, neg), lw_ci32(F, tanh_ ? 8 : 10));
  return lw_int_to(F, r, out->storage);
}

/* Float activations follow reference_ops: relu (x < 0 ? 0 : x), relu6, leaky_relu
 * (x > 0 ? x : x * alpha), logistic 1 / (1 + exp(-x)), tanh, hard_swish
 * x * min(6, max(0, x + 3)) / 6 with std::min/max's comparisons. */
int lw_lower_unary(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  lw_quant xq = lw_quant_of(x->type), oq = lw_quant_of(y->type);
  bool flt = lw_is_f32(&xq) && lw_is_f32(&oq);
  bool q16 = lw_is_q16(&xq) && lw_is_q16(&oq);
  if (!flt && !q16 && !(lw_is_q8(&xq) && lw_is_q8(&oq)))
    return lw_unsupported(W, op, "only f32, per-tensor int8 and (all but hard_swish) int16 are supported");
  static const struct {
    const char *name;
    lut_fn table;
  } kinds[] = {
      {"tm.relu", relu_table},         {"tm.relu6", relu6_table}, {"tm.leaky_relu", leaky_relu_table},
      {"tm.logistic", logistic_table}, {"tm.tanh", tanh_table},   {"tm.hard_swish", hard_swish_table},
  };
  int kind = 0;
  while (!tm_op_is(op, kinds[kind].name)) kind++;
  float alpha = (float)tm_op_attr_float(op, "alpha", 0.2);

  if (q16 && kind > 4) return lw_unsupported(W, op, "int16 %s is not supported", kinds[kind].name + 3);
  tm_value *xm = lw_in(W, x), *lut = NULL;
  if (q16) {
    tm_value *ym = lw_out(W, y);
    lw_nest N;
    lw_nest_begin(F, &N, y->type->rank, y->type->dims);
    const char *why = NULL;
    tm_value *v = lw_load(F, xm, N.rank, N.iv);
    tm_value *r = kind > 2 ? sigmoid16(F, W, kind == 4, &xq, &oq, v, &why) : act16(F, kind, &xq, &oq, alpha, v, &why);
    if (!r) return lw_unsupported(W, op, "%s", why);
    lw_store(F, r, ym, N.rank, N.iv);
    lw_nest_end(F, &N);
    return 0;
  }
  if (!flt) {
    int8_t table[256];
    const char *why = kinds[kind].table(&xq, &oq, alpha, table);
    if (why) return lw_unsupported(W, op, "%s", why);
    lut = lw_get_global(F, lw_global_i8(W->M, "lut", 256, table, F->loc));
  }
  tm_value *ym = lw_out(W, y);
  lw_nest N;
  lw_nest_begin(F, &N, y->type->rank, y->type->dims);
  tm_value *v = lw_load(F, xm, N.rank, N.iv), *r;
  if (!flt) {
    tm_value *k = lw_addi(F, lw_int_to(F, v, lw_i32(F)), lw_ci32(F, 128));
    tm_value *ki = lw_cast(F, "arith.index_cast", k, lw_index(F));
    r = lw_load(F, lut, 1, &ki);
  } else {
    tm_value *zero = lw_cf32(F, 0.0f);
    switch (kind) {
    case 0: /* relu */
      r = lw_select(F, lw_cmpf(F, LW_FOLT, v, zero), zero, v);
      break;
    case 1: { /* relu6: x > 6 ? 6 : (x < 0 ? 0 : x) */
      tm_value *six = lw_cf32(F, 6.0f);
      tm_value *low = lw_select(F, lw_cmpf(F, LW_FOLT, v, zero), zero, v);
      r = lw_select(F, lw_cmpf(F, LW_FOGT, v, six), six, low);
      break;
    }
    case 2: { /* leaky_relu */
      tm_value *neg = lw_mulf(F, v, lw_cf32(F, alpha));
      r = lw_select(F, lw_cmpf(F, LW_FOGT, v, zero), v, neg);
      break;
    }
    case 3: { /* logistic */
      tm_value *one = lw_cf32(F, 1.0f);
      tm_value *e = lw_math(F, "math.exp", lw_op(F, "arith.negf", v->type, 1, &v, 0, NULL));
      r = lw_divf(F, one, lw_addf(F, one, e));
      break;
    }
    case 4: /* tanh */
      r = lw_math(F, "math.tanh", v);
      break;
    default: { /* hard_swish */
      tm_value *six = lw_cf32(F, 6.0f);
      tm_value *t = lw_addf(F, v, lw_cf32(F, 3.0f));
      t = lw_select(F, lw_cmpf(F, LW_FOLT, zero, t), t, zero);
      t = lw_select(F, lw_cmpf(F, LW_FOLT, t, six), t, six);
      r = lw_divf(F, lw_mulf(F, v, t), six);
      break;
    }
    }
  }
  lw_store(F, r, ym, N.rank, N.iv);
  lw_nest_end(F, &N);
  return 0;
}

/* ------------------------------------------------------ quantize, dequantize ------- */
/* TfLiteRound(v) for |v| < 2^30 (v clamped there first, NaN to the low end): truncate,
 * then step away from zero when the exact remainder is at least one half. */
static tm_value *round_to_i32(lw_fn *F, tm_value *v) {
  tm_value *lim = lw_cf32(F, 1073741824.0f), *nlim = lw_cf32(F, -1073741824.0f);
  v = lw_select(F, lw_cmpf(F, LW_FULT, v, nlim), nlim, v);
  v = lw_select(F, lw_cmpf(F, LW_FOGT, v, lim), lim, v);
  tm_value *t = lw_cast(F, "arith.fptosi", v, lw_i32(F));
  tm_value *frac = lw_subf(F, v, lw_cast(F, "arith.sitofp", t, lw_f32(F)));
  tm_value *up = lw_cast(F, "arith.extui", lw_cmpf(F, LW_FOGE, frac, lw_cf32(F, 0.5f)), lw_i32(F));
  tm_value *down = lw_cast(F, "arith.extui", lw_cmpf(F, LW_FOLE, frac, lw_cf32(F, -0.5f)), lw_i32(F));
  return lw_subi(F, lw_addi(F, t, up), down);
}

/* int16 activations (TFLite's 16x8) are quantized and dequantized by the same kernels. */
static bool is_q8_or_q16(const lw_quant *q) { return lw_is_q8(q) || lw_is_q16(q); }
/* Also what ONNX imports need: uint8 values (only quantized and dequantized here; the
 * other kernels take int8) and, from f32, int32 (ConvInteger / MatMulInteger results,
 * which round_to_i32 holds to |v| <= 2^30). */
static bool is_qin(const lw_quant *q) { return is_q8_or_q16(q) || (q->quantized && q->uns && q->axis < 0); }
static bool is_qout(const lw_quant *q) {
  return is_qin(q) || (q->quantized && q->axis < 0 && q->storage->kind == TM_TYPE_INT && q->storage->width == 32);
}

/* quantize: float -> q is reference_ops::AffineQuantize (x / s in float, TfLiteRound,
 * + zp, clamp to the storage type: int8 or int16); q -> q is reference_ops::Requantize
 * (MBQM(x - zp_in, s_in / s_out) + zp_out, clamped).  dequantize: (float)(s * (q - zp)),
 * which the f32 product computes exactly as TFLite's double one rounded to float. */
int lw_lower_quantize(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  lw_quant xq = lw_quant_of(x->type), oq = lw_quant_of(y->type);
  bool deq = tm_op_is(op, "tm.dequantize");
  int32_t q = 0;
  int e = 0;
  if (deq) {
    if (!is_qin(&xq) || !lw_is_f32(&oq))
      return lw_unsupported(W, op, "only per-tensor int8, uint8 or int16 to f32 is supported");
  } else if (lw_is_f32(&xq)) {
    if (!is_qout(&oq)) return lw_unsupported(W, op, "only f32 to per-tensor int8, uint8, int16 or int32 is supported");
  } else {
    if (!is_q8_or_q16(&xq) || !is_q8_or_q16(&oq))
      return lw_unsupported(W, op, "only per-tensor int8 or int16 requantization is supported");
    if (lw_qmul(W, op, lw_fscale(xq.scale) / lw_fscale(oq.scale), &q, &e)) return -1;
  }
  tm_value *xm = lw_in(W, x), *ym = lw_out(W, y);
  lw_nest N;
  lw_nest_begin(F, &N, y->type->rank, y->type->dims);
  tm_value *v = lw_load(F, xm, N.rank, N.iv), *r;
  if (deq) {
    tm_value *d = xq.uns ? lw_cast(F, "arith.extui", v, lw_i32(F)) : lw_int_to(F, v, lw_i32(F));
    if (xq.zp) d = lw_subi(F, d, lw_ci32(F, xq.zp));
    r = lw_mulf(F, lw_cast(F, "arith.sitofp", d, lw_f32(F)), lw_cf32(F, (float)xq.scale));
  } else {
    tm_value *i;
    if (lw_is_f32(&xq)) {
      i = round_to_i32(F, lw_divf(F, v, lw_cf32(F, (float)oq.scale)));
    } else {
      tm_value *d = lw_int_to(F, v, lw_i32(F));
      if (xq.zp) d = lw_subi(F, d, lw_ci32(F, xq.zp));
      i = lw_mbqm(F, d, lw_ci32(F, q), lw_ci32(F, e));
    }
    if (oq.zp) i = lw_addi(F, i, lw_ci32(F, oq.zp));
    int bits = oq.storage->width;
    int32_t lo = oq.uns ? 0 : bits == 32 ? INT32_MIN : -(1 << (bits - 1));
    int32_t hi = oq.uns ? 255 : bits == 32 ? INT32_MAX : (1 << (bits - 1)) - 1;
    r = lw_int_to(F, bits == 32 ? i : lw_clamp_i32(F, i, lo, hi), ym->type->elem);
  }
  lw_store(F, r, ym, N.rank, N.iv);
  lw_nest_end(F, &N);
  return 0;
}

/* ---------------------------------------------------------------- batch_norm ------- */
/* Not a TFLite kernel: out = (x - mean) * scale / sqrt(variance + epsilon) + offset per
 * channel (the last dimension), in f32 and in that order, as docs/ops.md defines it. */
int lw_lower_batch_norm(lw_lower *W, tm_op *op) {
  lw_fn *F = lw_fn_of(W);
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  for (int i = 0; i < op->noperands; i++) {
    lw_quant q = lw_quant_of(tm_op_operand(op, i)->type);
    if (!lw_is_f32(&q)) return lw_unsupported(W, op, "only f32 batch_norm is supported");
  }
  float eps = (float)tm_op_attr_float(op, "epsilon", 1e-5);
  tm_value *xm = lw_in(W, x), *p[4];
  for (int i = 0; i < 4; i++) p[i] = lw_in(W, tm_op_operand(op, i + 1)); /* scale, offset, mean, variance */
  tm_value *ym = lw_out(W, y);
  lw_nest N;
  lw_nest_begin(F, &N, y->type->rank, y->type->dims);
  tm_value *c = N.iv[N.rank - 1];
  tm_value *v = lw_load(F, xm, N.rank, N.iv);
  tm_value *centered = lw_subf(F, v, lw_load(F, p[2], 1, &c));
  tm_value *scaled = lw_mulf(F, centered, lw_load(F, p[0], 1, &c));
  tm_value *var = lw_addf(F, lw_load(F, p[3], 1, &c), lw_cf32(F, eps));
  tm_value *normalized = lw_divf(F, scaled, lw_math(F, "math.sqrt", var));
  tm_value *r = lw_addf(F, normalized, lw_load(F, p[1], 1, &c));
  lw_store(F, r, ym, N.rank, N.iv);
  lw_nest_end(F, &N);
  return 0;
}
