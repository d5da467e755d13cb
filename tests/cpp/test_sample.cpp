// ops::sample against a double-precision reference of the official RWKV pipeline's sampling
// (penalties, softmax, top-p and top-k cutoffs that keep ties, probabilities ^ 1/temperature), many
// rows per dispatch at odd vocabulary sizes: greedy and its tie rule, draws inside the reference's
// set with its frequencies, the random stream's determinism, non-finite rows, the penalty memory;
// each with the rule's chunks (workgroups sharing a row) and with 3.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include "ops/sample.hpp"
#include "vk/device.hpp"

namespace rwkv {
namespace {

constexpr uint32_t kNonFinite = 0xFFFFFFFFu;  // the id of a row with a NaN or infinite logit

vk::DevicePtr device() {
  static vk::DevicePtr d = vk::Device::open();
  return d;
}

template <typename T>
vk::BufferPtr buffer_of(const std::vector<T>& data) {
  auto b = std::make_shared<vk::Buffer>(device(), data.size() * sizeof(T), vk::MemoryKind::Readback);
  std::memcpy(b->mapped(), data.data(), data.size() * sizeof(T));
  return b;
}

// Normal logits on a grid of 1/16: distinct values are e^(1/16) apart in probability, far beyond
// float rounding, so the kernel's cutoffs cannot land differently from the reference's; equal
// values are exact ties in both.
std::vector<float> grid_logits(uint32_t n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> l(n);
  for (auto& v : l) v = std::round(normal(rng) * 16.0f) / 16.0f;
  return l;
}

ops::SampleRow row(uint32_t logits_row, float temperature, float top_p, uint32_t top_k, uint32_t seed, uint32_t counter) {
  return {logits_row, 0, temperature, top_p, top_k, 0.0f, 0.0f, 1.0f, seed, seed * 2654435761u, counter, 0};
}

// One dispatch. `occ` ([slots, V], updated in place) and `weights` default to one slot that
// never generated anything, with unit weights.
uint32_t g_chunks = 0;  // the test's chunks per row (SampleChunks' parameter)

std::vector<uint32_t> draw(const std::vector<float>& logits, uint32_t V, const std::vector<ops::SampleRow>& rows,
                           std::vector<float>* occ = nullptr, std::vector<float> weights = {}, ops::SampleSteps steps = {}) {
  std::vector<float> fresh(V, -1.0f);
  if (!occ) occ = &fresh;
  if (weights.empty()) weights.assign(V, 1.0f);
  auto lb = buffer_of(logits), pb = buffer_of(rows), ob = buffer_of(*occ), wb = buffer_of(weights);
  auto ids = buffer_of(std::vector<uint32_t>(rows.size(), 12345678u));
  vk::Recorder rec(device());
  ops::sample(rec, {lb}, {pb}, uint32_t(rows.size()), {ob}, {wb}, V, {ids}, {.chunks = g_chunks, .steps = steps});
  rec.submit().wait();
  std::memcpy(occ->data(), ob->mapped(), occ->size() * 4);
  const auto* got = reinterpret_cast<const uint32_t*>(ids->mapped());
  return {got, got + rows.size()};
}

// The logits after the penalties of a row's memory `occ` (entries < 0: never generated).
std::vector<double> penalized(const float* l, const float* occ, const ops::SampleRow& r, uint32_t V) {
  std::vector<double> out(l, l + V);
  for (uint32_t v = 0; v < V; ++v)
    if (r.penalize && occ[v] >= 0) out[v] -= double(r.presence) + double(occ[v]) * r.frequency;
  return out;
}

// The first maximum: the kernel's rule for ties.
uint32_t argmax(const std::vector<double>& l) { return uint32_t(std::max_element(l.begin(), l.end()) - l.begin()); }

// The official pipeline's distribution: softmax; top-k keeps probabilities >= the k-th largest,
// top-p those >= the first sorted one whose cumulative mass reaches top_p; the survivors'
// probabilities ^ (1/temperature), normalised. Zero outside the set.
std::vector<double> reference(const std::vector<double>& l, double temperature, double top_p, uint32_t top_k) {
  const size_t V = l.size();
  const double m = l[argmax(l)];
  std::vector<double> p(V);
  for (size_t v = 0; v < V; ++v) p[v] = std::exp(l[v] - m);
  const double z = std::accumulate(p.begin(), p.end(), 0.0);
  for (auto& x : p) x /= z;
  std::vector<double> sorted = p;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double cutoff = 0;
  if (top_k > 0 && top_k < V) cutoff = sorted[top_k - 1];
  if (top_p < 1) {
    size_t j = 0;
    for (double mass = sorted[0]; mass < top_p && j + 1 < V; mass += sorted[++j]) {}
    cutoff = std::max(cutoff, sorted[j]);
  }
  std::vector<double> q(V, 0.0);
  for (size_t v = 0; v < V; ++v)
    if (p[v] >= cutoff) q[v] = std::pow(p[v], 1.0 / temperature);
  const double total = std::accumulate(q.begin(), q.end(), 0.0);
  for (auto& x : q) x /= total;
  return q;
}

// A top_p that keeps exactly the n most probable tokens (with their ties): halfway between the
// masses of the top n - 1 and the top n, a margin of half the n-th probability.
float top_p_keeping(const std::vector<double>& l, uint32_t n) {
  const std::vector<double> p = reference(l, 1.0, 1.0, 0);
  std::vector<double> sorted = p;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const double before = std::accumulate(sorted.begin(), sorted.begin() + (n - 1), 0.0);
  return float(before + sorted[n - 1] / 2);
}

// Pearson's chi-square of the draws against n * q, over bins of at least 5 expected draws (tokens
// in decreasing probability, the tail's remainder merged into the last bin), and a bound a correct
// kernel exceeds with probability ~1e-9: the Wilson-Hilferty chi-square quantile at z = 6.
void expect_frequencies(const std::vector<uint32_t>& ids, const std::vector<double>& q, const std::string& what) {
  std::vector<double> count(q.size(), 0.0);
  for (uint32_t id : ids) count[id] += 1;
  std::vector<uint32_t> order(q.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return q[a] > q[b]; });
  double chi2 = 0, e = 0, c = 0, last_e = 0, last_c = 0;
  int bins = 0;
  for (uint32_t v : order) {
    e += ids.size() * q[v];
    c += count[v];
    if (e < 5) continue;
    if (bins++ > 0) chi2 += (last_c - last_e) * (last_c - last_e) / last_e;
    last_e = e, last_c = c, e = c = 0;
  }
  chi2 += (last_c + c - last_e - e) * (last_c + c - last_e - e) / (last_e + e);
  const double d = bins - 1;
  if (d < 1) return;  // one bin: nothing to compare
  const double bound = d * std::pow(1 - 2 / (9 * d) + 6 * std::sqrt(2 / (9 * d)), 3);
  EXPECT_LE(chi2, bound) << what << ": " << d << " degrees of freedom";
  ::testing::Test::RecordProperty(what + " chi2", std::to_string(chi2) + " of " + std::to_string(bound));
}

class SampleChunks : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override { g_chunks = GetParam(); }
};

