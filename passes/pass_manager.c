/* passes/pass_manager.c — the pass registry, option values, textual pipelines (parse,
 * print, run with verify-each / IR dumps) and the timing report. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "passes/passes.h"

/* ---------------------------------------------------------------- registry -------- */
static const tm_pass_info *const registry[] = {
#define PASS(ident) &tm_pass_##ident,
#include "passes/passes.def"
#undef PASS
};

int tm_pass_count(void) { return (int)TM_COUNTOF(registry); }

const tm_pass_info *tm_pass_at(int i) {
  return i >= 0 && i < tm_pass_count() ? registry[i] : NULL;
}

const tm_pass_info *tm_pass_lookup(const char *arg, size_t len) {
  for (size_t i = 0; i < TM_COUNTOF(registry); i++)
    if (strlen(registry[i]->arg) == len && memcmp(registry[i]->arg, arg, len) == 0) return registry[i];
  return NULL;
}

const char *tm_pass_display_name(tm_ctx *ctx, const tm_pass_info *pass) {
  size_t n = strlen(pass->arg);
  char *s = tm_arena_alloc(tm_ctx_arena(ctx), n + 1, 1);
  size_t k = 0;
  bool up = true;
  for (size_t i = 0; i < n; i++) {
    char c = pass->arg[i];
    if (c == '-' || c == '_') {
      up = true;
      continue;
    }
    s[k++] = up ? (char)toupper((unsigned char)c) : c;
    up = false;
  }
  return s;
}

const char *tm_opt_kind_name(tm_opt_kind k) {
  switch (k) {
  case TM_OPT_BOOL: return "<bool>";
  case TM_OPT_INT: return "<int>";
  case TM_OPT_FLOAT: return "<float>";
  case TM_OPT_STRING: return "<string>";
  case TM_OPT_INT_LIST: return "<int,...>";
  }
  return "<?>";
}

/* ----------------------------------------------------------------- options -------- */
typedef struct opt_value {
  bool b;
  int64_t i;
  double f;
  const char *s;
  const int64_t *list;
  int n;
} opt_value;

struct tm_pass_options {
  const tm_pass_info *pass;
  opt_value *values; /* one per pass->options[] */
};

static const opt_value *opt_get(const tm_pass_options *o, const char *name, tm_opt_kind kind) {
  if (!o || !name) return NULL;
  for (int i = 0; i < o->pass->noptions; i++)
    if (strcmp(o->pass->options[i].name, name) == 0)
      return o->pass->options[i].kind == kind ? &o->values[i] : NULL;
  return NULL;
}

bool tm_pass_opt_bool(const tm_pass_options *o, const char *name) {
  const opt_value *v = opt_get(o, name, TM_OPT_BOOL);
  return v && v->b;
}

int64_t tm_pass_opt_int(const tm_pass_options *o, const char *name) {
  const opt_value *v = opt_get(o, name, TM_OPT_INT);
  return v ? v->i : 0;
}

double tm_pass_opt_float(const tm_pass_options *o, const char *name) {
  const opt_value *v = opt_get(o, name, TM_OPT_FLOAT);
  return v ? v->f : 0.0;
}

const char *tm_pass_opt_str(const tm_pass_options *o, const char *name) {
  const opt_value *v = opt_get(o, name, TM_OPT_STRING);
  return v && v->s ? v->s : "";
}

const int64_t *tm_pass_opt_int_list(const tm_pass_options *o, const char *name, int *n) {
  const opt_value *v = opt_get(o, name, TM_OPT_INT_LIST);
  if (n) *n = v ? v->n : 0;
  return v ? v->list : NULL;
}

static bool parse_int(const char *s, size_t n, int64_t *out) {
  char buf[32];
  if (n == 0 || n >= sizeof buf) return false;
  memcpy(buf, s, n);
  buf[n] = 0;
  if (isspace((unsigned char)buf[0])) return false;
  char *end;
  errno = 0;
  long long v = strtoll(buf, &end, 0);
  if (errno || *end) return false;
  *out = v;
  return true;
}

