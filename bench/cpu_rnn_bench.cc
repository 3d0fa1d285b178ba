// tandem's side of the CPU RNN benchmark (bench/cpu_rnn_bench.py drives it, beside ONNX Runtime and
// PyTorch): a small server that keeps sessions loaded and times runs on request, so the driver can
// interleave the engines within one run.
//
// Commands, one per line on stdin; each answer is one line on stdout:
//   load NAME MODEL.onnx THREADS   two sessions of the model with THREADS threads: "fast" (tandem's default
//                                  kernel choice) and "reference" (TANDEM_RNN_KERNEL=reference, the RNN
//                                  kernels' reference twin); answers "ok"
//   time NAME fast|reference N     N runs on random inputs; answers "us T1 T2 ..." (microseconds per run)
//   drop NAME                      forgets the model; answers "ok"
//   quit
// Errors answer "error MESSAGE".
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <tandem/tandem.h>

#include "bench/random_host_inputs.h"

namespace {

struct Loaded {
  std::unique_ptr<tandem::Session> fast, reference;
  std::map<std::string, tandem::HostTensor> inputs;
};

// A session whose RNN kernels take `choice` (nullptr: the default): the choice is read when kernels are
// created, that is, in the Session's constructor.
std::unique_ptr<tandem::Session> session_with(const std::string& path, int threads, const char* choice) {
  if (choice) setenv("TANDEM_RNN_KERNEL", choice, 1);
  else unsetenv("TANDEM_RNN_KERNEL");
  tandem::SessionOptions o;
  o.threads = threads;
  auto s = std::make_unique<tandem::Session>(path, o);
  unsetenv("TANDEM_RNN_KERNEL");
  return s;
}

}  // namespace

int main() {
  std::map<std::string, Loaded> loaded;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    try {
      if (cmd == "quit") break;
      if (cmd == "load") {
        std::string name, path;
        int threads = 1;
        in >> name >> path >> threads;
        Loaded l;
        l.fast = session_with(path, threads, nullptr);
        l.reference = session_with(path, threads, "reference");
        l.inputs = tandem_bench::random_inputs(l.fast->model());
        loaded[name] = std::move(l);
        std::cout << "ok" << std::endl;
      } else if (cmd == "drop") {
        std::string name;
        in >> name;
        loaded.erase(name);
        std::cout << "ok" << std::endl;
      } else if (cmd == "time") {
        std::string name, engine;
        int runs = 1;
        in >> name >> engine >> runs;
        auto it = loaded.find(name);
        if (it == loaded.end()) throw tandem::Error("no model loaded as '" + name + "'");
        const tandem::Session& s = engine == "reference" ? *it->second.reference : *it->second.fast;
        std::ostringstream out;
        out << "us";
        for (int r = 0; r < runs; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          auto outputs = s.run(it->second.inputs);
          const auto t1 = std::chrono::steady_clock::now();
          out << " " << std::chrono::duration<double, std::micro>(t1 - t0).count();
        }
        std::cout << out.str() << std::endl;
      } else {
        throw tandem::Error("unknown command '" + cmd + "'");
      }
    } catch (const std::exception& e) {
      std::cout << "error " << e.what() << std::endl;
    }
  }
  return 0;
}
