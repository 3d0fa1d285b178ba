// Persistent worker threads that run submitted jobs, one job per idle thread, growing when all are busy.
//
// Why persistent threads rather than a std::thread per run: OpenMP (oneDNN's threading) keeps a team of
// threads per thread that starts parallel regions, so a fresh thread per run would build a new team on its
// first GEMM of every run; a persistent worker keeps its team (and its caches) warm. Why growing: two
// concurrent runs each need a thread per device, so a device's pool holds as many threads as the most
// runs it has served at once, and each run still gets its own.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem {

class WorkerPool {
 public:
  // `on_exit` (may be empty) runs on each worker thread just before it ends (a device releases what it
  // keeps for that thread).
  explicit WorkerPool(std::function<void()> on_exit = {}) : on_exit_(std::move(on_exit)) {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();  // finishes queued jobs, then joins the threads

  // Runs `job` on an idle worker, starting a new one when none is idle; returns at once. Then `done` (may
  // be empty), once the worker counts as idle again: a caller that waits for `done` and submits again at
  // once finds that worker instead of starting another. Neither may throw (callers report their errors).
  void submit(std::function<void()> job, std::function<void()> done = {});
  std::size_t size() const;  // threads started so far

 private:
  void work();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Job {
    std::function<void()> run, done;
  };
  std::deque<Job> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
  std::function<void()> on_exit_;
};

}  // namespace tandem
