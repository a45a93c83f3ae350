/* ir/attrs.c — interned attributes and dense element access. */
#include <math.h>
#include <string.h>

#include "ir/ir_internal.h"

static uint64_t attr_hash(const tm_attr *a) {
  uint64_t h = tm_hash_u64(TM_HASH_SEED, (uint64_t)a->kind);
  h = tm_hash_ptr(h, a->type);
  switch (a->kind) {
  case TM_ATTR_UNIT:
  case TM_ATTR_TYPE: break;
  case TM_ATTR_INT: h = tm_hash_u64(h, (uint64_t)a->u.i); break;
  case TM_ATTR_FLOAT: h = tm_hash_bytes(h, &a->u.f, sizeof(double)); break;
  case TM_ATTR_BOOL: h = tm_hash_u64(h, a->u.b); break;
  case TM_ATTR_STRING:
  case TM_ATTR_SYMREF: h = tm_hash_ptr(h, a->u.str.data); break; /* interned */
  case TM_ATTR_ARRAY:
    for (int i = 0; i < a->u.array.n; i++) h = tm_hash_ptr(h, a->u.array.elts[i]);
    break;
  case TM_ATTR_DICT:
    for (int i = 0; i < a->u.dict.n; i++) {
      h = tm_hash_ptr(h, a->u.dict.entries[i].name);
      h = tm_hash_ptr(h, a->u.dict.entries[i].value);
    }
    break;
  case TM_ATTR_DENSE:
    h = tm_hash_u64(h, a->u.dense.splat);
    h = tm_hash_bytes(h, a->u.dense.data, a->u.dense.nbytes);
    break;
  }
  return h;
}

static bool attr_eq(const void *item, const void *key) {
  const tm_attr *a = item, *b = key;
  if (a->kind != b->kind || a->type != b->type) return false;
  switch (a->kind) {
  case TM_ATTR_UNIT:
  case TM_ATTR_TYPE: return true;
  case TM_ATTR_INT: return a->u.i == b->u.i;
  case TM_ATTR_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0;
  case TM_ATTR_BOOL: return a->u.b == b->u.b;
  case TM_ATTR_STRING:
  case TM_ATTR_SYMREF: return a->u.str.data == b->u.str.data && a->u.str.len == b->u.str.len;
  case TM_ATTR_ARRAY:
    return a->u.array.n == b->u.array.n &&
           (a->u.array.n == 0 ||
            memcmp(a->u.array.elts, b->u.array.elts, (size_t)a->u.array.n * sizeof(tm_attr *)) == 0);
  case TM_ATTR_DICT:
    if (a->u.dict.n != b->u.dict.n) return false;
    for (int i = 0; i < a->u.dict.n; i++)
      if (a->u.dict.entries[i].name != b->u.dict.entries[i].name ||
          a->u.dict.entries[i].value != b->u.dict.entries[i].value)
        return false;
    return true;
  case TM_ATTR_DENSE:
    return a->u.dense.splat == b->u.dense.splat && a->u.dense.nbytes == b->u.dense.nbytes &&
           (a->u.dense.nbytes == 0 || memcmp(a->u.dense.data, b->u.dense.data, a->u.dense.nbytes) == 0);
  }
  return false;
}

/* Array payloads of *key still point at caller memory; copy them only for a new attr. */
static const tm_attr *intern(tm_ctx *ctx, const tm_attr *key) {
  uint64_t h = attr_hash(key);
  tm_attr *a = tm_htab_find(&ctx->attrs, h, attr_eq, key);
  if (a) return a;
  a = TM_NEW(ctx->arena, tm_attr);
  *a = *key;
  if (key->kind == TM_ATTR_ARRAY && key->u.array.n) {
    const tm_attr **e = TM_NEW_ARRAY(ctx->arena, const tm_attr *, key->u.array.n);
    memcpy(e, key->u.array.elts, (size_t)key->u.array.n * sizeof(tm_attr *));
    a->u.array.elts = e;
  } else if (key->kind == TM_ATTR_DICT && key->u.dict.n) {
    tm_named_attr *e = TM_NEW_ARRAY(ctx->arena, tm_named_attr, key->u.dict.n);
    memcpy(e, key->u.dict.entries, (size_t)key->u.dict.n * sizeof(tm_named_attr));
    a->u.dict.entries = e;
  } else if (key->kind == TM_ATTR_DENSE && key->u.dense.nbytes) {
    uint8_t *d = tm_arena_alloc(ctx->arena, key->u.dense.nbytes, 8);
    memcpy(d, key->u.dense.data, key->u.dense.nbytes);
    a->u.dense.data = d;
  }
  tm_htab_insert(&ctx->attrs, h, a);
  return a;
}

