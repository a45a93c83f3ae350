/* frontend/verify_diagnostics.c — --verify-diagnostics, as mlir-opt does it.
 *
 * A line holds at most one directive:
 *   expected-(error|warning|note|remark)[@+N|@-N|@above|@below|@unknown] {{text}}
 * The text (between the first "{{" and the last "}}" of the line) must occur in the
 * diagnostic's message; MLIR's {{regex}} pieces inside it are not interpreted.  With
 * no designator the diagnostic is expected on the directive's own line; @above and
 * @below mean the nearest line above / below that holds no directive. */
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

typedef struct expectation {
  tm_diag_severity sev;
  int line;     /* expected line in the file; 0 while an @below waits for its line */
  bool unknown; /* @unknown: a diagnostic without a file location */
  const char *text;
  size_t len;
  int at_line, at_col; /* the directive itself */
  bool malformed;
  bool matched;
} expectation;

typedef struct unexpected {
  tm_diag_severity sev;
  const tm_loc *loc;
  const char *message;
} unexpected;

struct tm_diag_verifier {
  tm_ctx *ctx;
  const char *file; /* interned */
  expectation *exp;
  int nexp, exp_cap;
  unexpected *unexp;
  int nunexp, unexp_cap;
};

static const char *const severities[] = {"note", "remark", "warning", "error"}; /* tm_diag_severity order */

static void *grow(tm_ctx *ctx, void *old, int n, int *cap, size_t size) {
  if (n < *cap) return old;
  int ncap = *cap ? *cap * 2 : 8;
  void *p = tm_arena_alloc(tm_ctx_arena(ctx), (size_t)ncap * size, 8);
  if (n) memcpy(p, old, (size_t)n * size);
  *cap = ncap;
  return p;
}

