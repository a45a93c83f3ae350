/* ir/types.c — interned types: a candidate is built on the stack, hashed structurally
 * and copied into the arena only when it is new. */
#include <string.h>

#include "ir/ir_internal.h"

static uint64_t type_hash(const tm_type *t) {
  uint64_t h = tm_hash_u64(TM_HASH_SEED, (uint64_t)t->kind);
  h = tm_hash_u64(h, t->width);
  h = tm_hash_u64(h, (uint64_t)t->signedness);
  h = tm_hash_ptr(h, t->elem);
  h = tm_hash_u64(h, (uint64_t)t->rank);
  if (t->rank > 0) h = tm_hash_bytes(h, t->dims, (size_t)t->rank * sizeof(int64_t));
  h = tm_hash_ptr(h, t->storage);
  h = tm_hash_ptr(h, t->expressed);
  h = tm_hash_u64(h, (uint64_t)t->storage_min);
  h = tm_hash_u64(h, (uint64_t)t->storage_max);
  h = tm_hash_u64(h, (uint64_t)t->axis);
  h = tm_hash_u64(h, (uint64_t)t->nscales);
  if (t->nscales > 0) {
    h = tm_hash_bytes(h, t->scales, (size_t)t->nscales * sizeof(double));
    h = tm_hash_bytes(h, t->zero_points, (size_t)t->nscales * sizeof(int64_t));
  }
  h = tm_hash_u64(h, (uint64_t)t->ninputs);
  for (int i = 0; i < t->ninputs; i++) h = tm_hash_ptr(h, t->inputs[i]);
  h = tm_hash_u64(h, (uint64_t)t->nresults);
  for (int i = 0; i < t->nresults; i++) h = tm_hash_ptr(h, t->results[i]);
  return h;
}

static bool same_bytes(const void *a, const void *b, size_t n) { return n == 0 || memcmp(a, b, n) == 0; }

/* Scales compare bitwise so interning never depends on float semantics (NaN, -0.0). */
static bool type_eq(const void *item, const void *key) {
  const tm_type *a = item, *b = key;
  return a->kind == b->kind && a->width == b->width && a->signedness == b->signedness &&
         a->elem == b->elem && a->rank == b->rank &&
         same_bytes(a->dims, b->dims, (size_t)a->rank * sizeof(int64_t)) &&
         a->storage == b->storage && a->expressed == b->expressed &&
         a->storage_min == b->storage_min && a->storage_max == b->storage_max &&
         a->axis == b->axis && a->nscales == b->nscales &&
         same_bytes(a->scales, b->scales, (size_t)a->nscales * sizeof(double)) &&
         same_bytes(a->zero_points, b->zero_points, (size_t)a->nscales * sizeof(int64_t)) &&
         a->ninputs == b->ninputs && a->nresults == b->nresults &&
         same_bytes(a->inputs, b->inputs, (size_t)a->ninputs * sizeof(tm_type *)) &&
         same_bytes(a->results, b->results, (size_t)a->nresults * sizeof(tm_type *));
}

static void *copy(tm_ctx *ctx, const void *src, size_t n, size_t align) {
  if (!n) return NULL;
  void *p = tm_arena_alloc(ctx->arena, n, align);
  memcpy(p, src, n);
  return p;
}

/* Arrays in *key point at caller memory until the type is known to be new. */
static const tm_type *intern(tm_ctx *ctx, const tm_type *key) {
  uint64_t h = type_hash(key);
  tm_type *t = tm_htab_find(&ctx->types, h, type_eq, key);
  if (t) return t;
  t = TM_NEW(ctx->arena, tm_type);
  *t = *key;
  t->dims = copy(ctx, key->dims, (size_t)key->rank * sizeof(int64_t), _Alignof(int64_t));
  t->scales = copy(ctx, key->scales, (size_t)key->nscales * sizeof(double), _Alignof(double));
  t->zero_points = copy(ctx, key->zero_points, (size_t)key->nscales * sizeof(int64_t), _Alignof(int64_t));
  t->inputs = copy(ctx, key->inputs, (size_t)key->ninputs * sizeof(tm_type *), _Alignof(tm_type *));
  t->results = copy(ctx, key->results, (size_t)key->nresults * sizeof(tm_type *), _Alignof(tm_type *));
  tm_htab_insert(&ctx->types, h, t);
  return t;
}

const tm_type *tm_type_int_signed(tm_ctx *ctx, unsigned width, tm_signedness s) {
  tm_type k = {.kind = TM_TYPE_INT, .width = width, .signedness = s};
  return intern(ctx, &k);
}

const tm_type *tm_type_int(tm_ctx *ctx, unsigned width) { return tm_type_int_signed(ctx, width, TM_SIGNLESS); }

const tm_type *tm_type_float(tm_ctx *ctx, unsigned width) {
  tm_type k = {.kind = TM_TYPE_FLOAT, .width = width};
  return intern(ctx, &k);
}