TEST_P(SampleChunks, GreedyTopK1AndTinyTopPAreTheArgmaxLowestIndexOnTies) {
  for (uint32_t V : {65u, 1000u, 50257u}) {
    // Row 0: grid logits, the lowest-index argmax of any accidental tie. Row 1: the maximum at three
    // indices; at V = 50257 the lowest one's invocation has a higher id than the others' (with 256
    // or 1024 invocations), so the reduction has to compare indices.
    std::vector<float> logits = grid_logits(V, 2.0f, V);
    logits.resize(2 * V);
    std::copy_n(logits.begin(), V, logits.begin() + V);
    const float top = *std::max_element(logits.begin(), logits.begin() + V) + 1;
    const std::vector<uint32_t> tied = {V - 1, V / 3, V / 2};
    for (uint32_t v : tied) logits[V + v] = top;
    std::vector<ops::SampleRow> rows;
    for (uint32_t lr : {0u, 1u})
      for (uint32_t c = 0; c < 16; ++c) {
        rows.push_back(row(lr, 0.0f, 0.85f, 0, 7 + c, c));
        rows.push_back(row(lr, 1.0f, 1.0f, 1, 7 + c, c));
        rows.push_back(row(lr, 3.0f, 1e-7f, 0, 7 + c, c));
      }
    const auto ids = draw(logits, V, rows);
    std::set<uint32_t> drawn_from_tie;
    for (size_t r = 0; r < rows.size(); ++r) {
      const uint32_t lr = rows[r].logits_row;
      const std::vector<double> l(logits.begin() + lr * V, logits.begin() + (lr + 1) * V);
      if (rows[r].temperature == 0) {
        EXPECT_EQ(ids[r], argmax(l)) << "V " << V << " row " << r;
      } else {
        // top-k 1 and a tiny top-p keep the maximum, and all its ties.
        const auto q = reference(l, rows[r].temperature, rows[r].top_p, rows[r].top_k);
        ASSERT_LT(ids[r], V) << "V " << V << " row " << r;
        EXPECT_GT(q[ids[r]], 0) << "V " << V << " row " << r << " drew " << ids[r];
        if (lr == 1) drawn_from_tie.insert(ids[r]);
      }
    }
    EXPECT_EQ(drawn_from_tie, std::set<uint32_t>(tied.begin(), tied.end())) << "V " << V;
  }
}

