/* backends/llvm/emit.c — the LLVM backend's outputs: a planned lowered module through
 * LLVM's optimizer (LLVMRunPasses, "default<O2>" etc.) and code generator for a target of
 * backends/targets.def, written as .ll, .bc, assembly, an ELF object, or a static library
 * (an ar archive of the object, with the symbol table linkers need) — each with the NAME.h
 * of backends/backend.h beside it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Error.h>
#include <llvm-c/Support.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "backends/llvm/llvm_backend.h"

/* The cflags column is for the runtime's C builds (runtime/). */
typedef struct target {
  const char *name, *triple, *cpu, *features, *abi, *float_abi;
  int ptr_bits;
  int dsp;
  const char *qemu, *summary;
} target;

static const target targets[] = {
#define TM_TARGET(name, triple, cpu, features, abi, float_abi, ptr_bits, dsp, gprs, qemu, cflags, summary) \
  {name, triple, cpu, features, abi, float_abi, ptr_bits, dsp, qemu, summary},
#include "backends/targets.def"
#undef TM_TARGET
};

static const target *find_target(const char *name) {
  for (size_t i = 0; i < TM_COUNTOF(targets); i++)
    if (!strcmp(targets[i].name, name)) return &targets[i];
  return NULL;
}

void tm_list_targets(void *stdio_file) {
  FILE *f = stdio_file;
  fprintf(f, "Available targets (--target=NAME):\n");
  fprintf(f, "  %-14s %-28s %-14s %-5s %-11s %s\n", "NAME", "TRIPLE", "CPU", "FLOAT", "QEMU", "DESCRIPTION");
  for (size_t i = 0; i < TM_COUNTOF(targets); i++) {
    const target *t = &targets[i];
    fprintf(f, "  %-14s %-28s %-14s %-5s %-11s %s\n", t->name, t->triple ? t->triple : "(default)",
            t->cpu ? t->cpu : "(native)", t->float_abi, *t->qemu ? t->qemu : "-", t->summary);
  }
}

/* ------------------------------------------------------------ optimization -------- */
static const struct opt_level {
  const char *name, *pipeline;
  LLVMCodeGenOptLevel codegen;
  const char *size_attr;
} levels[] = {
    {"0", "default<O0>", LLVMCodeGenLevelNone, NULL},
    {"1", "default<O1>", LLVMCodeGenLevelLess, NULL},
    {"2", "default<O2>", LLVMCodeGenLevelDefault, NULL},
    {"3", "default<O3>", LLVMCodeGenLevelAggressive, NULL},
    {"s", "default<Os>", LLVMCodeGenLevelDefault, "optsize"},
    {"z", "default<Oz>", LLVMCodeGenLevelDefault, "minsize"},
};

static const struct opt_level *find_level(const char *name) {
  if (name[0] == 'O' && name[1]) name++; /* -O2 spelled O2 */
  for (size_t i = 0; i < TM_COUNTOF(levels); i++)
    if (!strcmp(levels[i].name, name)) return &levels[i];
  return NULL;
}

/* LLVM's ARM, RISC-V and host code generators.  Registering twice is harmless. */
static void init_llvm_targets(void) {
  LLVMInitializeARMTargetInfo();
  LLVMInitializeARMTarget();
  LLVMInitializeARMTargetMC();
  LLVMInitializeARMAsmPrinter();
  LLVMInitializeRISCVTargetInfo();
  LLVMInitializeRISCVTarget();
  LLVMInitializeRISCVTargetMC();
  LLVMInitializeRISCVAsmPrinter();
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
}

/* LLVM's own options (as llc takes them) that tinyml's kernels want, each measured with
 * bench/run.py on every shared model, cortex-m4 and rv32imc (fewer instructions on all 12):
 * loop strength reduction prefers post-incremented pointers (one pointer a stream, so
 * Cortex-M4's int8 inner loops stop spilling: vww -6.7 %, micro_speech -12 %) and widens
 * narrow induction expressions (resnet -1 %); constant hoisting is off, since it kept
 * requantization multipliers in i64 registers and instruction selection then built 64-bit
 * multiplies instead of SMMLAR (ad01 -3 %).  MVE's masked gathers and scatters are off:
 * LLVM 19's MVEGatherScatterLowering turned a gather of 128-byte strides into an
 * incrementing one of 512 (a 4x scale error), past the instruction's +-508, which the
 * object writer encodes as 0: vww_float's first depthwise conv read the wrong pixels on
 * cortex-m55.  LLVM holds options process-wide and reads them once, hence the flag,
 * which guards LLVM's state rather than tinyml's. */
