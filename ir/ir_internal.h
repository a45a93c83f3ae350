/* ir/ir_internal.h — (private to ir/) the context layout and the small hash tables the
 * IR core shares between its files. */
#ifndef TM_IR_INTERNAL_H
#define TM_IR_INTERNAL_H

#include "ir/ir.h"

/* Open-addressing hash set of arena objects keyed by a caller-computed hash; equality
 * is decided by a callback comparing a stored item with a lookup key. */
typedef struct tm_hslot {
  uint64_t hash;
  void *item; /* NULL: empty */
} tm_hslot;
typedef struct tm_htab {
  tm_hslot *slots;
  size_t cap, count;
} tm_htab;
typedef bool (*tm_htab_eq)(const void *item, const void *key);
void *tm_htab_find(const tm_htab *t, uint64_t hash, tm_htab_eq eq, const void *key);
void tm_htab_insert(tm_htab *t, uint64_t hash, void *item);
void tm_htab_free(tm_htab *t);


#define TM_HASH_SEED 0xcbf29ce484222325ull
uint64_t tm_hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t tm_hash_u64(uint64_t h, uint64_t v);
static inline uint64_t tm_hash_ptr(uint64_t h, const void *p) { return tm_hash_u64(h, (uint64_t)(uintptr_t)p); }

typedef struct tm_source {
  const char *file; /* interned */
  const char *text;
  size_t len;
  int first_line; /* line number of text[0] */
  size_t *line_starts; /* computed on first lookup */
  int nlines;
} tm_source;

struct tm_ctx {
  tm_arena *arena;
  tm_htab strings, types, attrs;
  const tm_loc *unknown_loc;
  /* Op registry: a per-context copy of the dialect tables, looked up by name. */
  tm_opdef *ops;
  int nops;
  tm_htab op_index; /* items point into ops[] */
  /* Diagnostics */
  tm_diag_handler diag_fn;
  void *diag_user;
  int nerrors;
  tm_source *sources;
  int nsources, sources_cap;
};

/* Stable merge sort of named attributes by name (ties keep their order). */
void tm_sort_named_attrs(tm_named_attr *a, int n, tm_named_attr *tmp);

#endif /* TM_IR_INTERNAL_H */