TEST_P(SampleChunks, DrawsStayInTheTopSetWithTheReferenceFrequencies) {
  // Rows per setting: lavapipe spends ~3 ms per top-p or top-k search (9 at V = 50257), under 1 ms
  // on a row without; the cutoffs' frequencies are checked in full at V = 1000.
  for (auto [V, n_plain, n_cut] : {std::tuple{65u, 1000u, 60u}, std::tuple{1000u, 2000u, 200u}, std::tuple{50257u, 400u, 20u}}) {
    std::vector<float> logits = grid_logits(V, 2.0f, 3 * V);
    // Two more tokens tied with the 3rd largest: top-k 3 keeps five.
    std::vector<float> sorted(logits);
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    for (uint32_t v = 0, planted = 0; planted < 2; ++v)
      if (logits[v] < sorted[2]) logits[v] = sorted[2], ++planted;
    const std::vector<double> l(logits.begin(), logits.end());
    // No cutoff (the many cheap rows check the temperature); top-p alone; top-k alone (through the
    // tie); both, top-p the narrower.
    const std::vector<ops::SampleRow> settings = {row(0, 0.7f, 1.0f, 0, 0, 0), row(0, 0.6f, top_p_keeping(l, 20), 0, 0, 0),
                                                  row(0, 1.7f, 1.0f, 3, 0, 0), row(0, 1.2f, top_p_keeping(l, 8), 12, 0, 0)};
    std::vector<ops::SampleRow> rows;
    std::vector<uint32_t> first = {0};
    for (uint32_t s = 0; s < settings.size(); ++s) {
      for (uint32_t c = 0; c < (s == 0 ? n_plain : n_cut); ++c) {
        ops::SampleRow r = settings[s];
        r.seed_lo = 1000 + 7919 * s, r.seed_hi = s, r.counter = c;
        rows.push_back(r);
      }
      first.push_back(uint32_t(rows.size()));
    }
    const auto ids = draw(logits, V, rows);
    for (uint32_t s = 0; s < settings.size(); ++s) {
      const auto q = reference(l, settings[s].temperature, settings[s].top_p, settings[s].top_k);
      const std::vector<uint32_t> got(ids.begin() + first[s], ids.begin() + first[s + 1]);
      const auto outside = std::count_if(got.begin(), got.end(), [&](uint32_t id) { return id >= V || q[id] == 0; });
      EXPECT_EQ(outside, 0) << "V " << V << " setting " << s;
      if (outside == 0) expect_frequencies(got, q, "V " + std::to_string(V) + " setting " + std::to_string(s));
    }
  }
}

TEST_P(SampleChunks, TheSameSeedAndCounterDrawTheSameTokenAloneOrInABatch) {
  const uint32_t V = 1000, n = 64;
  const std::vector<float> logits = grid_logits(V, 1.0f, 21);
  // Rows 0..n-1: one seed, counters 0..n-1; rows n..2n-1: counter 5, seed_hi 0..n-1; then all of
  // them again in reverse order.
  std::vector<ops::SampleRow> rows;
  for (uint32_t i = 0; i < n; ++i) rows.push_back(row(0, 1.0f, 1.0f, 0, 99, i));
  for (uint32_t i = 0; i < n; ++i) rows.push_back({0, 0, 1.0f, 1.0f, 0, 0, 0, 1, 99, i, 5, 0});
  rows.insert(rows.end(), rows.rbegin(), rows.rend());
  const auto ids = draw(logits, V, rows);
  const auto alone = draw(logits, V, {rows[5], rows[n + 9]});
  for (uint32_t i = 0; i < 2 * n; ++i) EXPECT_EQ(ids[i], ids[4 * n - 1 - i]) << "row " << i;
  EXPECT_EQ(alone, (std::vector<uint32_t>{ids[5], ids[n + 9]}));
  // ~600 tokens carry the mass: 64 independent draws repeat a few, far from half.
  EXPECT_GE(std::set<uint32_t>(ids.begin(), ids.begin() + n).size(), n / 2) << "over counters";
  EXPECT_GE(std::set<uint32_t>(ids.begin() + n, ids.begin() + 2 * n).size(), n / 2) << "over seeds";
}

