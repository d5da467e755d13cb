// The token batch: tokens of each sequence are contiguous; seqs[s] describes sequence s.
#ifndef BATCH_GLSL
#define BATCH_GLSL

#include "layouts.h"  // Sequence

#endif
