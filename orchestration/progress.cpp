#include "orchestration/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "orchestration/runner.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

std::string format_duration(double seconds) {
  std::ostringstream out;
  long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600)
    out << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  else if (s >= 60)
    out << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else
    out << s << "s";
  return out.str();
}

namespace {

/// A bar on a terminal, lines elsewhere; PHYSLEARN_PROGRESS=bar|lines decides when set.
bool use_bar() {
  if (const char* mode = std::getenv("PHYSLEARN_PROGRESS")) {
    if (std::string(mode) == "bar") return true;
    if (std::string(mode) == "lines") return false;
  }
  return isatty(STDERR_FILENO) != 0;
}

int terminal_columns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40) return size.ws_col;
  return 100;
}

}  // namespace

Progress::Progress(bool quiet, double period_seconds, int epochs, int first_epoch,
                   std::size_t batches, std::size_t samples_per_epoch)
    : quiet_(quiet),
      bar_(!quiet && use_bar()),
      period_(period_seconds),
      epochs_(epochs),
      first_epoch_(first_epoch),
      batches_(std::max<std::size_t>(batches, 1)),
      samples_per_epoch_(samples_per_epoch),
      start_(Clock::now()),
      last_report_(start_) {}

Progress::~Progress() { clear_bar(); }

void Progress::header(const std::string& text) {
  if (!quiet_) std::cerr << text << "\n";
}

double Progress::seconds_left(int epoch, std::size_t batches_done_in_epoch) const {
  const double done = static_cast<double>(epoch - first_epoch_) * static_cast<double>(batches_) +
                      static_cast<double>(batches_done_in_epoch);
  const double total =
      static_cast<double>(epochs_ - first_epoch_ + 1) * static_cast<double>(batches_);
  if (done <= 0.0) return 0.0;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  return elapsed / done * (total - done);
}

void Progress::clear_bar() {
  if (bar_drawn_) std::cerr << "\r\033[K" << std::flush;
  bar_drawn_ = false;
}

void Progress::batch(int epoch, std::size_t batch, std::size_t samples, double loss_sum,
                     long errors) {
  if (quiet_) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_report_).count();
  const bool last = batch + 1 == batches_;
  if (bar_ ? (since < 0.1 && !last) : (period_ <= 0.0 || since < period_)) return;
  last_report_ = now;
  const double loss = loss_sum / static_cast<double>(std::max<std::size_t>(samples, 1));
  const double error =
      static_cast<double>(errors) / static_cast<double>(std::max<std::size_t>(samples, 1));
  const double left = seconds_left(epoch, batch + 1);
  std::ostringstream line;
  if (!bar_) {
    line << "  epoch " << epoch << "/" << epochs_ << "  batch " << batch + 1 << "/" << batches_
         << "  loss " << std::setprecision(4) << loss << "  error " << error << "  time left ~"
         << format_duration(left) << "\n";
    std::cerr << line.str();
    return;
  }
  const double fraction = static_cast<double>(batch + 1) / static_cast<double>(batches_);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double samples_done =
      static_cast<double>(epoch - first_epoch_) * static_cast<double>(samples_per_epoch_) +
      static_cast<double>(samples);
  std::ostringstream tail;
  tail << std::setw(4) << static_cast<int>(100.0 * fraction) << "%  " << batch + 1 << "/"
       << batches_ << " batches  " << std::fixed << std::setprecision(0)
       << (elapsed > 0.0 ? samples_done / elapsed : 0.0) << " samples/s  loss "
       << std::setprecision(4) << loss << "  error " << std::setprecision(1) << 100.0 * error
       << "%  left " << format_duration(left);
  const std::string head = "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs_) + " [";
  const int columns = terminal_columns();
  const int width =
      std::clamp(columns - 1 - static_cast<int>(head.size() + tail.str().size()) - 1, 0, 40);
  const int filled = static_cast<int>(fraction * width + 0.5);
  line << "\r" << head << std::string(static_cast<std::size_t>(filled), '#')
       << std::string(static_cast<std::size_t>(width - filled), '.') << "]" << tail.str();
  std::string text = line.str();
  if (static_cast<int>(text.size()) > columns) text.resize(static_cast<std::size_t>(columns));
  std::cerr << text << "\033[K" << std::flush;
  bar_drawn_ = true;
}

void Progress::epoch_done(const EpochRecord& record) {
  if (quiet_) return;
  clear_bar();
  const double left = seconds_left(record.epoch, batches_);
  std::ostringstream line;
  line << "epoch " << record.epoch << "/" << epochs_ << "  train loss " << std::setprecision(4)
       << record.train_loss << "  train error " << 100.0 * record.train_error << "%  test error "
       << 100.0 * record.test_error << "%  " << std::setprecision(3) << record.wall_seconds
       << " s  time left ~" << format_duration(left) << "\n";
  std::cerr << line.str();
}

}  // namespace physlearn::orchestration