static void set_llvm_options(void) {
  static bool set;
  if (set) return;
  set = true;
  const char *const argv[] = {"tinyml", "-lsr-preferred-addressing-mode=postindexed", "-lsr-exp-narrow",
                              "-disable-constant-hoisting", "-enable-arm-maskedgatscat=false"};
  LLVMParseCommandLineOptions((int)TM_COUNTOF(argv), argv, NULL);
}

/* An LLVM-owned string copied into the context arena. */
static const char *take_message(tm_ctx *ctx, char *msg) {
  const char *s = tm_intern_cstr(ctx, msg ? msg : "");
  LLVMDisposeMessage(msg);
  return s;
}

static LLVMTargetMachineRef create_target_machine(tm_ctx *ctx, const target *tg, const struct opt_level *ol,
                                                  tm_llvm_config *cfg) {
  bool host = !tg->triple;
  /* LLVM reads triples positionally: thumbv7em-none-eabihf must become
   * thumbv7em-unknown-none-eabihf, or its hard-float ABI goes unnoticed */
  cfg->triple = take_message(ctx, LLVMNormalizeTargetTriple(host ? take_message(ctx, LLVMGetDefaultTargetTriple())
                                                                 : tg->triple));
  cfg->cpu = host ? take_message(ctx, LLVMGetHostCPUName()) : tg->cpu;
  cfg->features = host ? take_message(ctx, LLVMGetHostCPUFeatures()) : tg->features;
  cfg->abi = tg->abi;
  cfg->dsp = tg->dsp >= 1;
  cfg->mve = tg->dsp >= 2;
  cfg->size_attr = ol->size_attr;
  LLVMTargetRef lt;
  char *err = NULL;
  if (LLVMGetTargetFromTriple(cfg->triple, &lt, &err)) {
    tm_error(ctx, tm_loc_unknown(ctx), "LLVM has no code generator for '%s': %s", cfg->triple, take_message(ctx, err));
    return NULL;
  }
  LLVMTargetMachineOptionsRef o = LLVMCreateTargetMachineOptions();
  LLVMTargetMachineOptionsSetCPU(o, cfg->cpu);
  LLVMTargetMachineOptionsSetFeatures(o, cfg->features);
  if (cfg->abi) LLVMTargetMachineOptionsSetABI(o, cfg->abi);
  LLVMTargetMachineOptionsSetCodeGenOptLevel(o, ol->codegen);
  /* microcontroller images are linked at fixed addresses; the host's cc links PIE */
  LLVMTargetMachineOptionsSetRelocMode(o, host ? LLVMRelocPIC : LLVMRelocStatic);
  LLVMTargetMachineRef tm = LLVMCreateTargetMachineWithOptions(lt, cfg->triple, o);
  LLVMDisposeTargetMachineOptions(o);
  if (!tm) tm_error(ctx, tm_loc_unknown(ctx), "LLVM cannot create a target machine for '%s'", tg->name);
  return tm;
}