static bool starts(const char *p, const char *end, const char *s) {
  size_t n = strlen(s);
  return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

static const char *find_n(const char *p, const char *end, const char *s, size_t n) {
  for (; (size_t)(end - p) >= n; p++)
    if (memcmp(p, s, n) == 0) return p;
  return NULL;
}

static const char *find(const char *p, const char *end, const char *s) { return find_n(p, end, s, strlen(s)); }

static const char *find_last(const char *p, const char *end, const char *s) {
  size_t n = strlen(s);
  for (const char *q = end - n; q >= p; q--)
    if (memcmp(q, s, n) == 0) return q;
  return NULL;
}

typedef enum { PARSED, NONE, MALFORMED } directive_status;

/* Parses the directive on [p, end) if there is one; line is its line in the file. */
static directive_status parse_line(const char *p, const char *end, int line, expectation *e, int *offset) {
  const char *d = find(p, end, "expected-");
  if (!d) return NONE;
  const char *q = d + strlen("expected-");
  int sev = -1;
  for (int s = 0; s < (int)TM_COUNTOF(severities); s++)
    if (starts(q, end, severities[s])) sev = s;
  if (sev < 0) return NONE;
  q += strlen(severities[sev]);
  memset(e, 0, sizeof *e);
  e->sev = (tm_diag_severity)sev;
  e->line = line;
  e->at_line = line;
  e->at_col = (int)(d - p) + 1;
  *offset = 0;
  if (q < end && *q == '@') {
    q++;
    if (starts(q, end, "above")) *offset = -1, q += 5, e->line = 0;
    else if (starts(q, end, "below")) *offset = 1, q += 5, e->line = 0;
    else if (starts(q, end, "unknown")) e->unknown = true, q += 7;
    else if (q < end && (*q == '+' || *q == '-')) {
      bool minus = *q++ == '-';
      long n = 0;
      if (q >= end || *q < '0' || *q > '9') return MALFORMED;
      while (q < end && *q >= '0' && *q <= '9' && n < 1000000) n = n * 10 + (*q++ - '0');
      e->line = minus ? line - (int)n : line + (int)n;
    } else {
      return MALFORMED;
    }
  }
  while (q < end && *q == ' ') q++;
  if (!starts(q, end, "{{")) return MALFORMED;
  const char *close = find_last(q + 2, end, "}}");
  if (!close) return MALFORMED;
  e->text = q + 2;
  e->len = (size_t)(close - (q + 2));
  return PARSED;
}

static void handler(tm_ctx *ctx, const tm_diag *d, void *user) {
  (void)ctx;
  tm_diag_verifier *v = user;
  const tm_loc *fl = tm_loc_find_file(d->loc);
  bool in_file = fl && strcmp(fl->file, v->file) == 0;
  for (int i = 0; i < v->nexp; i++) {
    expectation *e = &v->exp[i];
    if (e->matched || e->malformed || e->sev != d->severity) continue;
    if (e->unknown ? fl != NULL : !in_file || fl->line != e->line) continue;
    if (!find_n(d->message, d->message + strlen(d->message), e->text, e->len)) continue;
    e->matched = true;
    return;
  }
  v->unexp = grow(ctx, v->unexp, v->nunexp, &v->unexp_cap, sizeof(unexpected));
  v->unexp[v->nunexp++] = (unexpected){d->severity, d->loc, d->message};
}

tm_diag_verifier *tm_diag_verifier_begin(tm_ctx *ctx, const char *filename, const tm_source_chunk *chunk) {
  tm_diag_verifier *v = TM_NEW(tm_ctx_arena(ctx), tm_diag_verifier);
  v->ctx = ctx;
  v->file = tm_intern_cstr(ctx, filename ? filename : "<input>");
  const char *p = chunk ? chunk->text : NULL, *end = p ? p + chunk->len : NULL;
  int line = chunk && chunk->first_line > 0 ? chunk->first_line : 1;
  int last_plain = 0; /* last line without a directive */
  int *waiting = NULL, nwaiting = 0, waiting_cap = 0; /* @below directives */
  for (const char *next; p && p < end; p = next, line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    next = nl ? nl + 1 : end;
    expectation e;
    int offset;
    directive_status st = parse_line(p, eol, line, &e, &offset);
    if (st == NONE) {
      for (int i = 0; i < nwaiting; i++) v->exp[waiting[i]].line = line;
      nwaiting = 0;
      last_plain = line;
      continue;
    }
    if (st == MALFORMED) {
      memset(&e, 0, sizeof e);
      e.malformed = true;
      e.at_line = line;
      e.at_col = (int)(find(p, eol, "expected-") - p) + 1;
    } else if (offset < 0) {
      e.line = last_plain;
    } else if (offset > 0) {
      waiting = grow(ctx, waiting, nwaiting, &waiting_cap, sizeof(int));
      waiting[nwaiting++] = v->nexp;
    }
    v->exp = grow(ctx, v->exp, v->nexp, &v->exp_cap, sizeof(expectation));
    v->exp[v->nexp++] = e;
  }
  tm_diag_set_handler(ctx, handler, v);
  return v;
}

int tm_diag_verifier_finish(tm_diag_verifier *v) {
  tm_ctx *ctx = v->ctx;
  /* There is no way to ask for the previous handler: the default one prints. */
  tm_diag_set_handler(ctx, NULL, NULL);
  int failures = 0;
  for (int i = 0; i < v->nunexp; i++, failures++)
    tm_error(ctx, v->unexp[i].loc, "unexpected %s: %s", severities[v->unexp[i].sev], v->unexp[i].message);
  for (int i = 0; i < v->nexp; i++) {
    const expectation *e = &v->exp[i];
    if (e->matched) continue;
    failures++;
    const tm_loc *at = tm_loc_file(ctx, v->file, e->at_line, e->at_col);
    if (e->malformed)
      tm_error(ctx, at, "malformed directive: use expected-<severity>[@+N|@-N|@above|@below|@unknown] {{text}}");
    else if (!e->line && !e->unknown)
      tm_error(ctx, at, "expected-%s directive has no line to apply to", severities[e->sev]);
    else
      tm_error(ctx, at, "expected %s \"%.*s\" was not produced", severities[e->sev], (int)e->len, e->text);
  }
  return failures ? -1 : 0;
}
