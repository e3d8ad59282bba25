#pragma once
// Running the physlearn program from the end-to-end tests (tests/cli_*_test.cpp).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace cli_test {

namespace fs = std::filesystem;

/// Exit status and captured output of one run of the program.
struct Outcome {
  int status;
  std::string out;
  std::string err;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A fresh, empty temporary folder physlearn_test_<name> (names must be unique across test files,
/// which ctest runs in parallel).
inline fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("physlearn_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// results.json without its timings (wall_seconds of every epoch and of "final"), which differ
/// run to run: everything else must match between runs of one configuration.
inline nlohmann::json without_timings(nlohmann::json results) {
  for (auto& e : results["epochs"]) e.erase("wall_seconds");
  results["final"].erase("wall_seconds");
  return results;
}

/// Runs `physlearn ARGUMENTS` from the source folder; stdout and stderr are kept in `dir`.
inline Outcome physlearn(const std::string& arguments, const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string command = std::string("cd '") + PHYSLEARN_SOURCE_DIR + "' && '" +
                              PHYSLEARN_BINARY + "' " + arguments + " > '" + out.string() +
                              "' 2> '" + err.string() + "'";
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
}

/// Starts `physlearn ARGUMENTS` from the source folder in the background, in a process group of
/// its own (kill(-pid, SIGKILL) ends it and its children); stdout and stderr are kept in `dir`.
inline pid_t physlearn_background(const std::string& arguments, const fs::path& dir) {
  fs::create_directories(dir);
  const std::string command = std::string("cd '") + PHYSLEARN_SOURCE_DIR + "' && exec '" +
                              PHYSLEARN_BINARY + "' " + arguments + " > '" +
                              (dir / "stdout.txt").string() + "' 2> '" +
                              (dir / "stderr.txt").string() + "'";
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid);
  return pid;
}

}  // namespace cli_test
