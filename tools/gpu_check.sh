#!/usr/bin/env bash
# GPU validation in two halves, for a GPU machine that has nvcc, CMake and PyTorch+cuDNN but none of
# tandem's Debian libraries (docs/gpu-validation.md says how runs are recorded).
#
#   tools/gpu_check.sh --pack   (here, on the dev machine) builds with CUDA and gathers the GPU test and
#                               benchmark binaries plus the non-system shared libraries they load (per
#                               ldd), stripped and gzipped into .gpu-pack/pack.tar.gz (git-ignored), and
#                               checks it and the working tree are < 64 MiB (the device tool's limit;
#                               oneDNN alone is ~38 MiB stripped, so the pack travels compressed).
#   tools/gpu_check.sh --run [STAGE...]
#                               (on the GPU machine, from the repository root) unpacks .gpu-pack/ into a
#                               temporary folder and runs the stages, all by default, each within the
#                               device tool's 10 minutes per command when run alone:
#                                 tests  the GPU tests (a skip there fails: the GPU was not seen)
#                                 rnn    the RNN benchmark: tandem vs PyTorch+cuDNN, as a table (issue 7)
#                                 dual   `tandem profile --devices cpu,cuda` (per-node GPU times, pinned link
#                                        fits: issue 4) and the dual-device benchmark (issue 6's target) on
#                                        the bench models, packed here from bench/models/make_bench_models.py
#                               RESULTS_DIR (e.g. the device tool's $OUT), when set, receives the tables and
#                               the profile.
#
# CUDA's own libraries (libcudart, libcublas, libcublasLt: hundreds of MB) are not packed: the GPU machine's
# CUDA toolkit provides them. Environment: BUILD_DIR (default build-gpu), PACK_DIR (default .gpu-pack),
# REPS (benchmark repetitions, default 50), PYTHON (default: the first python3 that imports torch).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-gpu}
pack=${PACK_DIR:-$root/.gpu-pack}
limit=$((64 * 1024 * 1024))
gpu_tests=(cuda_caching_pool_test cuda_rnn_test cuda_kernels_test cuda_memory_test cuda_device_test
           memory_prediction_test)
bench=gpu_rnn_bench
tools=(tandem_cli dual_device_bench)  # binaries `tandem` and dual_device_bench

# Libraries the GPU machine has anyway: glibc's family and the CUDA runtime/driver/cuBLAS (from its toolkit).
is_system_lib() {
  case "$(basename "$1")" in
    linux-vdso.so*|ld-linux*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*) return 0 ;;
    libcuda.so*|libcudart.so*|libcublas.so*|libcublasLt.so*|libnvidia-*) return 0 ;;
  esac
  return 1
}

