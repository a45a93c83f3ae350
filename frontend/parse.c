/* frontend/parse.c — the parser's semantic actions: literals, types, attributes, dense
 * literals, locations, SSA name scopes and op construction.
 *
 * Names follow MLIR: each isolated-from-above op (module, func) opens a scope that sees
 * nothing outside it; a nested region sees its enclosing scope and its own definitions
 * disappear when it closes.  A use of a name not yet defined creates a placeholder
 * value that the definition later replaces (forward references across blocks and in
 * graph regions); placeholders left at the end of a scope are undefined names. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/* ------------------------------------------------------------------- support ------ */

const tm_loc *tm_p_loc(tm_pstate *ps, tm_span at) {
  return tm_loc_file(ps->ctx, ps->file, at.first_line + ps->line_offset, at.first_column);
}

bool tm_p_error(tm_pstate *ps, tm_span at, const char *fmt, ...) {
  if (ps->failed) return false; /* one error per parse, like mlir-opt */
  ps->failed = true;
  va_list ap;
  va_start(ap, fmt);
  tm_emitv(ps->ctx, TM_DIAG_ERROR, tm_p_loc(ps, at), fmt, ap);
  va_end(ap);
  return false;
}

static tm_arena *arena(tm_pstate *ps) { return tm_ctx_arena(ps->ctx); }

void tm_p_push(tm_pstate *ps, tm_pvec *v, void *item) {
  if (v->n == v->cap) {
    int ncap = v->cap ? v->cap * 2 : 4;
    void **nv = TM_NEW_ARRAY(arena(ps), void *, ncap);
    if (v->n) memcpy(nv, v->v, (size_t)v->n * sizeof(void *));
    v->v = nv;
    v->cap = ncap;
  }
  v->v[v->n++] = item;
}

tm_pvec *tm_p_vec(tm_pstate *ps, void *first) {
  tm_pvec *v = TM_NEW(arena(ps), tm_pvec);
  if (first) tm_p_push(ps, v, first);
  return v;
}

static const char *intern(tm_pstate *ps, const char *s, size_t len) { return tm_intern(ps->ctx, s, len); }

/* A span `off` bytes into a token (escapes inside strings). */
static tm_span span_at(tm_span at, size_t off) {
  if (off < (size_t)INT_MAX - (size_t)at.first_column) at.first_column += (int)off;
  return at;
}

/* Typed copies of pointer vectors (the IR API takes typed arrays). */
static const tm_type **type_array(tm_pstate *ps, const tm_pvec *v) {
  if (!v || !v->n) return NULL;
  const tm_type **a = TM_NEW_ARRAY(arena(ps), const tm_type *, v->n);
  for (int i = 0; i < v->n; i++) a[i] = v->v[i];
  return a;
}

/* ------------------------------------------------------------------- name map ----- */

typedef struct tm_pslot {
  const char *key; /* interned */
  void *val;
} tm_pslot;

static size_t key_hash(const char *key) {
  uint64_t h = (uint64_t)(uintptr_t)key;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return (size_t)h;
}

static void *pmap_get(const tm_pmap *m, const char *key) {
  if (!m->cap) return NULL;
  for (size_t i = key_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (!m->slots[i].key) return NULL;
    if (m->slots[i].key == key) return m->slots[i].val;
  }
}

static void pmap_set(tm_pstate *ps, tm_pmap *m, const char *key, void *val) {
  if ((m->count + 1) * 2 > m->cap) {
    size_t ncap = m->cap ? m->cap * 2 : 16;
    tm_pslot *ns = TM_NEW_ARRAY(arena(ps), tm_pslot, ncap);
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->slots[i].key) continue;
      size_t j = key_hash(m->slots[i].key) & (ncap - 1);
      while (ns[j].key) j = (j + 1) & (ncap - 1);
      ns[j] = m->slots[i];
    }
    m->slots = ns;
    m->cap = ncap;
  }
  size_t i = key_hash(key) & (m->cap - 1);
  while (m->slots[i].key && m->slots[i].key != key) i = (i + 1) & (m->cap - 1);
  if (!m->slots[i].key) m->count++;
  m->slots[i].key = key;
  m->slots[i].val = val;
}

/* ------------------------------------------------------------------- literals ----- */

static bool all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return n > 0;
}

