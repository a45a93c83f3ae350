/* ir/arena.c — bump allocator backing all IR memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

#define TM_ARENA_CHUNK (64 * 1024)

typedef struct tm_chunk {
  struct tm_chunk *next;
  size_t size, used;
  _Alignas(max_align_t) unsigned char data[];
} tm_chunk;

struct tm_arena {
  tm_chunk *head;
};

static void *xcalloc(size_t n) {
  void *p = calloc(1, n);
  if (!p) { /* Out of memory is not bad input: the one place allowed to abort. */
    fputs("tinyml: out of memory\n", stderr);
    abort();
  }
  return p;
}

tm_arena *tm_arena_new(void) { return xcalloc(sizeof(tm_arena)); }

void tm_arena_free(tm_arena *a) {
  if (!a) return;
  for (tm_chunk *c = a->head, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(a);
}

void *tm_arena_alloc(tm_arena *a, size_t size, size_t align) {
  if (align == 0 || (align & (align - 1))) align = _Alignof(max_align_t);
  if (size == 0) size = 1;
  tm_chunk *c = a->head;
  if (c) {
    size_t off = (c->used + align - 1) & ~(align - 1);
    if (off <= c->size && size <= c->size - off) {
      c->used = off + size;
      return c->data + off; /* chunks are calloc'ed and never reused: already zero */
    }
  }
  if (size > SIZE_MAX - sizeof(tm_chunk) - align) {
    fputs("tinyml: allocation too large\n", stderr);
    abort();
  }
  size_t need = size + align;
  size_t csize = need > TM_ARENA_CHUNK ? need : TM_ARENA_CHUNK;
  tm_chunk *n = xcalloc(sizeof(tm_chunk) + csize);
  n->size = csize;
  uintptr_t base = (uintptr_t)n->data;
  size_t off = ((base + align - 1) & ~(uintptr_t)(align - 1)) - base;
  n->used = off + size;
  /* A big one-off allocation goes behind the current chunk so its free space stays usable. */
  if (c && csize > TM_ARENA_CHUNK) {
    n->next = c->next;
    c->next = n;
  } else {
    n->next = c;
    a->head = n;
  }
  return n->data + off;
}
