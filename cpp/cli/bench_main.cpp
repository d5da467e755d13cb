// rwkv-gpu-bench: the C++ benchmark program. Prints one JSON object per measurement on stdout.
//   rwkv-gpu-bench devices
//   rwkv-gpu-bench bandwidth [MiB]                     read bandwidth (GPU-timed kernel) and copy bandwidth
//   rwkv-gpu-bench model MODEL.gguf [-p 512] [-n 128] [-r 5] [-b B] [--precision fast|exact] [--dispatches]
//        llama-bench's semantics: pp = prompt of p random tokens from an empty state, logits of
//        the last only; tg = n single-token steps from an empty state, logits read back each step;
//        one warm-up, then the median of r repetitions. Then one profiled prompt and step: GPU
//        ms per shader, the GPU's span, and with --dispatches the prompt's dispatches in order.
//        With -b B also tg at batch B: B sequences from an empty state decode n steps
//        together as generate_batch runs them (Model::step, the default sampling: temperature 1,
//        top-p 0.85; each step feeds every sequence the token it drew), and one profiled step.
//   rwkv-gpu-bench matmul TYPE ROWS K T [-g 1] [-r 20] [--precision fast|exact]
//        GPU time of one product dispatch (g groups of ROWS x K weights of TYPE, e.g. F16, Q4_K,
//        times T tokens), the kernel as the table picks it or as $RWKV_GPU_MATMUL forces it; the
//        median of r profiled runs, in ms, TFLOP/s and weight GB/s.
//   rwkv-gpu-bench tokenize VOCAB.txt TEXT_FILE [REPEATS]   (World tokenizer encode throughput)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "layouts.h"
#include "common/error.hpp"
#include "gguf/ggml_types.hpp"
#include "ops/matmul.hpp"
#include "runtime/model.hpp"
#include "runtime/sampler.hpp"
#include "tokenizer/world_tokenizer.hpp"
#include "vk/recorder.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c < 0x20) { char buf[8]; std::snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out += char(c);
  }
  return out + "\"";
}

int devices() {
  std::cout << "[";
  const auto list = rwkv::vk::list_devices();
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& d = list[i];
    std::cout << (i ? ",\n " : "") << "{\"index\": " << d.index << ", \"name\": " << json_string(d.name)
              << ", \"type\": " << json_string(d.type) << ", \"api_version\": " << json_string(d.api_version)
              << ", \"driver\": " << json_string(d.driver_name + " " + d.driver_info)
              << ", \"subgroup_size\": " << d.subgroup_size << ", \"fp16\": " << std::boolalpha << d.fp16
              << ", \"tensor_cores\": " << d.coopmat_f16 << ", \"compute_units\": " << d.compute_units
              << ", \"max_storage_buffer_range\": " << d.max_storage_buffer_range << "}";
  }
  std::cout << "]\n";
  return 0;
}

// Device memory bandwidth, timed on the GPU: a read-only kernel (bytes read) and a buffer copy
// (bytes read + written).
int bandwidth(uint64_t mib) {
  auto dev = rwkv::vk::Device::open();
  const uint64_t bytes = mib << 20;
  auto a = std::make_shared<rwkv::vk::Buffer>(dev, bytes, rwkv::vk::MemoryKind::Device);
  auto b = std::make_shared<rwkv::vk::Buffer>(dev, bytes, rwkv::vk::MemoryKind::Device);
  const uint32_t groups = 132 * 16;  // enough resident workgroups for any current GPU
  auto sink = std::make_shared<rwkv::vk::Buffer>(dev, uint64_t(groups) * 256 * 4, rwkv::vk::MemoryKind::Device);
  const auto& read = dev->pipeline({rwkv::ShaderId::read_bandwidth, 2, sizeof(rwkv::gpu::BandwidthPush), {}});
  {
    rwkv::vk::Recorder fill(dev);
    fill.fill({a}, 0x01020304u);
    fill.submit().wait();
  }
  std::vector<double> read_ms, copy_ms;
  for (int rep = 0; rep < 6; ++rep) {
    rwkv::vk::Recorder rec(dev, /*profile=*/true);
    const uint32_t n = uint32_t(bytes / 16);
    rec.dispatch(read, {rwkv::vk::reads({a}), rwkv::vk::writes({sink})}, rwkv::gpu::BandwidthPush{n}, {groups, 1, 1});
    auto sub = rec.submit();
    sub.wait();
    if (rep) read_ms.push_back(sub.timings().at(0).ms);
    const auto t0 = Clock::now();
    rwkv::vk::Recorder copy(dev);
    copy.copy({a}, {b}, bytes);
    copy.submit().wait();
    if (rep) copy_ms.push_back(seconds_since(t0) * 1e3);
  }
  std::cout << "{\"benchmark\": \"bandwidth\", \"device\": " << json_string(dev->info().name) << ", \"bytes\": " << bytes
            << ", \"read_gb_per_s\": " << bytes / median(read_ms) / 1e6
            << ", \"copy_gb_per_s\": " << 2.0 * bytes / median(copy_ms) / 1e6 << "}\n";
  return 0;
}

