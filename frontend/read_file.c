/* frontend/read_file.c — whole files (or stdin) into the context's arena. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

const char *tm_read_file(tm_ctx *ctx, const char *path, size_t *len) {
  bool is_stdin = !path || strcmp(path, "-") == 0;
  const char *name = is_stdin ? "<stdin>" : path;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    tm_error(ctx, tm_loc_name(ctx, name, NULL), "cannot open input file: %s", strerror(errno));
    return NULL;
  }
  /* Grown with realloc (the size of stdin is unknown), then copied into the arena. */
  size_t n = 0, cap = 1 << 16;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    char *nb = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
    if (!nb) free(buf);
    buf = nb;
    cap *= 2;
  }
  const char *failure = !buf ? "out of memory" : ferror(f) ? strerror(errno) : NULL;
  if (!is_stdin) fclose(f);
  if (failure) {
    free(buf);
    tm_error(ctx, tm_loc_name(ctx, name, NULL), "cannot read input file: %s", failure);
    return NULL;
  }
  char *text = tm_arena_alloc(tm_ctx_arena(ctx), n + 1, 1);
  memcpy(text, buf, n);
  free(buf);
  if (len) *len = n;
  return text;
}
