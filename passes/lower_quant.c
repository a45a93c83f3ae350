/* passes/lower_quant.c — TFLite's quantization arithmetic, evaluated at compile time:
 * multipliers, activation ranges, and gemmlowp's fixed-point functions (for lookup tables
 * whose entries must equal what the reference kernels compute at run time).  Sources:
 * tensorflow/lite/kernels/internal/quantization_util.cc, common.h, kernel_util.cc and
 * gemmlowp/fixedpoint/fixedpoint.h, double-rounding build. */
#include <math.h>
#include <string.h>

#include "passes/lowering.h"

bool tm_quantize_multiplier(double m, int32_t *q, int *shift) {
  *q = 0;
  *shift = 0;
  if (isnan(m) || isinf(m)) return false;
  if (m == 0.) return true;
  int e;
  const double frac = frexp(m, &e);
  int64_t q_fixed = (int64_t)round(frac * (double)(INT64_C(1) << 31)); /* TfLiteRound: half away from zero */
  /* A negative multiplier (leaky_relu's alpha) keeps its sign in q. */
  if (q_fixed == INT64_C(1) << 31) {
    q_fixed /= 2;
    ++e;
  }
  /* Shifts below -31 would shift every bit out: TFLite flushes them to zero. */
  if (e < -31) {
    e = 0;
    q_fixed = 0;
  }
  *q = (int32_t)q_fixed;
  *shift = e;
  return true;
}

int32_t tm_fx_srdhm(int32_t a, int32_t b) {
  const bool overflow = a == b && a == INT32_MIN;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int32_t high = (int32_t)((ab + nudge) / (INT64_C(1) << 31)); /* truncating division */
  return overflow ? INT32_MAX : high;
}

