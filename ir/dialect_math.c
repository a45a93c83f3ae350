/* ir/dialect_math.c — the math dialect of the lowered level, expanded from
 * ir/ops_math.def; verifiers mirror MLIR 19's MathOps.td constraints. */
#include "ir/dialect_lowered.h"

#define TM_ATTRDEF_OF(key) MATH_ATTR_##key
#define MATH_ATTR_

#define TM_LOWERED_OP(...) TM_LOWERED_ATTRDEFS(__VA_ARGS__)
#include "ir/ops_math.def"
#undef TM_LOWERED_OP

const tm_opdef tm_math_dialect_ops[] = {
#define TM_LOWERED_OP(...) TM_LOWERED_OPDEF("math", __VA_ARGS__)
#include "ir/ops_math.def"
#undef TM_LOWERED_OP
};
const int tm_math_dialect_nops = (int)TM_COUNTOF(tm_math_dialect_ops);
