#pragma once
/// Training progress on stderr.
///
/// On a terminal (stderr is a tty) a live bar, redrawn in place at most ten times a second:
///   epoch 3/10 [########........]  45%  845/1875 batches  2345 samples/s  loss 0.0312  error 12.3%
///   left 1m20s
/// Elsewhere (a log file, a pipe) plain lines every `period` seconds within an epoch:
///   epoch 3/10  batch 845/1875  loss 0.0312  error 0.123  time left ~1m20s
/// The environment variable PHYSLEARN_PROGRESS=bar or =lines overrides the choice. Every epoch
/// ends with one line (train loss and error, test error, seconds, time left) in both modes.
/// Time left: the time per batch so far in this process times the batches still to run.
#include <chrono>
#include <cstddef>
#include <string>

namespace physlearn::orchestration {

struct EpochRecord;

/// "42s", "3m07s", "1h05m".
std::string format_duration(double seconds);

class Progress {
 public:
  /// `first_epoch` > 1 when a run resumes; `batches` per epoch of `samples_per_epoch` samples.
  Progress(bool quiet, double period_seconds, int epochs, int first_epoch, std::size_t batches,
           std::size_t samples_per_epoch);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// One line before training (the model, sizes).
  void header(const std::string& text);
  /// After mini-batch `batch` (0-based) of `epoch`: `samples` samples done in the epoch, with
  /// `loss_sum` (summed over samples) and `errors` so far.
  void batch(int epoch, std::size_t batch, std::size_t samples, double loss_sum, long errors);
  /// After an epoch's evaluation.
  void epoch_done(const EpochRecord& record);

  bool bar() const { return bar_; }

 private:
  using Clock = std::chrono::steady_clock;
  double seconds_left(int epoch, std::size_t batches_done_in_epoch) const;
  void clear_bar();

  bool quiet_, bar_ = false;
  double period_;
  int epochs_, first_epoch_;
  std::size_t batches_, samples_per_epoch_;
  Clock::time_point start_, last_report_;
  bool bar_drawn_ = false;
};

}  // namespace physlearn::orchestration
