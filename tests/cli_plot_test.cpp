// physlearn plot: PNG figures of a run, a sweep and simulate output, drawn by gnuplot; a clear
// error without gnuplot.
#include <doctest/doctest.h>

#include "skip.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.h"

namespace fs = std::filesystem;

namespace {

using cli_test::physlearn;
using cli_test::slurp;

fs::path scratch(const std::string& name) { return cli_test::scratch("plot_" + name); }

/// A non-empty file that starts with the PNG signature.
bool is_png(const fs::path& file) {
  if (!fs::exists(file) || fs::file_size(file) < 100) return false;
  return slurp(file).rfind("\x89PNG\r\n\x1a\n", 0) == 0;
}

}  // namespace

TEST_CASE("plot draws a run, a sweep and simulate output as PNG files") {
  if (!physlearn_test::have_program("gnuplot")) PHYSLEARN_SKIP("gnuplot not installed (Debian package gnuplot-nox)");
  auto dir = scratch("figures");
  const std::string run = (dir / "run").string();
  REQUIRE(physlearn("run experiments/xor.json --quiet --set learning.epochs=30 --out '" + run + "'",
                    dir)
              .status == 0);
  auto r = physlearn("plot '" + run + "'", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(is_png(dir / "run/learning-curves.png"));
  CHECK(is_png(dir / "run/conductances.png"));
  CHECK(fs::exists(dir / "run/learning-curves.gp"));
  CHECK(r.out.find("learning-curves.png") != std::string::npos);

  std::ofstream(dir / "study.json") << R"({"name": "plotted", "base": ")" << PHYSLEARN_SOURCE_DIR
                                    << R"(/experiments/xor.json", "set": {"learning.epochs": 20},
    "grid": {"learning.beta": [0.05, 0.2]},
    "points": [{"label": "plain"}, {"label": "heavy", "learning.momentum": 0.5}], "seeds": 2})";
  const std::string sweep = (dir / "sweep").string();
  auto s = physlearn(
      "sweep '" + (dir / "study.json").string() + "' --quiet --jobs 2 --out '" + sweep + "'", dir);
  REQUIRE_MESSAGE(s.status == 0, s.err);
  auto p = physlearn("plot '" + sweep + "' --out '" + (dir / "figures").string() + "'", dir);
  REQUIRE_MESSAGE(p.status == 0, p.err);
  CHECK(is_png(dir / "figures/sweep-learning.beta.png"));
  CHECK(is_png(dir / "figures/sweep-learning.momentum.png"));
  CHECK(is_png(dir / "figures/sweep-points.png"));

  const std::string simulated = (dir / "simulate").string();
  REQUIRE(physlearn("simulate experiments/xor.json --out '" + simulated + "'", dir).status == 0);
  auto w = physlearn("plot '" + simulated + "'", dir);
  REQUIRE_MESSAGE(w.status == 0, w.err);
  CHECK(is_png(dir / "simulate/waveforms.png"));
}

TEST_CASE("plot without gnuplot, or with nothing to plot, says so") {
  auto dir = scratch("errors");
  const std::string run = (dir / "run").string();
  REQUIRE(
      physlearn("run experiments/xor.json --quiet --set learning.epochs=3 --out '" + run + "'", dir)
          .status == 0);
  const std::string path = std::getenv("PATH");
  setenv("PATH", "/nonexistent", 1);
  auto missing = physlearn("plot '" + run + "'", dir);
  setenv("PATH", path.c_str(), 1);
  CHECK(missing.status != 0);
  CHECK(missing.err.find("gnuplot not found") != std::string::npos);
  CHECK(missing.err.find("gnuplot-nox") != std::string::npos);
  setenv("PHYSLEARN_GNUPLOT", "/nonexistent/gnuplot", 1);
  auto named = physlearn("plot '" + run + "'", dir);
  unsetenv("PHYSLEARN_GNUPLOT");
  CHECK(named.status != 0);
  CHECK(named.err.find("PHYSLEARN_GNUPLOT=/nonexistent/gnuplot: not an executable file") !=
        std::string::npos);
  fs::create_directories(dir / "empty");
  auto nothing = physlearn("plot '" + (dir / "empty").string() + "'", dir);
  CHECK(nothing.status != 0);
  CHECK(nothing.err.find("nothing to plot") != std::string::npos);
}
