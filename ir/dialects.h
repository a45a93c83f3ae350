/* ir/dialects.h — (internal to ir/) the op tables each dialect contributes to the
 * registry.  The context copies them at creation so passes can fill hooks per context. */
#ifndef TM_DIALECTS_H
#define TM_DIALECTS_H

#include "ir/ir.h"

/* builtin.module, func.func, func.return, func.call (ir/dialect_builtin.c) */
extern const tm_opdef tm_builtin_dialect_ops[];
extern const int tm_builtin_dialect_nops;

/* The tm graph dialect, generated from ir/ops.def (ir/dialect_tm.c) */
extern const tm_opdef tm_tm_dialect_ops[];
extern const int tm_tm_dialect_nops;

/* The MLIR dialects of the lowered level, with MLIR 19's semantics, generated from
 * ir/ops_<dialect>.def (ir/dialect_<dialect>.c) */
extern const tm_opdef tm_arith_dialect_ops[];
extern const int tm_arith_dialect_nops;
extern const tm_opdef tm_scf_dialect_ops[];
extern const int tm_scf_dialect_nops;
extern const tm_opdef tm_memref_dialect_ops[];
extern const int tm_memref_dialect_nops;
extern const tm_opdef tm_math_dialect_ops[];
extern const int tm_math_dialect_nops;

/* armdsp: Arm M-profile DSP instructions, from ir/ops_armdsp.def (ir/dialect_armdsp.c) */
extern const tm_opdef tm_armdsp_dialect_ops[];
extern const int tm_armdsp_dialect_nops;

#endif