static bool in_range(const tm_pass_option *o, int64_t v) { return o->min >= o->max || (v >= o->min && v <= o->max); }

static const char *range_text(tm_ctx *ctx, const tm_pass_option *o) {
  if (o->max == INT64_MAX) return tm_arena_printf(ctx, ">= %lld", (long long)o->min);
  return tm_arena_printf(ctx, "in [%lld, %lld]", (long long)o->min, (long long)o->max);
}

/* Parses one value of option o; returns NULL, or why the text is not a valid value. */
static const char *parse_value(tm_ctx *ctx, const tm_pass_option *o, const char *s, size_t n, opt_value *out) {
  switch (o->kind) {
  case TM_OPT_BOOL:
    if ((n == 4 && !memcmp(s, "true", 4)) || (n == 1 && s[0] == '1')) out->b = true;
    else if ((n == 5 && !memcmp(s, "false", 5)) || (n == 1 && s[0] == '0')) out->b = false;
    else return "expected 'true' or 'false'";
    return NULL;
  case TM_OPT_INT:
    if (!parse_int(s, n, &out->i)) return "expected an integer";
    if (!in_range(o, out->i))
      return tm_arena_printf(ctx, "expected an integer %s", range_text(ctx, o));
    return NULL;
  case TM_OPT_FLOAT: {
    char buf[64];
    if (n == 0 || n >= sizeof buf || isspace((unsigned char)s[0])) return "expected a number";
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    out->f = strtod(buf, &end);
    if (*end || !isfinite(out->f)) return "expected a number";
    if (o->min < o->max && (out->f < (double)o->min || out->f > (double)o->max))
      return tm_arena_printf(ctx, "expected a number %s", range_text(ctx, o));
    return NULL;
  }
  case TM_OPT_STRING: out->s = tm_intern(ctx, s, n); return NULL;
  case TM_OPT_INT_LIST: {
    int count = n ? 1 : 0;
    for (size_t i = 0; i < n; i++) count += s[i] == ',';
    int64_t *list = TM_NEW_ARRAY(tm_ctx_arena(ctx), int64_t, count ? count : 1);
    size_t b = 0;
    for (int k = 0; k < count; k++) {
      size_t e = b;
      while (e < n && s[e] != ',') e++;
      if (!parse_int(s + b, e - b, &list[k])) return "expected a comma-separated list of integers";
      if (!in_range(o, list[k]))
        return tm_arena_printf(ctx, "expected integers %s", range_text(ctx, o));
      b = e + 1;
    }
    out->list = list;
    out->n = count;
    return NULL;
  }
  }
  return "unknown option kind";
}

/* Options with every default filled in.  A default that does not parse is a bug in the
 * pass; it is reported like bad input so it cannot go unnoticed. */
static tm_pass_options *options_new(tm_ctx *ctx, const tm_pass_info *pass) {
  tm_pass_options *o = TM_NEW(tm_ctx_arena(ctx), tm_pass_options);
  o->pass = pass;
  o->values = TM_NEW_ARRAY(tm_ctx_arena(ctx), opt_value, pass->noptions ? pass->noptions : 1);
  for (int i = 0; i < pass->noptions; i++) {
    const tm_pass_option *d = &pass->options[i];
    if (!d->default_value) continue;
    const char *why = parse_value(ctx, d, d->default_value, strlen(d->default_value), &o->values[i]);
    if (why)
      tm_error(ctx, tm_loc_unknown(ctx), "invalid default '%s' for option '%s' of pass '%s': %s",
               d->default_value, d->name, pass->arg, why);
  }
  return o;
}

/* ---------------------------------------------------------------- pipelines ------- */
typedef struct pipe_elem {
  const tm_pass_info *pass; /* a pass with its options ... */
  tm_pass_options *opts;
  const char *anchor;       /* ... or a pipeline nested on ops of this name ("any": all) */
  tm_pipeline *nested;
  struct pipe_elem *next;
} pipe_elem;

struct tm_pipeline {
  tm_ctx *ctx;
  const char *anchor; /* the root's op name if anchored, else NULL */
  pipe_elem *first, *last;
};

