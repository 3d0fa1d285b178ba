#include "tools/input_feeds.h"

#include <new>

#include <tandem/tandem.h>

#include "session/tensor_io.h"
#include "tools/cli_common.h"
#include "session/random_inputs.h"

namespace tandem::cli {

Feeds make_feeds(const Graph& g, const std::vector<std::string>& specs, uint64_t seed, const std::string& context,
                 std::ostream* log) {
  Feeds f;
  f.tensors.resize(g.inputs().size());
  f.ptrs.assign(g.inputs().size(), nullptr);
  for (const std::string& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError{"--input expects NAME=FILE, got '" + spec + "'"};
    const std::string name = spec.substr(0, eq);
    std::size_t k = 0;
    while (k < g.inputs().size() && g.value(g.inputs()[k]).name != name) ++k;
    if (k == g.inputs().size()) throw Error(context + "--input " + name + ": the model has no input named '" + name + "'");
    const Value& declared = g.value(g.inputs()[k]);
    auto t = read_value_file(spec.substr(eq + 1), declared.form, declared.dtype);
    if (!t) throw Error(context + "--input " + name + ": " + t.status().message());
    f.tensors[k] = std::move(t->tensor);
    f.ptrs[k] = &f.tensors[k];
  }
  for (std::size_t k = 0; k < g.inputs().size(); ++k) {
    const Value& v = g.value(g.inputs()[k]);
    if (f.ptrs[k] || v.data) continue;
    RandomInput r;
    try {
      r = random_input(v, seed + k);
    } catch (const std::bad_alloc& e) {  // --dim values can ask for more than the machine has
      throw Error(context + "random input '" + v.name + "': " + e.what());
    }
    if (log) {
      *log << "input  " << v.name << ": random " << r.tensor.describe();
      if (!r.defaulted_dims.empty()) {
        *log << " (taking";
        for (const auto& d : r.defaulted_dims) *log << " " << d << "=1";
        *log << "; set with --dim)";
      }
      *log << "\n";
    }
    f.tensors[k] = std::move(r.tensor);
    f.ptrs[k] = &f.tensors[k];
  }
  return f;
}

}  // namespace tandem::cli
