#pragma once
/// Seeded random draws for device populations.
///
/// std::mt19937_64 is specified bit for bit by the C++ standard, but the std:: distributions are
/// not (each standard library draws differently). The draws here are written out, so a seed gives
/// the same numbers with every standard library (up to the last bits of the libm functions log,
/// sqrt, sin, cos on another platform), and the generator state can be saved and restored.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

namespace physlearn::devices {

/// SplitMix64 finaliser: spreads a seed and a stream number over 64 bits (Steele, Lea, Flood 2014).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

/// Unbiased rounding of x to an integer: floor(x) + 1 when u < x - floor(x), else floor(x), for
/// u uniform on [0, 1) (the expected result is x).
inline double stochastic_round(double x, double u) {
  const double below = std::floor(x);
  return below + (u < x - below ? 1.0 : 0.0);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

  /// Uniform on [0, 1) with 53 random bits: u = (x >> 11) 2^-53.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// Standard normal by Box-Muller: r = sqrt(-2 ln u1), u1 in (0, 1], gives r cos(2 pi u2) and
  /// r sin(2 pi u2); the second is kept for the next call (it is part of the saved state).
  double normal();

  /// The state as text (the engine in the standard's operator<< format, then the kept normal's
  /// bits) and back.
  std::string state() const;
  /// Restores a state written by state(); throws physlearn::Error when the text is not one.
  void set_state(const std::string& text);

  bool operator==(const Rng& other) const {
    return engine_ == other.engine_ && has_spare_ == other.has_spare_ && spare_ == other.spare_;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace physlearn::devices