tm_pipeline *tm_pipeline_new(tm_ctx *ctx) {
  tm_pipeline *p = TM_NEW(tm_ctx_arena(ctx), tm_pipeline);
  p->ctx = ctx;
  return p;
}

static pipe_elem *append(tm_pipeline *p) {
  pipe_elem *e = TM_NEW(tm_ctx_arena(p->ctx), pipe_elem);
  if (p->last) p->last->next = e;
  else p->first = e;
  p->last = e;
  return e;
}

/* The pipeline text being parsed; errors point at a column of it. */
typedef struct cursor {
  tm_ctx *ctx;
  const char *source; /* location file name */
  const char *text;
  size_t len, pos;
  int depth;
} cursor;

#define MAX_PIPELINE_DEPTH 32

static __attribute__((format(printf, 3, 4))) int cerr(cursor *c, size_t pos, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int col = pos > (size_t)INT32_MAX - 1 ? INT32_MAX : (int)pos + 1;
  tm_emitv(c->ctx, TM_DIAG_ERROR, tm_loc_file(c->ctx, c->source, 1, col), fmt, ap);
  va_end(ap);
  return -1;
}

static int peek(const cursor *c) { return c->pos < c->len ? (unsigned char)c->text[c->pos] : -1; }

static void skip_ws(cursor *c) {
  while (c->pos < c->len && isspace((unsigned char)c->text[c->pos])) c->pos++;
}

static bool is_name_char(int ch) { return ch > 0 && (isalnum(ch) || ch == '-' || ch == '_' || ch == '.'); }

static const char *options_list(tm_ctx *ctx, const tm_pass_info *pass) {
  const char *s = "";
  for (int i = 0; i < pass->noptions; i++) s = tm_arena_printf(ctx, "%s%s%s", s, i ? ", " : "", pass->options[i].name);
  return s;
}

/* One option value: up to whitespace or the closing '}' (end of text when close < 0);
 * quotes and nested brackets may hold either.  Sets [*b, *e) without the quotes. */
static int scan_value(cursor *c, int close, size_t *b, size_t *e) {
  size_t start = c->pos;
  int ch = peek(c);
  if (ch == '"' || ch == '\'') {
    c->pos++;
    while (c->pos < c->len && c->text[c->pos] != ch) c->pos++;
    if (c->pos >= c->len) return cerr(c, start, "unterminated quoted option value");
    *b = start + 1;
    *e = c->pos++;
    return 0;
  }
  int nest = 0;
  for (; c->pos < c->len; c->pos++) {
    int k = (unsigned char)c->text[c->pos];
    if (nest == 0 && (isspace(k) || k == close)) break;
    if (k == '{' || k == '[' || k == '(') nest++;
    else if (k == '}' || k == ']' || k == ')') {
      if (nest == 0) return cerr(c, c->pos, "unbalanced '%c' in option value", k);
      nest--;
    }
  }
  if (nest) return cerr(c, start, "unbalanced brackets in option value");
  *b = start;
  *e = c->pos;
  return 0;
}

