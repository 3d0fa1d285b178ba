// Replays the committed fuzz inputs (tests/fuzz/regressions/, and the seeds) through the fuzz targets'
// entry functions (the model inputs through both fuzz_model and fuzz_plan_model): each must return, so the
// crashes, hangs, sanitizer reports and plan mismatches those inputs once caused stay fixed in every build,
// sanitizer or not.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_entry.h"

namespace fs = std::filesystem;

namespace {

const fs::path kFuzzDir = fs::path(TANDEM_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "README.md") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Feeds every file under `dir` to `target`; the seeds must be there, a target may have no regressions yet.
void replay(const fs::path& dir, void (*target)(const uint8_t*, std::size_t)) {
  const auto files = files_under(dir);
  if (dir.parent_path().filename() == "seeds") {
    ASSERT_FALSE(files.empty()) << dir;
  }
  for (const fs::path& p : files) {
    SCOPED_TRACE(p.string());
    const std::string bytes = bytes_of(p);
    EXPECT_NO_THROW(target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
}

}  // namespace

TEST(FuzzReplay, ModelRegressions) { replay(kFuzzDir / "regressions" / "model", tandem::fuzz::fuzz_model); }
TEST(FuzzReplay, ModelSeeds) { replay(kFuzzDir / "seeds" / "model", tandem::fuzz::fuzz_model); }
// The model inputs again, each over two devices on the placement its bytes pick.
TEST(FuzzReplay, PlanModelRegressions) {
  replay(kFuzzDir / "regressions" / "model", tandem::fuzz::fuzz_plan_model);
}
TEST(FuzzReplay, PlanModelSeeds) { replay(kFuzzDir / "seeds" / "model", tandem::fuzz::fuzz_plan_model); }
TEST(FuzzReplay, TensorFileRegressions) {
  replay(kFuzzDir / "regressions" / "tensor_file", tandem::fuzz::fuzz_tensor_file);
}
TEST(FuzzReplay, TensorFileSeeds) { replay(kFuzzDir / "seeds" / "tensor_file", tandem::fuzz::fuzz_tensor_file); }
