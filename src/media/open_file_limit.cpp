#include "media/open_file_limit.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <sys/resource.h>

namespace siprecd::media {

Result<OpenFileLimit> raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return fail(std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  OpenFileLimit result;
  result.soft_before = limit.rlim_cur;
  result.hard = limit.rlim_max;
  rlim_t target = limit.rlim_max;
  if (target == RLIM_INFINITY) {
    // The kernel refuses a soft limit above fs.nr_open.
    uint64_t nr_open = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    target = nr_open > 0 ? static_cast<rlim_t>(nr_open) : limit.rlim_cur;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    limit.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return fail(std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
    }
  }
  result.soft = limit.rlim_cur;
  return result;
}

int64_t openDescriptorCount() {
  std::error_code error;
  int64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  // The iterator's own descriptor was listed too.
  return error ? -1 : count - 1;
}

}  // namespace siprecd::media
