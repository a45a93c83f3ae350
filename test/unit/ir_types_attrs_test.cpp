// Interning of types, attributes and strings; quant types; dense element access.
#include <cmath>
#include <cstring>

#include "ir_test_util.h"

using TypesAttrs = IrTest;

TEST_F(TypesAttrs, ScalarTypesAreInterned) {
  EXPECT_EQ(tm_type_int(ctx, 8), tm_type_int(ctx, 8));
  EXPECT_NE(tm_type_int(ctx, 8), tm_type_int(ctx, 16));
  EXPECT_NE(tm_type_int(ctx, 8), tm_type_int_signed(ctx, 8, TM_UNSIGNED));
  EXPECT_EQ(tm_type_int(ctx, 8), tm_type_int_signed(ctx, 8, TM_SIGNLESS));
  EXPECT_EQ(tm_type_float(ctx, 16), tm_type_float(ctx, 16));
  EXPECT_NE(tm_type_float(ctx, 32), tm_type_int(ctx, 32));
  EXPECT_EQ(tm_type_index(ctx), tm_type_index(ctx));
  EXPECT_EQ(tm_type_none(ctx), tm_type_none(ctx));
}

TEST_F(TypesAttrs, ShapedTypesAreInternedAndCopyDims) {
  int64_t dims[] = {1, TM_DYNAMIC, 3};
  const tm_type *a = tm_type_tensor(ctx, f32(), 3, dims);
  dims[2] = 4;  // the type must not alias the caller's array
  EXPECT_EQ(a->dims[2], 3);
  dims[2] = 3;
  EXPECT_EQ(a, tm_type_tensor(ctx, f32(), 3, dims));
  EXPECT_NE(a, tm_type_memref(ctx, f32(), 3, dims));
  EXPECT_FALSE(tm_type_is_static(a));
  EXPECT_EQ(tm_type_numel(a), -1);
  EXPECT_EQ(tm_type_tensor(ctx, f32(), 0, nullptr), tm_type_tensor(ctx, f32(), 0, nullptr));
  EXPECT_EQ(tm_type_numel(tm_type_tensor(ctx, f32(), 0, nullptr)), 1);
}

TEST_F(TypesAttrs, ShapedTypeRejectsBadElementOrDims) {
  const tm_type *t = tensor({2}, f32());
  EXPECT_EQ(tm_type_tensor(ctx, t, 1, t->dims), nullptr);  // tensor of tensor
  EXPECT_EQ(tm_type_tensor(ctx, tm_type_none(ctx), 0, nullptr), nullptr);
  int64_t bad[] = {-3};
  EXPECT_EQ(tm_type_tensor(ctx, f32(), 1, bad), nullptr);
  EXPECT_NE(tm_type_tensor(ctx, tm_type_index(ctx), 0, nullptr), nullptr);
}

TEST_F(TypesAttrs, SizesAndOverflow) {
  EXPECT_EQ(tm_type_bytes(tensor({2, 3}, f32())), 24);
  EXPECT_EQ(tm_type_bytes(tensor({5}, tm_type_int(ctx, 4))), 5);  // one i4 per byte
  EXPECT_EQ(tm_type_bytes(tensor({5}, tm_type_int(ctx, 1))), 5);
  EXPECT_EQ(tm_type_elem_bits(tensor({5}, tm_type_float(ctx, 16))), 16u);
  EXPECT_EQ(tm_type_numel(tensor({INT64_MAX / 2, 4}, f32())), -1);
  EXPECT_EQ(tm_type_bytes(tensor({INT64_MAX / 2}, f32())), -1);
  EXPECT_EQ(tm_type_numel(tensor({0, INT64_MAX}, f32())), 0);
}

TEST_F(TypesAttrs, WithElemKeepsShapeKind) {
  const tm_type *m = tm_type_memref(ctx, f32(), 2, tensor({2, 3}, f32())->dims);
  const tm_type *mi = tm_type_with_elem(ctx, m, tm_type_int(ctx, 8));
  EXPECT_EQ(mi->kind, TM_TYPE_MEMREF);
  EXPECT_EQ(mi->elem, tm_type_int(ctx, 8));
  EXPECT_EQ(mi->dims[1], 3);
}