// The driver's statistics of every pipeline created (registers, local and shared memory), as a JSON
// list: empty unless $RWKV_GPU_PIPELINE_STATS was set.
std::string pipelines_json(rwkv::vk::Device& dev) {
  std::string out = "[";
  for (const auto& s : dev.pipeline_statistics()) out += (out.size() > 1 ? ", " : "") + json_string(s);
  return out + "]";
}

// One profiled run: GPU milliseconds per shader, as a JSON object, the number of dispatches, the
// span from the first dispatch's start to the last one's end (beside the sum: what the GPU spends
// between dispatches; beside the wall time: what the host spends recording, submitting and
// reading back), and every dispatch in order as [label, ms, start ms from the first].
struct Profile {
  std::string by_shader;
  size_t dispatches;
  double span_ms;
  std::string in_order;
};
template <class Run>
Profile profile(rwkv::runtime::Model& model, Run run) {
  model.set_profiling(true);
  run();
  model.set_profiling(false);
  std::vector<std::pair<std::string, double>> by_op;
  double total = 0;
  for (const auto& t : model.last_timings()) {
    auto it = std::find_if(by_op.begin(), by_op.end(), [&](const auto& p) { return p.first == t.label; });
    if (it == by_op.end()) by_op.emplace_back(t.label, t.ms);
    else it->second += t.ms;
    total += t.ms;
  }
  std::ostringstream os, list;
  os << "{\"total_ms\": " << total;
  for (const auto& [label, ms] : by_op) os << ", " << json_string(label) << ": " << ms;
  const auto& timings = model.last_timings();
  double begin = 0, end = 0;
  list << "[";
  for (size_t i = 0; i < timings.size(); ++i) {
    const auto& t = timings[i];
    if (i == 0 || t.start_ms < begin) begin = t.start_ms;
    end = std::max(end, t.start_ms + t.ms);
  }
  for (size_t i = 0; i < timings.size(); ++i)
    list << (i ? ", " : "") << "[" << json_string(timings[i].label) << ", " << timings[i].ms << ", " << timings[i].start_ms - begin << "]";
  return {os.str() + "}", timings.size(), timings.empty() ? 0.0 : end - begin, list.str() + "]"};
}

// tg at batch B (model_bench's -b): the median over `reps` (after a warm-up) of the seconds B
// sequences take to decode n steps together, and one profiled step.
struct BatchDecode {
  double median_s;
  Profile step;
};
BatchDecode batch_decode(rwkv::runtime::Model& model, uint32_t B, uint32_t n, int reps, std::mt19937& rng) {
  namespace rt = rwkv::runtime;
  auto state = model.new_state(B);
  rt::Sampler sampler(model.device(), model.token_penalty_weights(), B, B);
  std::uniform_int_distribution<uint32_t> token(0, model.config().vocab - 1);
  std::vector<uint32_t> last(B);
  std::vector<rwkv::ops::SampleRow> rows(B);
  uint32_t counter = 0;
  auto step = [&] {
    std::vector<rt::StepSeq> seqs;
    for (uint32_t i = 0; i < B; ++i) {
      rows[i] = rt::SamplingParams{.seed = i}.row(i, counter);
      seqs.push_back({{&last[i], 1}, i, &rows[i]});
    }
    ++counter;
    last = model.step(seqs, *state, sampler, nullptr);
  };
  std::vector<double> times;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
    state->reset();
    for (auto& t : last) t = token(rng);
    const auto t0 = Clock::now();
    for (uint32_t i = 0; i < n; ++i) step();
    if (rep) times.push_back(seconds_since(t0));
  }
  return {median(times), profile(model, step)};
}

