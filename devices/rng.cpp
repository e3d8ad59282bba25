#include "devices/rng.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace physlearn::devices {

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  constexpr double two_pi = 6.283185307179586476925286766559;
  const double u1 = 1.0 - uniform();  // (0, 1]: the logarithm stays finite
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(two_pi * u2);
  has_spare_ = true;
  return r * std::cos(two_pi * u2);
}

std::string Rng::state() const {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &spare_, sizeof bits);
  std::ostringstream out;
  out << engine_ << ' ' << (has_spare_ ? 1 : 0) << ' ' << bits;
  return out.str();
}

void Rng::set_state(const std::string& text) {
  std::istringstream in(text);
  std::mt19937_64 engine;
  int has_spare = 0;
  std::uint64_t bits = 0;
  in >> engine >> has_spare >> bits;
  if (in.fail() || (has_spare != 0 && has_spare != 1))
    throw Error("random generator state is malformed");
  in >> std::ws;
  if (!in.eof()) throw Error("random generator state is malformed (trailing text)");
  engine_ = engine;
  has_spare_ = has_spare == 1;
  std::memcpy(&spare_, &bits, sizeof bits);
}

}  // namespace physlearn::devices
