/* passes/cse.c — common sub-expression elimination.
 *
 * A pure op without regions is a duplicate of an earlier one with the same name,
 * operands, attributes and result types (attributes and types are interned, so pointer
 * equality is equality; equal constants dedupe too).  The earlier op must dominate the
 * later one: a scoped hash table follows the region tree, where a block sees its own
 * earlier ops and those of the enclosing blocks, except across isolated-from-above ops
 * (func.func), which start an empty table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

static void *xrealloc(void *p, size_t size) {
  p = realloc(p, size ? size : 1);
  if (!p) {
    fputs("tinyml: out of memory\n", stderr);
    abort();
  }
  return p;
}

/* Chained hash table whose entries form a stack: leaving a scope pops the entries made
 * in it, each the head of its bucket by then. */
typedef struct entry {
  tm_op *op;
  uint64_t hash;
  int next; /* in the bucket chain, -1 ends */
} entry;

typedef struct table {
  int *buckets;
  size_t nbuckets; /* power of two */
  entry *entries;
  int n, cap;
} table;

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 31);
}
#define MIXP(h, p) mix((h), (uint64_t)(uintptr_t)(p))

static uint64_t op_hash(const tm_op *op) {
  uint64_t h = MIXP(0, op->name);
  for (int i = 0; i < op->noperands; i++) h = MIXP(h, op->operands[i].value);
  for (int i = 0; i < op->nattrs; i++) h = MIXP(MIXP(h, op->attrs[i].name), op->attrs[i].value);
  for (int i = 0; i < op->nresults; i++) h = MIXP(h, op->results[i].type);
  return mix(h, ((uint64_t)op->noperands << 32) ^ ((uint64_t)op->nattrs << 16) ^ (uint64_t)op->nresults);
}

static bool op_equal(const tm_op *a, const tm_op *b) {
  if (a->name != b->name || a->noperands != b->noperands || a->nattrs != b->nattrs || a->nresults != b->nresults)
    return false;
  for (int i = 0; i < a->noperands; i++)
    if (a->operands[i].value != b->operands[i].value) return false;
  for (int i = 0; i < a->nattrs; i++)
    if (a->attrs[i].name != b->attrs[i].name || a->attrs[i].value != b->attrs[i].value) return false;
  for (int i = 0; i < a->nresults; i++)
    if (a->results[i].type != b->results[i].type) return false;
  return true;
}

static void table_rehash(table *t, size_t nbuckets) {
  t->buckets = xrealloc(t->buckets, nbuckets * sizeof(int));
  t->nbuckets = nbuckets;
  memset(t->buckets, 0xff, nbuckets * sizeof(int)); /* all -1 */
  for (int i = 0; i < t->n; i++) { /* in push order, so later entries head their chains */
    size_t b = t->entries[i].hash & (nbuckets - 1);
    t->entries[i].next = t->buckets[b];
    t->buckets[b] = i;
  }
}

static tm_op *table_find(const table *t, const tm_op *op, uint64_t h) {
  if (!t->nbuckets) return NULL;
  for (int i = t->buckets[h & (t->nbuckets - 1)]; i >= 0; i = t->entries[i].next)
    if (t->entries[i].hash == h && op_equal(t->entries[i].op, op)) return t->entries[i].op;
  return NULL;
}

static void table_push(table *t, tm_op *op, uint64_t h) {
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 64;
    t->entries = xrealloc(t->entries, (size_t)t->cap * sizeof(entry));
  }
  t->entries[t->n++] = (entry){op, h, -1};
  if ((size_t)t->n > t->nbuckets) {
    table_rehash(t, t->nbuckets ? t->nbuckets * 2 : 64);
    return;
  }
  size_t b = h & (t->nbuckets - 1);
  t->entries[t->n - 1].next = t->buckets[b];
  t->buckets[b] = t->n - 1;
}

static void table_pop_to(table *t, int mark) {
  while (t->n > mark) {
    const entry *e = &t->entries[--t->n];
    t->buckets[e->hash & (t->nbuckets - 1)] = e->next;
  }
}

static bool candidate(const tm_op *op) {
  return op->nregions == 0 && op->nresults > 0 && tm_op_has_trait(op, TM_TRAIT_PURE) &&
         !tm_op_has_trait(op, TM_TRAIT_TERMINATOR);
}

static void cse_region(table *t, tm_region *r);

static void cse_block(table *t, tm_block *b) {
  TM_FOREACH_OP(op, b) {
    if (op->nregions) {
      if (tm_op_has_trait(op, TM_TRAIT_ISOLATED)) {
        table inner = {0};
        for (int i = 0; i < op->nregions; i++) cse_region(&inner, &op->regions[i]);
        free(inner.buckets);
        free(inner.entries);
      } else {
        for (int i = 0; i < op->nregions; i++) cse_region(t, &op->regions[i]);
      }
      continue;
    }
    if (!candidate(op)) continue;
    uint64_t h = op_hash(op);
    tm_op *prev = table_find(t, op, h);
    if (!prev) {
      table_push(t, op, h);
      continue;
    }
    for (int i = 0; i < op->nresults; i++) tm_value_replace_all_uses(&op->results[i], &prev->results[i]);
    tm_op_erase(op);
  }
}

/* Blocks have no successors in tinyml IR, so no block dominates another: each sees
 * only its own ops and those of the enclosing blocks. */
static void cse_region(table *t, tm_region *r) {
  for (tm_block *b = r->first; b; b = b->next) {
    int mark = t->n;
    cse_block(t, b);
    table_pop_to(t, mark);
  }
}

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  (void)ctx;
  (void)opts;
  table t = {0};
  for (int i = 0; i < root->nregions; i++) cse_region(&t, &root->regions[i]);
  free(t.buckets);
  free(t.entries);
  return 0;
}

TM_REGISTER_PASS(cse, "cse", "Eliminate common sub-expressions among pure ops", run);