// `precision`: the engine's default when not given.
int model_bench(const std::string& path, uint32_t pp, uint32_t tg, uint32_t batch, int reps,
                std::optional<rwkv::ops::Precision> precision, bool list_dispatches) {
  const auto t0 = Clock::now();
  const uint32_t chunk = std::max<uint32_t>({pp, batch, 1});
  auto made = precision ? std::make_unique<rwkv::runtime::Model>(path, "", rwkv::model::ProgressFn{}, chunk, *precision)
                        : std::make_unique<rwkv::runtime::Model>(path, "", rwkv::model::ProgressFn{}, chunk);
  rwkv::runtime::Model& model = *made;
  const double load_s = seconds_since(t0);
  const auto& info = model.info();
  const auto& c = info.config;
  std::mt19937 rng(42);
  std::uniform_int_distribution<uint32_t> token(0, c.vocab - 1);
  auto state = model.new_state();

  std::vector<double> pp_times, tg_times;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
    std::vector<uint32_t> prompt(pp);
    for (auto& t : prompt) t = token(rng);
    state->reset();
    auto t1 = Clock::now();
    model.run(prompt, *state, rwkv::runtime::LogitsMode::Last);
    if (rep) pp_times.push_back(seconds_since(t1));

    state->reset();
    t1 = Clock::now();
    for (uint32_t i = 0; i < tg; ++i) {
      const uint32_t tok = token(rng);
      model.run({&tok, 1}, *state, rwkv::runtime::LogitsMode::Last);
    }
    if (rep) tg_times.push_back(seconds_since(t1));
  }
  std::vector<uint32_t> prompt(pp);
  for (auto& t : prompt) t = token(rng);
  const auto run = [&](std::span<const uint32_t> tokens) {
    return [&model, &state, tokens] {
      state->reset();
      model.run(tokens, *state, rwkv::runtime::LogitsMode::Last);
    };
  };
  const Profile pp_profile = profile(model, run(prompt));
  const Profile tg_profile = profile(model, run({prompt.data(), 1}));
  const std::optional<BatchDecode> tgb = batch ? std::optional(batch_decode(model, batch, tg, reps, rng)) : std::nullopt;
  const double pp_s = median(pp_times), tg_s = median(tg_times);
  const double tg_token_s = tg_s / tg;
  std::cout << "{\"benchmark\": \"model\", \"model\": " << json_string(path) << ", \"device\": " << json_string(info.device_name)
            << ", \"n_layer\": " << c.n_layer << ", \"n_embd\": " << c.n_embd << ", \"vocab\": " << c.vocab
            << ", \"file_bytes\": " << info.file_bytes << ", \"gpu_bytes\": " << info.gpu_bytes
            << ", \"load_s\": " << load_s << ", \"load_gb_per_s\": " << info.file_bytes / load_s / 1e9
            << ", \"precision\": " << json_string(rwkv::ops::precision_name(info.precision))
            << ", \"pp\": " << pp << ", \"pp_median_s\": " << pp_s << ", \"pp_tokens_per_s\": " << pp / pp_s
            << ", \"tg\": " << tg << ", \"tg_median_s\": " << tg_s << ", \"tg_tokens_per_s\": " << 1.0 / tg_token_s
            << ", \"decode_bytes_per_token\": " << info.decode_bytes_per_token
            << ", \"decode_gb_per_s\": " << info.decode_bytes_per_token / tg_token_s / 1e9 << ", \"repetitions\": " << reps
            << ", \"pp_gpu_profile\": " << pp_profile.by_shader << ", \"tg_gpu_profile\": " << tg_profile.by_shader
            << ", \"pp_dispatches\": " << pp_profile.dispatches << ", \"tg_dispatches\": " << tg_profile.dispatches
            << ", \"pp_gpu_span_ms\": " << pp_profile.span_ms << ", \"tg_gpu_span_ms\": " << tg_profile.span_ms;
  if (tgb)
    std::cout << ", \"batch\": " << batch << ", \"tgb_median_s\": " << tgb->median_s
              << ", \"tgb_tokens_per_s\": " << batch * tg / tgb->median_s << ", \"tgb_gpu_profile\": " << tgb->step.by_shader
              << ", \"tgb_dispatches\": " << tgb->step.dispatches << ", \"tgb_gpu_span_ms\": " << tgb->step.span_ms;
  if (list_dispatches) std::cout << ", \"pp_dispatch_list\": " << pp_profile.in_order;
  std::cout << ", \"pipelines\": " << pipelines_json(*model.device()) << "}\n";
  return 0;
}

