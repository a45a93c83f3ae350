/* ir/context.c — the context: arena, string interning, hash tables, op registry and
 * the source-buffer registry used by diagnostics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/dialects.h"
#include "ir/ir_internal.h"

/* ------------------------------------------------------------- hashing -------- */
uint64_t tm_hash_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t tm_hash_u64(uint64_t h, uint64_t v) {
  /* splitmix-style finalizer over the combined value: cheap and well mixed */
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    fputs("tinyml: out of memory\n", stderr);
    abort();
  }
  return p;
}

/* ---------------------------------------------------------- hash set -------- */
void *tm_htab_find(const tm_htab *t, uint64_t hash, tm_htab_eq eq, const void *key) {
  if (!t->cap) return NULL;
  size_t mask = t->cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const tm_hslot *s = &t->slots[i];
    if (!s->item) return NULL;
    if (s->hash == hash && eq(s->item, key)) return s->item;
  }
}

static void htab_put(tm_hslot *slots, size_t cap, uint64_t hash, void *item) {
  size_t mask = cap - 1;
  size_t i = hash & mask;
  while (slots[i].item) i = (i + 1) & mask;
  slots[i].hash = hash;
  slots[i].item = item;
}

void tm_htab_insert(tm_htab *t, uint64_t hash, void *item) {
  if ((t->count + 1) * 4 > t->cap * 3) { /* keep load below 3/4 */
    size_t ncap = t->cap ? t->cap * 2 : 64;
    tm_hslot *ns = xcalloc(ncap, sizeof(tm_hslot));
    for (size_t i = 0; i < t->cap; i++)
      if (t->slots[i].item) htab_put(ns, ncap, t->slots[i].hash, t->slots[i].item);
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
  }
  htab_put(t->slots, t->cap, hash, item);
  t->count++;
}

void tm_htab_free(tm_htab *t) {
  free(t->slots);
  memset(t, 0, sizeof(*t));
}

/* ----------------------------------------------------------- ptr map -------- */
void *tm_ptrmap_get(const tm_ptrmap *m, const void *key) {
  if (!m->cap || !key) return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = tm_hash_ptr(0, key) & mask;; i = (i + 1) & mask) {
    if (!m->slots[i].key) return NULL;
    if (m->slots[i].key == key) return m->slots[i].val;
  }
}

static struct tm_ptrslot *ptrmap_slot(struct tm_ptrslot *slots, size_t cap, const void *key) {
  size_t mask = cap - 1;
  size_t i = tm_hash_ptr(0, key) & mask;
  while (slots[i].key && slots[i].key != key) i = (i + 1) & mask;
  return &slots[i];
}

void tm_ptrmap_set(tm_ptrmap *m, const void *key, void *val) {
  if (!key) return;
  if ((m->count + 1) * 4 > m->cap * 3) {
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct tm_ptrslot *ns = m->arena ? TM_NEW_ARRAY(m->arena, struct tm_ptrslot, ncap) : xcalloc(ncap, sizeof(*ns));
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].key) *ptrmap_slot(ns, ncap, m->slots[i].key) = m->slots[i];
    if (!m->arena) free(m->slots);
    m->slots = ns;
    m->cap = ncap;
  }
  struct tm_ptrslot *s = ptrmap_slot(m->slots, m->cap, key);
  if (!s->key) m->count++;
  s->key = key;
  s->val = val;
}