TEST_F(TypesAttrs, QuantTypes) {
  const tm_type *i8 = tm_type_int(ctx, 8);
  double scale = 0.0235;
  int64_t zp = -128;
  const tm_type *q = tm_type_quant(ctx, i8, f32(), -128, 127, -1, 1, &scale, &zp);
  EXPECT_EQ(q, tm_type_quant(ctx, i8, f32(), -128, 127, -1, 1, &scale, &zp));
  EXPECT_NE(q, tm_type_quant(ctx, i8, f32(), -127, 127, -1, 1, &scale, &zp));
  EXPECT_EQ(tm_type_storage(q), i8);
  EXPECT_EQ(tm_type_storage(i8), i8);

  double scales[] = {0.1, 0.2};
  int64_t zps[] = {0, 3};
  const tm_type *pa = tm_type_quant(ctx, i8, f32(), -128, 127, 3, 2, scales, zps);
  scales[1] = 9.0;  // copied, not aliased
  EXPECT_DOUBLE_EQ(pa->scales[1], 0.2);
  EXPECT_EQ(pa->zero_points[1], 3);
  EXPECT_EQ(pa->axis, 3);
  // NULL zero points mean all zero and intern like explicit zeros.
  double s1[] = {0.5};
  int64_t z0[] = {0};
  EXPECT_EQ(tm_type_quant(ctx, i8, f32(), -128, 127, -1, 1, s1, nullptr),
            tm_type_quant(ctx, i8, f32(), -128, 127, -1, 1, s1, z0));
  const tm_type *qt = tensor({4}, q);
  ASSERT_NE(qt, nullptr);
  EXPECT_EQ(tm_type_bytes(qt), 4);
}

TEST_F(TypesAttrs, FuncTypes) {
  const tm_type *in[] = {i32(), f32()};
  const tm_type *out[] = {f32()};
  const tm_type *f = tm_type_func(ctx, 2, in, 1, out);
  EXPECT_EQ(f, tm_type_func(ctx, 2, in, 1, out));
  EXPECT_NE(f, tm_type_func(ctx, 1, in, 1, out));
  EXPECT_EQ(f->inputs[1], f32());
  EXPECT_EQ(tm_type_func(ctx, 0, nullptr, 0, nullptr), tm_type_func(ctx, 0, nullptr, 0, nullptr));
}

TEST_F(TypesAttrs, StringsAreInterned) {
  char buf[] = "hello world";
  const char *a = tm_intern(ctx, buf, 5);
  EXPECT_STREQ(a, "hello");
  EXPECT_EQ(a, tm_intern_cstr(ctx, "hello"));
  EXPECT_NE(a, tm_intern_cstr(ctx, "hell"));
  EXPECT_EQ(tm_intern(ctx, "", 0), tm_intern_cstr(ctx, ""));
  // Many strings: exercises table growth and keeps identity.
  std::vector<const char *> v;
  for (int i = 0; i < 2000; i++) v.push_back(tm_intern_cstr(ctx, std::to_string(i).c_str()));
  for (int i = 0; i < 2000; i++) EXPECT_EQ(v[i], tm_intern_cstr(ctx, std::to_string(i).c_str()));
}

TEST_F(TypesAttrs, ContextsAreIndependent) {
  tm_ctx *other = tm_ctx_new();
  EXPECT_NE(tm_type_int(ctx, 8), tm_type_int(other, 8));
  EXPECT_NE(tm_intern_cstr(ctx, "x"), tm_intern_cstr(other, "x"));
  EXPECT_NE(tm_attr_unit(ctx), tm_attr_unit(other));
  tm_opdef *d = tm_opdef_mut(other, "func.func");
  ASSERT_NE(d, nullptr);
  d->ncanonical_patterns = 7;  // hooks are per context
  EXPECT_EQ(tm_opdef_lookup(ctx, "func.func")->ncanonical_patterns, 0);
  tm_ctx_free(other);
}

