/* passes/pipelines.c — the named pipelines of passes/pipelines.def. */
#include <string.h>

#include "passes/passes.h"

static const tm_named_pipeline pipelines[] = {
#define PIPELINE(name, llvm_level, text, summary) {#name, text, summary, #llvm_level},
#include "passes/pipelines.def"
#undef PIPELINE
};

int tm_named_pipeline_count(void) { return (int)TM_COUNTOF(pipelines); }

const tm_named_pipeline *tm_named_pipeline_at(int i) {
  return i >= 0 && i < (int)TM_COUNTOF(pipelines) ? &pipelines[i] : NULL;
}

const tm_named_pipeline *tm_named_pipeline_lookup(const char *name, size_t len) {
  for (size_t i = 0; i < TM_COUNTOF(pipelines); i++)
    if (strlen(pipelines[i].name) == len && !strncmp(pipelines[i].name, name, len)) return &pipelines[i];
  return NULL;
}
