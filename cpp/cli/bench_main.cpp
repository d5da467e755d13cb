// rwkv-gpu-bench: the C++ benchmark program. Prints JSON on stdout.
//   rwkv-gpu-bench devices
//   rwkv-gpu-bench tokenize VOCAB.txt TEXT_FILE [REPEATS]   (World tokenizer encode throughput)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "tokenizer/world_tokenizer.hpp"
#include "vk/device_info.hpp"

namespace {

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
              << ", \"max_storage_buffer_range\": " << d.max_storage_buffer_range << "}";
  }
  std::cout << "]\n";
  return 0;
}

int tokenize(const std::string& vocab, const std::string& text_file, int repeats) {
  const auto tok = rwkv::WorldTokenizer::from_vocab_file(vocab);
  std::ifstream in(text_file, std::ios::binary);
  if (!in) throw rwkv::Error("cannot open " + text_file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<double> seconds;
  size_t n_tokens = 0;
  for (int r = 0; r < repeats + 1; ++r) {  // the first run warms up
    const auto t0 = std::chrono::steady_clock::now();
    n_tokens = tok.encode(text).size();
    const auto t1 = std::chrono::steady_clock::now();
    if (r) seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::cout << "{\"bytes\": " << text.size() << ", \"tokens\": " << n_tokens << ", \"median_s\": " << median
            << ", \"mb_per_s\": " << double(text.size()) / median / 1e6 << "}\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 1 && args[0] == "devices") return devices();
    if ((args.size() == 3 || args.size() == 4) && args[0] == "tokenize")
      return tokenize(args[1], args[2], args.size() == 4 ? std::max(1, std::stoi(args[3])) : 5);
  } catch (const std::exception& e) {
    std::cerr << "rwkv-gpu-bench: error: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: rwkv-gpu-bench devices\n"
               "       rwkv-gpu-bench tokenize VOCAB.txt TEXT_FILE [REPEATS]\n";
  return 2;
}
