#include "orchestration/plan.h"

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

#include "core/error.h"
#include "orchestration/checkpoint.h"
#include "orchestration/process.h"
#include "orchestration/runner.h"

namespace physlearn::orchestration {
namespace {

namespace fs = std::filesystem;

/// Holds DIR/.sweep.lock (flock) while a plan of child processes runs there.
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

/// Why a child run failed: its exit, and the last error line of its log.
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

bool same_experiment(const std::string& run_dir, const json& experiment) {
  const std::string file = run_dir + "/experiment.json";
  if (!fs::exists(file)) return false;
  try {
    return load_json_file(file) == experiment;
  } catch (const Error&) {
    return false;
  }
}

/// The runs in this process, in order.
void execute_in_process(const std::vector<PlannedRun>& runs, const std::string& dir,
                        const PlanOptions& options, std::vector<RunStatus>& statuses,
                        const RunEnded& ended) {
  if (options.on_start) options.on_start(statuses);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    ExperimentConfig config = runs[r].config;
    if (!options.quiet) std::cerr << options.name << ": " << runs[r].dir << "\n";
    RunOptions run_options;
    run_options.quiet = options.quiet;
    run_options.checkpoint_every = options.checkpoint_every;
    run_experiment(config, dir + "/" + runs[r].dir, run_options);
    statuses[r] = RunStatus::finished;
    if (ended) ended(r, RunStatus::finished, "");
  }
}

/// The runs as child processes of options.program, options.jobs at a time.
std::size_t execute_as_children(const std::vector<PlannedRun>& runs, const std::string& dir,
                                const PlanOptions& options, std::vector<RunStatus>& statuses,
                                const RunEnded& ended) {
  FolderLock lock(dir);
  const std::size_t n = runs.size();
  std::vector<bool> resume(n, false);
  std::deque<std::size_t> todo;
  std::size_t skipped = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const std::string run_dir = dir + "/" + runs[r].dir;
    const bool same = same_experiment(run_dir, runs[r].experiment);
    if (same && run_complete(run_dir)) {
      statuses[r] = RunStatus::finished;
      ++skipped;
      continue;
    }
    resume[r] = same && fs::exists(checkpoint_file(run_dir));
    if (!resume[r]) fs::remove_all(run_dir);  // another configuration, or never checkpointed
    todo.push_back(r);
  }
  if (!options.quiet)
    std::cerr << options.name << ": " << n << " runs in " << dir << "; " << skipped
              << " finished before (skipped), " << todo.size() << " to run, " << options.jobs
              << (options.jobs == 1 ? " job\n" : " jobs\n");
  if (options.on_start) options.on_start(statuses);

  const std::string program = options.program.empty() ? self_executable() : options.program;
  std::map<pid_t, std::size_t> running;
  std::size_t failed = 0;
  while (!todo.empty() || !running.empty()) {
    while (static_cast<int>(running.size()) < options.jobs && !todo.empty()) {
      const std::size_t r = todo.front();
      todo.pop_front();
      const std::string run_dir = dir + "/" + runs[r].dir;
      fs::create_directories(run_dir);
      std::vector<std::string> command = {program};
      if (resume[r]) {
        command.insert(command.end(), {"resume", run_dir});
      } else {
        write_file_atomic(run_dir + "/experiment.json", runs[r].experiment.dump(2) + "\n");
        command.insert(command.end(), {"run", run_dir + "/experiment.json", "--out", run_dir});
      }
      if (options.checkpoint_every > 0)
        command.insert(command.end(),
                       {"--checkpoint-every", std::to_string(options.checkpoint_every)});
      running[spawn_process(command, run_dir + "/log.txt", resume[r])] = r;
    }
    int raw = 0;
    const pid_t pid = waitpid(-1, &raw, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error(cat(options.name, ": waitpid: ", std::strerror(errno)));
    }
    const auto found = running.find(pid);
    if (found == running.end()) continue;
    const std::size_t r = found->second;
    running.erase(found);
    const std::string run_dir = dir + "/" + runs[r].dir;
    const bool ok = WIFEXITED(raw) && WEXITSTATUS(raw) == 0 && run_complete(run_dir);
    statuses[r] = ok ? RunStatus::finished : RunStatus::failed;
    if (!ok) ++failed;
    if (ended) ended(r, statuses[r], ok ? "" : failure(raw, run_dir + "/log.txt"));
  }
  return failed;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::size_t execute_plan(const std::vector<PlannedRun>& runs, const std::string& dir,
                         const PlanOptions& options, std::vector<RunStatus>& statuses,
                         const RunEnded& ended) {
  fs::create_directories(dir);
  statuses.assign(runs.size(), RunStatus::pending);
  if (options.jobs >= 1) return execute_as_children(runs, dir, options, statuses, ended);
  execute_in_process(runs, dir, options, statuses, ended);
  return 0;
}

const char* status_name(RunStatus s) {
  return s == RunStatus::finished ? "finished" : s == RunStatus::failed ? "failed" : "pending";
}

Column field(const std::string& name, const std::string& pointer) {
  const json::json_pointer at(pointer);
  return {name, [at](const json& row) { return row.contains(at) ? row.at(at) : json(nullptr); }};
}

std::string pointer_token(const std::string& key) {
  std::string escaped;
  for (char c : key) escaped += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return escaped;
}

Column field(const std::string& key) { return field(key, "/" + pointer_token(key)); }

std::string csv_value(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return csv_field(value.get<std::string>());
  if (value.is_number_float()) {
    std::ostringstream out;
    out << std::setprecision(10) << value.get<double>();
    return out.str();
  }
  return csv_field(value.dump());
}

void write_tables(const std::string& dir, const std::string& json_file, const json& document,
                  const std::vector<CsvTable>& tables) {
  fs::create_directories(dir);
  for (const CsvTable& table : tables) {
    std::ostringstream csv;
    for (std::size_t c = 0; c < table.columns.size(); ++c)
      csv << (c ? "," : "") << csv_field(table.columns[c].name);
    csv << "\n";
    for (const json& row : table.rows) {
      for (std::size_t c = 0; c < table.columns.size(); ++c)
        csv << (c ? "," : "") << csv_value(table.columns[c].value(row));
      csv << "\n";
    }
    write_file_atomic(dir + "/" + table.file, csv.str());
  }
  write_file_atomic(dir + "/" + json_file, document.dump(2) + "\n");
}

}  // namespace physlearn::orchestration
