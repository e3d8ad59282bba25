// The README's tutorial, run as written: every `build/physlearn` command of its section, in
// order, with shorter training (more --set overrides) and the runs/ folder moved to a scratch
// folder. Its first command, `bash scripts/setup.sh`, is what scripts/test.sh runs before the
// tests.
#include <doctest/doctest.h>

#include "skip.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using cli_test::physlearn;
using cli_test::slurp;

/// The `build/physlearn` commands of the README's tutorial section, comments removed.
std::vector<std::string> tutorial_commands(const std::string& readme) {
  const auto start =
      readme.find("## Tutorial: from a fresh clone to a variability study with plots");
  REQUIRE(start != std::string::npos);
  const auto end = readme.find("\n## ", start + 1);
  std::stringstream section(readme.substr(start, end - start));
  std::vector<std::string> commands;
  std::string line;
  bool code = false;
  while (std::getline(section, line)) {
    if (line.rfind("```", 0) == 0) {
      code = !code;
      continue;
    }
    if (!code || line.rfind("build/physlearn ", 0) != 0) continue;
    line = line.substr(0, line.find(" #"));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    commands.push_back(line.substr(std::string("build/physlearn ").size()));
  }
  return commands;
}

bool is_png(const fs::path& file) {
  return fs::exists(file) && fs::file_size(file) > 100 &&
         slurp(file).rfind("\x89PNG\r\n\x1a\n", 0) == 0;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace

TEST_CASE("the README tutorial runs as written") {
  const fs::path source = PHYSLEARN_SOURCE_DIR;
  const std::string readme = slurp(source / "README.md");
  const auto commands = tutorial_commands(readme);
  REQUIRE(commands.size() == 6);
  CHECK(readme.find("bash scripts/setup.sh") != std::string::npos);
  CHECK(is_png(source / "docs/tutorial-sweep.png"));
  CHECK(readme.find("](docs/tutorial-sweep.png)") != std::string::npos);
  if (!physlearn_test::have_fashion_mnist())
    PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
  if (!physlearn_test::have_program("gnuplot"))
    PHYSLEARN_SKIP("gnuplot not installed (Debian package gnuplot-nox)");
  const fs::path dir = cli_test::scratch("tutorial");
  for (const auto& command : commands) {
    std::string arguments = replace_all(command, "runs/", dir.string() + "/");
    if (arguments.rfind("run ", 0) == 0)
      arguments +=
          " --quiet --set learning.epochs=2 --set data.train_size=1000 --set data.test_size=300";
    if (arguments.rfind("sweep ", 0) == 0)
      arguments +=
          " --quiet --set learning.epochs=1 --set data.train_size=300 --set data.test_size=100";
    CAPTURE(arguments);
    auto r = physlearn(arguments, dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
  }
  CHECK(is_png(dir / "quickstart/learning-curves.png"));
  CHECK(is_png(dir / "quickstart/conductances.png"));
  const json summary = json::parse(slurp(dir / "tutorial-sweep/summary.json"));
  CHECK(summary["complete"] == true);
  CHECK(summary["runs"].size() == 18);
  CHECK(is_png(dir / "tutorial-sweep/sweep-chip.variability.c2c_sigma.png"));
  CHECK(is_png(dir / "tutorial-sweep/sweep-chip.variability.levels.png"));
  CHECK(is_png(dir / "tutorial-sweep/sweep-points.png"));
}