TEST_F(TypesAttrs, ScalarAttrsAreInterned) {
  EXPECT_EQ(tm_attr_int(ctx, nullptr, 42), tm_attr_int(ctx, tm_type_int(ctx, 64), 42));
  EXPECT_NE(tm_attr_int(ctx, nullptr, 42), tm_attr_int(ctx, i32(), 42));
  EXPECT_EQ(tm_attr_float(ctx, nullptr, 1.5)->type, tm_type_float(ctx, 64));
  EXPECT_EQ(tm_attr_float(ctx, f32(), 1.5), tm_attr_float(ctx, f32(), 1.5));
  EXPECT_NE(tm_attr_float(ctx, f32(), 0.0), tm_attr_float(ctx, f32(), -0.0));
  EXPECT_EQ(tm_attr_bool(ctx, true), tm_attr_bool(ctx, true));
  EXPECT_NE(tm_attr_bool(ctx, true), tm_attr_bool(ctx, false));
  EXPECT_EQ(tm_attr_cstr(ctx, "same"), tm_attr_string(ctx, "same!", 4));
  EXPECT_NE(tm_attr_cstr(ctx, "f"), tm_attr_symref(ctx, "f", 1));
  EXPECT_EQ(tm_attr_type(ctx, f32()), tm_attr_type(ctx, f32()));
  EXPECT_EQ(tm_attr_unit(ctx)->kind, TM_ATTR_UNIT);
}

TEST_F(TypesAttrs, ArrayAndDictAttrs) {
  int64_t v[] = {1, 2, 3};
  const tm_attr *a = tm_attr_int_array(ctx, 3, v);
  EXPECT_EQ(a, tm_attr_int_array(ctx, 3, v));
  int64_t out[4];
  int n = 0;
  ASSERT_TRUE(tm_attr_get_int_array(a, 4, out, &n));
  EXPECT_EQ(n, 3);
  EXPECT_EQ(out[2], 3);
  EXPECT_FALSE(tm_attr_get_int_array(a, 2, out, &n));  // does not fit
  const tm_attr *mixed[] = {tm_attr_int(ctx, nullptr, 1), tm_attr_cstr(ctx, "x")};
  EXPECT_FALSE(tm_attr_get_int_array(tm_attr_array(ctx, 2, mixed), 4, out, &n));

  tm_named_attr e1[] = {{"b", tm_attr_unit(ctx)}, {"a", tm_attr_bool(ctx, true)}};
  tm_named_attr e2[] = {{"a", tm_attr_bool(ctx, true)}, {"b", tm_attr_unit(ctx)}};
  const tm_attr *d = tm_attr_dict(ctx, 2, e1);
  EXPECT_EQ(d, tm_attr_dict(ctx, 2, e2));  // entry order does not matter
  EXPECT_STREQ(d->u.dict.entries[0].name, "a");
  EXPECT_EQ(tm_attr_dict_get(d, "b"), tm_attr_unit(ctx));
  EXPECT_EQ(tm_attr_dict_get(d, "c"), nullptr);
  EXPECT_EQ(tm_attr_dict(ctx, 0, nullptr), tm_attr_dict(ctx, 0, nullptr));
}

TEST_F(TypesAttrs, DenseI8SplatAndNonSplat) {
  const tm_type *t = tensor({2, 2}, tm_type_int(ctx, 8));
  int8_t vals[] = {-1, 2, -128, 127};
  const tm_attr *a = tm_attr_dense(ctx, t, false, vals, 4);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a, tm_attr_dense(ctx, t, false, vals, 4));
  EXPECT_EQ(tm_dense_numel(a), 4);
  EXPECT_EQ(tm_dense_get_int(a, 0), -1);
  EXPECT_EQ(tm_dense_get_int(a, 2), -128);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(a, 3), 127.0);
  EXPECT_EQ(tm_dense_get_int(a, 4), 0);  // out of range is safe
  EXPECT_EQ(tm_dense_get_int(a, -1), 0);
  int8_t s = -7;
  const tm_attr *sp = tm_attr_dense(ctx, t, true, &s, 1);
  ASSERT_NE(sp, nullptr);
  EXPECT_NE(sp, a);
  EXPECT_EQ(tm_dense_get_int(sp, 3), -7);
  // Wrong byte counts are refused rather than read out of bounds later.
  EXPECT_EQ(tm_attr_dense(ctx, t, false, vals, 3), nullptr);
  EXPECT_EQ(tm_attr_dense(ctx, t, true, vals, 2), nullptr);
  EXPECT_EQ(tm_attr_dense(ctx, tensor({TM_DYNAMIC}, f32()), true, vals, 4), nullptr);
}