/* key[=value] ... up to `close` ('}'), or to the end of the text when close < 0. */
static int parse_options(cursor *c, tm_pass_options *o, int close, size_t open_pos) {
  const tm_pass_info *pass = o->pass;
  for (;;) {
    skip_ws(c);
    int ch = peek(c);
    if (ch == close) return 0;
    if (ch < 0) return cerr(c, open_pos, "missing '}' closing the options of pass '%s'", pass->arg);
    size_t kb = c->pos;
    while (c->pos < c->len && c->text[c->pos] != '=' && c->text[c->pos] != close &&
           !isspace((unsigned char)c->text[c->pos]))
      c->pos++;
    size_t kn = c->pos - kb;
    if (kn == 0) return cerr(c, kb, "expected an option name");
    int idx = -1;
    for (int i = 0; i < pass->noptions; i++)
      if (strlen(pass->options[i].name) == kn && !memcmp(pass->options[i].name, c->text + kb, kn)) idx = i;
    if (idx < 0) {
      if (!pass->noptions)
        return cerr(c, kb, "pass '%s' has no options (got '%.*s')", pass->arg, (int)kn, c->text + kb);
      return cerr(c, kb, "unknown option '%.*s' for pass '%s'; valid options: %s", (int)kn, c->text + kb,
                  pass->arg, options_list(c->ctx, pass));
    }
    const tm_pass_option *d = &pass->options[idx];
    if (peek(c) != '=') {
      if (d->kind != TM_OPT_BOOL)
        return cerr(c, kb, "option '%s' of pass '%s' needs a value: %s=%s", d->name, pass->arg, d->name,
                    tm_opt_kind_name(d->kind));
      o->values[idx].b = true; /* a bare bool means true */
      continue;
    }
    c->pos++;
    size_t vb = 0, ve = 0;
    if (scan_value(c, close, &vb, &ve)) return -1;
    const char *why = parse_value(c->ctx, d, c->text + vb, ve - vb, &o->values[idx]);
    if (why)
      return cerr(c, vb, "invalid value '%.*s' for option '%s' of pass '%s': %s", (int)(ve - vb), c->text + vb,
                  d->name, pass->arg, why);
  }
}

tm_pass_options *tm_pass_options_parse(tm_ctx *ctx, const tm_pass_info *pass, const char *text, const char *source) {
  size_t len = strlen(text);
  tm_ctx_add_source(ctx, source, text, len);
  cursor c = {.ctx = ctx, .source = source, .text = text, .len = len};
  tm_pass_options *o = options_new(ctx, pass);
  return parse_options(&c, o, -1, 0) ? NULL : o;
}

static int parse_list(cursor *c, tm_pipeline *p, int close);

/* name | name{options} | op.name(pipeline) */
static int parse_element(cursor *c, tm_pipeline *p) {
  skip_ws(c);
  size_t nb = c->pos;
  while (is_name_char(peek(c))) c->pos++;
  size_t nn = c->pos - nb;
  if (nn == 0) {
    if (peek(c) < 0) return cerr(c, nb, "expected a pass name at the end of the pipeline");
    return cerr(c, nb, "expected a pass name, got '%c'", peek(c));
  }
  skip_ws(c);
  if (peek(c) == '(') {
    size_t open = c->pos++;
    if (++c->depth > MAX_PIPELINE_DEPTH) return cerr(c, open, "pipeline nested too deeply");
    pipe_elem *e = append(p);
    e->anchor = tm_intern(c->ctx, c->text + nb, nn);
    e->nested = tm_pipeline_new(c->ctx);
    e->nested->anchor = e->anchor;
    if (parse_list(c, e->nested, ')')) return -1;
    if (peek(c) != ')') return cerr(c, open, "missing ')' closing '%.*s('", (int)nn, c->text + nb);
    c->pos++;
    c->depth--;
    return 0;
  }
  const tm_pass_info *pass = tm_pass_lookup(c->text + nb, nn);
  if (!pass)
    return cerr(c, nb, "'%.*s' does not refer to a registered pass (see --list-passes)", (int)nn, c->text + nb);
  pipe_elem *e = append(p);
  e->pass = pass;
  e->opts = options_new(c->ctx, pass);
  if (peek(c) == '{') {
    size_t open = c->pos++;
    if (parse_options(c, e->opts, '}', open)) return -1;
    c->pos++;
  }
  return 0;
}

static int parse_list(cursor *c, tm_pipeline *p, int close) {
  skip_ws(c);
  if (peek(c) == close) return 0; /* empty: "func.func()" */
  for (;;) {
    if (parse_element(c, p)) return -1;
    skip_ws(c);
    if (peek(c) != ',') break;
    c->pos++;
  }
  int ch = peek(c);
  if (ch == close || ch < 0) return 0; /* at the end inside '(': the caller points at it */
  if (ch == ')' || ch == '}') return cerr(c, c->pos, "unbalanced '%c'", ch);
  return cerr(c, c->pos, "expected ',' between passes, got '%c'", ch);
}