int32_t tm_fx_rdbp(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((INT64_C(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t tm_fx_mbqm(int32_t x, int32_t q, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return tm_fx_rdbp(tm_fx_srdhm((int32_t)((uint32_t)x << left), q), right);
}

int32_t tm_fx_sat_shl(int32_t x, int exponent) {
  const int32_t threshold = (int32_t)((INT64_C(1) << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

/* Wrapping add/sub, as the int32 FixedPoint operators compile on every target. */
static int32_t add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* exp(x) for x in [-1/4, 0), Q0.31. */
static int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  const int32_t constant_term = 1895147668;     /* exp(-1/8) */
  const int32_t constant_1_over_3 = 715827883;
  const int32_t x = add(a, 1 << 28);            /* a + 1/8 */
  const int32_t x2 = tm_fx_srdhm(x, x);
  const int32_t x3 = tm_fx_srdhm(x2, x);
  const int32_t x4 = tm_fx_srdhm(x2, x2);
  const int32_t x4_over_4 = tm_fx_rdbp(x4, 2);
  const int32_t poly = tm_fx_rdbp(add(tm_fx_srdhm(add(x4_over_4, x3), constant_1_over_3), x2), 1);
  return add(constant_term, tm_fx_srdhm(constant_term, add(x, poly)));
}

const int32_t tm_fx_exp_barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};

int32_t tm_fx_exp_on_negative_values(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = sub(a & mask, one_quarter);
  /* Rescale<0> from integer_bits: a saturating left shift. */
  const int32_t rescaled = integer_bits > 0 ? tm_fx_sat_shl(a_mod_quarter_minus_one_quarter, integer_bits)
                                            : a_mod_quarter_minus_one_quarter;
  int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescaled);
  const int32_t remainder = sub(a_mod_quarter_minus_one_quarter, a);
  for (int exponent = -2; exponent <= 4; exponent++) {
    if (integer_bits > exponent) {
      const int shift = fractional_bits + exponent;
      if (remainder & ((int32_t)1 << shift)) result = tm_fx_srdhm(result, tm_fx_exp_barrel[exponent + 2]);
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32 */
    if (a < clamp) result = 0;
  }
  if (a == 0) result = INT32_MAX;
  return result;
}

/* Newton-Raphson for 1/(1 + a), a in [0, 1): x in Q2.29 (F2), half_denominator in Q0.31. */
static int32_t newton_reciprocal_f2(int32_t half_denominator) {
  const int32_t constant_48_over_17 = 1515870810, constant_neg_32_over_17 = -1010580540;
  const int32_t f2_one = 1 << 29;
  int32_t x = add(constant_48_over_17, tm_fx_srdhm(half_denominator, constant_neg_32_over_17));
  for (int i = 0; i < 3; i++) {
    const int32_t half_denominator_times_x = tm_fx_srdhm(half_denominator, x);
    const int32_t one_minus = sub(f2_one, half_denominator_times_x);
    x = add(x, tm_fx_sat_shl(tm_fx_srdhm(x, one_minus), 2)); /* Rescale<2> of a Q4.27 product */
  }
  return x;
}

/* gemmlowp's RoundingHalfSum on int32. */
static int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

int32_t tm_fx_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  const int32_t x = newton_reciprocal_f2(rounding_half_sum(a, INT32_MAX));
  return tm_fx_sat_shl(x, 1); /* Rescale<0>(ExactMulByPot<-1>(x)): Q1.30 -> Q0.31 */
}

static int32_t one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a) {
  const int32_t x = newton_reciprocal_f2(rounding_half_sum(a, INT32_MAX));
  return tm_fx_sat_shl(sub(x, 1 << 29), 2); /* Rescale<0>(x - 1) from Q2.29 */
}

int32_t tm_fx_logistic(int32_t a, int integer_bits) {
  const bool positive = a > 0;
  const int32_t abs_input = positive ? a : sub(0, a);
  const int32_t result_if_positive =
      tm_fx_one_over_one_plus_x_for_x_in_0_1(tm_fx_exp_on_negative_values(sub(0, abs_input), integer_bits));
  const int32_t result_if_negative = sub(INT32_MAX, result_if_positive);
  if (a == 0) return 1 << 30;
  return positive ? result_if_positive : result_if_negative;
}

int32_t tm_fx_tanh(int32_t a, int integer_bits) {
  const bool negative = a < 0;
  const int32_t n = negative ? a : sub(0, a);
  /* ExactMulByPot<1>: the same raw value read with one more integer bit. */
  const int32_t t = one_minus_x_over_one_plus_x_for_x_in_0_1(tm_fx_exp_on_negative_values(n, integer_bits + 1));
  if (a == 0) return 0;
  return negative ? sub(0, t) : t;
}

float tm_round_f32(float x) { return roundf(x); }

bool tm_act_range_quant(const char *act, double scale, int64_t zero_point, int32_t qmin, int32_t qmax,
                        int32_t *lo, int32_t *hi) {
  /* Quantize(): f / scale in float, TfLiteRound, plus the zero point. */
  const float s = (float)scale;
  *lo = qmin;
  *hi = qmax;
  if (!act || !strcmp(act, "none")) return true;
  /* TFLite rejects a bound whose rounded quotient leaves the int32 range. */
  const float bounds[] = {0.0f / s, 6.0f / s, -1.0f / s, 1.0f / s};
  for (int i = 0; i < 4; i++)
    if (!(fabsf(tm_round_f32(bounds[i])) < 2147483648.0f)) return false;
#define Q(v) (zero_point + (int64_t)tm_round_f32((float)(v) / s))
  int64_t l = qmin, h = qmax;
  if (!strcmp(act, "relu")) {
    l = Q(0.0);
  } else if (!strcmp(act, "relu6")) {
    l = Q(0.0);
    h = Q(6.0);
  } else if (!strcmp(act, "relu_n1_to_1")) {
    l = Q(-1.0);
    h = Q(1.0);
  } else {
    return false;
  }
  *lo = (int32_t)(l > qmin ? (l < qmax ? l : qmax) : qmin);
  *hi = (int32_t)(h < qmax ? (h > qmin ? h : qmin) : qmax);
#undef Q
  return true;
}

int32_t tm_input_radius(int input_integer_bits, int input_left_shift) {
  const double max_input_rescaled = 1.0 * (double)((1 << input_integer_bits) - 1) *
                                    (double)(INT64_C(1) << (31 - input_integer_bits)) /
                                    (double)(INT64_C(1) << input_left_shift);
  return (int32_t)floor(max_input_rescaled);
}