do_pack() {
  # The benchmarks too: the dual stage runs dual_device_bench (a build dir made without them lacked it).
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_CUDA=ON -DTANDEM_BUILD_BENCH=ON >/dev/null
  local targets=() help
  # Read once: `cmake ... | grep -q` under pipefail fails at random (grep stops reading, cmake gets SIGPIPE),
  # which dropped existing targets from the pack.
  help=$(cmake --build "$build" --target help)
  for t in "${gpu_tests[@]}" "$bench" "${tools[@]}"; do
    # Every one, or the stage that needs it would fail on the GPU machine, minutes later.
    if ! grep -q "^$t:" <<<"$help"; then echo "gpu_check: no target $t in $build" >&2; exit 1; fi
    targets+=("$t")
  done
  cmake --build "$build" --target "${targets[@]}" -j"${JOBS:-2}"
  local final=$pack
  pack=$(mktemp -d)
  mkdir -p "$pack/bin" "$pack/lib"
  for t in "${targets[@]}"; do
    local bin name=$t
    [[ $t == tandem_cli ]] && name=tandem
    bin=$(find "$build" -type f -name "$name" -perm -u+x -print -quit)
    [[ -n $bin ]] || { echo "gpu_check: built $t but cannot find its binary" >&2; exit 1; }
    cp "$bin" "$pack/bin/"
    # ldd lists the whole closure, so one pass per binary finds every library it loads.
    while read -r lib; do
      [[ -n $lib && -f $lib ]] || continue
      is_system_lib "$lib" && continue
      cp -L -n "$lib" "$pack/lib/" 2>/dev/null || true
    done < <(ldd "$bin" | awk '/=>/ { print $3 }')
  done
  cp "$root/runtime_cuda/bench/torch_rnn_bench.py" "$pack/bin/"
  # The dual-device benchmark's models, exported here (the GPU machine's PyTorch may export differently).
  /usr/bin/python3 "$root/bench/models/make_bench_models.py" "$pack/models" >/dev/null
  # ONNX's backend node cases (Debian's libonnx-testdata, 4 MB gzipped), which cuda_device_test runs on the
  # GPU (cuda_conformance_test.cc): the GPU machine has no Debian packages.
  local node_cases=/usr/share/libonnx-testdata/data/node
  [[ -d $node_cases ]] || { echo "gpu_check: no $node_cases (apt-get install libonnx-testdata)" >&2; exit 1; }
  mkdir -p "$pack/data"
  cp -r "$node_cases" "$pack/data/node"
  chmod -R u+w "$pack"
  strip --strip-unneeded "$pack"/bin/* "$pack"/lib/* 2>/dev/null || true
  local unpacked total
  unpacked=$(du -cb "$pack" | tail -n1 | cut -f1)
  rm -rf "$final"
  mkdir -p "$final"
  tar -C "$pack" -czf "$final/pack.tar.gz" bin lib models data
  total=$(du -cb "$final" | tail -n1 | cut -f1)
  echo "gpu_check: packed ${#targets[@]} binaries and $(ls "$pack/lib" | wc -l) libraries," \
       "$((unpacked / 1024 / 1024)) MiB, $((total / 1024 / 1024)) MiB gzipped:"
  du -h "$pack"/bin/* "$pack"/lib/* "$pack"/models/* | sort -h | tail -n 8
  rm -rf "$pack"
  # The working tree travels with the pack, within the same 64 MiB.
  local tree
  tree=$(cd "$root" && git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n1 | cut -f1 || true)
  [[ -n $tree ]] || { echo "gpu_check: cannot measure the working tree's size" >&2; exit 1; }
  echo "gpu_check: with the working tree's $((tree / 1024 / 1024)) MiB: $(((total + tree) / 1024 / 1024)) of 64 MiB"
  if (( total + tree > limit )); then
    echo "gpu_check: the pack ($total bytes) and the working tree ($tree bytes) are over the 64 MiB limit" >&2
    exit 1
  fi
}

# cuBLAS 13 from the GPU machine's CUDA toolkit or from pip's nvidia wheels, whichever exists.
# The directories of the CUDA 13 runtime and cuBLAS the binaries link, colon-separated: the toolkit's, else
# PyTorch's wheels (nvidia/cuda_runtime/lib, nvidia/cublas/lib: separate folders), else a search of the disk
# (which can take minutes).
find_cuda_libs() {
  local lib d found nv py dirs=""
  py=$(find_python_with_torch || true)
  nv=""
  [[ -n $py ]] && nv=$("$py" -c 'import nvidia; print(list(nvidia.__path__)[0])' 2>/dev/null || true)
  for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13; do
    found=""
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64 \
             /usr/lib/x86_64-linux-gnu ${nv:+$nv/*/lib}; do
      [[ -e $d/$lib ]] && { found=$d; break; }
    done
    if [[ -z $found ]]; then
      d=$(find / -xdev -name "$lib" 2>/dev/null | head -n1 || true)
      [[ -n $d ]] && found=$(dirname "$d")
    fi
    [[ -n $found && ":$dirs:" != *":$found:"* ]] && dirs=${dirs:+$dirs:}$found
  done
  echo "$dirs"
}

find_python_with_torch() {
  local p
  for p in ${PYTHON:-} python3 /usr/bin/python3 /opt/conda/bin/python3; do
    command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' 2>/dev/null && { echo "$p"; return; }
  done
}

