// The compile-time quantization arithmetic of lower-to-loops (passes/lower_quant.c)
// against values of TFLite's QuantizeMultiplier, gemmlowp's fixed-point primitives and
// CalculateActivationRangeQuantized.
#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

extern "C" {
#include "passes/lowering.h"
}

namespace {

struct Qm {
  int32_t q;
  int shift;
};

Qm qm(double m) {
  Qm r{-1, -1};
  EXPECT_TRUE(tm_quantize_multiplier(m, &r.q, &r.shift)) << m;
  return r;
}

TEST(LoweringQuant, QuantizeMultiplierPowersOfTwo) {
  EXPECT_EQ(qm(0.5).q, 1073741824);
  EXPECT_EQ(qm(0.5).shift, 0);
  EXPECT_EQ(qm(0.25).q, 1073741824);
  EXPECT_EQ(qm(0.25).shift, -1);
  EXPECT_EQ(qm(1.0).q, 1073741824);
  EXPECT_EQ(qm(1.0).shift, 1);
  EXPECT_EQ(qm(1.5).q, 1610612736);
  EXPECT_EQ(qm(1.5).shift, 1);
}

TEST(LoweringQuant, QuantizeMultiplierRoundsAndFixesUp) {
  // 0.2 = 0.8 * 2^-2; 0.8 * 2^31 = 1717986918.4 rounds down.
  EXPECT_EQ(qm(0.2).q, 1717986918);
  EXPECT_EQ(qm(0.2).shift, -2);
  // A fraction that rounds to 2^31 becomes 2^30 with the exponent one higher.
  Qm r = qm(1.0 - std::ldexp(1.0, -40));
  EXPECT_EQ(r.q, 1073741824);
  EXPECT_EQ(r.shift, 1);
  // Halfway cases round away from zero (TfLiteRound).
  r = qm(std::ldexp(1073741824.5, -31));
  EXPECT_EQ(r.q, 1073741825);
  EXPECT_EQ(r.shift, 0);
}

TEST(LoweringQuant, QuantizeMultiplierZeroTinyAndInvalid) {
  EXPECT_EQ(qm(0.0).q, 0);
  EXPECT_EQ(qm(0.0).shift, 0);
  // shift < -31 flushes to zero
  Qm r = qm(1e-12);
  EXPECT_EQ(r.q, 0);
  EXPECT_EQ(r.shift, 0);
  r = qm(std::ldexp(0.75, -31)); // shift -31 is kept
  EXPECT_EQ(r.q, 1610612736);
  EXPECT_EQ(r.shift, -31);
  int32_t q;
  int s;
  ASSERT_TRUE(tm_quantize_multiplier(-0.5, &q, &s)); // leaky_relu with a negative alpha
  EXPECT_EQ(q, -1073741824);
  EXPECT_EQ(s, 0);
  EXPECT_FALSE(tm_quantize_multiplier(NAN, &q, &s));
  EXPECT_FALSE(tm_quantize_multiplier(INFINITY, &q, &s));
}

TEST(LoweringQuant, SaturatingRoundingDoublingHighMul) {
  EXPECT_EQ(tm_fx_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
  EXPECT_EQ(tm_fx_srdhm(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(tm_fx_srdhm(1, 1 << 30), 1);   // +0.5 rounds up
  EXPECT_EQ(tm_fx_srdhm(-1, 1 << 30), 0);  // -0.5: nudge 1 - 2^30, truncating division
  EXPECT_EQ(tm_fx_srdhm(-3, 1 << 30), -1); // -1.5 -> -1
  EXPECT_EQ(tm_fx_srdhm(INT32_MIN, INT32_MAX), -INT32_MAX);
}

TEST(LoweringQuant, RoundingDivideByPOT) {
  EXPECT_EQ(tm_fx_rdbp(5, 1), 3);
  EXPECT_EQ(tm_fx_rdbp(-5, 1), -3);
  EXPECT_EQ(tm_fx_rdbp(3, 1), 2);
  EXPECT_EQ(tm_fx_rdbp(-3, 1), -2);
  EXPECT_EQ(tm_fx_rdbp(7, 2), 2);
  EXPECT_EQ(tm_fx_rdbp(-6, 2), -2); // -1.5 -> -2
  EXPECT_EQ(tm_fx_rdbp(-5, 2), -1);
  EXPECT_EQ(tm_fx_rdbp(123, 0), 123);
  EXPECT_EQ(tm_fx_rdbp(INT32_MIN, 31), -1);
  EXPECT_EQ(tm_fx_rdbp(INT32_MAX, 31), 1);
}

TEST(LoweringQuant, MultiplyByQuantizedMultiplier) {
  EXPECT_EQ(tm_fx_mbqm(100, 1073741824, 0), 50);
  EXPECT_EQ(tm_fx_mbqm(3, 1073741824, -1), 1); // double rounding: 1.5 -> 2, then 2 / 2 = 1
  EXPECT_EQ(tm_fx_mbqm(5, 1073741824, -1), 2); // 5 * 0.25 = 1.25, but 2.5 -> 3, then 1.5 -> 2
  EXPECT_EQ(tm_fx_mbqm(10, 1610612736, 1), 15);
  EXPECT_EQ(tm_fx_mbqm(-10, 1610612736, 1), -15);
}

// The short form passes/lower_requant.c emits when |acc| < 2^30, q >= 0 and shift = -r <= 0:
// hi32(2 acc * q + 2^31), then (h + 2^(r-1) + zp * 2^r + (acc >> 31)) >> r (r >= 1) or
// h + zp (r = 0), equals MBQM(acc, q, shift) + zp.  Checked at the edges and on random
// values (a fixed-seed LCG: the same cases every run).
int32_t short_form(int32_t acc, int32_t q, int r, int32_t zp) {
  int64_t p = (int64_t)(2 * acc) * q + (INT64_C(1) << 31);
  int32_t h = (int32_t)(p >> 32);
  if (r == 0) return h + zp;
  int64_t addend = (INT64_C(1) << (r - 1)) + (int64_t)zp * (INT64_C(1) << r);
  return (int32_t)((h + addend + (acc < 0 ? -1 : 0)) >> r);
}

TEST(LoweringQuant, ShortRequantizationIsMultiplyByQuantizedMultiplier) {
  uint64_t seed = 12345;
  auto next = [&seed]() {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(seed >> 32);
  };
  const int32_t edges[] = {0, 1, -1, 2, -2, 3, -3, (1 << 29) - 1, -(1 << 29), (1 << 30) - 1, -(1 << 30) + 1};
  for (int r = 0; r <= 24; r++)
    for (int32_t zp : {0, 5, -128, 127})
      for (int32_t q : {0, 1 << 30, 1518500250, INT32_MAX})
        for (int32_t acc : edges) {
          int64_t room = (int64_t)(acc < 0 ? -(int64_t)acc : acc) + (r ? INT64_C(1) << (r - 1) : 0) +
                         128 * (INT64_C(1) << r) + 2;
          if (room > INT32_MAX) continue; /* lower_requant.c adds zp after instead */
          ASSERT_EQ(short_form(acc, q, r, zp), tm_fx_mbqm(acc, q, -r) + zp) << acc << " " << q << " " << r;
        }
  for (int i = 0; i < 2000000; i++) {
    int r = (int)(next() % 23), bits = 1 + (int)(next() % 30);
    int32_t acc = (int32_t)(next() & ((1u << bits) - 1)) * ((next() & 1) ? -1 : 1);
    int32_t q = (int32_t)((1u << 30) | (next() & ((1u << 30) - 1))), zp = (int32_t)(next() % 256) - 128;
    ASSERT_EQ(short_form(acc, q, r, zp), tm_fx_mbqm(acc, q, -r) + zp) << acc << " " << q << " " << r << " " << zp;
  }
}

// RV32's form of the short form's high word (lower_requant.c, emit_short): the rounding
// constant's carry into the high word is the low word's top bit.
TEST(LoweringQuant, RoundedHighWordFromTheLowWordsTopBit) {
  uint64_t seed = 777;
  for (int i = 0; i < 1000000; i++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    int32_t a = (int32_t)(uint32_t)(seed >> 32), q = (int32_t)(uint32_t)seed;
    int64_t p = (int64_t)a * q;
    int32_t split = (int32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
    ASSERT_EQ(split, (int32_t)((p + (INT64_C(1) << 31)) >> 32)) << a << " " << q;
  }
}

TEST(LoweringQuant, SaturatingShiftLeft) {
  EXPECT_EQ(tm_fx_sat_shl(3, 2), 12);
  EXPECT_EQ(tm_fx_sat_shl(1 << 29, 2), INT32_MAX);
  EXPECT_EQ(tm_fx_sat_shl(-(1 << 29), 2), INT32_MIN);
  EXPECT_EQ(tm_fx_sat_shl(-(1 << 28), 2), -(1 << 30));
}

double q31(int32_t v) { return v / 2147483648.0; }

TEST(LoweringQuant, ExpOnNegativeValues) {
  EXPECT_EQ(tm_fx_exp_on_negative_values(0, 5), INT32_MAX);
  for (double x : {-0.1, -0.25, -1.0, -2.5, -7.0, -15.9}) {
    int32_t a = (int32_t)std::lround(x * (1 << 26)); // Q5.26
    EXPECT_NEAR(q31(tm_fx_exp_on_negative_values(a, 5)), std::exp(x), 1e-6) << x;
  }
  // Q5.26 cannot go below -32: everything there is 0 only with more integer bits.
  EXPECT_EQ(tm_fx_exp_on_negative_values(-(40 << 25), 6), 0);
}

TEST(LoweringQuant, LogisticTanhReciprocal) {
  EXPECT_EQ(tm_fx_logistic(0, 4), 1 << 30);
  EXPECT_EQ(tm_fx_tanh(0, 4), 0);
  for (double x : {-7.5, -1.0, -0.3, 0.3, 1.0, 7.5}) {
    int32_t a = (int32_t)std::lround(x * (1 << 27)); // Q4.27
    EXPECT_NEAR(q31(tm_fx_logistic(a, 4)), 1 / (1 + std::exp(-x)), 1e-6) << x;
    EXPECT_NEAR(q31(tm_fx_tanh(a, 4)), std::tanh(x), 1e-6) << x;
  }
  for (double x : {0.0, 0.25, 0.5, 0.9}) {
    int32_t a = (int32_t)std::lround(x * 2147483648.0);
    EXPECT_NEAR(q31(tm_fx_one_over_one_plus_x_for_x_in_0_1(a)), 1 / (1 + x), 1e-6) << x;
  }
}

TEST(LoweringQuant, ActivationRange) {
  int32_t lo, hi;
  ASSERT_TRUE(tm_act_range_quant("relu6", 0.1, -128, -128, 127, &lo, &hi));
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, -68); // -128 + round(6 / 0.1f)
  ASSERT_TRUE(tm_act_range_quant("relu", 0.5, 3, -128, 127, &lo, &hi));
  EXPECT_EQ(lo, 3);
  EXPECT_EQ(hi, 127);
  ASSERT_TRUE(tm_act_range_quant("relu_n1_to_1", 0.004, 0, -128, 127, &lo, &hi));
  EXPECT_EQ(lo, -128); // -1 / 0.004 = -250, clamped
  EXPECT_EQ(hi, 127);
  ASSERT_TRUE(tm_act_range_quant("none", 0.1, 7, -128, 127, &lo, &hi));
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
  EXPECT_FALSE(tm_act_range_quant("tanh", 0.1, 0, -128, 127, &lo, &hi));
  EXPECT_FALSE(tm_act_range_quant("relu6", 1e-40, 0, -128, 127, &lo, &hi)); // 6 / s overflows
}

TEST(LoweringQuant, InputRadius) {
  // CalculateInputRadius(5, 20): floor(31 * 2^26 / 2^20) = 1984
  EXPECT_EQ(tm_input_radius(5, 20), 1984);
  EXPECT_EQ(tm_input_radius(4, 0), 15 << 27);
}

} // namespace
