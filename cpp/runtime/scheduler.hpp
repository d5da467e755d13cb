// Continuous batching of generation requests on one model. Up to max_batch sequences hold state
// slots; every step runs one token of each decoding sequence and fills the rest of the step's
// token budget with pieces of the prompts of newly admitted ones (so a long prompt never stalls
// the others for more than a step), then draws the next tokens on the GPU. Requests wait for a
// free slot; finished ones leave at once.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model.hpp"
#include "runtime/text_stream.hpp"

namespace rwkv::runtime {

// Why a request ended, one vocabulary end to end (OpenAI's names): a stop token or a stop string
// (Stop), max_tokens (Length), or cancel() (Cancelled).
enum class Finish { None, Stop, Length, Cancelled };
const char* finish_name(Finish f);  // "stop", "length", "cancelled"; nullptr for None

// One generation request. Every default here is the engine's (Python reads them from here).
struct Request {
  std::vector<uint32_t> prompt;  // at least one token
  SamplingParams sampling;
  uint32_t max_tokens = 256;
  // Drawing one of these ends the request (the token is reported, its text is not): by default
  // token 0, the World vocabulary's end of document.
  std::vector<uint32_t> stop_tokens = {0};
  // Strings that end the request once the text contains one (also across tokens); the text ends
  // before it. Needs the model's tokenizer.
  std::vector<std::string> stop;
  // Optional: the sequence starts from slot 0 of this state and, when it finishes, the state gets
  // the result: the prompt and every generated token consumed (unchanged if the request is
  // cancelled before its prompt has run).
  std::shared_ptr<State> state;
  bool keep_logits = false;  // report the logits each token was drawn from
};

struct Event {
  uint64_t id;
  int64_t token;  // -1 for an event that only finishes the request
  // The text this event adds (UTF-8, whole characters, never part of a stop string; empty without
  // a tokenizer): the token's, and at the finish whatever was held back.
  std::string text;
  Finish finish;  // None while the request goes on
  std::vector<float> logits;  // [V] with keep_logits
};

class Scheduler {
 public:
  Scheduler(std::shared_ptr<Model> model, uint32_t max_batch);

  // Checks the request (InvalidArgument naming what is wrong), draws its seed if unset, queues it.
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
    TextStream text;
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