do_run() {
  [[ -f $pack/pack.tar.gz ]] || { echo "gpu_check: no $pack/pack.tar.gz; run tools/gpu_check.sh --pack first (and carry $pack)" >&2; exit 1; }
  local unpacked
  unpacked=$(mktemp -d)
  tar -C "$unpacked" -xzf "$pack/pack.tar.gz"
  pack=$unpacked
  local cuda_libs
  cuda_libs=$(find_cuda_libs || true)
  # PyTorch must not load the pack's libraries: they are the dev machine's (Debian 12: libstdc++ of GCC 12,
  # zlib, protobuf, ...), older than the GPU machine's, and put ahead of them they can make `import torch`
  # fail (a missing GLIBCXX version), which reads as "no python3 with torch". Python runs with the
  # environment's own library path (py_env).
  orig_ld_library_path=${LD_LIBRARY_PATH:-}
  export LD_LIBRARY_PATH="$pack/lib${cuda_libs:+:$cuda_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  local missing
  missing=$(ldd "$pack"/bin/* 2>/dev/null | grep 'not found' | sort -u || true)
  if [[ -n $missing ]]; then
    echo "gpu_check: libraries not found (LD_LIBRARY_PATH=$LD_LIBRARY_PATH):" >&2
    echo "$missing" >&2
    exit 1
  fi
  local stages=("$@") stage
  (( ${#stages[@]} )) || stages=(tests rnn dual)
  for stage in "${stages[@]}"; do
    case $stage in tests|rnn|dual) ;; *) echo "gpu_check: unknown stage '$stage' (tests, rnn, dual)" >&2; return 2 ;; esac
  done
  local failed=0
  for stage in "${stages[@]}"; do
    case $stage in
      tests) run_tests || failed=1 ;;
      rnn) run_rnn_bench || failed=1 ;;
      dual) run_dual || failed=1 ;;
      *) echo "gpu_check: unknown stage '$stage' (tests, rnn, dual)" >&2; return 2 ;;
    esac
  done
  return $failed
}

run_tests() {
  local failed=0 t out
  # The tests read their models from this copy of the repository, not the build machine's path, and ONNX's
  # node cases from the pack.
  export TANDEM_SOURCE_DIR=$root TANDEM_ONNX_NODE_CASES=$pack/data/node
  for t in "${gpu_tests[@]}"; do
    if [[ ! -x $pack/bin/$t ]]; then echo "gpu_check: $t is not in the pack" >&2; failed=1; continue; fi
    echo "== $t"
    # A skip here would mean the GPU was not seen: say so loudly rather than pass. (CudaWithoutGpu checks
    # the no-GPU paths and skips where there is a GPU, so it is left out.)
    # memory_prediction_test's other cases need no GPU (CI runs them): only its GPU case here.
    local filter=-CudaWithoutGpu.*
    [[ $t == memory_prediction_test ]] && filter='*OnAGpu*'
    # A time limit per binary (a hang must not take the whole command), and its log written as it runs.
    local log=${RESULTS_DIR:-/tmp}/$t.log
    if ! timeout -k 10 "${TEST_TIMEOUT:-240}" "$pack/bin/$t" --gtest_brief=1 --gtest_filter="$filter" >"$log" 2>&1; then
      failed=1
      echo "gpu_check: $t failed or ran past ${TEST_TIMEOUT:-240} s" >&2
    fi
    out=$(cat "$log")
    echo "$out" | tail -n 40
    if grep -q "SKIPPED" <<<"$out"; then echo "gpu_check: $t skipped tests on the GPU machine" >&2; failed=1; fi
  done
  return $failed
}

# Runs a command with the library path the script started with (not the pack's: see do_run).
py_env() (
  if [[ -n ${orig_ld_library_path:-} ]]; then export LD_LIBRARY_PATH=$orig_ld_library_path; else unset LD_LIBRARY_PATH; fi
  "$@"
)

run_rnn_bench() {
  echo "== $bench"
  local results
  results=$(mktemp)
  # pipefail: a crash of the benchmark fails the stage, not only a failing tee.
  "$pack/bin/$bench" "${REPS:-50}" | tee "$results" || return 1
  local py
  py=$(py_env find_python_with_torch || true)
  if [[ -z $py ]]; then
    echo "gpu_check: no python3 with torch found; tandem's numbers are above, cuDNN's are missing" >&2
    return 1
  fi
  py_env "$py" "$pack/bin/torch_rnn_bench.py" "$results" --reps "${REPS:-50}" | tee "$results.table" || return 1
  if [[ -n ${RESULTS_DIR:-} ]]; then cp "$results.table" "$RESULTS_DIR/rnn_bench.txt"; fi
  rm -f "$results" "$results.table"
}

run_dual() {
  local models=("$pack"/models/*.onnx) out=${RESULTS_DIR:-$(mktemp -d)}
  [[ -e ${models[0]} ]] || { echo "gpu_check: no bench models in the pack" >&2; return 1; }
  echo "== tandem profile (cpu,cuda) ${models[0]##*/}"
  local log
  log=$(timeout "${TEST_TIMEOUT:-240}" "$pack/bin/tandem" profile "${models[0]}" --devices cpu,cuda -o "$out/profile.json" 2>&1) || { echo "$log"; return 1; }
  echo "$log" | tail -n 30
  # Without a GPU the profiler estimates the cuda costs: on the GPU machine that means the GPU was not seen.
  if grep -q "estimated" <<<"$log"; then echo "gpu_check: tandem profile estimated the GPU instead of measuring it" >&2; return 1; fi
  echo "== dual_device_bench (cpu,cuda)"
  timeout "${BENCH_TIMEOUT:-420}" "$pack/bin/dual_device_bench" "${models[@]}" --devices cpu,cuda --runs "${DUAL_RUNS:-20}" | tee "$out/dual_bench.txt"
}

case "${1:-}" in
  --pack) do_pack ;;
  --run) shift; do_run "$@" ;;
  *) echo "usage: tools/gpu_check.sh --pack | --run [tests] [rnn] [dual]" >&2; exit 2 ;;
esac
