#pragma once
/// Datasets for training: seeded synthetic sets (XOR, two moons) and Fashion-MNIST read from the
/// IDX gzip files of Debian's dataset-fashion-mnist package.
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "core/schema.h"

namespace physlearn::data {

/// Samples as rows. Inputs are float to keep Fashion-MNIST at 4 bytes a pixel (pixels in [0, 1]).
using InputMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Dataset {
  std::string name;
  InputMatrix inputs;       ///< samples x features
  std::vector<int> labels;  ///< class index per sample, in [0, num_classes)
  int num_classes = 0;
  int num_samples() const { return static_cast<int>(inputs.rows()); }
  int num_features() const { return static_cast<int>(inputs.cols()); }
};

struct Split {
  Dataset train;
  Dataset test;
};

/// The "data" section of an experiment.
struct DataParams {
  std::string type = "xor";  ///< "xor", "two-moons", "fashion-mnist"
  std::string path = "/usr/share/datasets/fashion-mnist";  ///< folder of the IDX .gz files
  int train_size = 0;     ///< fashion-mnist: first N training samples (0: all 60000)
  int test_size = 0;      ///< fashion-mnist: first N test samples (0: all 10000)
  int pool = 1;           ///< fashion-mnist: average-pool k x k pixel blocks (1, 2, 4, 7, 14)
  int samples = 200;      ///< two-moons: training samples (the test set has the same size)
  double noise = 0.1;     ///< two-moons: standard deviation of the Gaussian jitter
  int seed = 0;           ///< seed of the synthetic sets (0: the experiment's seed)
};

void describe(Schema& schema, DataParams& params);

/// Loads or generates the split. `experiment_seed` seeds synthetic sets when params.seed is 0.
/// XOR: the 4 points {0,1}^2 with label x1 xor x2, train and test the same 4 points.
/// Two moons: two interleaved half circles (radius 1, centres (0,0) and (1,0.5)), label = moon,
/// coordinates jittered by N(0, noise^2), seeded; train and test drawn independently.
/// Fashion-MNIST: pixels / 255 as float in [0, 1]; 784 features; 10 classes. With pool k > 1,
/// each k x k block of the 28 x 28 image is replaced by its mean: (28 / k)^2 features (smaller
/// circuits, e.g. crossbars solved on the full circuit).
/// A missing or corrupt file throws physlearn::Error naming the file and what is wrong.
Split load(const DataParams& params, unsigned experiment_seed);

/// What load gives for `params`, known without loading: features per sample and classes
/// (xor and two-moons: 2 and 2; Fashion-MNIST: (28 / pool)^2 and 10). A ConfigError naming the
/// key for an unknown data.type or a data.pool that does not divide 28.
struct Shape {
  int features = 0;
  int classes = 0;
};
Shape shape(const DataParams& params);

/// Reads one IDX file (gzip-compressed or plain): images (magic 2051) as rows of pixels / 255,
/// or labels (magic 2049). Throws physlearn::Error naming the file on any inconsistency.
InputMatrix read_idx_images(const std::string& filename, int max_samples);
std::vector<int> read_idx_labels(const std::string& filename, int max_samples);

/// Average-pools square images (rows of side x side pixels) over k x k blocks; side % k == 0.
InputMatrix average_pool(const InputMatrix& images, int side, int k);

}  // namespace physlearn::data
