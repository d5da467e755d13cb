// The token batch: tokens of each sequence are contiguous; seqs[s] describes sequence s.
#ifndef BATCH_GLSL
#define BATCH_GLSL

struct Sequence {
  uint start;  // first token of the sequence in this batch
  uint len;    // its token count
  uint slot;   // its state slot
  uint pad;
};

#endif