const tm_attr *tm_attr_unit(tm_ctx *ctx) {
  tm_attr k = {.kind = TM_ATTR_UNIT};
  return intern(ctx, &k);
}

const tm_attr *tm_attr_int(tm_ctx *ctx, const tm_type *type, int64_t v) {
  tm_attr k = {.kind = TM_ATTR_INT, .type = type ? type : tm_type_int(ctx, 64), .u.i = v};
  return intern(ctx, &k);
}

const tm_attr *tm_attr_float(tm_ctx *ctx, const tm_type *type, double v) {
  tm_attr k = {.kind = TM_ATTR_FLOAT, .type = type ? type : tm_type_float(ctx, 64), .u.f = v};
  return intern(ctx, &k);
}

const tm_attr *tm_attr_bool(tm_ctx *ctx, bool v) {
  tm_attr k = {.kind = TM_ATTR_BOOL, .u.b = v};
  return intern(ctx, &k);
}

const tm_attr *tm_attr_string(tm_ctx *ctx, const char *s, size_t len) {
  tm_attr k = {.kind = TM_ATTR_STRING};
  k.u.str.data = tm_intern(ctx, s, len);
  k.u.str.len = s ? len : 0;
  return intern(ctx, &k);
}

const tm_attr *tm_attr_cstr(tm_ctx *ctx, const char *s) { return tm_attr_string(ctx, s, s ? strlen(s) : 0); }

const tm_attr *tm_attr_array(tm_ctx *ctx, int n, const tm_attr *const *elts) {
  tm_attr k = {.kind = TM_ATTR_ARRAY};
  k.u.array.n = n > 0 && elts ? n : 0;
  k.u.array.elts = k.u.array.n ? elts : NULL;
  return intern(ctx, &k);
}

const tm_attr *tm_attr_int_array(tm_ctx *ctx, int n, const int64_t *v) {
  if (n <= 0 || !v) return tm_attr_array(ctx, 0, NULL);
  const tm_attr *small[16];
  const tm_attr **e = n <= (int)TM_COUNTOF(small) ? small : TM_NEW_ARRAY(ctx->arena, const tm_attr *, n);
  for (int i = 0; i < n; i++) e[i] = tm_attr_int(ctx, NULL, v[i]);
  return tm_attr_array(ctx, n, e);
}

static void merge_sort(tm_named_attr *a, int n, tm_named_attr *tmp) {
  if (n < 2) return;
  int h = n / 2;
  merge_sort(a, h, tmp);
  merge_sort(a + h, n - h, tmp);
  int i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = strcmp(a[j].name, a[i].name) < 0 ? a[j++] : a[i++];
  while (i < h) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, (size_t)n * sizeof(*a));
}

void tm_sort_named_attrs(tm_named_attr *a, int n, tm_named_attr *tmp) { merge_sort(a, n, tmp); }

const tm_attr *tm_attr_dict(tm_ctx *ctx, int n, const tm_named_attr *entries) {
  tm_attr k = {.kind = TM_ATTR_DICT};
  if (n <= 0 || !entries) return intern(ctx, &k);
  /* Sorting needs scratch copies; they are small and die with the context. */
  tm_named_attr *e = TM_NEW_ARRAY(ctx->arena, tm_named_attr, n);
  tm_named_attr *tmp = TM_NEW_ARRAY(ctx->arena, tm_named_attr, n);
  for (int i = 0; i < n; i++) {
    e[i].name = tm_intern_cstr(ctx, entries[i].name);
    e[i].value = entries[i].value;
  }
  tm_sort_named_attrs(e, n, tmp);
  k.u.dict.n = n;
  k.u.dict.entries = e;
  return intern(ctx, &k);
}

const tm_attr *tm_attr_type(tm_ctx *ctx, const tm_type *t) {
  tm_attr k = {.kind = TM_ATTR_TYPE, .type = t};
  return intern(ctx, &k);
}

const tm_attr *tm_attr_symref(tm_ctx *ctx, const char *name, size_t len) {
  tm_attr k = {.kind = TM_ATTR_SYMREF};
  k.u.str.data = tm_intern(ctx, name, len);
  k.u.str.len = name ? len : 0;
  return intern(ctx, &k);
}

static size_t elem_bytes(const tm_type *shaped) { return (tm_type_elem_bits(shaped) + 7) / 8; }

/* NULL unless type is a static shaped type and nbytes is exactly one element (splat)
 * or numel elements: the accessors rely on it. */
