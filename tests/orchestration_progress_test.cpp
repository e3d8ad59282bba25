#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "orchestration/experiment.h"
#include "orchestration/progress.h"
#include "orchestration/runner.h"

using namespace physlearn::orchestration;

namespace {

/// What a Progress writes to stderr for one epoch of 3 batches, in the mode PHYSLEARN_PROGRESS
/// asks.
std::string one_epoch(const char* mode, bool quiet) {
  setenv("PHYSLEARN_PROGRESS", mode, 1);
  std::ostringstream captured;
  std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
  {
    Progress progress(quiet, 1e-9, 2, 1, 3, 30);
    progress.header("header line");
    for (std::size_t b = 0; b < 3; ++b) progress.batch(1, b, 10 * (b + 1), 1.0 * (b + 1), 2);
    EpochRecord record;
    record.epoch = 1;
    record.test_error = 0.25;
    progress.epoch_done(record);
  }
  std::cerr.rdbuf(old);
  unsetenv("PHYSLEARN_PROGRESS");
  return captured.str();
}

}  // namespace

TEST_CASE("durations read as seconds, minutes, hours") {
  CHECK(format_duration(42.4) == "42s");
  CHECK(format_duration(187) == "3m07s");
  CHECK(format_duration(3900) == "1h05m");
}

TEST_CASE(
    "progress: a bar redrawn in place on a terminal, plain lines elsewhere, nothing when quiet") {
  const std::string bar = one_epoch("bar", false);
  CHECK(bar.find("header line\n") == 0);
  CHECK(bar.find("\repoch 1/2 [") != std::string::npos);
  CHECK(bar.find("samples/s") != std::string::npos);
  CHECK(bar.find("3/3 batches") != std::string::npos);
  CHECK(bar.find("\r\033[Kepoch 1/2  train loss") != std::string::npos);  // the bar cleared
  const std::string lines = one_epoch("lines", false);
  CHECK(lines.find('\r') == std::string::npos);
  CHECK(lines.find("  epoch 1/2  batch 1/3  loss 0.1  error 0.2  time left ~") !=
        std::string::npos);
  CHECK(lines.find("epoch 1/2  train loss 0  train error 0%  test error 25%") != std::string::npos);
  CHECK(one_epoch("bar", true).empty());
}
