/* backends/llvm/llvm_backend.h — private to the LLVM backend: how the translator (translate.c)
 * and the driver of LLVM's optimizer and code generator (emit.c) meet. */
#ifndef TM_LLVM_BACKEND_H
#define TM_LLVM_BACKEND_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>

#include "backends/backend.h"

/* What the generated functions are compiled for: their target-cpu / target-features
 * attributes, and the data layout that gives `index` its width. */
typedef struct tm_llvm_config {
  const char *triple, *cpu, *features, *abi; /* abi: NULL or the RISC-V target-abi */
  LLVMTargetDataRef layout;
  const char *size_attr; /* NULL, "optsize" (-Os) or "minsize" (-Oz) on every function */
  bool dsp;              /* the Arm DSP extension: armdsp ops become llvm.arm.* intrinsics */
  bool mve;              /* MVE (Helium): armdsp.vmladava becomes llvm.arm.mve.vmldava */
  bool check_regions;    /* each scoped access first checks it is inside its region, or traps */
} tm_llvm_config;

/* Builds the LLVM module of a planned lowered module in lc: its constant globals, the
 * model function and the helpers it calls (internal), and the exported
 *   i32 NAME_invoke(ptr arena, ptr inputs, ptr outputs)
 * of backend.h's contract.  Returns NULL after located errors (unsupported ops or
 * types); the module is unoptimized and verifies. */
LLVMModuleRef tm_llvm_translate(tm_ctx *ctx, const tm_model_info *mi, tm_op *module, const char *name,
                                LLVMContextRef lc, const tm_llvm_config *cfg);

#endif /* TM_LLVM_BACKEND_H */