static bool is_hex(tm_tok t) { return t.len > 2 && t.s[0] == '0' && t.s[1] == 'x'; }

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decimal or 0x-hex digits; false on overflow of 64 bits. */
static bool parse_u64(tm_tok t, uint64_t *out) {
  uint64_t v = 0;
  if (is_hex(t)) {
    for (size_t i = 2; i < t.len; i++) {
      if (v >> 60) return false;
      v = v << 4 | (uint64_t)hex_digit(t.s[i]);
    }
  } else {
    for (size_t i = 0; i < t.len; i++) {
      uint64_t d = (uint64_t)(t.s[i] - '0');
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
  }
  *out = v;
  return true;
}

static bool parse_int_literal(tm_pstate *ps, tm_tok t, tm_span at, uint64_t *out) {
  if (parse_u64(t, out)) return true;
  return tm_p_error(ps, at, "integer literal '%.*s' does not fit in 64 bits", (int)t.len, t.s);
}

/* The width an integer-like type stores: index is 64 bits. */
static unsigned int_width(const tm_type *t) { return t->kind == TM_TYPE_INDEX ? 64 : t->width; }

/* Fits (neg, magnitude) into an integer type and normalizes it the way the IR stores it:
 * signless and signed values sign-extended, unsigned values and i1 zero-extended.
 * Signless types accept both the signed and the unsigned range, as MLIR does. */
static bool fit_int(const tm_type *t, bool neg, uint64_t mag, int64_t *out) {
  unsigned w = int_width(t);
  tm_signedness s = t->kind == TM_TYPE_INDEX ? TM_SIGNLESS : t->signedness;
  uint64_t umax = w >= 64 ? UINT64_MAX : (UINT64_C(1) << w) - 1;
  uint64_t neg_max = UINT64_C(1) << (w - 1); /* |min| of the signed range */
  if (neg) {
    if (s == TM_UNSIGNED ? mag != 0 : mag > neg_max) return false;
  } else {
    if (s == TM_SIGNED ? mag > neg_max - 1 : mag > umax) return false;
  }
  uint64_t bits = (neg ? (UINT64_C(0) - mag) : mag) & umax;
  if (w < 64 && s != TM_UNSIGNED && w != 1 && (bits & neg_max)) bits |= ~umax;
  *out = (int64_t)bits;
  return true;
}

/* Copies a token into a NUL-terminated buffer for strtod/strtof. */
static char *tok_cstr(tm_pstate *ps, tm_tok t) {
  char *s = tm_arena_alloc(arena(ps), t.len + 1, 1);
  memcpy(s, t.s, t.len);
  return s;
}

/* A float literal (decimal) rounded to the given float width; false if it overflows. */
static bool float_value(tm_pstate *ps, tm_tok t, bool neg, unsigned width, tm_span at, double *out) {
  char *s = tok_cstr(ps, t);
  double d;
  if (width == 32) {
    float f = strtof(s, NULL);
    d = f;
  } else {
    d = strtod(s, NULL);
    if (width == 16) d = tm_f16_to_double(tm_f16_from_double(d));
  }
  if (isinf(d)) return tm_p_error(ps, at, "float literal '%.*s' is out of range for f%u", (int)t.len, t.s, width);
  *out = neg ? -d : d;
  return true;
}

/* A hex literal as the bit pattern of a float of the given width. */
static bool float_bits(tm_pstate *ps, tm_tok t, bool neg, unsigned width, tm_span at, uint64_t *bits) {
  if (neg) return tm_p_error(ps, at, "hexadecimal float literal should not have a leading minus");
  if (!parse_int_literal(ps, t, at, bits)) return false;
  if (width < 64 && (*bits >> width))
    return tm_p_error(ps, at, "hexadecimal float constant '%.*s' does not fit in f%u", (int)t.len, t.s, width);
  return true;
}

static double double_from_bits(uint64_t bits, unsigned width) {
  if (width == 16) return tm_f16_to_double((uint16_t)bits);
  if (width == 32) {
    uint32_t u = (uint32_t)bits;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
  }
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

static uint64_t bits_from_double(double d, unsigned width) {
  if (width == 16) return tm_f16_from_double(d);
  if (width == 32) {
    float f = (float)d;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
  }
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

/* Decodes a string literal token (quotes included) into arena bytes. */
static bool unquote(tm_pstate *ps, tm_tok t, tm_span at, const char **out, size_t *len) {
  /* The lexer guarantees the quotes and that a backslash is followed by a character. */
  char *buf = tm_arena_alloc(arena(ps), t.len + 1, 1);
  size_t n = 0;
  for (size_t i = 1; i + 1 < t.len; i++) {
    char c = t.s[i];
    if (c != '\\') {
      buf[n++] = c;
      continue;
    }
    char e = t.s[++i];
    int h1 = hex_digit(e), h2 = i + 2 < t.len ? hex_digit(t.s[i + 1]) : -1;
    switch (e) {
    case 'n': buf[n++] = '\n'; break;
    case 't': buf[n++] = '\t'; break;
    case '"': buf[n++] = '"'; break;
    case '\\': buf[n++] = '\\'; break;
    default:
      if (h1 < 0 || h2 < 0) return tm_p_error(ps, span_at(at, i - 1), "unknown escape in string literal");
      buf[n++] = (char)(h1 << 4 | h2);
      i++;
    }
  }
  *out = buf;
  *len = n;
  return true;
}

static const char *unquote_cstr(tm_pstate *ps, tm_tok t, tm_span at) {
  const char *s;
  size_t n;
  if (!unquote(ps, t, at, &s, &n)) return NULL;
  if (memchr(s, '\0', n)) {
    tm_p_error(ps, at, "this string cannot contain a NUL character");
    return NULL;
  }
  return intern(ps, s, n);
}

/* --------------------------------------------------------------------- types ------ */

static const char *type_str(tm_pstate *ps, const tm_type *t) { return tm_type_str(ps->ctx, t); }

const tm_type *tm_p_int_type(tm_pstate *ps, tm_tok t, tm_span at) {
  tm_signedness s = TM_SIGNLESS;
  size_t i = 0;
  if (t.s[0] == 's') s = TM_SIGNED, i = 1;
  else if (t.s[0] == 'u') s = TM_UNSIGNED, i = 1;
  uint64_t w;
  tm_tok digits = {t.s + i + 1, t.len - i - 1};
  if (!parse_u64(digits, &w) || w < 1 || w > 64) {
    tm_p_error(ps, at, "integer bitwidth must be between 1 and 64 (got '%.*s')", (int)t.len, t.s);
    return NULL;
  }
  return tm_type_int_signed(ps->ctx, (unsigned)w, s);
}

const tm_type *tm_p_float_type(tm_pstate *ps, tm_tok t, tm_span at) {
  if (t.len == 4) { /* bf16 */
    tm_p_error(ps, at, "bf16 is not supported; use f16 or f32");
    return NULL;
  }
  return tm_type_float(ps->ctx, t.s[1] == '1' ? 16 : t.s[1] == '3' ? 32 : 64);
}

/* Per-axis quantized elements must agree with the shape they are used in. */
static bool check_quant_elem(tm_pstate *ps, const tm_type *elem, int rank, const int64_t *dims, tm_span at) {
  if (elem->kind != TM_TYPE_QUANT || elem->axis < 0) return true;
  if (elem->axis >= rank)
    return tm_p_error(ps, at, "quantized dimension %d must be less than the rank %d of the shaped type",
                      elem->axis, rank);
  int64_t d = dims[elem->axis];
  if (d != TM_DYNAMIC && d != elem->nscales)
    return tm_p_error(ps, at, "quantized dimension %d has size %lld but the type has %d scales", elem->axis,
                      (long long)d, elem->nscales);
  return true;
}

/* Static element counts stay below 2^60 so byte sizes never overflow. */
#define TM_MAX_NUMEL (INT64_C(1) << 60)

static const tm_type *make_shaped(tm_pstate *ps, bool memref, int rank, const int64_t *dims, tm_span dims_at,
                                  const tm_type *elem, tm_span elem_at) {
  const char *what = memref ? "memref" : "tensor";
  /* MLIR has no memrefs of quantized types. */
  if (elem->kind != TM_TYPE_INT && elem->kind != TM_TYPE_FLOAT && elem->kind != TM_TYPE_INDEX &&
      (elem->kind != TM_TYPE_QUANT || memref)) {
    tm_p_error(ps, elem_at, "invalid %s element type '%s'", what, type_str(ps, elem));
    return NULL;
  }
  int64_t numel = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] == TM_DYNAMIC || dims[i] == 0) continue;
    if (numel > TM_MAX_NUMEL / dims[i]) {
      tm_p_error(ps, dims_at, "%s type has too many elements", what);
      return NULL;
    }
    numel *= dims[i];
  }
  if (!check_quant_elem(ps, elem, rank, dims, elem_at)) return NULL;
  return memref ? tm_type_memref(ps->ctx, elem, rank, dims) : tm_type_tensor(ps->ctx, elem, rank, dims);
}

const tm_type *tm_p_shaped(tm_pstate *ps, bool memref, const tm_tok *dims, tm_span dims_at,
                           const tm_type *elem, tm_span elem_at) {
  int rank = 0;
  int64_t *d = NULL;
  if (dims) {
    for (size_t i = 0; i < dims->len; i++) rank += dims->s[i] == 'x';
    d = TM_NEW_ARRAY(arena(ps), int64_t, rank);
    size_t pos = 0;
    for (int k = 0; k < rank; k++) {
      size_t end = pos;
      while (dims->s[end] != 'x') end++;
      if (dims->s[pos] == '?') {
        d[k] = TM_DYNAMIC;
      } else {
        uint64_t v;
        if (!parse_u64((tm_tok){dims->s + pos, end - pos}, &v) || v > (uint64_t)TM_MAX_NUMEL) {
          tm_p_error(ps, span_at(dims_at, pos), "dimension '%.*s' is too large", (int)(end - pos), dims->s + pos);
          return NULL;
        }
        d[k] = (int64_t)v;
      }
      pos = end + 1;
    }
  }
  return make_shaped(ps, memref, rank, d, dims_at, elem, elem_at);
}

const tm_type *tm_p_shaped_hexdim(tm_pstate *ps, bool memref, tm_tok tok, tm_span at) {
  /* `0xf32` is the dimension 0 followed by f32 (MLIR splits it the same way). */
  tm_tok rest = {tok.s + 2, tok.len - 2};
  static const char *const floats[] = {"f16", "f32", "f64", "bf16"};
  for (size_t i = 0; tok.len > 2 && tok.s[1] == 'x' && i < TM_COUNTOF(floats); i++)
    if (rest.len == strlen(floats[i]) && memcmp(rest.s, floats[i], rest.len) == 0) {
      const tm_type *elem = tm_p_float_type(ps, rest, span_at(at, 2));
      int64_t zero = 0;
      return elem ? make_shaped(ps, memref, 1, &zero, at, elem, span_at(at, 2)) : NULL;
    }
  tm_p_error(ps, at, "expected a dimension list ('4x?x') followed by an element type");
  return NULL;
}

