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

#endif