static int run_passes(tm_ctx *ctx, LLVMModuleRef m, LLVMTargetMachineRef tm, const struct opt_level *ol) {
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMErrorRef e = LLVMRunPasses(m, ol->pipeline, tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (!e) return 0;
  char *msg = LLVMGetErrorMessage(e);
  tm_error(ctx, tm_loc_unknown(ctx), "LLVM pipeline '%s' failed: %s", ol->pipeline, msg);
  LLVMDisposeErrorMessage(msg);
  return -1;
}

/* ------------------------------------------------------------------ archive ------- */
typedef struct bytes {
  char *data;
  size_t len;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void put_member_header(bytes *b, const char *name, size_t size, const char *mode) {
  char h[96]; /* 60 bytes: sizes stay below 2^32 (make_archive's caller checks) */
  snprintf(h, sizeof h, "%-16.16s%-12s%-6s%-6s%-8s%-10llu`\n", name, "0", "0", "0", mode, (unsigned long long)size);
  put(b, h, 60);
}

static void put_be32(bytes *b, uint32_t v) {
  unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  put(b, x, 4);
}

/* A GNU ar archive of one object: "!<arch>\n", the symbol table member "/" (big-endian
 * count, member offsets, NUL-terminated names) that linkers search, a "//" long-name
 * table if the member name needs it, then the object.  Members are padded to even size;
 * dates and owners are 0, so the output is reproducible. */
static bytes make_archive(tm_ctx *ctx, const char *member, const char *symbol, const char *obj, size_t objlen) {
  size_t symlen = 8 + strlen(symbol) + 1, symsz = symlen + (symlen & 1);
  bool long_name = strlen(member) + 1 > 16;
  size_t longlen = long_name ? strlen(member) + 2 : 0, longsz = longlen + (longlen & 1);
  size_t obj_at = 8 + 60 + symsz + (long_name ? 60 + longsz : 0);
  bytes b = {tm_arena_alloc(tm_ctx_arena(ctx), obj_at + 60 + objlen + 1, 1), 0};
  put(&b, "!<arch>\n", 8);
  put_member_header(&b, "/", symsz, "0");
  put_be32(&b, 1);
  put_be32(&b, (uint32_t)obj_at);
  put(&b, symbol, strlen(symbol) + 1);
  if (symlen & 1) put(&b, "\n", 1);
  if (long_name) {
    put_member_header(&b, "//", longsz, "0");
    put(&b, member, strlen(member));
    put(&b, "/\n", 2);
    if (longlen & 1) put(&b, "\n", 1);
  }
  put_member_header(&b, long_name ? "/0" : tm_arena_printf(ctx, "%s/", member), objlen, "644");
  put(&b, obj, objlen);
  if (objlen & 1) put(&b, "\n", 1);
  return b;
}

/* ------------------------------------------------------------------ files --------- */
typedef enum { OUT_LL, OUT_BC, OUT_ASM, OUT_OBJ, OUT_LIB } out_kind;

static int write_error(tm_ctx *ctx, const char *path) {
  tm_error(ctx, tm_loc_unknown(ctx), "cannot write '%s': %s", path, strerror(errno));
  return -1;
}

/* Writes data, or the header when data is NULL; nothing half-written stays behind. */
static int write_file(tm_ctx *ctx, const char *path, const char *data, size_t len, const tm_model_info *mi,
                      const char *name) {
  FILE *f = fopen(path, data ? "wb" : "w");
  if (!f) return write_error(ctx, path);
  if (data) fwrite(data, 1, len, f);
  else tm_write_header(ctx, mi, name, "LLVM", f);
  if (ferror(f) | fclose(f)) {
    int rc = write_error(ctx, path);
    tm_remove_output(path);
    return rc;
  }
  return 0;
}

/* The output of kind for m, in the context arena. */
static int render(tm_ctx *ctx, LLVMModuleRef m, LLVMTargetMachineRef tm, out_kind kind, const char *name, bytes *out) {
  LLVMMemoryBufferRef mb = NULL;
  if (kind == OUT_LL) {
    char *s = LLVMPrintModuleToString(m);
    out->len = strlen(s);
    out->data = tm_arena_alloc(tm_ctx_arena(ctx), out->len + 1, 1);
    memcpy(out->data, s, out->len);
    LLVMDisposeMessage(s);
    return 0;
  }
  if (kind == OUT_BC) {
    mb = LLVMWriteBitcodeToMemoryBuffer(m);
  } else {
    char *err = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, m, kind == OUT_ASM ? LLVMAssemblyFile : LLVMObjectFile, &err, &mb)) {
      tm_error(ctx, tm_loc_unknown(ctx), "LLVM code generation failed: %s", take_message(ctx, err));
      return -1;
    }
  }
  const char *start = LLVMGetBufferStart(mb);
  size_t len = LLVMGetBufferSize(mb);
  if (kind == OUT_LIB && len >= UINT32_MAX - 4096) { /* the symbol table holds 32-bit offsets */
    LLVMDisposeMemoryBuffer(mb);
    return tm_error(ctx, tm_loc_unknown(ctx), "the object is too large for an archive"), -1;
  }
  if (kind == OUT_LIB) {
    *out = make_archive(ctx, tm_arena_printf(ctx, "%s.o", name), tm_arena_printf(ctx, "%s_invoke", name), start, len);
  } else {
    out->data = tm_arena_alloc(tm_ctx_arena(ctx), len + 1, 1);
    memcpy(out->data, start, len);
    out->len = len;
  }
  LLVMDisposeMemoryBuffer(mb);
  return 0;
}