TEST_P(SampleChunks, NonFiniteLogitsMarkTheRow) {
  const uint32_t V = 1000;
  std::vector<float> logits;
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    std::vector<float> l = grid_logits(V, 2.0f, 5);
    l[V / 2 + 3] = bad;
    logits.insert(logits.end(), l.begin(), l.end());
  }
  std::vector<ops::SampleRow> rows;
  for (uint32_t lr = 0; lr < 3; ++lr)
    for (float t : {0.0f, 1.0f}) rows.push_back(row(lr, t, 0.9f, 40, 3, lr));
  for (uint32_t id : draw(logits, V, rows)) EXPECT_EQ(id, kNonFinite);
}

TEST_P(SampleChunks, PenaltiesShiftTheDrawAndUpdateTheMemoryOfPenalizingRows) {
  const uint32_t V = 1000, slots = 6;
  std::mt19937 rng(4);
  // Logits row 0: token a the maximum, b half below it, the rest at least half below b.
  std::vector<float> logits = grid_logits(V, 1.0f, 8);
  const float top = *std::max_element(logits.begin(), logits.end());
  const uint32_t a = 88, b = 417;  // a first: a tie with b goes to a
  logits[a] = top + 1.0f, logits[b] = top + 0.5f;
  logits.resize(2 * V);
  std::copy_n(logits.begin(), V, logits.begin() + V);
  logits[V + 5] = NAN;  // row 1: non-finite
  // Memory: never generated (-1) or counts on a grid of 1/4 (exact penalties); a counts 2, b never.
  std::vector<float> occ(slots * V), weights(V);
  for (auto& o : occ) o = rng() % 2 ? -1.0f : float(rng() % 13) / 4;
  for (auto& w : weights) w = 0.5f + float(rng() % 7) / 4;
  weights[b] = 0.0f;  // a whitespace token: drawn, it counts as seen with a count of 0
  for (uint32_t s = 0; s < slots; ++s) occ[s * V + a] = 2.0f, occ[s * V + b] = -1.0f;
  // presence 0.375 + frequency 0.125 x count 2 puts a an eighth below b; without either term, or
  // without the count, a stays first. Slot 5 has no row.
  const std::vector<ops::SampleRow> rows = {
      {0, 0, 0.0f, 1.0f, 0, 0.375f, 0.125f, 0.9f, 0, 0, 0, 1},  // greedy: b
      {0, 1, 0.0f, 1.0f, 0, 0.375f, 0.125f, 0.9f, 0, 0, 0, 0},  // the same, penalize off: a
      {0, 2, 1.0f, 1.0f, 5, 0.5f, 0.25f, 0.996f, 3, 1, 7, 1},  // a draw from the penalized top 5
      {0, 3, 0.0f, 1.0f, 0, 0.0f, 0.125f, 0.5f, 0, 0, 0, 1},   // greedy, a penalized yet first
      {1, 4, 1.0f, 0.9f, 0, 0.5f, 1.0f, 0.9f, 3, 1, 7, 1},     // non-finite: only decays
  };
  const std::vector<float> before = occ;
  const auto ids = draw(logits, V, rows, &occ, weights);
  EXPECT_EQ(ids[0], b);
  EXPECT_EQ(ids[1], a);
  EXPECT_EQ(ids[3], a);
  EXPECT_EQ(ids[4], kNonFinite);
  const auto l2 = penalized(logits.data(), &before[2 * V], rows[2], V);
  ASSERT_LT(ids[2], V);
  EXPECT_GT(reference(l2, 1.0, 1.0, 5)[ids[2]], 0) << "drew " << ids[2];
  for (uint32_t s = 0; s < slots; ++s) {
    const bool updated = s < rows.size() && rows[s].penalize;
    double worst = 0;
    for (uint32_t v = 0; v < V; ++v) {
      const double o = before[s * V + v];
      double want = o;
      if (updated) {
        want = o >= 0 ? o * rows[s].decay : o;
        if (v == ids[s]) want = std::max(want, 0.0) + weights[v];
      }
      worst = std::max(worst, std::abs(occ[s * V + v] - want));
    }
    EXPECT_LE(worst, 1e-6) << "slot " << s;
  }
  EXPECT_EQ(occ[b], 0.0f);  // slot 0: b drawn with weight 0
}

