// tandem's side of the host-memory benchmark (bench/host_memory_bench.py drives it, beside ONNX Runtime):
// one model per process, its resident memory read from /proc/self/status after each stage, so that what a
// stage frees shows (glibc returns large blocks to the system when they are freed).
//
//   host_memory_bench MODEL.onnx [--keep-model]
//
// Stages: start (libraries loaded), Model::load, the Session, one run on random inputs (symbolic dimensions
// as 1). By default the Session is given the only reference to the Model (std::move), so it frees the
// model's copy of the weights its kernels packed (session/packed_weight_release.h); --keep-model keeps a
// Model beside it, which is how every session held the weights before that change. Prints one JSON line:
// {"start": KB, "loaded": KB, "session": KB, "run": KB, "peak": KB} (VmRSS, and VmHWM for the peak).
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <tandem/tandem.h>

#include "bench/random_host_inputs.h"

namespace {

long status_kb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string(argv[2]) != "--keep-model")) {
    std::cerr << "usage: host_memory_bench MODEL.onnx [--keep-model]\n";
    return 2;
  }
  try {
    const long start = status_kb("VmRSS");
    tandem::Model model = tandem::Model::load(argv[1]);
    const long loaded = status_kb("VmRSS");
    tandem::SessionOptions options;
    options.threads = 1;
    std::optional<tandem::Model> kept;
    if (argc == 3) kept = model;
    const tandem::Session session(std::move(model), options);
    const long made = status_kb("VmRSS");
    session.run(tandem_bench::random_inputs(session.model()));
    const long ran = status_kb("VmRSS");
    std::cout << "{\"start\": " << start << ", \"loaded\": " << loaded << ", \"session\": " << made
              << ", \"run\": " << ran << ", \"peak\": " << status_kb("VmHWM") << "}\n";
  } catch (const tandem::Error& e) {
    std::cerr << "host_memory_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
