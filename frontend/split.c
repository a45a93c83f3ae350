/* frontend/split.c — --split-input-file: chunks between lines that are exactly
 * "// -----" (a trailing '\r' is ignored), each knowing its first line in the file. */
#include <string.h>

#include "frontend/frontend.h"

static const char marker[] = "// -----";

/* Length of the line starting at p without its newline (and a '\r' before it). */
static size_t line_len(const char *p, const char *end, const char **next) {
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  const char *e = nl ? nl : end;
  *next = nl ? nl + 1 : end;
  if (e > p && e[-1] == '\r') e--;
  return (size_t)(e - p);
}

static bool is_marker(const char *p, size_t n) { return n == sizeof marker - 1 && memcmp(p, marker, n) == 0; }

int tm_split_input(tm_ctx *ctx, const char *text, size_t len, tm_source_chunk **chunks) {
  if (!text) text = "", len = 0;
  const char *end = text + len, *next;
  int n = 1;
  for (const char *p = text; p < end; p = next)
    if (is_marker(p, line_len(p, end, &next))) n++;
  tm_source_chunk *c = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_source_chunk, n);
  int k = 0, line = 1;
  c[0] = (tm_source_chunk){text, len, 1};
  for (const char *p = text; p < end; p = next, line++) {
    if (!is_marker(p, line_len(p, end, &next))) continue;
    c[k].len = (size_t)(p - c[k].text);
    k++;
    c[k] = (tm_source_chunk){next, (size_t)(end - next), line + 1};
  }
  *chunks = c;
  return n;
}
