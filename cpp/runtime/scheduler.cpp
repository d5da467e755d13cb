#include "runtime/scheduler.hpp"

#include <algorithm>
#include <random>
#include <string>

namespace rwkv::runtime {

const char* finish_name(Finish f) {
  switch (f) {
    case Finish::Stop: return "stop";
    case Finish::Length: return "length";
    case Finish::Cancelled: return "cancelled";
    case Finish::None: break;
  }
  return nullptr;
}

namespace {

// Checked before anything is allocated for it.
uint32_t checked_batch(const Model& model, uint32_t max_batch) {
  if (max_batch == 0 || max_batch > model.max_batch())
    throw InvalidArgument("max_batch must be in 1.." + std::to_string(model.max_batch()) +
                          " (the model's info['max_batch']: its chunk_tokens, at most 512, and the slots a state holds)");
  return max_batch;
}

}  // namespace

Scheduler::Scheduler(std::shared_ptr<Model> model, uint32_t max_batch)
    : model_(std::move(model)),
      state_(model_->new_state(checked_batch(*model_, max_batch))),
      sampler_(model_->device(), model_->token_penalty_weights(), max_batch, max_batch),
      slots_(max_batch) {}

uint64_t Scheduler::submit(Request request) {
  if (request.prompt.empty()) throw InvalidArgument("[generate] the prompt has no tokens");
  const uint32_t V = model_->config().vocab;
  for (uint32_t t : request.prompt)
    if (t >= V) throw InvalidArgument("[generate] prompt token " + std::to_string(t) + " is out of range for a vocabulary of " + std::to_string(V));
  request.sampling.validate();
  for (uint32_t t : request.stop_tokens)
    if (t >= V) throw InvalidArgument("[generate] stop token " + std::to_string(t) + " is out of range for a vocabulary of " + std::to_string(V));
  const bool stop_strings = std::any_of(request.stop.begin(), request.stop.end(), [](const auto& s) { return !s.empty(); });
  if (stop_strings && !model_->tokenizer()) throw InvalidArgument("[generate] stop strings need a model with a tokenizer");
  if (!request.sampling.seed) request.sampling.seed = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  if (request.state && (request.state->model_fingerprint() != model_->info().fingerprint ||
                        request.state->device().get() != model_->device().get()))
    throw InvalidArgument("[generate] the state belongs to another model");
  const uint64_t id = next_id_++;
  waiting_.emplace_back(id, std::move(request));
  return id;
}

void Scheduler::cancel(uint64_t id) {
  auto w = std::find_if(waiting_.begin(), waiting_.end(), [&](const auto& r) { return r.first == id; });
  if (w != waiting_.end()) {
    waiting_.erase(w);
    cancelled_.push_back(id);
    return;
  }
  for (auto& s : slots_)
    if (s.phase != Phase::Free && s.id == id && s.finish == Finish::None) s.finish = Finish::Cancelled;
}

void Scheduler::admit(Slot& slot, uint32_t index, uint64_t id, Request request) {
  slot = Slot{};
  slot.phase = Phase::Prefill;
  slot.id = id;
  slot.request = std::move(request);
  slot.text = TextStream(model_->tokenizer(), slot.request.stop);
  if (slot.request.state)
    state_->copy_slot(*slot.request.state, 0, index);
  else
    state_->reset_slot(index);
  sampler_.reset_slot(index);
  ++running_;
}

void Scheduler::release(Slot& slot, uint32_t index, std::vector<Event>& events, bool hand_back) {
  if (hand_back && slot.request.state) slot.request.state->copy_slot(*state_, index, 0);
  events.push_back({slot.id, -1, slot.text.flush(), slot.finish, {}});
  slot = Slot{};
  --running_;
}

std::vector<Event> Scheduler::step() {
  std::vector<Event> events;
  for (uint64_t id : cancelled_) events.push_back({id, -1, {}, Finish::Cancelled, {}});
  cancelled_.clear();
  // Requests cancelled or finished while their last token is still to run.
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.phase == Phase::Prefill && s.finish == Finish::Cancelled) release(s, i, events, false);
    if (s.phase == Phase::Decode && s.finish != Finish::None) {
      if (s.request.state)
        s.phase = Phase::FeedLast;
      else
        release(s, i, events);
    }
  }
  for (uint32_t i = 0; i < slots_.size() && !waiting_.empty(); ++i)
    if (slots_[i].phase == Phase::Free) {
      auto [id, request] = std::move(waiting_.front());
      waiting_.pop_front();
      admit(slots_[i], i, id, std::move(request));
    }

  // Decoding sequences first (one token each), then prompt pieces in admission order.
  std::vector<StepSeq> seqs;
  std::vector<uint32_t> owner;  // slot of each StepSeq
  std::vector<ops::SampleRow> rows(slots_.size());
  uint32_t budget = model_->chunk_tokens();
  bool keep_logits = false;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.phase != Phase::Decode && s.phase != Phase::FeedLast) continue;
    const bool draw = s.phase == Phase::Decode;
    rows[i] = s.request.sampling.row(i, s.drawn);
    seqs.push_back({{&s.last, 1}, i, draw ? &rows[i] : nullptr});
    owner.push_back(i);
    keep_logits |= draw && s.request.keep_logits;
    --budget;
  }
  std::vector<uint32_t> order;  // prefilling slots, oldest request first
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].phase == Phase::Prefill) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return slots_[a].id < slots_[b].id; });
  for (uint32_t i : order) {
    if (budget == 0) break;
    Slot& s = slots_[i];
    const auto& prompt = s.request.prompt;
    const uint32_t n = std::min<uint32_t>(budget, uint32_t(prompt.size()) - s.prompt_pos);
    const bool ends = s.prompt_pos + n == prompt.size();
    const bool draw = ends && s.request.max_tokens > 0;
    rows[i] = s.request.sampling.row(i, 0);
    seqs.push_back({{prompt.data() + s.prompt_pos, n}, i, draw ? &rows[i] : nullptr});
    owner.push_back(i);
    keep_logits |= draw && s.request.keep_logits;
    budget -= n;
  }
  if (seqs.empty()) return events;

  std::vector<float> logits;
  const std::vector<uint32_t> drawn = model_->step(seqs, *state_, sampler_, keep_logits ? &logits : nullptr);
  const uint32_t V = model_->config().vocab;
  size_t d = 0;
  for (size_t q = 0; q < seqs.size(); ++q) {
    const uint32_t i = owner[q];
    Slot& s = slots_[i];
    if (s.phase == Phase::FeedLast) {
      release(s, i, events);
      continue;
    }
    if (s.phase == Phase::Prefill) {
      s.prompt_pos += uint32_t(seqs[q].tokens.size());
      if (s.prompt_pos < s.request.prompt.size()) continue;
      if (s.request.max_tokens == 0) {
        s.finish = Finish::Length;
        release(s, i, events);
        continue;
      }
      s.phase = Phase::Decode;
    }
    Event e{s.id, drawn[d], {}, Finish::None, {}};
    if (keep_logits && s.request.keep_logits) e.logits.assign(logits.begin() + d * V, logits.begin() + (d + 1) * V);
    ++d;
    s.last = uint32_t(e.token);
    ++s.drawn;
    const auto& stops = s.request.stop_tokens;
    if (std::find(stops.begin(), stops.end(), s.last) != stops.end()) {
      s.finish = Finish::Stop;
    } else {
      e.text = s.text.push(s.last);
      if (s.text.stopped())
        s.finish = Finish::Stop;
      else if (s.drawn >= s.request.max_tokens)
        s.finish = Finish::Length;
    }
    // Without a state to hand back, a finished sequence leaves now; with one, it runs its last
    // token in the next step first.
    if (s.finish != Finish::None && !s.request.state) {
      e.finish = s.finish;
      e.text += s.text.flush();
      events.push_back(std::move(e));
      s = Slot{};
      --running_;
      continue;
    }
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace rwkv::runtime