const tm_attr *tm_attr_dense(tm_ctx *ctx, const tm_type *type, bool splat, const void *data,
                             size_t nbytes) {
  if (!tm_type_is_shaped(type)) return NULL;
  int64_t numel = tm_type_numel(type);
  size_t eb = elem_bytes(type);
  if (numel < 0 || eb == 0) return NULL;
  int64_t want = splat ? (int64_t)eb : tm_type_bytes(type);
  if (want < 0 || (uint64_t)want != (uint64_t)nbytes || (nbytes && !data)) return NULL;
  tm_attr k = {.kind = TM_ATTR_DENSE, .type = type};
  k.u.dense.splat = splat;
  k.u.dense.nbytes = nbytes;
  k.u.dense.data = data;
  return intern(ctx, &k);
}

int64_t tm_dense_numel(const tm_attr *a) {
  if (!a || a->kind != TM_ATTR_DENSE) return 0;
  return tm_type_numel(a->type);
}

/* Little-endian load of element i as raw bits; false if out of range. */
static bool load(const tm_attr *a, int64_t i, uint64_t *bits, const tm_type **elem) {
  if (!a || a->kind != TM_ATTR_DENSE || i < 0 || i >= tm_dense_numel(a)) return false;
  const tm_type *e = tm_type_storage(tm_type_elem(a->type));
  size_t eb = elem_bytes(a->type);
  if (!e || eb == 0 || eb > 8) return false;
  uint64_t idx = a->u.dense.splat ? 0 : (uint64_t)i;
  if (idx > a->u.dense.nbytes / eb || (idx + 1) * eb > a->u.dense.nbytes) return false;
  const uint8_t *p = a->u.dense.data + idx * eb;
  uint64_t v = 0;
  for (size_t b = 0; b < eb; b++) v |= (uint64_t)p[b] << (8 * b);
  *bits = v;
  *elem = e;
  return true;
}

static int64_t int_from_bits(uint64_t v, const tm_type *e) {
  unsigned w = e->kind == TM_TYPE_INDEX ? 64 : e->width;
  if (w == 0 || w >= 64) return (int64_t)v;
  uint64_t mask = (UINT64_C(1) << w) - 1;
  v &= mask;
  /* i1 is a boolean: 0/1 rather than MLIR's sign-extended -1. */
  if (e->kind == TM_TYPE_INT && (e->signedness == TM_UNSIGNED || w == 1)) return (int64_t)v;
  if (v & (UINT64_C(1) << (w - 1))) v |= ~mask;
  return (int64_t)v;
}

static double half_to_double(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double r;
  if (e == 0) r = ldexp(m, -24);
  else if (e == 31) r = m ? NAN : INFINITY;
  else r = ldexp(m + 1024, e - 25);
  return s ? -r : r;
}

static double float_from_bits(uint64_t v, const tm_type *e) {
  switch (e->width) {
  case 16: return half_to_double((uint16_t)v);
  case 32: {
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
  }
  case 64: {
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
  }
  default: return 0.0;
  }
}

int64_t tm_dense_get_int(const tm_attr *a, int64_t i) {
  uint64_t bits;
  const tm_type *e;
  if (!load(a, i, &bits, &e)) return 0;
  if (e->kind != TM_TYPE_FLOAT) return int_from_bits(bits, e);
  double d = float_from_bits(bits, e);
  /* Saturate instead of the undefined out-of-range conversion. */
  if (d != d) return 0;
  if (d >= 9223372036854775807.0) return INT64_MAX;
  if (d <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)d;
}

double tm_dense_get_float(const tm_attr *a, int64_t i) {
  uint64_t bits;
  const tm_type *e;
  if (!load(a, i, &bits, &e)) return 0.0;
  if (e->kind == TM_TYPE_FLOAT) return float_from_bits(bits, e);
  if (e->kind == TM_TYPE_INT && e->signedness == TM_UNSIGNED && e->width == 64) return (double)bits;
  return (double)int_from_bits(bits, e);
}

const tm_attr *tm_attr_dict_get(const tm_attr *dict, const char *name) {
  if (!dict || dict->kind != TM_ATTR_DICT || !name) return NULL;
  int lo = 0, hi = dict->u.dict.n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(dict->u.dict.entries[mid].name, name);
    if (c == 0) return dict->u.dict.entries[mid].value;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return NULL;
}

bool tm_attr_get_int_array(const tm_attr *a, int max, int64_t *out, int *n) {
  if (!a || a->kind != TM_ATTR_ARRAY || a->u.array.n > max) return false;
  for (int i = 0; i < a->u.array.n; i++)
    if (!a->u.array.elts[i] || a->u.array.elts[i]->kind != TM_ATTR_INT) return false;
  for (int i = 0; i < a->u.array.n; i++) out[i] = a->u.array.elts[i]->u.i;
  if (n) *n = a->u.array.n;
  return true;
}