int tm_pipeline_parse(tm_pipeline *p, const char *text, const char *source) {
  size_t len = strlen(text);
  tm_ctx_add_source(p->ctx, source, text, len);
  cursor c = {.ctx = p->ctx, .source = source, .text = text, .len = len};
  tm_pipeline *tmp = tm_pipeline_new(p->ctx);
  if (parse_list(&c, tmp, -1)) return -1;
  /* A lone top-level `op.name(...)` anchors the whole pipeline, as in MLIR. */
  if (tmp->first && tmp->first == tmp->last && tmp->first->nested) {
    pipe_elem *only = tmp->first;
    if (p->anchor && p->anchor != only->anchor)
      return cerr(&c, 0, "pipeline anchored on '%s' cannot be combined with one anchored on '%s'",
                  only->anchor, p->anchor);
    p->anchor = only->anchor;
    tmp = only->nested;
  }
  for (pipe_elem *e = tmp->first; e; e = e->next) *append(p) = (pipe_elem){e->pass, e->opts, e->anchor, e->nested, NULL};
  return 0;
}

int tm_pipeline_parse_flag(tm_pipeline *p, const char *flag) {
  size_t len = strlen(flag);
  size_t nb = 0;
  while (nb < 2 && flag[nb] == '-') nb++;
  size_t ne = nb;
  while (ne < len && flag[ne] != '=') ne++;
  const char *source = tm_intern(p->ctx, flag, ne);
  tm_ctx_add_source(p->ctx, source, flag, len);
  cursor c = {.ctx = p->ctx, .source = source, .text = flag, .len = len, .pos = ne};
  const tm_pass_info *pass = tm_pass_lookup(flag + nb, ne - nb);
  if (!pass) return cerr(&c, nb, "'%.*s' does not refer to a registered pass", (int)(ne - nb), flag + nb);
  tm_pass_options *opts = options_new(p->ctx, pass);
  if (ne < len) {
    c.pos++; /* '=' */
    skip_ws(&c);
    if (peek(&c) == '{') { /* --pass={opts}, as MLIR prints it */
      size_t open = c.pos++;
      if (parse_options(&c, opts, '}', open)) return -1;
      c.pos++;
      skip_ws(&c);
      if (c.pos < c.len) return cerr(&c, c.pos, "unexpected text after '}'");
    } else if (parse_options(&c, opts, -1, ne)) {
      return -1;
    }
  }
  pipe_elem *e = append(p);
  e->pass = pass;
  e->opts = opts;
  return 0;
}

static void print_value(const tm_pass_option *d, const opt_value *v, FILE *f) {
  switch (d->kind) {
  case TM_OPT_BOOL: fputs(v->b ? "true" : "false", f); break;
  case TM_OPT_INT: fprintf(f, "%lld", (long long)v->i); break;
  case TM_OPT_FLOAT: fprintf(f, "%.17g", v->f); break;
  case TM_OPT_STRING: {
    const char *s = v->s ? v->s : "";
    bool quote = !*s || strpbrk(s, " \t\n{}[](),'\"") != NULL;
    fprintf(f, quote ? "\"%s\"" : "%s", s);
    break;
  }
  case TM_OPT_INT_LIST:
    for (int i = 0; i < v->n; i++) fprintf(f, "%s%lld", i ? "," : "", (long long)v->list[i]);
    break;
  }
}

static void print_list(const tm_pipeline *p, FILE *f) {
  for (const pipe_elem *e = p->first; e; e = e->next) {
    if (e != p->first) fputc(',', f);
    if (e->nested) {
      fprintf(f, "%s(", e->anchor);
      print_list(e->nested, f);
      fputc(')', f);
      continue;
    }
    fputs(e->pass->arg, f);
    if (!e->pass->noptions) continue;
    fputc('{', f);
    for (int i = 0; i < e->pass->noptions; i++) {
      fprintf(f, "%s%s=", i ? " " : "", e->pass->options[i].name);
      print_value(&e->pass->options[i], &e->opts->values[i], f);
    }
    fputc('}', f);
  }
}