// The weights are a constant pattern (timing does not depend on the values).
int matmul_bench(const std::string& type_name, uint32_t rows, uint32_t k, uint32_t T, uint32_t groups, int reps,
                 rwkv::ops::Precision precision) {
  namespace gguf = rwkv::gguf;
  namespace ops = rwkv::ops;
  namespace vk = rwkv::vk;
  std::optional<gguf::GgmlType> type;
  for (uint32_t id = 0; id < 64 && !type; ++id)
    if (const auto t = gguf::ggml_type_traits(id); t && t->name == type_name) type = t->type;
  if (!type) throw rwkv::InvalidArgument("unknown weight type " + type_name + " (ggml names: F16, Q8_0, Q4_K, ...)");
  auto dev = vk::Device::open();
  const uint64_t w_bytes = gguf::row_bytes(*type, k) * rows;
  auto w = std::make_shared<vk::Buffer>(dev, w_bytes * groups, vk::MemoryKind::Device);
  auto x = std::make_shared<vk::Buffer>(dev, uint64_t(groups) * T * k * 4, vk::MemoryKind::Device);
  auto y = std::make_shared<vk::Buffer>(dev, uint64_t(groups) * T * rows * 4, vk::MemoryKind::Device);
  {
    vk::Recorder fill(dev);
    fill.fill({w}, 0x2c002c00u);  // fp16 1/16 pairs: small finite scales and values in every type
    fill.fill({x}, 0x3d000000u);  // 1/32
    fill.submit().wait();
  }
  std::vector<ops::Matrix> mats(groups);
  std::vector<ops::MatmulGroup> g(groups);
  for (uint32_t i = 0; i < groups; ++i) {
    mats[i] = {{w, i * w_bytes, w_bytes}, *type, rows, k};
    g[i] = {&mats[i], {x, uint64_t(i) * T * k * 4, uint64_t(T) * k * 4}, {y, uint64_t(i) * T * rows * 4, uint64_t(T) * rows * 4}};
  }
  std::vector<double> ms;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
    vk::Recorder rec(dev, /*profile=*/true);
    ops::matmul(rec, g, T, {.precision = precision});
    auto sub = rec.submit();
    sub.wait();
    double total = 0;
    for (const auto& t : sub.timings()) total += t.ms;
    if (rep) ms.push_back(total);
  }
  const char* forced = std::getenv("RWKV_GPU_MATMUL");
  const std::vector<ops::ProductShape> shapes(groups, {rows, k, *type});
  const auto choice = ops::choose_matmul(dev->info(), T, precision, forced ? forced : "", shapes);
  std::string kernel = ops::kernel_name(choice.kernel);
  if (choice.kernel == ops::MatmulKernel::Coopmat) {  // the tile and the k splits the product ran with
    const char* sep = ":";
    for (uint32_t v : {choice.tile.br, choice.tile.bt, choice.tile.wr, choice.tile.wt, choice.tile.bk, choice.tile.ks,
                       ops::matmul_k_splits(dev->info(), T, precision, shapes)})
      kernel += sep + std::to_string(v), sep = "x";
  }
  const double t = median(ms);
  std::cout << "{\"benchmark\": \"matmul\", \"device\": " << json_string(dev->info().name) << ", \"type\": "
            << json_string(type_name) << ", \"rows\": " << rows << ", \"k\": " << k << ", \"T\": " << T
            << ", \"groups\": " << groups << ", \"kernel\": " << json_string(kernel)
            << ", \"precision\": " << json_string(ops::precision_name(precision)) << ", \"median_ms\": " << t
            << ", \"tflops\": " << 2.0 * rows * k * T * groups / t / 1e9 << ", \"weight_gb_per_s\": " << w_bytes * groups / t / 1e6
            << ", \"repetitions\": " << reps << ", \"pipelines\": " << pipelines_json(*dev) << "}\n";
  return 0;
}