// The steps no row needs (sample_steps) can be left out: the same tokens and penalty memory as
// with every step, for greedy rows, sampled rows without cutoffs, and with penalties.
TEST_P(SampleChunks, StepsNoRowNeedsChangeNothing) {
  const uint32_t V = 1000;
  const auto logits = grid_logits(3 * V, 1.0f, 5);
  // Each row its own memory slot (two rows updating one slot race; sequences never share one).
  auto with_penalty = [](ops::SampleRow r, uint32_t slot) {
    r.slot = slot, r.presence = 0.5f, r.frequency = 0.25f, r.decay = 0.9f, r.penalize = 1;
    return r;
  };
  const std::vector<std::vector<ops::SampleRow>> cases = {
      {row(0, 0.0f, 1.0f, 0, 1, 0), row(1, 0.0f, 0.5f, 3, 2, 0)},
      {row(0, 1.0f, 1.0f, 0, 3, 0), row(2, 0.7f, 1.0f, 0, 4, 1)},
      {with_penalty(row(1, 0.0f, 1.0f, 0, 5, 0), 0), with_penalty(row(2, 0.9f, 0.8f, 0, 6, 2), 1)}};
  const ops::SampleSteps expected[] = {{false, false, false}, {false, true, false}, {true, true, true}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto steps = ops::sample_steps(cases[i], V);
    EXPECT_EQ(steps, expected[i]) << i;
    std::vector<float> occ_all(2 * V, -1.0f), occ_needed(2 * V, -1.0f);
    for (uint32_t v = 0; v < 2 * V; v += 7) occ_all[v] = occ_needed[v] = 1.5f;
    const auto occ_before = occ_all;
    const auto ids = draw(logits, V, cases[i], &occ_needed, {}, steps);
    EXPECT_EQ(draw(logits, V, cases[i], &occ_all), ids) << i;
    EXPECT_EQ(occ_all, occ_needed) << i;
    // Each token against the reference: the penalized argmax of a greedy row, a token of nonzero
    // reference probability otherwise.
    for (size_t r = 0; r < cases[i].size(); ++r) {
      const auto& row_r = cases[i][r];
      const auto l = penalized(&logits[row_r.logits_row * V], &occ_before[row_r.slot * V], row_r, V);
      if (row_r.temperature == 0.0f)
        EXPECT_EQ(ids[r], argmax(l)) << i << " " << r;
      else
        EXPECT_GT(reference(l, row_r.temperature, row_r.top_p, row_r.top_k)[ids[r]], 0.0) << i << " " << r;
    }
  }
}

// 0: the rule's (one on CPU devices, one per 1,024 tokens on GPUs: the GPU suite runs this file too).
INSTANTIATE_TEST_SUITE_P(RuleAndThree, SampleChunks, ::testing::Values(0u, 3u));

// SAMPLE_SEARCH_PASSES: each search step maps a range of R probability bits to one of at most
// max(step, R - (B - 1) step) with step = max(1, R / B), B = SAMPLE_BUCKETS (sample.comp's
// range_for), and the draw takes one more step after the last pass: the passes plus that one
// reach a single threshold from the first range [0, 1.0f] whichever buckets the data fill.
TEST(Sample, SearchPassesReachOneThreshold) {
  constexpr uint32_t B = SAMPLE_BUCKETS;
  std::map<uint32_t, uint32_t> memo;
  std::function<uint32_t(uint32_t)> steps = [&](uint32_t r) -> uint32_t {
    if (r <= 1) return 0;
    if (auto it = memo.find(r); it != memo.end()) return it->second;
    const uint32_t step = std::max(1u, r / B);
    uint32_t most = 0;
    for (uint32_t j = 0; j < B && (j == 0 || j * step < r); ++j) {
      const bool last = j == B - 1 || (j + 1) * step >= r;
      most = std::max(most, steps(last ? r - j * step : step));
    }
    return memo[r] = 1 + most;
  };
  EXPECT_EQ(steps(0x3F800000u + 1), SAMPLE_SEARCH_PASSES);
}

}  // namespace
}  // namespace rwkv