void tm_ptrmap_free(tm_ptrmap *m) {
  if (!m->arena) free(m->slots);
  memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------ string interning ------ */
typedef struct tm_istr {
  size_t len;
  char s[]; /* NUL-terminated copy */
} tm_istr;

typedef struct { const char *s; size_t len; } str_key;

static bool istr_eq(const void *item, const void *key) {
  const tm_istr *a = item;
  const str_key *k = key;
  return a->len == k->len && memcmp(a->s, k->s, k->len) == 0;
}

const char *tm_intern(tm_ctx *ctx, const char *s, size_t len) {
  if (!s) s = "", len = 0;
  str_key k = {s, len};
  uint64_t h = tm_hash_bytes(TM_HASH_SEED, s, len);
  tm_istr *found = tm_htab_find(&ctx->strings, h, istr_eq, &k);
  if (found) return found->s;
  if (len > SIZE_MAX - sizeof(tm_istr) - 1) return NULL;
  tm_istr *n = tm_arena_alloc(ctx->arena, sizeof(tm_istr) + len + 1, _Alignof(tm_istr));
  n->len = len;
  if (len) memcpy(n->s, s, len);
  tm_htab_insert(&ctx->strings, h, n);
  return n->s;
}

const char *tm_intern_cstr(tm_ctx *ctx, const char *s) { return tm_intern(ctx, s, s ? strlen(s) : 0); }

char *tm_arena_printf(tm_ctx *ctx, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  char *buf = tm_arena_alloc(ctx->arena, (size_t)n + 1, 1);
  vsnprintf(buf, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return buf;
}

/* ------------------------------------------------------------ registry -------- */
static bool opdef_eq(const void *item, const void *key) {
  return strcmp(((const tm_opdef *)item)->name, key) == 0;
}

static uint64_t name_hash(const char *name) { return tm_hash_bytes(TM_HASH_SEED, name, strlen(name)); }

static void register_ops(tm_ctx *ctx) {
  const tm_opdef *tables[] = {tm_builtin_dialect_ops, tm_tm_dialect_ops, tm_arith_dialect_ops,
                              tm_scf_dialect_ops,     tm_memref_dialect_ops, tm_math_dialect_ops, tm_armdsp_dialect_ops};
  const int counts[] = {tm_builtin_dialect_nops, tm_tm_dialect_nops,     tm_arith_dialect_nops,
                        tm_scf_dialect_nops,     tm_memref_dialect_nops, tm_math_dialect_nops, tm_armdsp_dialect_nops};
  int n = 0;
  for (size_t t = 0; t < TM_COUNTOF(counts); t++) n += counts[t];
  ctx->ops = TM_NEW_ARRAY(ctx->arena, tm_opdef, n > 0 ? n : 1);
  for (size_t t = 0; t < TM_COUNTOF(tables); t++)
    for (int i = 0; i < counts[t]; i++) {
      const tm_opdef *d = &tables[t][i];
      if (!d->name || tm_htab_find(&ctx->op_index, name_hash(d->name), opdef_eq, d->name)) continue;
      ctx->ops[ctx->nops] = *d;
      tm_htab_insert(&ctx->op_index, name_hash(d->name), &ctx->ops[ctx->nops]);
      ctx->nops++;
    }
}

tm_opdef *tm_opdef_mut(tm_ctx *ctx, const char *name) {
  if (!name) return NULL;
  return tm_htab_find(&ctx->op_index, name_hash(name), opdef_eq, name);
}

const tm_opdef *tm_opdef_lookup(tm_ctx *ctx, const char *name) { return tm_opdef_mut(ctx, name); }

int tm_opdef_count(tm_ctx *ctx) { return ctx->nops; }

bool tm_dialect_is_registered(tm_ctx *ctx, const char *dialect, size_t len) {
  for (int i = 0; dialect && i < ctx->nops; i++) {
    const char *name = ctx->ops[i].name;
    if (strlen(name) > len && name[len] == '.' && memcmp(name, dialect, len) == 0) return true;
  }
  return false;
}

const tm_opdef *tm_opdef_at(tm_ctx *ctx, int i) {
  return i >= 0 && i < ctx->nops ? &ctx->ops[i] : NULL;
}

const tm_attrdef *tm_opdef_attr(const tm_opdef *d, const char *name) {
  if (!d || !name) return NULL;
  for (int i = 0; i < d->nattrs; i++)
    if (strcmp(d->attrs[i].name, name) == 0) return &d->attrs[i];
  return NULL;
}

bool tm_op_has_trait(const tm_op *op, tm_op_trait t) { return op && op->def && (op->def->traits & t); }

/* ------------------------------------------------------------- context -------- */
tm_ctx *tm_ctx_new(void) {
  tm_ctx *ctx = xcalloc(1, sizeof(tm_ctx));
  ctx->arena = tm_arena_new();
  tm_loc *u = TM_NEW(ctx->arena, tm_loc);
  u->kind = TM_LOC_UNKNOWN;
  ctx->unknown_loc = u;
  register_ops(ctx);
  return ctx;
}

void tm_ctx_free(tm_ctx *ctx) {
  if (!ctx) return;
  tm_htab_free(&ctx->strings);
  tm_htab_free(&ctx->types);
  tm_htab_free(&ctx->attrs);
  tm_htab_free(&ctx->op_index);
  for (int i = 0; i < ctx->nsources; i++) free(ctx->sources[i].line_starts);
  free(ctx->sources);
  tm_arena_free(ctx->arena);
  free(ctx);
}

tm_arena *tm_ctx_arena(tm_ctx *ctx) { return ctx->arena; }

/* ------------------------------------------------------------- sources -------- */
void tm_ctx_add_source(tm_ctx *ctx, const char *file, const char *text, size_t len) {
  tm_ctx_add_source_at(ctx, file, text, len, 1);
}

void tm_ctx_add_source_at(tm_ctx *ctx, const char *file, const char *text, size_t len, int first_line) {
  if (!file || !text) return;
  if (first_line < 1) first_line = 1;
  const char *f = tm_intern_cstr(ctx, file);
  for (int i = 0; i < ctx->nsources; i++) {
    tm_source *s = &ctx->sources[i];
    if (s->file != f) continue;
    /* A chunk of an already registered buffer (--split-input-file) keeps the whole
     * buffer, whose line numbers are the file's. */
    if (text >= s->text && text + len <= s->text + s->len) return;
    free(s->line_starts);
    s->text = text;
    s->len = len;
    s->first_line = first_line;
    s->line_starts = NULL;
    s->nlines = 0;
    return;
  }
  if (ctx->nsources == ctx->sources_cap) {
    int ncap = ctx->sources_cap ? ctx->sources_cap * 2 : 4;
    tm_source *ns = realloc(ctx->sources, (size_t)ncap * sizeof(tm_source));
    if (!ns) {
      fputs("tinyml: out of memory\n", stderr);
      abort();
    }
    ctx->sources = ns;
    ctx->sources_cap = ncap;
  }
  ctx->sources[ctx->nsources++] = (tm_source){f, text, len, first_line, NULL, 0};
}

static void index_lines(tm_source *s) {
  size_t n = 1;
  for (size_t i = 0; i < s->len; i++)
    if (s->text[i] == '\n') n++;
  s->line_starts = xcalloc(n, sizeof(size_t));
  size_t k = 0;
  s->line_starts[k++] = 0;
  for (size_t i = 0; i < s->len; i++)
    if (s->text[i] == '\n') s->line_starts[k++] = i + 1;
  s->nlines = n > INT32_MAX ? INT32_MAX : (int)n;
}

bool tm_ctx_source_line(tm_ctx *ctx, const char *file, int line, const char **text, size_t *len) {
  if (!file || line < 1) return false;
  for (int i = 0; i < ctx->nsources; i++) {
    tm_source *s = &ctx->sources[i];
    if (s->file != file && strcmp(s->file, file) != 0) continue;
    if (!s->line_starts) index_lines(s);
    if (line < s->first_line || line - s->first_line >= s->nlines) return false;
    size_t b = s->line_starts[line - s->first_line], e = b;
    while (e < s->len && s->text[e] != '\n') e++;
    if (e > b && s->text[e - 1] == '\r') e--;
    if (text) *text = s->text + b;
    if (len) *len = e - b;
    return true;
  }
  return false;
}