const tm_type *tm_type_index(tm_ctx *ctx) {
  tm_type k = {.kind = TM_TYPE_INDEX};
  return intern(ctx, &k);
}

const tm_type *tm_type_none(tm_ctx *ctx) {
  tm_type k = {.kind = TM_TYPE_NONE};
  return intern(ctx, &k);
}

static bool valid_elem(const tm_type *e) {
  return e && (e->kind == TM_TYPE_INT || e->kind == TM_TYPE_FLOAT || e->kind == TM_TYPE_INDEX ||
               e->kind == TM_TYPE_QUANT);
}

/* NULL for an element type a tensor cannot hold, a negative rank or a negative static
 * dimension: the parser reports those before it gets here. */
static const tm_type *shaped(tm_ctx *ctx, tm_type_kind kind, const tm_type *elem, int rank,
                             const int64_t *dims) {
  if (!valid_elem(elem) || rank < 0 || (rank > 0 && !dims)) return NULL;
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0 && dims[i] != TM_DYNAMIC) return NULL;
  tm_type k = {.kind = kind, .elem = elem, .rank = rank, .dims = rank ? dims : NULL};
  return intern(ctx, &k);
}

const tm_type *tm_type_tensor(tm_ctx *ctx, const tm_type *elem, int rank, const int64_t *dims) {
  return shaped(ctx, TM_TYPE_TENSOR, elem, rank, dims);
}

const tm_type *tm_type_memref(tm_ctx *ctx, const tm_type *elem, int rank, const int64_t *dims) {
  return shaped(ctx, TM_TYPE_MEMREF, elem, rank, dims);
}

const tm_type *tm_type_quant(tm_ctx *ctx, const tm_type *storage, const tm_type *expressed,
                             int64_t storage_min, int64_t storage_max, int axis, int nscales,
                             const double *scales, const int64_t *zero_points) {
  if (nscales < 0 || !scales) nscales = 0;
  int64_t zeros_small[8] = {0};
  int64_t *zeros = zeros_small;
  if (!zero_points && nscales > (int)TM_COUNTOF(zeros_small))
    zeros = TM_NEW_ARRAY(ctx->arena, int64_t, nscales); /* rare: large per-axis without zps */
  tm_type k = {.kind = TM_TYPE_QUANT,
               .storage = storage,
               .expressed = expressed,
               .storage_min = storage_min,
               .storage_max = storage_max,
               .axis = axis,
               .nscales = nscales,
               .scales = nscales ? scales : NULL,
               .zero_points = nscales ? (zero_points ? zero_points : zeros) : NULL};
  return intern(ctx, &k);
}

const tm_type *tm_type_func(tm_ctx *ctx, int ninputs, const tm_type *const *inputs, int nresults,
                            const tm_type *const *results) {
  if (ninputs < 0 || !inputs) ninputs = 0;
  if (nresults < 0 || !results) nresults = 0;
  tm_type k = {.kind = TM_TYPE_FUNC,
               .ninputs = ninputs,
               .inputs = ninputs ? inputs : NULL,
               .nresults = nresults,
               .results = nresults ? results : NULL};
  return intern(ctx, &k);
}

bool tm_type_is_shaped(const tm_type *t) { return t && (t->kind == TM_TYPE_TENSOR || t->kind == TM_TYPE_MEMREF); }

bool tm_type_is_static(const tm_type *t) {
  if (!t) return false;
  if (!tm_type_is_shaped(t)) return true;
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i] < 0) return false;
  return true;
}

const tm_type *tm_type_elem(const tm_type *t) { return tm_type_is_shaped(t) ? t->elem : t; }

int64_t tm_type_numel(const tm_type *t) {
  if (!t) return -1;
  if (!tm_type_is_shaped(t)) return 1;
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    int64_t d = t->dims[i];
    if (d < 0) return -1;
    if (d != 0 && n > INT64_MAX / d) return -1; /* overflow counts as unknown */
    n *= d;
  }
  return n;
}

unsigned tm_type_elem_bits(const tm_type *t) {
  const tm_type *e = tm_type_storage(tm_type_elem(t));
  if (!e) return 0;
  switch (e->kind) {
  case TM_TYPE_INT: return e->width < 8 ? 8 : e->width;
  case TM_TYPE_FLOAT: return e->width;
  case TM_TYPE_INDEX: return 64;
  default: return 0;
  }
}

int64_t tm_type_bytes(const tm_type *t) {
  int64_t n = tm_type_numel(t);
  int64_t b = (int64_t)((tm_type_elem_bits(t) + 7) / 8);
  if (n < 0) return -1;
  if (b != 0 && n > INT64_MAX / b) return -1;
  return n * b;
}

const tm_type *tm_type_with_elem(tm_ctx *ctx, const tm_type *s, const tm_type *elem) {
  if (!tm_type_is_shaped(s)) return elem;
  return shaped(ctx, s->kind, elem, s->rank, s->dims);
}

const tm_type *tm_type_storage(const tm_type *t) {
  return t && t->kind == TM_TYPE_QUANT && t->storage ? t->storage : t;
}
