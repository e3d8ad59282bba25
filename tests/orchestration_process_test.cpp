// Child processes (orchestration/process.h): spawn_process's log file (stdout and stderr, truncated
// or appended), stdin from /dev/null, exit statuses through describe_exit, and find_on_path
// against the shell's own search and against PATHs set up here.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "orchestration/process.h"
#include "orchestration_support.h"

namespace fs = std::filesystem;
using namespace physlearn::orchestration;
using orchestration_test::slurp;

namespace {

fs::path scratch(const std::string& name) { return orchestration_test::scratch("process", name, true); }

/// Runs `script` with /bin/sh -c into `log` and waits: the raw waitpid status.
int run_shell(const std::string& script, const fs::path& log, bool append) {
  const pid_t pid = spawn_process({"/bin/sh", "-c", script}, log.string(), append);
  REQUIRE(pid > 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

/// Sets PATH for the scope, then puts back what was there.
class PathGuard {
 public:
  explicit PathGuard(const std::optional<std::string>& path) {
    if (const char* old = std::getenv("PATH")) old_ = old;
    if (path) setenv("PATH", path->c_str(), 1);
    else unsetenv("PATH");
  }
  ~PathGuard() {
    if (old_) setenv("PATH", old_->c_str(), 1);
    else unsetenv("PATH");
  }
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;

 private:
  std::optional<std::string> old_;
};

fs::path make_file(const fs::path& file, fs::perms perms) {
  std::ofstream(file) << "#!/bin/sh\n";
  fs::permissions(file, perms);
  return file;
}

}  // namespace

TEST_CASE("spawn_process: stdout and stderr into the log, in order, the exit status kept") {
  const fs::path dir = scratch("log");
  const int status = run_shell("echo out; echo err >&2; echo again; exit 3", dir / "log.txt", false);
  /// Both streams go to the one file, in the order written.
  CHECK(slurp(dir / "log.txt") == "out\nerr\nagain\n");
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
  CHECK(describe_exit(status) == "exit status 3");
  /// stdin is /dev/null, whatever this process's is: the child's descriptor 0 names it, and a
  /// read meets the end of input at once (read's status 1).
  run_shell("readlink /proc/$$/fd/0; read line; echo \"read: $?\"", dir / "stdin.txt", false);
  CHECK(slurp(dir / "stdin.txt") == "/dev/null\nread: 1\n");
}

TEST_CASE("spawn_process: the log is truncated, or appended to when asked") {
  const fs::path dir = scratch("append");
  const fs::path log = dir / "log.txt";
  std::ofstream(log) << "earlier text\n";
  CHECK(describe_exit(run_shell("echo first", log, false)) == "exit status 0");
  /// Truncated: the earlier text is gone.
  CHECK(slurp(log) == "first\n");
  run_shell("echo second", log, true);
  /// Appended: both runs' lines.
  CHECK(slurp(log) == "first\nsecond\n");
  run_shell("echo third", log, false);
  CHECK(slurp(log) == "third\n");
  /// A log that does not exist yet is created either way.
  run_shell("echo new", dir / "new.txt", true);
  CHECK(slurp(dir / "new.txt") == "new\n");
}

TEST_CASE("spawn_process: a child killed by a signal, a log that cannot be opened, a missing program") {
  const fs::path dir = scratch("failures");
  /// The shell kills itself with SIGKILL (9).
  const int killed = run_shell("kill -9 $$", dir / "killed.txt", false);
  CHECK(WIFSIGNALED(killed));
  CHECK(describe_exit(killed) == "killed by signal 9");
  /// The log's folder does not exist: the child exits 126 before running anything.
  CHECK(describe_exit(run_shell("echo never", dir / "no" / "such" / "log.txt", false)) ==
        "exit status 126");
  CHECK_FALSE(fs::exists(dir / "no"));
  /// A program that cannot be executed: the child says so in the log and exits 127.
  const pid_t pid = spawn_process({(dir / "nonexistent").string()}, (dir / "missing.txt").string(), false);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(describe_exit(status) == "exit status 127");
  CHECK(slurp(dir / "missing.txt") == "physlearn: cannot execute the child program\n");
}

TEST_CASE("describe_exit: waitpid statuses encoded by hand (Linux)") {
  /// Linux's encoding: exit code in bits 8-15 with low bits 0; a signal number in the low 7
  /// bits; 0x7f in the low byte for a stopped child.
  CHECK(describe_exit(0) == "exit status 0");
  CHECK(describe_exit(7 << 8) == "exit status 7");
  CHECK(describe_exit(255 << 8) == "exit status 255");
  CHECK(describe_exit(SIGTERM) == "killed by signal 15");
  CHECK(describe_exit(SIGSEGV | 0x80) == "killed by signal 11");  // with a core dump
  CHECK(describe_exit((SIGSTOP << 8) | 0x7f) == "stopped");
}

TEST_CASE("find_on_path: sh as the shell finds it, the first executable match, a missing name") {
  /// The shell's own search of the same PATH (POSIX `command -v`).
  std::string shell_says;
  if (FILE* pipe = popen("command -v sh", "r")) {
    char buffer[4096];
    while (fgets(buffer, sizeof buffer, pipe)) shell_says += buffer;
    pclose(pipe);
  }
  while (!shell_says.empty() && shell_says.back() == '\n') shell_says.pop_back();
  REQUIRE(!shell_says.empty());
  CHECK(find_on_path("sh") == shell_says);
  CHECK(find_on_path("physlearn-no-such-program-xyz") == "");

  const fs::path dir = scratch("path");
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  const fs::perms plain = fs::perms::owner_read | fs::perms::owner_write;
  const fs::perms runnable = plain | fs::perms::owner_exec;
  make_file(dir / "a" / "tool", plain);
  make_file(dir / "b" / "tool", runnable);
  make_file(dir / "a" / "both", runnable);
  make_file(dir / "b" / "both", runnable);
  fs::create_directories(dir / "a" / "folder");  // a folder is searchable (x), not a program
  make_file(dir / "b" / "folder", runnable);
  {
    const PathGuard path((dir / "a").string() + ":" + (dir / "b").string());
    /// a/tool cannot be executed: b/tool is the one.
    CHECK(find_on_path("tool") == (dir / "b" / "tool").string());
    /// Both can: the earlier folder wins.
    CHECK(find_on_path("both") == (dir / "a" / "both").string());
    /// a/folder is a folder: b/folder is the program.
    CHECK(find_on_path("folder") == (dir / "b" / "folder").string());
    CHECK(find_on_path("sh") == "");
  }
  {
    /// No PATH at all: /usr/local/bin, /usr/bin, /bin in that order.
    const PathGuard path(std::nullopt);
    std::string first;
    for (const char* folder : {"/usr/local/bin", "/usr/bin", "/bin"})
      if (first.empty() && access((std::string(folder) + "/sh").c_str(), X_OK) == 0)
        first = std::string(folder) + "/sh";
    CHECK(find_on_path("sh") == first);
  }
}

TEST_CASE("self_executable: this test program's own file") {
  const fs::path self = self_executable();
  CHECK(self.is_absolute());
  CHECK(self.filename() == "tests_orchestration");
  CHECK(fs::is_regular_file(self));
}