const tm_type *tm_p_func_type(tm_pstate *ps, tm_pvec *inputs, tm_pvec *results) {
  return tm_type_func(ps->ctx, inputs->n, type_array(ps, inputs), results->n, type_array(ps, results));
}

tm_pint *tm_p_signed_int(tm_pstate *ps, tm_tok t, bool neg, tm_span at) {
  uint64_t mag;
  if (!parse_int_literal(ps, t, at, &mag)) return NULL;
  if (neg ? mag > (UINT64_C(1) << 63) : mag > (uint64_t)INT64_MAX) {
    tm_p_error(ps, at, "integer literal '%s%.*s' does not fit in 64 bits", neg ? "-" : "", (int)t.len, t.s);
    return NULL;
  }
  tm_pint *p = TM_NEW(arena(ps), tm_pint);
  p->v = neg ? (int64_t)(UINT64_C(0) - mag) : (int64_t)mag;
  p->at = at;
  return p;
}

bool tm_p_number(tm_pstate *ps, tm_tok t, bool neg, tm_span at, double *out) {
  if (memchr(t.s, '.', t.len)) return float_value(ps, t, neg, 64, at, out);
  uint64_t mag;
  if (!parse_int_literal(ps, t, at, &mag)) return false;
  *out = neg ? -(double)mag : (double)mag;
  return true;
}

tm_pquant *tm_p_quant_param(tm_pstate *ps, double scale, int64_t zp, tm_span at) {
  tm_pquant *q = TM_NEW(arena(ps), tm_pquant);
  q->scale = scale;
  q->zp = zp;
  q->at = at;
  return q;
}

static double float_type_max(unsigned width) { return width == 16 ? 65504.0 : width == 32 ? FLT_MAX : DBL_MAX; }

const tm_type *tm_p_quant(tm_pstate *ps, tm_tok storage, tm_span storage_at, tm_pvec *range,
                          const tm_type *expressed, tm_span expressed_at, tm_pint *axis, bool per_axis,
                          tm_pvec *params) {
  /* Storage: iN (signed) or uN (unsigned), N in [2, 32]. */
  uint64_t w = 0;
  bool is_unsigned = storage.s[0] == 'u';
  if ((storage.s[0] != 'i' && storage.s[0] != 'u') || !all_digits(storage.s + 1, storage.len - 1) ||
      !parse_u64((tm_tok){storage.s + 1, storage.len - 1}, &w)) {
    tm_p_error(ps, storage_at, "expected a quantized storage type like i8 or u8, got '%.*s'", (int)storage.len,
               storage.s);
    return NULL;
  }
  if (w < 2 || w > 32) {
    tm_p_error(ps, storage_at, "illegal storage type size: %llu bits (must be between 2 and 32)",
               (unsigned long long)w);
    return NULL;
  }
  int64_t dmin = is_unsigned ? 0 : -(INT64_C(1) << (w - 1));
  int64_t dmax = is_unsigned ? (INT64_C(1) << w) - 1 : (INT64_C(1) << (w - 1)) - 1;
  int64_t smin = dmin, smax = dmax;
  if (range) {
    tm_pint *lo = range->v[0], *hi = range->v[1];
    if (lo->v < dmin || hi->v > dmax || lo->v >= hi->v) { /* MLIR needs min < max */
      tm_p_error(ps, lo->at, "illegal storage min and storage max: (%lld:%lld) for a storage range of [%lld, %lld]",
                 (long long)lo->v, (long long)hi->v, (long long)dmin, (long long)dmax);
      return NULL;
    }
    smin = lo->v, smax = hi->v;
  }
  if (expressed->kind != TM_TYPE_FLOAT) {
    tm_p_error(ps, expressed_at, "expressed type must be f16, f32 or f64, got '%s'", type_str(ps, expressed));
    return NULL;
  }
  if (axis && !per_axis) {
    tm_p_error(ps, axis->at, "per-axis quantization needs a {scale:zero_point, ...} list");
    return NULL;
  }
  if (per_axis && !axis) {
    tm_p_error(ps, storage_at, "per-axis quantization parameters need a quantized dimension (':axis')");
    return NULL;
  }
  if (axis && (axis->v < 0 || axis->v > INT_MAX)) {
    tm_p_error(ps, axis->at, "quantized dimension must be non-negative, got %lld", (long long)axis->v);
    return NULL;
  }
  int n = params->n;
  double *scales = TM_NEW_ARRAY(arena(ps), double, n);
  int64_t *zps = TM_NEW_ARRAY(arena(ps), int64_t, n);
  double fmax = float_type_max(expressed->width);
  for (int i = 0; i < n; i++) {
    tm_pquant *q = params->v[i];
    if (!(q->scale > 0.0) || !(q->scale <= fmax)) {
      tm_p_error(ps, q->at, "scale %g must be positive and finite in the expressed type %s", q->scale,
                 type_str(ps, expressed));
      return NULL;
    }
    if (q->zp < smin || q->zp > smax) {
      tm_p_error(ps, q->at, "zero point %lld is outside the storage range [%lld, %lld]", (long long)q->zp,
                 (long long)smin, (long long)smax);
      return NULL;
    }
    scales[i] = q->scale;
    zps[i] = q->zp;
  }
  const tm_type *st = is_unsigned ? tm_type_int_signed(ps->ctx, (unsigned)w, TM_UNSIGNED)
                                  : tm_type_int(ps->ctx, (unsigned)w);
  return tm_type_quant(ps->ctx, st, expressed, smin, smax, axis ? (int)axis->v : -1, n, scales, zps);
}

const tm_type *tm_p_type_alias_use(tm_pstate *ps, tm_tok t, tm_span at) {
  const tm_type *ty = pmap_get(&ps->type_aliases, intern(ps, t.s + 1, t.len - 1));
  if (ty) return ty;
  if (memchr(t.s, '.', t.len))
    tm_p_error(ps, at, "unknown dialect type '%.*s' (only !quant.uniform is supported)", (int)t.len, t.s);
  else
    tm_p_error(ps, at, "undefined type alias '%.*s'", (int)t.len, t.s);
  return NULL;
}

bool tm_p_type_alias_def(tm_pstate *ps, tm_tok t, const tm_type *type, tm_span at) {
  const char *name = intern(ps, t.s + 1, t.len - 1);
  if (pmap_get(&ps->type_aliases, name)) return tm_p_error(ps, at, "redefinition of type alias '%.*s'", (int)t.len, t.s);
  pmap_set(ps, &ps->type_aliases, name, (void *)type);
  return true;
}

/* ---------------------------------------------------------------- attributes ------ */

const tm_attr *tm_p_attr_alias_use(tm_pstate *ps, tm_tok t, tm_span at) {
  const tm_attr *a = pmap_get(&ps->attr_aliases, intern(ps, t.s + 1, t.len - 1));
  if (!a) tm_p_error(ps, at, "undefined attribute alias '%.*s'", (int)t.len, t.s);
  return a;
}

bool tm_p_attr_alias_def(tm_pstate *ps, tm_tok t, const tm_attr *attr, tm_span at) {
  const char *name = intern(ps, t.s + 1, t.len - 1);
  if (pmap_get(&ps->attr_aliases, name))
    return tm_p_error(ps, at, "redefinition of attribute alias '%.*s'", (int)t.len, t.s);
  pmap_set(ps, &ps->attr_aliases, name, (void *)attr);
  return true;
}

