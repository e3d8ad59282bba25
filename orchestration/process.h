#pragma once
/// Child processes: the runs of a plan (orchestration/plan.h: the physlearn program itself) and
/// gnuplot (physlearn plot).
#include <sys/types.h>

#include <string>
#include <vector>

namespace physlearn::orchestration {

/// This program's own file (/proc/self/exe).
std::string self_executable();

/// The file of `name` on PATH: the first regular, executable file of that name ("" when none).
std::string find_on_path(const std::string& name);

/// Starts `args` (args[0]: the program's file) with stdout and stderr into `log` (appended when
/// `append`) and stdin from /dev/null; the child gets SIGTERM when this process dies
/// (PR_SET_PDEATHSIG). Throws physlearn::Error when no process can be made (fork fails); a
/// program that cannot be executed or a log that cannot be opened shows in the child's exit
/// status (127, 126), a message in the log for the former.
pid_t spawn_process(const std::vector<std::string>& args, const std::string& log, bool append);

/// "exit status N", "killed by signal N" for a waitpid status.
std::string describe_exit(int raw_status);

}  // namespace physlearn::orchestration
