#include "cli/sweep.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/process.h"
#include "core/error.h"
#include "orchestration/checkpoint.h"
#include "orchestration/sweep.h"

namespace physlearn::cli {
namespace {

namespace fs = std::filesystem;
using orchestration::RunStatus;

/// Holds DIR/.sweep.lock (flock) while the sweep runs: a second sweep on DIR is refused.
class FolderLock {
 public:
  explicit FolderLock(const std::string& dir) {
    const std::string file = dir + "/.sweep.lock";
    fd_ = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(cat(file, ": cannot open: ", std::strerror(errno)));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      close(fd_);
      throw Error(cat(dir, ": another sweep is running in this folder"));
    }
  }
  ~FolderLock() { close(fd_); }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

/// Why a run failed: its exit, and the last error line of its log.
std::string failure(int raw_status, const std::string& log) {
  const std::string why = describe_exit(raw_status);
  std::ifstream in(log);
  std::string line, last, error;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = line;
    if (line.find("error:") != std::string::npos) error = line;
  }
  const std::string& detail = error.empty() ? last : error;
  return detail.empty() ? why : why + ": " + detail;
}

bool same_config(const std::string& run_dir, const json& config) {
  const std::string file = run_dir + "/experiment.json";
  if (!fs::exists(file)) return false;
  try {
    return load_json_file(file) == config;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

CLI::App* add_sweep_subcommand(CLI::App& app, SweepArgs& args) {
  auto* sweep = app.add_subcommand(
      "sweep",
      "run a study: a base experiment at every point of a grid or list, for several "
      "seeds; summary.csv and summary.json (see physlearn schema study)");
  sweep->add_option("study", args.study, "study JSON file")->required();
  sweep->add_option("--out", args.out, "sweep folder (default runs/<study name>)");
  sweep->add_option("--jobs", args.jobs, "runs at a time (child processes)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  sweep
      ->add_option("--set", args.sets,
                   "override a config key of every run (after the study's \"set\")")
      ->allow_extra_args(false);
  sweep
      ->add_option("--checkpoint-every", args.checkpoint_every,
                   "every run checkpoints every N epochs, so that an interrupted sweep resumes "
                   "its runs where they were (0: runs restart)")
      ->check(CLI::NonNegativeNumber);
  sweep->add_flag("--quiet", args.quiet, "no progress on stderr");
  return sweep;
}

int sweep_command(const SweepArgs& args) {
  const orchestration::Study study = orchestration::load_study(args.study, args.sets);
  const std::string dir = args.out.empty() ? "runs/" + study.name : args.out;
  fs::create_directories(dir);
  FolderLock lock(dir);
  write_file_atomic(dir + "/study.resolved.json", study.to_json().dump(2) + "\n");

  const std::size_t n = study.runs.size();
  std::vector<RunStatus> status(n, RunStatus::pending);
  std::vector<std::string> messages(n);
  std::vector<bool> resume(n, false);
  std::deque<std::size_t> todo;
  std::size_t finished = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const std::string run_dir = dir + "/" + study.runs[r].dir;
    const bool same = same_config(run_dir, study.runs[r].config);
    if (same && orchestration::run_complete(run_dir)) {
      status[r] = RunStatus::finished;
      ++finished;
      continue;
    }
    resume[r] = same && fs::exists(orchestration::checkpoint_file(run_dir));
    if (!resume[r])
      fs::remove_all(run_dir);  // a run of another configuration, or never checkpointed
    todo.push_back(r);
  }
  const std::size_t skipped = finished;
  const int jobs = args.jobs;
  if (!args.quiet)
    std::cerr << "sweep: " << study.name << ": " << study.points.size() << " points x "
              << study.seeds.size() << " seeds = " << n << " runs in " << dir << "; " << skipped
              << " finished before (skipped), " << todo.size() << " to run, " << jobs
              << (jobs == 1 ? " job\n" : " jobs\n");
  orchestration::write_summary(study, dir, status, messages);

  const std::string program = self_executable();
  struct Running {
    std::size_t run;
    std::string log;
  };
  std::map<pid_t, Running> running;
  std::size_t failed = 0;
  while (!todo.empty() || !running.empty()) {
    while (static_cast<int>(running.size()) < jobs && !todo.empty()) {
      const std::size_t r = todo.front();
      todo.pop_front();
      const std::string run_dir = dir + "/" + study.runs[r].dir;
      fs::create_directories(run_dir);
      std::vector<std::string> command = {program};
      if (resume[r]) {
        command.insert(command.end(), {"resume", run_dir});
      } else {
        write_file_atomic(run_dir + "/experiment.json", study.runs[r].config.dump(2) + "\n");
        command.insert(command.end(), {"run", run_dir + "/experiment.json", "--out", run_dir});
      }
      if (args.checkpoint_every > 0)
        command.insert(command.end(),
                       {"--checkpoint-every", std::to_string(args.checkpoint_every)});
      const std::string log = run_dir + "/log.txt";
      running[spawn_process(command, log, resume[r])] = {r, log};
    }
    int raw = 0;
    const pid_t pid = waitpid(-1, &raw, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error(cat("sweep: waitpid: ", std::strerror(errno)));
    }
    const auto found = running.find(pid);
    if (found == running.end()) continue;
    const std::size_t r = found->second.run;
    const std::string log = found->second.log;
    running.erase(found);
    const std::string run_dir = dir + "/" + study.runs[r].dir;
    const bool ok = WIFEXITED(raw) && WEXITSTATUS(raw) == 0 && orchestration::run_complete(run_dir);
    status[r] = ok ? RunStatus::finished : RunStatus::failed;
    if (!ok) messages[r] = failure(raw, log);
    ok ? ++finished : ++failed;
    if (!args.quiet) {
      std::ostringstream line;
      line << "sweep: [" << std::setw(static_cast<int>(std::to_string(n).size()))
           << finished + failed << "/" << n << "] " << study.runs[r].dir;
      if (ok) {
        const auto figures = orchestration::run_figures(load_json_file(run_dir + "/results.json"));
        line << std::fixed << std::setprecision(2) << "  test error " << 100.0 * figures[0].second
             << "%  train error " << 100.0 * figures[1].second << "%  (" << std::setprecision(1)
             << figures[4].second << " s)";
      } else {
        line << "  FAILED (" << messages[r] << "; see " << log << ")";
      }
      std::cerr << line.str() << "\n";
    }
    orchestration::write_summary(study, dir, status, messages);
  }
  const json summary = orchestration::write_summary(study, dir, status, messages);
  std::cout << orchestration::summary_table(summary) << "summary in " << dir << "/summary.csv, " << dir
            << "/summary_points.csv, " << dir << "/summary.json\n";
  if (failed > 0) {
    std::cerr << "physlearn: error: sweep: " << failed << " of " << n
              << " runs failed (their log.txt says why)\n";
    return 1;
  }
  return 0;
}

}  // namespace physlearn::cli