const tm_attr *tm_p_int_attr(tm_pstate *ps, tm_tok t, bool neg, tm_span at, const tm_type *type,
                             tm_span type_at) {
  uint64_t mag;
  if (!type) {
    /* Untyped literals are i64 and must fit it as a signed value. */
    tm_pint *p = tm_p_signed_int(ps, t, neg, at);
    return p ? tm_attr_int(ps->ctx, NULL, p->v) : NULL;
  }
  if (type->kind == TM_TYPE_FLOAT) {
    if (!is_hex(t)) {
      tm_p_error(ps, at, "unexpected decimal integer literal for a floating point value (add a '.' to make it a "
                         "float: '%.*s.0')", (int)t.len, t.s);
      return NULL;
    }
    uint64_t bits;
    if (!float_bits(ps, t, neg, type->width, at, &bits)) return NULL;
    return tm_attr_float(ps->ctx, type, double_from_bits(bits, type->width));
  }
  if (type->kind != TM_TYPE_INT && type->kind != TM_TYPE_INDEX) {
    tm_p_error(ps, type_at, "integer literal not valid for type '%s'", type_str(ps, type));
    return NULL;
  }
  if (!parse_int_literal(ps, t, at, &mag)) return NULL;
  int64_t v;
  if (!fit_int(type, neg, mag, &v)) {
    tm_p_error(ps, at, "integer constant %s%.*s is out of range for type '%s'", neg ? "-" : "", (int)t.len, t.s,
               type_str(ps, type));
    return NULL;
  }
  return tm_attr_int(ps->ctx, type, v);
}

const tm_attr *tm_p_float_attr(tm_pstate *ps, tm_tok t, bool neg, tm_span at, const tm_type *type,
                               tm_span type_at) {
  if (!type) type = tm_type_float(ps->ctx, 64);
  if (type->kind != TM_TYPE_FLOAT) {
    tm_p_error(ps, type_at, "floating point literal not valid for type '%s'", type_str(ps, type));
    return NULL;
  }
  double d = 0; /* gcc -O3 cannot see float_value sets it on success */
  if (!float_value(ps, t, neg, type->width, at, &d)) return NULL;
  return tm_attr_float(ps->ctx, type, d);
}

const tm_attr *tm_p_string_attr(tm_pstate *ps, tm_tok t, tm_span at) {
  const char *s;
  size_t n;
  return unquote(ps, t, at, &s, &n) ? tm_attr_string(ps->ctx, s, n) : NULL;
}

/* @name or @"any name" (which may hold any byte). */
static const tm_attr *symbol_string(tm_pstate *ps, tm_tok t, tm_span at) {
  if (t.len > 1 && t.s[1] == '"') return tm_p_string_attr(ps, (tm_tok){t.s + 1, t.len - 1}, span_at(at, 1));
  return tm_attr_string(ps->ctx, t.s + 1, t.len - 1);
}

const tm_attr *tm_p_symref_attr(tm_pstate *ps, tm_tok t, tm_span at) {
  const tm_attr *name = symbol_string(ps, t, at);
  return name ? tm_attr_symref(ps->ctx, name->u.str.data, name->u.str.len) : NULL;
}

const tm_attr *tm_p_array_attr(tm_pstate *ps, tm_pvec *elts) {
  const tm_attr **a = TM_NEW_ARRAY(arena(ps), const tm_attr *, elts->n);
  for (int i = 0; i < elts->n; i++) a[i] = elts->v[i];
  return tm_attr_array(ps->ctx, elts->n, a);
}

tm_pnamed *tm_p_named(tm_pstate *ps, tm_tok name, bool quoted, const tm_attr *value, tm_span at) {
  const char *n = quoted ? unquote_cstr(ps, name, at) : intern(ps, name.s, name.len);
  if (!n) return NULL;
  if (!*n) {
    tm_p_error(ps, at, "attribute names cannot be empty");
    return NULL;
  }
  tm_pnamed *p = TM_NEW(arena(ps), tm_pnamed);
  p->name = n;
  p->value = value ? value : tm_attr_unit(ps->ctx);
  p->at = at;
  return p;
}

/* Copies the entries into a tm_named_attr array, rejecting repeated names. */
static tm_named_attr *named_array(tm_pstate *ps, const tm_pvec *entries, int extra) {
  tm_named_attr *a = TM_NEW_ARRAY(arena(ps), tm_named_attr, (entries ? entries->n : 0) + extra + 1);
  tm_pmap seen = {0};
  for (int i = 0; entries && i < entries->n; i++) {
    tm_pnamed *e = entries->v[i];
    if (pmap_get(&seen, e->name)) {
      tm_p_error(ps, e->at, "duplicate key '%s' in dictionary attribute", e->name);
      return NULL;
    }
    pmap_set(ps, &seen, e->name, e);
    a[i].name = e->name;
    a[i].value = e->value;
  }
  return a;
}

const tm_attr *tm_p_dict_attr(tm_pstate *ps, tm_pvec *entries) {
  tm_named_attr *a = named_array(ps, entries, 0);
  return a ? tm_attr_dict(ps->ctx, entries->n, a) : NULL;
}

/* ------------------------------------------------------------- dense literals ----- */

tm_dlit *tm_p_dl_scalar(tm_pstate *ps, tm_dl_kind kind, tm_tok t, bool neg, tm_span at) {
  tm_dlit *d = TM_NEW(arena(ps), tm_dlit);
  d->kind = kind;
  d->tok = t;
  d->neg = neg;
  d->at = at;
  return d;
}

tm_dlit *tm_p_dl_bool(tm_pstate *ps, bool b, tm_span at) {
  tm_dlit *d = TM_NEW(arena(ps), tm_dlit);
  d->kind = TM_DL_BOOL;
  d->b = b;
  d->at = at;
  return d;
}

tm_dlit *tm_p_dl_list(tm_pstate *ps, tm_pvec *elts, tm_span at) {
  tm_dlit *d = TM_NEW(arena(ps), tm_dlit);
  d->kind = TM_DL_LIST;
  if (elts) d->elts = *elts;
  d->at = at;
  return d;
}

/* The element's value as little-endian storage bits for element type et. */
static bool dense_scalar_bits(tm_pstate *ps, const tm_type *et, const tm_dlit *l, uint64_t *bits) {
  const char *ts = type_str(ps, et);
  if (et->kind == TM_TYPE_INT) {
    if (l->kind == TM_DL_BOOL) {
      if (et->width != 1) return tm_p_error(ps, l->at, "expected i1 type for 'true' or 'false' values, got '%s'", ts);
      *bits = l->b;
      return true;
    }
    if (l->kind == TM_DL_FLOAT) return tm_p_error(ps, l->at, "expected integer elements, but parsed floating-point");
    uint64_t mag;
    int64_t v;
    if (!parse_int_literal(ps, l->tok, l->at, &mag)) return false;
    if (!fit_int(et, l->neg, mag, &v))
      return tm_p_error(ps, l->at, "integer constant %s%.*s is out of range for element type '%s'", l->neg ? "-" : "",
                        (int)l->tok.len, l->tok.s, ts);
    *bits = (uint64_t)v;
    return true;
  }
  /* float elements */
  if (l->kind == TM_DL_BOOL) return tm_p_error(ps, l->at, "expected floating-point elements, but parsed 'true'/'false'");
  if (l->kind == TM_DL_INT) {
    if (!is_hex(l->tok))
      return tm_p_error(ps, l->at, "expected floating-point elements, but parsed integer (write '%.*s.0')",
                        (int)l->tok.len, l->tok.s);
    return float_bits(ps, l->tok, l->neg, et->width, l->at, bits);
  }
  double d;
  if (!float_value(ps, l->tok, l->neg, et->width, l->at, &d)) return false;
  *bits = bits_from_double(d, et->width);
  return true;
}

static void store_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Shape of a nested literal, following first elements. */
static int literal_shape(const tm_dlit *l, int64_t *shape, int max) {
  int r = 0;
  while (l->kind == TM_DL_LIST && r < max) {
    shape[r++] = l->elts.n;
    if (!l->elts.n) break;
    l = l->elts.v[0];
  }
  return r;
}

