// Histograms of the trainable conductances (orchestration/histogram.h): the CSV file against
// counts made by hand on small hand-made layers, a real DRN's file against its initial
// conductances, and no file for the digital baseline.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "learning/model.h"
#include "orchestration/histogram.h"
#include "orchestration/models.h"
#include "orchestration_support.h"

namespace fs = std::filesystem;
using namespace physlearn;
using namespace physlearn::orchestration;
using orchestration_test::slurp;
using orchestration_test::xor_experiment;

namespace {

fs::path scratch(const std::string& name) { return orchestration_test::scratch("histogram", name, true); }

/// A model whose conductances are the matrices it is given (nothing else is used).
class FixedConductances final : public learning::Model {
 public:
  explicit FixedConductances(std::vector<Eigen::MatrixXd> layers) : layers_(std::move(layers)) {}
  long num_parameters() const override { return 0; }
  std::string description() const override { return "fixed"; }
  void train_batch(const Eigen::MatrixXd&, const Eigen::MatrixXd&, Eigen::MatrixXd&) override {}
  void predict(const Eigen::MatrixXd&, Eigen::MatrixXd&) override {}
  void end_epoch() override {}
  std::vector<const Eigen::MatrixXd*> conductances() const override {
    std::vector<const Eigen::MatrixXd*> out;
    for (const auto& g : layers_) out.push_back(&g);
    return out;
  }

 private:
  std::vector<Eigen::MatrixXd> layers_;
};

struct Row {
  int layer = 0;
  double low = 0.0, high = 0.0;
  long count = 0;
};

std::vector<Row> read_rows(const fs::path& file, std::string& header) {
  std::istringstream in(slurp(file));
  std::getline(in, header);
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    Row r;
    char comma = 0;
    std::istringstream s(line);
    s >> r.layer >> comma >> r.low >> comma >> r.high >> comma >> r.count;
    REQUIRE_MESSAGE(!s.fail(), line);
    rows.push_back(r);
  }
  return rows;
}

}  // namespace

TEST_CASE("conductance histograms: bins and counts of hand-made layers, byte for byte") {
  const fs::path dir = scratch("hand");
  Eigen::MatrixXd spread(2, 3), equal(3, 1), empty(0, 4), fifths(2, 2);
  spread << 0, 1, 2, 3, 4, 10;  // [0, 10] in 5 bins of width 2: {0, 1}, {2, 3}, {4}, {}, {10}
  equal << 0.5, 0.5, 0.5;       // all equal: one bin [0.5, 0.5] holding the 3
  fifths << 1, 1.25, 1.5, 2;    // [1, 2] in 5 bins of 0.2: one each but [1.6, 1.8)
  const FixedConductances model({spread, equal, empty, fifths});
  write_conductance_histograms(model, (dir / "h.csv").string(), 5);
  /// Counted by hand; the empty layer 2 has no rows, the maximum falls in the last bin, whose
  /// upper end is the maximum itself.
  CHECK(slurp(dir / "h.csv") ==
        "layer,bin_low,bin_high,count\n"
        "0,0,2,2\n"
        "0,2,4,2\n"
        "0,4,6,1\n"
        "0,6,8,0\n"
        "0,8,10,1\n"
        "1,0.5,0.5,3\n"
        "3,1,1.2,1\n"
        "3,1.2,1.4,1\n"
        "3,1.4,1.6,1\n"
        "3,1.6,1.8,0\n"
        "3,1.8,2,1\n");
}

TEST_CASE("conductance histograms: a DRN's file covers its initial conductances, 50 bins") {
  const fs::path dir = scratch("drn");
  const ExperimentConfig config = xor_experiment(1, {"solver.precision=float64"});
  const auto model = make_model(config, 2, 2);
  write_conductance_histograms(*model, (dir / "start.csv").string());
  std::string header;
  const std::vector<Row> rows = read_rows(dir / "start.csv", header);
  CHECK(header == "layer,bin_low,bin_high,count");
  /// The network built independently from the same seed (xor.json: 2x2 inputs to 16 to 2).
  const circuits::LayeredNetwork net =
      circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed));
  REQUIRE(net.weights.size() == 2);
  REQUIRE(rows.size() == 2 * 50);
  for (int l = 0; l < 2; ++l) {
    CAPTURE(l);
    const Eigen::MatrixXd& g = net.weights[static_cast<std::size_t>(l)];
    long total = 0;
    for (int b = 0; b < 50; ++b) {
      const Row& r = rows[static_cast<std::size_t>(l * 50 + b)];
      CHECK(r.layer == l);
      total += r.count;
      /// Each bin starts where the last one ended.
      if (b > 0) CHECK(r.low == doctest::Approx(rows[static_cast<std::size_t>(l * 50 + b - 1)].high));
      /// Each bin's count against a count by comparison with its edges (the last bin closed);
      /// a value within 1e-9 of an edge is left out of the comparison.
      long by_hand = 0;
      bool ambiguous = false;
      for (Eigen::Index i = 0; i < g.size(); ++i) {
        const double v = g.data()[i];
        if (std::abs(v - r.low) < 1e-9 || std::abs(v - r.high) < 1e-9) ambiguous = true;
        if (v >= r.low && (v < r.high || (b == 49 && v <= r.high))) ++by_hand;
      }
      if (!ambiguous) CHECK(r.count == by_hand);
    }
    /// Every conductance counted once; the bins span [min, max] of the layer (10 digits).
    CHECK(total == g.size());
    CHECK(rows[static_cast<std::size_t>(l * 50)].low == doctest::Approx(g.minCoeff()).epsilon(1e-9));
    CHECK(rows[static_cast<std::size_t>(l * 50 + 49)].high ==
          doctest::Approx(g.maxCoeff()).epsilon(1e-9));
  }
}

TEST_CASE("conductance histograms: the digital baseline has no conductances and no file") {
  const fs::path dir = scratch("baseline");
  const auto model = make_model(xor_experiment(1, {"learning.rule=backprop"}), 2, 2);
  REQUIRE(model->conductances().empty());
  write_conductance_histograms(*model, (dir / "none.csv").string());
  /// Nothing written, not even a header.
  CHECK_FALSE(fs::exists(dir / "none.csv"));
}