int tokenize(const std::string& vocab, const std::string& text_file, int repeats) {
  const auto tok = rwkv::WorldTokenizer::from_vocab_file(vocab);
  std::ifstream in(text_file, std::ios::binary);
  if (!in) throw rwkv::Error("cannot open " + text_file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<double> times;
  size_t n_tokens = 0;
  for (int r = 0; r <= repeats; ++r) {  // the first run warms up
    const auto t0 = Clock::now();
    n_tokens = tok.encode(text).size();
    if (r) times.push_back(seconds_since(t0));
  }
  const double t = median(times);
  std::cout << "{\"benchmark\": \"tokenize\", \"bytes\": " << text.size() << ", \"tokens\": " << n_tokens
            << ", \"median_s\": " << t << ", \"mb_per_s\": " << double(text.size()) / t / 1e6 << "}\n";
  return 0;
}

// Value of "-x N" in args, or `fallback`.
uint32_t option(const std::vector<std::string>& args, const std::string& flag, uint32_t fallback) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == flag) return uint32_t(std::stoul(args[i + 1]));
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 1 && args[0] == "devices") return devices();
    if (!args.empty() && args[0] == "bandwidth") return bandwidth(args.size() > 1 ? std::stoul(args[1]) : 1024);
    if (args.size() >= 2 && args[0] == "model") {
      const auto at = std::find(args.begin(), args.end(), "--precision");
      std::optional<rwkv::ops::Precision> precision;
      if (at != args.end() && at + 1 != args.end()) precision = rwkv::ops::parse_precision(*(at + 1));
      const bool list = std::find(args.begin(), args.end(), "--dispatches") != args.end();
      return model_bench(args[1], option(args, "-p", 512), option(args, "-n", 128), option(args, "-b", 0), int(option(args, "-r", 5)),
                         precision, list);
    }
    if (args.size() >= 5 && args[0] == "matmul") {
      const auto at = std::find(args.begin(), args.end(), "--precision");
      const auto precision = at != args.end() && at + 1 != args.end() ? rwkv::ops::parse_precision(*(at + 1)) : rwkv::ops::Precision::Fast;
      return matmul_bench(args[1], uint32_t(std::stoul(args[2])), uint32_t(std::stoul(args[3])), uint32_t(std::stoul(args[4])),
                          option(args, "-g", 1), int(option(args, "-r", 20)), precision);
    }
    if ((args.size() == 3 || args.size() == 4) && args[0] == "tokenize")
      return tokenize(args[1], args[2], args.size() == 4 ? std::max(1, std::stoi(args[3])) : 5);
  } catch (const std::exception& e) {
    std::cerr << "rwkv-gpu-bench: error: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: rwkv-gpu-bench devices | bandwidth [MiB] | model MODEL.gguf [-p 512] [-n 128] [-r 5] [-b B] [--precision fast|exact] [--dispatches]\n"
               "       | matmul TYPE ROWS K T [-g 1] [-r 20] [--precision fast|exact] | tokenize VOCAB.txt TEXT_FILE [REPEATS]\n";
  return 2;
}