/* Every list at depth d has shape[d] elements; scalars sit exactly at depth rank. */
static bool check_literal(tm_pstate *ps, const tm_dlit *l, const int64_t *shape, int rank, int d) {
  if (d == rank) {
    if (l->kind == TM_DL_LIST) return tm_p_error(ps, l->at, "dense literal is invalid; ranks are not consistent between elements");
    return true;
  }
  if (l->kind != TM_DL_LIST) return tm_p_error(ps, l->at, "dense literal is invalid; ranks are not consistent between elements");
  if (l->elts.n != shape[d])
    return tm_p_error(ps, l->at, "dense literal is invalid; expected %lld elements at this level, found %d",
                      (long long)shape[d], l->elts.n);
  for (int i = 0; i < l->elts.n; i++)
    if (!check_literal(ps, l->elts.v[i], shape, rank, d + 1)) return false;
  return true;
}

static bool flatten(tm_pstate *ps, const tm_dlit *l, const tm_type *et, size_t eb, uint8_t *out, size_t *k) {
  if (l->kind == TM_DL_LIST) {
    for (int i = 0; i < l->elts.n; i++)
      if (!flatten(ps, l->elts.v[i], et, eb, out, k)) return false;
    return true;
  }
  uint64_t bits;
  if (!dense_scalar_bits(ps, et, l, &bits)) return false;
  store_le(out + *k * eb, bits, eb);
  (*k)++;
  return true;
}

