#include "runtime/worker_pool.h"

namespace tandem {

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> job, std::function<void()> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(Job{std::move(job), std::move(done)});
    // Every queued job needs an idle thread of its own, or a run would wait for another run's job.
    if (jobs_.size() > idle_) threads_.emplace_back([this] { work(); });
  }
  cv_.notify_one();
}

std::size_t WorkerPool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

void WorkerPool::work() {
  std::unique_lock<std::mutex> lock(mu_);
  ++idle_;
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) {  // stopping, nothing left
      lock.unlock();
      if (on_exit_) on_exit_();
      return;
    }
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job.run();
    lock.lock();
    ++idle_;  // idle before `done` lets the submitter go on (a job queued meanwhile is seen by the wait)
    if (job.done) {
      lock.unlock();
      job.done();
      lock.lock();
    }
  }
}

}  // namespace tandem