void tm_pipeline_print(const tm_pipeline *p, void *stdio_file) {
  FILE *f = stdio_file ? stdio_file : stdout;
  if (p->anchor) fprintf(f, "%s(", p->anchor);
  print_list(p, f);
  if (p->anchor) fputc(')', f);
  fputc('\n', f);
}

/* ------------------------------------------------------------------ timing -------- */
struct tm_timer {
  tm_ctx *ctx;
  const char *name;
  double total, started;
  int running; /* nesting depth of start/stop pairs; only the outermost counts */
  tm_timer *parent, *first, *last, *next;
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

tm_timer *tm_timing_new(tm_ctx *ctx) {
  tm_timer *t = TM_NEW(tm_ctx_arena(ctx), tm_timer);
  t->ctx = ctx;
  t->name = "Total";
  t->started = now_seconds();
  return t;
}

tm_timer *tm_timer_child(tm_timer *parent, const char *name) {
  for (tm_timer *c = parent->first; c; c = c->next)
    if (strcmp(c->name, name) == 0) return c;
  tm_timer *c = TM_NEW(tm_ctx_arena(parent->ctx), tm_timer);
  c->ctx = parent->ctx;
  c->name = tm_intern_cstr(parent->ctx, name);
  c->parent = parent;
  if (parent->last) parent->last->next = c;
  else parent->first = c;
  parent->last = c;
  return c;
}

void tm_timer_start(tm_timer *t) {
  if (t && t->running++ == 0) t->started = now_seconds();
}

void tm_timer_stop(tm_timer *t) {
  if (t && t->running > 0 && --t->running == 0) t->total += now_seconds() - t->started;
}

static void timing_row(FILE *f, double secs, double total, int indent, const char *name) {
  fprintf(f, "  %8.4f (%5.1f%%)  %*s%s\n", secs, total > 0 ? 100.0 * secs / total : 100.0, 2 * indent, "", name);
}

static void timing_rows(FILE *f, const tm_timer *t, double total, int indent) {
  for (const tm_timer *c = t->first; c; c = c->next) {
    timing_row(f, c->total, total, indent, c->name);
    timing_rows(f, c, total, indent + 1);
  }
}

void tm_timing_print(tm_timer *root, void *stdio_file) {
  FILE *f = stdio_file ? stdio_file : stderr;
  double total = now_seconds() - root->started, rest = total;
  for (const tm_timer *c = root->first; c; c = c->next) rest -= c->total;
  const char *rule = "===-------------------------------------------------------------------------===\n";
  fprintf(f, "%s                         ... Execution time report ...\n%s", rule, rule);
  fprintf(f, "  Total Execution Time: %.4f seconds\n\n", total);
  fputs("  ----Wall Time----  ----Name----\n", f);
  timing_rows(f, root, total, 0);
  timing_row(f, rest > 0 ? rest : 0, total, 0, "Rest");
  timing_row(f, total, total, 0, "Total");
}

/* ----------------------------------------------------------------- running -------- */
static bool listed(const char *list, const char *arg) {
  size_t n = strlen(arg);
  for (const char *s = list; s && *s;) {
    const char *e = strchr(s, ',');
    size_t k = e ? (size_t)(e - s) : strlen(s);
    if (k == n && !memcmp(s, arg, n)) return true;
    s = e ? e + 1 : NULL;
  }
  return false;
}

/* The banner mlir-opt prints: "IR Dump After CSE (cse)", "IR Dump After CSE Failed (cse)". */
static void dump(tm_ctx *ctx, const tm_pass_run_config *cfg, const char *when, const tm_pass_info *pass,
                 bool failed, const tm_op *root) {
  FILE *f = cfg->dump_file ? cfg->dump_file : stderr;
  fprintf(f, "// -----// IR Dump %s %s%s (%s) //----- //\n", when, tm_pass_display_name(ctx, pass),
          failed ? " Failed" : "", pass->arg);
  tm_print_op(ctx, root, &cfg->print_flags, f);
  fputc('\n', f);
  fflush(f);
}

static int run_pass(tm_ctx *ctx, const pipe_elem *e, tm_op *root, const tm_pass_run_config *cfg, tm_timer *parent) {
  const tm_pass_info *pass = e->pass;
  if (cfg->print_before_all || listed(cfg->print_before, pass->arg)) dump(ctx, cfg, "Before", pass, false, root);
  tm_timer *t = parent ? tm_timer_child(parent, tm_pass_display_name(ctx, pass)) : NULL;
  int errors = tm_ctx_error_count(ctx);
  tm_timer_start(t);
  int rc = pass->run(ctx, root, e->opts);
  tm_timer_stop(t);
  if (rc == 0 && cfg->verify_each && tm_verify(ctx, root) != 0) {
    tm_error(ctx, root->loc, "verification failed after pass '%s'", pass->arg);
    rc = -1;
  } else if (rc != 0 && tm_ctx_error_count(ctx) == errors) {
    tm_error(ctx, root->loc, "pass '%s' failed", pass->arg);
  }
  if (cfg->print_after_all || listed(cfg->print_after, pass->arg))
    dump(ctx, cfg, "After", pass, rc != 0, root);
  return rc ? -1 : 0;
}

static int run_list(tm_ctx *ctx, const tm_pipeline *p, tm_op *root, const tm_pass_run_config *cfg, tm_timer *parent) {
  for (const pipe_elem *e = p->first; e; e = e->next) {
    if (e->pass) {
      if (run_pass(ctx, e, root, cfg, parent)) return -1;
      continue;
    }
    tm_timer *t = parent ? tm_timer_child(parent, tm_arena_printf(ctx, "'%s' Pipeline", e->anchor)) : NULL;
    bool any = strcmp(e->anchor, "any") == 0;
    tm_timer_start(t);
    int rc = 0;
    for (int r = 0; r < root->nregions && !rc; r++)
      for (tm_block *b = root->regions[r].first; b && !rc; b = b->next)
        TM_FOREACH_OP(op, b) {
          if (!any && strcmp(op->name, e->anchor) != 0) continue;
          /* As in MLIR, passes run only on ops whose regions see nothing from outside. */
          if (!tm_op_has_trait(op, TM_TRAIT_ISOLATED)) {
            if (any) continue;
            tm_error(ctx, op->loc, "cannot run the '%s' pipeline on an op that is not isolated from above", e->anchor);
            rc = -1;
          }
          if (rc || run_list(ctx, e->nested, op, cfg, t)) {
            rc = -1;
            break;
          }
        }
    tm_timer_stop(t);
    if (rc) return -1;
    /* Nested passes must not break what lies outside their op (a changed signature
     * and its callers): as in MLIR, the root is verified after the nested pipeline. */
    if (cfg->verify_each && tm_verify(ctx, root) != 0) {
      tm_error(ctx, root->loc, "verification failed after the '%s' pipeline", e->anchor);
      return -1;
    }
  }
  return 0;
}

int tm_pass_each_func(tm_ctx *ctx, tm_op *root, tm_func_pass_fn fn, const tm_pass_options *opts) {
  if (tm_op_is(root, "func.func")) return fn(ctx, root, opts);
  for (tm_block *b = root->nregions ? root->regions[0].first : NULL; b; b = b->next)
    TM_FOREACH_OP(op, b)
      if (tm_op_is(op, "func.func") && fn(ctx, op, opts)) return -1;
  return 0;
}

int tm_pipeline_run(tm_pipeline *p, tm_op *root, const tm_pass_run_config *cfg) {
  static const tm_pass_run_config defaults = {.verify_each = true};
  if (!cfg) cfg = &defaults;
  if (p->anchor && strcmp(p->anchor, "any") != 0 && strcmp(p->anchor, root->name) != 0) {
    tm_error(p->ctx, root->loc, "pipeline anchored on '%s' cannot run on '%s'", p->anchor, root->name);
    return -1;
  }
  return run_list(p->ctx, p, root, cfg, cfg->timer);
}