static const char *shape_str(tm_pstate *ps, const int64_t *shape, int rank) {
  size_t cap = 16 + (size_t)rank * 22, n = 0;
  char *s = tm_arena_alloc(arena(ps), cap, 1);
  s[n++] = '[';
  for (int i = 0; i < rank; i++) n += (size_t)snprintf(s + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
  snprintf(s + n, cap - n, "]");
  return s;
}

/* Sub-byte integers live one per byte, canonically extended like fit_int does. */
static void canonicalize_subbyte(const tm_type *et, uint8_t *data, size_t n) {
  if (et->kind != TM_TYPE_INT || et->width >= 8) return;
  uint8_t mask = (uint8_t)((1u << et->width) - 1), sign = (uint8_t)(1u << (et->width - 1));
  for (size_t i = 0; i < n; i++) {
    uint8_t v = data[i] & mask;
    if (et->signedness != TM_UNSIGNED && et->width != 1 && (v & sign)) v |= (uint8_t)~mask;
    data[i] = v;
  }
}

static const tm_attr *dense_hex(tm_pstate *ps, tm_tok hex, tm_span at, const tm_type *type, const tm_type *et,
                                size_t eb, int64_t numel) {
  const char *s;
  size_t n;
  if (!unquote(ps, hex, at, &s, &n)) return NULL;
  if (n < 2 || s[0] != '0' || s[1] != 'x' || (n % 2) != 0) {
    tm_p_error(ps, at, "expected a hex string of whole bytes (\"0x...\") in a dense literal");
    return NULL;
  }
  if (et->kind == TM_TYPE_INT && et->width == 1) {
    tm_p_error(ps, at, "hex dense literals are not supported for i1 elements; use a list of true/false");
    return NULL;
  }
  size_t nbytes = (n - 2) / 2;
  uint8_t *data = tm_arena_alloc(arena(ps), nbytes ? nbytes : 1, 8);
  for (size_t i = 0; i < nbytes; i++) {
    int h = hex_digit(s[2 + 2 * i]), l = hex_digit(s[3 + 2 * i]);
    if (h < 0 || l < 0) {
      tm_p_error(ps, at, "invalid hex digit in dense literal");
      return NULL;
    }
    data[i] = (uint8_t)(h << 4 | l);
  }
  bool splat;
  if ((uint64_t)nbytes == (uint64_t)numel * eb) splat = false;
  else if (nbytes == eb && numel > 0) splat = true;
  else {
    tm_p_error(ps, at, "hex data has %zu bytes; type '%s' needs %lld (or %zu for a splat)", nbytes,
               type_str(ps, type), (long long)((uint64_t)numel * eb), eb);
    return NULL;
  }
  canonicalize_subbyte(et, data, nbytes);
  return tm_attr_dense(ps->ctx, type, splat, data, nbytes);
}

const tm_attr *tm_p_dense(tm_pstate *ps, tm_dlit *lit, const tm_tok *hex, tm_span lit_at, const tm_type *type,
                          tm_span type_at) {
  if (type->kind != TM_TYPE_TENSOR || !tm_type_is_static(type)) {
    tm_p_error(ps, type_at, "dense literal type must be a statically shaped tensor, got '%s'", type_str(ps, type));
    return NULL;
  }
  const tm_type *et = type->elem;
  if (et->kind != TM_TYPE_INT && et->kind != TM_TYPE_FLOAT) {
    tm_p_error(ps, type_at, "dense literal elements must be integers or floats, got '%s'%s", type_str(ps, et),
               et->kind == TM_TYPE_QUANT ? " (use the storage type)" : "");
    return NULL;
  }
  int64_t numel = tm_type_numel(type);
  size_t eb = tm_type_elem_bits(type) / 8;
  if (hex) return dense_hex(ps, *hex, lit_at, type, et, eb, numel);
  if (!lit) {
    if (numel != 0) {
      tm_p_error(ps, lit_at, "dense<> is empty but type '%s' has %lld elements", type_str(ps, type), (long long)numel);
      return NULL;
    }
    return tm_attr_dense(ps->ctx, type, false, NULL, 0);
  }
  if (lit->kind != TM_DL_LIST) { /* splat */
    uint64_t bits;
    uint8_t data[8];
    if (!dense_scalar_bits(ps, et, lit, &bits)) return NULL;
    store_le(data, bits, eb);
    return tm_attr_dense(ps->ctx, type, true, data, eb);
  }
  int64_t shape[TM_MAX_NESTING + 1];
  int rank = literal_shape(lit, shape, TM_MAX_NESTING + 1);
  if (!check_literal(ps, lit, shape, rank, 0)) return NULL;
  int64_t lit_numel = 1;
  for (int i = 0; i < rank; i++) lit_numel *= shape[i]; /* bounded by the input size */
  bool same = rank == type->rank;
  for (int i = 0; same && i < rank; i++) same = shape[i] == type->dims[i];
  if (!same && !(lit_numel == 0 && numel == 0)) {
    tm_p_error(ps, lit_at, "inferred shape of elements literal (%s) does not match type (%s)", shape_str(ps, shape, rank),
               shape_str(ps, type->dims, type->rank));
    return NULL;
  }
  size_t nbytes = (size_t)numel * eb, k = 0;
  uint8_t *data = tm_arena_alloc(arena(ps), nbytes ? nbytes : 1, 8);
  if (!flatten(ps, lit, et, eb, data, &k)) return NULL;
  return tm_attr_dense(ps->ctx, type, false, data, nbytes);
}

const tm_attr *tm_p_dense_array(tm_pstate *ps, const tm_type *elem, tm_span elem_at, tm_pvec *vals) {
  if (elem->kind != TM_TYPE_INT && elem->kind != TM_TYPE_FLOAT) {
    tm_p_error(ps, elem_at, "array<...> elements must be integers or floats, got '%s'", type_str(ps, elem));
    return NULL;
  }
  int n = vals ? vals->n : 0;
  const tm_attr **a = TM_NEW_ARRAY(arena(ps), const tm_attr *, n);
  for (int i = 0; i < n; i++) {
    const tm_dlit *l = vals->v[i];
    uint64_t bits;
    if (!dense_scalar_bits(ps, elem, l, &bits)) return NULL;
    a[i] = elem->kind == TM_TYPE_INT ? tm_attr_int(ps->ctx, elem, (int64_t)bits)
                                     : tm_attr_float(ps->ctx, elem, double_from_bits(bits, elem->width));
  }
  return tm_attr_array(ps->ctx, n, a);
}

/* ----------------------------------------------------------------- locations ------ */

static bool loc_number(tm_pstate *ps, tm_tok t, tm_span at, const char *what, int *out) {
  uint64_t v;
  if (!parse_u64(t, &v) || v > INT_MAX) return tm_p_error(ps, at, "%s number '%.*s' is too large", what, (int)t.len, t.s);
  *out = (int)v;
  return true;
}

const tm_loc *tm_p_loc_file(tm_pstate *ps, tm_tok file, tm_span file_at, tm_tok line, tm_span line_at, tm_tok col,
                            tm_span col_at) {
  const char *f = unquote_cstr(ps, file, file_at);
  int l = 0, c = 0;
  if (!f || !loc_number(ps, line, line_at, "line", &l) || !loc_number(ps, col, col_at, "column", &c)) return NULL;
  return tm_loc_file(ps->ctx, f, l, c);
}

const tm_loc *tm_p_loc_name(tm_pstate *ps, tm_tok name, tm_span at, const tm_loc *child) {
  const char *n = unquote_cstr(ps, name, at);
  return n ? tm_loc_name(ps->ctx, n, child) : NULL;
}

const tm_loc *tm_p_loc_fused(tm_pstate *ps, tm_pvec *locs) {
  const tm_loc **a = TM_NEW_ARRAY(arena(ps), const tm_loc *, locs->n);
  for (int i = 0; i < locs->n; i++) a[i] = locs->v[i];
  return tm_loc_fused(ps->ctx, locs->n, a);
}

/* ------------------------------------------------------------------ SSA names ----- */

typedef struct fwd_ref {
  int64_t index;
  tm_value *placeholder;
  tm_span at;
} fwd_ref;

typedef struct ssa_entry {
  const char *name;
  tm_value **vals; /* the defined group, nvals > 0 while visible */
  int nvals;
  tm_rframe *frame; /* region frame that defined it */
  tm_pvec fwd;      /* fwd_ref: uses before the definition */
} ssa_entry;

struct tm_iscope {
  tm_iscope *parent;
  tm_pmap names;   /* name -> ssa_entry */
  tm_pvec entries; /* every entry, to find unresolved forward references */
};

struct tm_rframe {
  tm_rframe *parent;
  tm_pvec blocks;
  tm_block *cur;
  tm_pvec defs;   /* ssa_entry defined here: hidden when the region closes */
  tm_pmap labels; /* block names */
  bool own_scope; /* pushed an isolated scope */
};

static ssa_entry *entry_for(tm_pstate *ps, const char *name) {
  ssa_entry *e = pmap_get(&ps->iscope->names, name);
  if (e) return e;
  e = TM_NEW(arena(ps), ssa_entry);
  e->name = name;
  pmap_set(ps, &ps->iscope->names, name, e);
  tm_p_push(ps, &ps->iscope->entries, e);
  return e;
}

tm_puse *tm_p_use(tm_pstate *ps, tm_tok t, tm_span at) {
  const char *hash = memchr(t.s, '#', t.len);
  size_t nlen = hash ? (size_t)(hash - t.s) - 1 : t.len - 1;
  tm_puse *u = TM_NEW(arena(ps), tm_puse);
  u->name = intern(ps, t.s + 1, nlen);
  u->at = at;
  if (hash) {
    uint64_t k;
    tm_tok digits = {hash + 1, t.len - nlen - 2};
    if (!parse_u64(digits, &k) || k > INT_MAX) {
      tm_p_error(ps, at, "result number in '%.*s' is too large", (int)t.len, t.s);
      return NULL;
    }
    u->index = (int64_t)k;
  }
  return u;
}

tm_pdef *tm_p_def(tm_pstate *ps, tm_tok t, tm_span at, const tm_tok *count, tm_span count_at) {
  if (memchr(t.s, '#', t.len)) {
    tm_p_error(ps, at, "result names cannot have a '#' result number; use '%%name:count' for several results");
    return NULL;
  }
  tm_pdef *d = TM_NEW(arena(ps), tm_pdef);
  d->name = intern(ps, t.s + 1, t.len - 1);
  d->count = 1;
  d->at = at;
  if (count) {
    uint64_t c;
    if (!parse_u64(*count, &c) || c == 0 || c > INT_MAX) {
      tm_p_error(ps, count_at, "expected a positive result count");
      return NULL;
    }
    d->count = (int64_t)c;
  }
  return d;
}

static tm_value *resolve(tm_pstate *ps, const tm_puse *u, const tm_type *type) {
  ssa_entry *e = entry_for(ps, u->name);
  tm_value *v = NULL;
  if (e->nvals > 0) {
    if (u->index >= e->nvals) {
      tm_p_error(ps, u->at, "reference to invalid result number %lld of '%%%s', which has %d result%s",
                 (long long)u->index, u->name, e->nvals, e->nvals == 1 ? "" : "s");
      return NULL;
    }
    v = e->vals[u->index];
  } else {
    for (int i = 0; i < e->fwd.n && !v; i++) {
      fwd_ref *f = e->fwd.v[i];
      if (f->index == u->index) v = f->placeholder;
    }
    if (!v) { /* a forward reference: the definition replaces the placeholder */
      fwd_ref *f = TM_NEW(arena(ps), fwd_ref);
      f->index = u->index;
      f->at = u->at;
      f->placeholder = v = TM_NEW(arena(ps), tm_value);
      v->type = type;
      v->loc = tm_p_loc(ps, u->at);
      tm_p_push(ps, &e->fwd, f);
      return v;
    }
  }
  if (v->type != type) {
    tm_p_error(ps, u->at, "use of value '%%%s' expects different type than prior uses: '%s' vs '%s'", u->name,
               type_str(ps, type), type_str(ps, v->type));
    return NULL;
  }
  return v;
}

static bool define(tm_pstate *ps, const char *name, tm_value **vals, int n, tm_span at) {
  ssa_entry *e = entry_for(ps, name);
  if (e->nvals > 0) return tm_p_error(ps, at, "redefinition of SSA value '%%%s'", name);
  for (int i = 0; i < e->fwd.n; i++) {
    fwd_ref *f = e->fwd.v[i];
    if (f->index >= n)
      return tm_p_error(ps, f->at, "reference to invalid result number %lld of '%%%s', which has %d result%s",
                        (long long)f->index, name, n, n == 1 ? "" : "s");
    if (f->placeholder->type != vals[f->index]->type)
      return tm_p_error(ps, f->at, "use of value '%%%s' expects different type than its definition: '%s' vs '%s'",
                        name, type_str(ps, f->placeholder->type), type_str(ps, vals[f->index]->type));
    tm_value_replace_all_uses(f->placeholder, vals[f->index]);
  }
  e->fwd.n = 0;
  e->vals = vals;
  e->nvals = n;
  e->frame = ps->frame;
  tm_p_push(ps, &ps->frame->defs, e);
  return true;
}

static void push_iscope(tm_pstate *ps) {
  tm_iscope *s = TM_NEW(arena(ps), tm_iscope);
  s->parent = ps->iscope;
  ps->iscope = s;
}

/* Closes an isolated scope; any forward reference left is an undefined name. */
static bool pop_iscope(tm_pstate *ps) {
  const fwd_ref *first = NULL;
  const char *first_name = NULL;
  for (int i = 0; i < ps->iscope->entries.n; i++) {
    ssa_entry *e = ps->iscope->entries.v[i];
    for (int k = 0; k < e->fwd.n; k++) {
      const fwd_ref *f = e->fwd.v[k];
      if (!first || f->at.first_line < first->at.first_line ||
          (f->at.first_line == first->at.first_line && f->at.first_column < first->at.first_column))
        first = f, first_name = e->name;
    }
  }
  ps->iscope = ps->iscope->parent;
  if (first) return tm_p_error(ps, first->at, "use of undeclared SSA value name '%%%s'", first_name);
  return true;
}

static tm_rframe *push_frame(tm_pstate *ps) {
  tm_rframe *f = TM_NEW(arena(ps), tm_rframe);
  f->parent = ps->frame;
  ps->frame = f;
  return f;
}

static tm_block *new_block(tm_pstate *ps) {
  tm_block *b = tm_block_create(ps->ctx);
  tm_p_push(ps, &ps->frame->blocks, b);
  ps->frame->cur = b;
  return b;
}

tm_parg *tm_p_arg(tm_pstate *ps, const tm_tok *name, const tm_type *type, const tm_loc *loc, tm_span at) {
  tm_parg *a = TM_NEW(arena(ps), tm_parg);
  if (name) {
    if (memchr(name->s, '#', name->len)) {
      tm_p_error(ps, at, "argument names cannot have a '#' result number");
      return NULL;
    }
    a->name = intern(ps, name->s + 1, name->len - 1);
  }
  a->type = type;
  a->loc = loc;
  a->at = at;
  return a;
}

static bool add_args(tm_pstate *ps, tm_block *b, const tm_pvec *args) {
  for (int i = 0; args && i < args->n; i++) {
    tm_parg *a = args->v[i];
    if (!a) return false;
    if (!a->name) return tm_p_error(ps, a->at, "expected '%%name: type' for the arguments of a function with a body");
    tm_value **v = TM_NEW(arena(ps), tm_value *);
    *v = tm_block_add_arg(ps->ctx, b, a->type, a->loc ? a->loc : tm_p_loc(ps, a->at));
    if (!define(ps, a->name, v, 1, a->at)) return false;
  }
  return true;
}

/* --------------------------------------------------------------- ops, regions ----- */

static void push_opctx(tm_pstate *ps, const char *name, bool isolated, bool custom, tm_pvec *entry_args) {
  tm_popctx *c = TM_NEW(arena(ps), tm_popctx);
  c->parent = ps->opctx;
  c->name = name;
  c->isolated = isolated;
  c->single_block = custom && strcmp(name, "builtin.module") == 0;
  c->entry_args = entry_args;
  ps->opctx = c;
}

bool tm_p_begin_generic(tm_pstate *ps, tm_tok tok, tm_span at) {
  const char *name = unquote_cstr(ps, tok, at);
  if (!name) return false;
  if (!*name) return tm_p_error(ps, at, "empty operation name");
  const tm_opdef *def = tm_opdef_lookup(ps->ctx, name);
  if (!def) {
    const char *dot = strchr(name, '.');
    size_t dlen = dot ? (size_t)(dot - name) : strlen(name);
    if (tm_dialect_is_registered(ps->ctx, name, dlen))
      return tm_p_error(ps, at, "unregistered operation '%s' found in dialect ('%.*s') that does not allow unknown "
                                "operations", name, (int)dlen, name);
    if (!ps->allow_unregistered)
      return tm_p_error(ps, at, "operation '%s' belongs to the unregistered dialect '%.*s' (use "
                                "--allow-unregistered-dialect to accept it)", name, (int)dlen, name);
  }
  push_opctx(ps, name, def && (def->traits & TM_TRAIT_ISOLATED), false, NULL);
  return true;
}

void tm_p_begin_custom(tm_pstate *ps, const char *name, tm_pvec *entry_args) {
  push_opctx(ps, name, true, true, entry_args);
}

void tm_p_end_op(tm_pstate *ps) {
  if (ps->opctx) ps->opctx = ps->opctx->parent;
}

bool tm_p_region_begin(tm_pstate *ps) {
  const tm_popctx *oc = ps->opctx;
  tm_rframe *f = push_frame(ps);
  if (oc->isolated) {
    push_iscope(ps);
    f->own_scope = true;
  }
  if (oc->entry_args) return add_args(ps, new_block(ps), oc->entry_args);
  if (oc->single_block) new_block(ps);
  return true;
}

tm_pregion *tm_p_region_end(tm_pstate *ps) {
  tm_rframe *f = ps->frame;
  for (int i = 0; i < f->defs.n; i++) {
    ssa_entry *e = f->defs.v[i];
    if (e->frame != f) continue;
    e->nvals = 0;
    e->vals = NULL;
    e->frame = NULL;
  }
  if (f->own_scope && !pop_iscope(ps)) return NULL;
  ps->frame = f->parent;
  tm_pregion *r = TM_NEW(arena(ps), tm_pregion);
  r->blocks = f->blocks;
  return r;
}

bool tm_p_block_label(tm_pstate *ps, tm_tok tok, tm_span at, tm_pvec *args) {
  const char *name = intern(ps, tok.s + 1, tok.len - 1);
  if (pmap_get(&ps->frame->labels, name)) return tm_p_error(ps, at, "redefinition of block '^%s'", name);
  pmap_set(ps, &ps->frame->labels, name, (void *)name);
  return add_args(ps, new_block(ps), args);
}

static void attach_regions(tm_op *op, tm_pregion *const *regions, int n) {
  for (int r = 0; r < n && r < op->nregions; r++)
    for (int i = 0; regions[r] && i < regions[r]->blocks.n; i++) tm_region_add_block(&op->regions[r], regions[r]->blocks.v[i]);
}

static bool resolve_all(tm_pstate *ps, const tm_pvec *uses, const tm_type *const *types, tm_value **out) {
  for (int i = 0; i < uses->n; i++)
    if (!(out[i] = resolve(ps, uses->v[i], types[i]))) return false;
  return true;
}

tm_op *tm_p_generic_op(tm_pstate *ps, tm_span name_at, tm_pvec *operands, tm_pvec *regions, tm_pvec *attrs,
                       const tm_type *ftype, tm_span type_at) {
  if (operands->n != ftype->ninputs) {
    tm_p_error(ps, type_at, "expected %d operand type%s but had %d", operands->n, operands->n == 1 ? "" : "s",
               ftype->ninputs);
    return NULL;
  }
  tm_value **vals = TM_NEW_ARRAY(arena(ps), tm_value *, operands->n);
  if (!resolve_all(ps, operands, ftype->inputs, vals)) return NULL;
  tm_named_attr *na = named_array(ps, attrs, 0);
  if (!na) return NULL;
  int nregions = regions ? regions->n : 0;
  tm_op_state st = {.name = ps->opctx->name,
                    .loc = tm_p_loc(ps, name_at),
                    .noperands = operands->n,
                    .operands = vals,
                    .nresults = ftype->nresults,
                    .result_types = ftype->results,
                    .nattrs = attrs ? attrs->n : 0,
                    .attrs = na,
                    .nregions = nregions};
  tm_op *op = tm_op_create(ps->ctx, &st);
  if (nregions) attach_regions(op, (tm_pregion *const *)regions->v, nregions);
  /* A module always has its body block (tm_module_body relies on it). */
  if (strcmp(st.name, "builtin.module") == 0 && nregions && !op->regions[0].first)
    tm_region_add_block(&op->regions[0], tm_block_create(ps->ctx));
  return op;
}

tm_op *tm_p_module_op(tm_pstate *ps, tm_tok sym, tm_pvec *attrs, tm_pregion *body, tm_span at) {
  int n = attrs ? attrs->n : 0;
  tm_named_attr *na = named_array(ps, attrs, 1);
  if (!na) return NULL;
  if (sym.s) {
    for (int i = 0; i < n; i++)
      if (strcmp(na[i].name, "sym_name") == 0) {
        tm_p_error(ps, ((tm_pnamed *)attrs->v[i])->at, "'sym_name' is already given by the module's @name");
        return NULL;
      }
    const tm_attr *name = symbol_string(ps, sym, at);
    if (!name) return NULL;
    na[n].name = "sym_name";
    na[n++].value = name;
  }
  tm_op_state st = {.name = "builtin.module", .loc = tm_p_loc(ps, at), .nattrs = n, .attrs = na, .nregions = 1};
  tm_op *op = tm_op_create(ps->ctx, &st);
  attach_regions(op, &body, 1);
  return op;
}

tm_op *tm_p_func_op(tm_pstate *ps, const char *visibility, tm_tok sym, tm_span sym_at, tm_pvec *args,
                    tm_pvec *results, tm_pvec *attrs, tm_pregion *body, tm_span at) {
  int n = attrs ? attrs->n : 0;
  tm_named_attr *na = named_array(ps, attrs, 3);
  if (!na) return NULL;
  for (int i = 0; i < n; i++)
    if (!strcmp(na[i].name, "sym_name") || !strcmp(na[i].name, "function_type") ||
        !strcmp(na[i].name, "sym_visibility")) {
      tm_p_error(ps, ((tm_pnamed *)attrs->v[i])->at, "'%s' is given by the func.func syntax", na[i].name);
      return NULL;
    }
  const tm_attr *name = symbol_string(ps, sym, sym_at);
  if (!name) return NULL;
  const tm_type **in = TM_NEW_ARRAY(arena(ps), const tm_type *, args->n);
  for (int i = 0; i < args->n; i++) in[i] = ((tm_parg *)args->v[i])->type;
  const tm_type *ft = tm_type_func(ps->ctx, args->n, in, results->n, type_array(ps, results));
  na[n].name = "sym_name";
  na[n++].value = name;
  na[n].name = "function_type";
  na[n++].value = tm_attr_type(ps->ctx, ft);
  if (visibility) {
    na[n].name = "sym_visibility";
    na[n++].value = tm_attr_cstr(ps->ctx, visibility);
  }
  tm_op_state st = {.name = "func.func", .loc = tm_p_loc(ps, at), .nattrs = n, .attrs = na, .nregions = 1};
  tm_op *op = tm_op_create(ps->ctx, &st);
  if (body) attach_regions(op, &body, 1);
  return op;
}

tm_op *tm_p_return_op(tm_pstate *ps, tm_pvec *operands, tm_pvec *types, tm_span at, tm_span types_at) {
  int n = operands ? operands->n : 0;
  if (n && types->n != n) {
    tm_p_error(ps, types_at, "expected %d operand type%s but had %d", n, n == 1 ? "" : "s", types->n);
    return NULL;
  }
  tm_value **vals = TM_NEW_ARRAY(arena(ps), tm_value *, n);
  if (n && !resolve_all(ps, operands, type_array(ps, types), vals)) return NULL;
  tm_op_state st = {.name = "func.return", .loc = tm_p_loc(ps, at), .noperands = n, .operands = vals};
  return tm_op_create(ps->ctx, &st);
}

bool tm_p_finish_op(tm_pstate *ps, tm_op *op, tm_pvec *defs, const tm_loc *loc, tm_span at) {
  op->loc = loc ? loc : tm_p_loc(ps, at);
  if (defs) {
    int64_t total = 0;
    for (int i = 0; i < defs->n; i++) total += ((tm_pdef *)defs->v[i])->count;
    if (total != op->nresults)
      return tm_p_error(ps, at, "operation defines %d result%s but was provided %lld to bind", op->nresults,
                        op->nresults == 1 ? "" : "s", (long long)total);
    int k = 0;
    for (int i = 0; i < defs->n; i++) {
      tm_pdef *d = defs->v[i];
      tm_value **vals = TM_NEW_ARRAY(arena(ps), tm_value *, d->count);
      for (int j = 0; j < d->count; j++) vals[j] = &op->results[k++];
      if (!define(ps, d->name, vals, (int)d->count, d->at)) return false;
    }
  }
  tm_block *b = ps->frame->cur ? ps->frame->cur : new_block(ps);
  tm_block_append(b, op);
  return true;
}

/* ------------------------------------------------------------------ entries ------- */

static void init_state(tm_pstate *ps, tm_ctx *ctx, const char *file, int first_line, tm_start_kind start) {
  memset(ps, 0, sizeof *ps);
  ps->ctx = ctx;
  ps->file = tm_intern_cstr(ctx, file);
  ps->line_offset = first_line > 1 ? first_line - 1 : 0;
  ps->start = start;
}

/* Diagnostics quote the source by line.  A chunk of a split file keeps the file's line
 * numbers: unless the whole buffer is registered already, the chunk is registered
 * behind first_line - 1 empty lines. */
static void register_source(tm_ctx *ctx, const char *file, const char *text, size_t len, int first_line) {
  const char *line;
  if (!text || (tm_ctx_source_line(ctx, file, first_line, &line, NULL) && line == text)) return;
  if (first_line == 1) {
    tm_ctx_add_source(ctx, file, text, len);
    return;
  }
  size_t pad = (size_t)first_line - 1;
  char *copy = tm_arena_alloc(tm_ctx_arena(ctx), pad + len + 1, 1);
  memset(copy, '\n', pad);
  memcpy(copy + pad, text, len);
  tm_ctx_add_source(ctx, file, copy, pad + len);
}

tm_op *tm_parse_module(tm_ctx *ctx, const char *filename, const char *text, size_t len,
                       const tm_parse_options *opt) {
  if (!filename) filename = "<input>";
  int first_line = opt && opt->first_line > 0 ? opt->first_line : 1;
  register_source(ctx, filename, text, len, first_line);
  tm_pstate ps;
  init_state(&ps, ctx, filename, first_line, TM_START_MODULE);
  ps.allow_unregistered = opt && opt->allow_unregistered;
  push_iscope(&ps);
  push_frame(&ps);
  ps.top = new_block(&ps);
  if (!tm_p_run(&ps, text, len) || !pop_iscope(&ps)) return NULL;
  tm_op *first = ps.top->first;
  if (first && first == ps.top->last && tm_op_is(first, "builtin.module")) {
    tm_op_remove(first);
    return first;
  }
  tm_op *module = tm_module_create(ctx, tm_loc_file(ctx, ps.file, first_line, 1));
  tm_block *body = tm_module_body(module);
  TM_FOREACH_OP(o, ps.top) tm_block_append(body, o);
  return module;
}

/* Strings parsed on their own are quoted in diagnostics as "<string>". */
static bool parse_string(tm_pstate *ps, tm_ctx *ctx, const char *text, tm_start_kind start) {
  size_t len = text ? strlen(text) : 0;
  char *copy = tm_arena_alloc(tm_ctx_arena(ctx), len + 1, 1);
  if (len) memcpy(copy, text, len);
  init_state(ps, ctx, "<string>", 1, start);
  tm_ctx_add_source(ctx, "<string>", copy, len);
  return tm_p_run(ps, copy, len);
}

const tm_type *tm_parse_type(tm_ctx *ctx, const char *text) {
  tm_pstate ps;
  return parse_string(&ps, ctx, text, TM_START_TYPE) ? ps.type_result : NULL;
}

const tm_attr *tm_parse_attr(tm_ctx *ctx, const char *text) {
  tm_pstate ps;
  return parse_string(&ps, ctx, text, TM_START_ATTR) ? ps.attr_result : NULL;
}