static int emit(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt, out_kind kind) {
  if (!tm_is_c_identifier(opt->name))
    return tm_op_error(ctx, module, "model name '%s' is not a C identifier (choose one with --name)", opt->name);
  const target *tg = find_target(opt->target ? opt->target : "host");
  if (!tg) return tm_error(ctx, tm_loc_unknown(ctx), "unknown target '%s' (see --list-targets)", opt->target), -1;
  const struct opt_level *ol = find_level(opt->opt_level ? opt->opt_level : "2");
  if (!ol)
    return tm_error(ctx, tm_loc_unknown(ctx), "unknown optimization level '%s' (0, 1, 2, 3, s or z)", opt->opt_level), -1;
  tm_model_info mi;
  if (tm_model_info_get(ctx, module, &mi)) return -1;

  init_llvm_targets();
  set_llvm_options();
  tm_llvm_config cfg = {0};
  LLVMTargetMachineRef tm = create_target_machine(ctx, tg, ol, &cfg);
  cfg.check_regions = opt->check_regions;
  if (!tm) return -1;
  cfg.layout = LLVMCreateTargetDataLayout(tm);
  if (tg->ptr_bits && LLVMPointerSize(cfg.layout) * 8 != (unsigned)tg->ptr_bits) /* a wrong row in targets.def */
    tm_warning(ctx, tm_loc_unknown(ctx), "target '%s': LLVM's pointers are %u bits, the table says %d", tg->name,
               LLVMPointerSize(cfg.layout) * 8, tg->ptr_bits);
  LLVMContextRef lc = LLVMContextCreate();
  LLVMModuleRef m = tm_llvm_translate(ctx, &mi, module, opt->name, lc, &cfg);
  int rc = m ? 0 : -1;
  char *msg = NULL;
  if (!rc && LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
    rc = tm_op_error(ctx, module, "internal error: the LLVM backend built an invalid module: %s", msg);
  }
  if (msg) LLVMDisposeMessage(msg);
  bytes out = {0};
  if (!rc) rc = run_passes(ctx, m, tm, ol);
  if (!rc) rc = render(ctx, m, tm, kind, opt->name, &out);
  if (m) LLVMDisposeModule(m);
  LLVMContextDispose(lc);
  LLVMDisposeTargetData(cfg.layout);
  LLVMDisposeTargetMachine(tm);
  if (rc) return -1;

  if (write_file(ctx, opt->path, out.data, out.len, NULL, NULL)) return -1;
  if (write_file(ctx, tm_header_path(ctx, opt->path), NULL, 0, &mi, opt->name)) {
    tm_remove_output(opt->path);
    return -1;
  }
  return 0;
}

int tm_emit_llvm_ir(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt) { return emit(ctx, module, opt, OUT_LL); }
int tm_emit_llvm_bc(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt) { return emit(ctx, module, opt, OUT_BC); }
int tm_emit_llvm_asm(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt) { return emit(ctx, module, opt, OUT_ASM); }
int tm_emit_llvm_obj(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt) { return emit(ctx, module, opt, OUT_OBJ); }
int tm_emit_llvm_lib(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt) { return emit(ctx, module, opt, OUT_LIB); }
