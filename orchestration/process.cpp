#include "orchestration/process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace physlearn::orchestration {

std::string self_executable() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) throw Error("cannot find this program's file (/proc/self/exe)");
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    const std::string file = (folder.empty() ? "." : folder) + "/" + name;
    struct stat info {};
    if (stat(file.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(file.c_str(), X_OK) == 0)
      return file;
  }
  return "";
}

pid_t spawn_process(const std::vector<std::string>& args, const std::string& log, bool append) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw Error(cat("cannot start ", args.at(0), ": fork: ", std::strerror(errno)));
  if (pid == 0) {  // only async-signal-safe calls until exec
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) _exit(126);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      if (null > STDERR_FILENO) close(null);
    }
    execv(argv[0], argv.data());
    const char message[] = "physlearn: cannot execute the child program\n";
    [[maybe_unused]] const ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    _exit(127);
  }
  return pid;
}

std::string describe_exit(int raw_status) {
  if (WIFEXITED(raw_status)) return cat("exit status ", WEXITSTATUS(raw_status));
  if (WIFSIGNALED(raw_status)) return cat("killed by signal ", WTERMSIG(raw_status));
  return "stopped";
}

}  // namespace physlearn::orchestration
