// Continuous batching of generation requests on one model. Up to max_batch sequences hold state
// slots; every step runs one token of each decoding sequence and fills the rest of the step's
// token budget with pieces of the prompts of newly admitted ones (so a long prompt never stalls
// the others for more than a step), then draws the next tokens on the GPU. Requests wait for a
// free slot; finished ones leave at once.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "runtime/model.hpp"

namespace rwkv::runtime {

enum class Finish { None, Length, StopToken, Cancelled };

struct Request {
  std::vector<uint32_t> prompt;  // at least one token
  SamplingParams sampling;
  uint32_t max_tokens = 256;
  std::vector<uint32_t> stop_tokens;  // drawing one ends the request (the token is reported)
  // Optional: the sequence starts from slot 0 of this state and, when it finishes, the state gets
  // the result: the prompt and every generated token consumed (unchanged if the request is
  // cancelled before its prompt has run).
  std::shared_ptr<State> state;
  bool keep_logits = false;  // report the logits each token was drawn from
};

struct Event {
  uint64_t id;
  int64_t token;  // -1 for an event that only finishes the request
  Finish finish;  // None while the request goes on
  std::vector<float> logits;  // [V] with keep_logits
};

class Scheduler {
 public:
  Scheduler(std::shared_ptr<Model> model, uint32_t max_batch);

  uint64_t submit(Request request);
  // Ends a request at the next step (reported with Finish::Cancelled); unknown ids are ignored.
  void cancel(uint64_t id);
  // Admits waiting requests, runs one step, and reports what happened to each request.
  std::vector<Event> step();

  bool idle() const { return waiting_.empty() && running_ == 0 && cancelled_.empty(); }
  uint32_t running() const { return running_; }
  size_t waiting() const { return waiting_.size(); }
  uint32_t max_batch() const { return uint32_t(slots_.size()); }

 private:
  enum class Phase { Free, Prefill, Decode, FeedLast };
  struct Slot {
    Phase phase = Phase::Free;
    uint64_t id = 0;
    Request request;
    uint32_t prompt_pos = 0;  // prompt tokens run so far
    uint32_t drawn = 0;       // tokens generated so far
    uint32_t last = 0;        // the last drawn token, not run yet
    Finish finish = Finish::None;
  };
  void admit(Slot& slot, uint32_t index, uint64_t id, Request request);
  // Frees a slot and reports the request finished; `hand_back` copies the slot into the request's
  // state (not for a prompt cancelled halfway: the caller's state stays as it was).
  void release(Slot& slot, uint32_t index, std::vector<Event>& events, bool hand_back = true);

  std::shared_ptr<Model> model_;
  std::shared_ptr<State> state_;
  Sampler sampler_;
  std::vector<Slot> slots_;
  std::deque<std::pair<uint64_t, Request>> waiting_;
  std::vector<uint64_t> cancelled_;  // waiting requests cancelled: reported at the next step
  uint32_t running_ = 0;
  uint64_t next_id_ = 1;
};

}  // namespace rwkv::runtime
