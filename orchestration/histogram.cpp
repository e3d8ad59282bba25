#include "orchestration/histogram.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <vector>

#include "core/schema.h"
#include "learning/model.h"

namespace physlearn::orchestration {

using namespace learning;  // the learning objects this file runs

void write_conductance_histograms(const Model& model, const std::string& filename, int bins) {
  const auto layers = model.conductances();
  if (layers.empty()) return;
  std::ostringstream out;
  out << "layer,bin_low,bin_high,count\n" << std::setprecision(10);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const Eigen::MatrixXd& g = *layers[l];
    if (g.size() == 0) continue;
    const double lo = g.minCoeff(), hi = g.maxCoeff();
    const int n = hi > lo ? bins : 1;
    const double width = hi > lo ? (hi - lo) / n : 0.0;
    std::vector<long> counts(static_cast<std::size_t>(n), 0);
    for (Eigen::Index i = 0; i < g.size(); ++i) {
      const int bin = width > 0.0 ? static_cast<int>((g.data()[i] - lo) / width) : 0;
      ++counts[static_cast<std::size_t>(std::clamp(bin, 0, n - 1))];
    }
    for (int b = 0; b < n; ++b)
      out << l << "," << lo + b * width << "," << (b + 1 == n ? hi : lo + (b + 1) * width) << ","
          << counts[static_cast<std::size_t>(b)] << "\n";
  }
  write_file_atomic(filename, out.str());
}

}  // namespace physlearn::orchestration