TEST_F(TypesAttrs, DenseUnsignedAndI16I4I1) {
  uint8_t u[] = {255, 1};
  const tm_attr *a = tm_attr_dense(ctx, tensor({2}, tm_type_int_signed(ctx, 8, TM_UNSIGNED)), false, u, 2);
  EXPECT_EQ(tm_dense_get_int(a, 0), 255);
  int16_t h[] = {-300, 300};
  const tm_attr *b = tm_attr_dense(ctx, tensor({2}, tm_type_int(ctx, 16)), false, h, 4);
  EXPECT_EQ(tm_dense_get_int(b, 0), -300);
  EXPECT_EQ(tm_dense_get_int(b, 1), 300);
  uint8_t n4[] = {0x0f, 0x07, 0x08};  // i4: one element per byte, low nibble
  const tm_attr *c = tm_attr_dense(ctx, tensor({3}, tm_type_int(ctx, 4)), false, n4, 3);
  EXPECT_EQ(tm_dense_get_int(c, 0), -1);
  EXPECT_EQ(tm_dense_get_int(c, 1), 7);
  EXPECT_EQ(tm_dense_get_int(c, 2), -8);
  const tm_attr *c4u =
      tm_attr_dense(ctx, tensor({3}, tm_type_int_signed(ctx, 4, TM_UNSIGNED)), false, n4, 3);
  EXPECT_EQ(tm_dense_get_int(c4u, 0), 15);
  uint8_t bits[] = {1, 0};
  const tm_attr *d = tm_attr_dense(ctx, tensor({2}, tm_type_int(ctx, 1)), false, bits, 2);
  EXPECT_EQ(tm_dense_get_int(d, 0), 1);
  EXPECT_EQ(tm_dense_get_int(d, 1), 0);
  int32_t w[] = {-100000, 7};
  const tm_attr *e = tm_attr_dense(ctx, tensor({2}, i32()), false, w, 8);
  EXPECT_EQ(tm_dense_get_int(e, 0), -100000);
  int64_t big = INT64_MIN;
  const tm_attr *f = tm_attr_dense(ctx, tensor({1}, tm_type_int(ctx, 64)), true, &big, 8);
  EXPECT_EQ(tm_dense_get_int(f, 0), INT64_MIN);
}

TEST_F(TypesAttrs, DenseFloats) {
  float fv[] = {1.5f, -2.25f, 0.0f};
  const tm_attr *a = tm_attr_dense(ctx, tensor({3}, f32()), false, fv, sizeof fv);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(a, 1), -2.25);
  EXPECT_EQ(tm_dense_get_int(a, 1), -2);  // truncates toward zero
  float big = 1e30f;
  const tm_attr *b = tm_attr_dense(ctx, tensor({2}, f32()), true, &big, 4);
  EXPECT_EQ(tm_dense_get_int(b, 1), INT64_MAX);  // saturates
  // IEEE half: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal = 0x0001, inf.
  uint16_t hv[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00};
  const tm_attr *h = tm_attr_dense(ctx, tensor({5}, tm_type_float(ctx, 16)), false, hv, sizeof hv);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(h, 0), 1.0);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(h, 1), -2.0);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(h, 2), 65504.0);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(h, 3), std::ldexp(1.0, -24));
  EXPECT_TRUE(std::isinf(tm_dense_get_float(h, 4)));
  uint16_t hs = 0x3800;  // 0.5
  const tm_attr *hsp = tm_attr_dense(ctx, tensor({4}, tm_type_float(ctx, 16)), true, &hs, 2);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(hsp, 3), 0.5);
  double dv = -0.125;
  const tm_attr *d = tm_attr_dense(ctx, tensor({}, tm_type_float(ctx, 64)), false, &dv, 8);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(d, 0), -0.125);
}

TEST_F(TypesAttrs, DenseQuantUsesStorage) {
  double scale = 0.5;
  const tm_type *q = tm_type_quant(ctx, tm_type_int(ctx, 8), f32(), -128, 127, -1, 1, &scale, nullptr);
  int8_t v[] = {-3, 4};
  const tm_attr *a = tm_attr_dense(ctx, tensor({2}, q), false, v, 2);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(tm_dense_get_int(a, 0), -3);
  EXPECT_DOUBLE_EQ(tm_dense_get_float(a, 1), 4.0);
}

TEST_F(TypesAttrs, AttrsInternAcrossManyValues) {
  std::vector<const tm_attr *> v;
  for (int i = 0; i < 3000; i++) v.push_back(tm_attr_int(ctx, nullptr, i));
  for (int i = 0; i < 3000; i++) EXPECT_EQ(v[i], tm_attr_int(ctx, nullptr, i));
}
