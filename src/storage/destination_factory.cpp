#include "storage/destination_factory.hpp"

#include <fmt/format.h>

#include "storage/file_destination.hpp"

namespace siprecd::storage {

Result<std::shared_ptr<Destination>> makeDestination(const DestinationSettings& settings) {
  if (settings.type == "file") {
    if (settings.path.empty()) {
      return fail(fmt::format("destination '{}': type file needs a path", settings.name));
    }
    if ((settings.file_mode & ~07777U) != 0 || (settings.dir_mode & ~07777U) != 0) {
      return fail(
          fmt::format("destination '{}': file_mode and dir_mode must be permission bits "
                      "(at most 07777)",
                      settings.name));
    }
    return std::make_shared<FileDestination>(
        FileDestinationSettings{settings.path, settings.file_mode, settings.dir_mode});
  }
  if (settings.type == "http") {
    return std::make_shared<HttpDestination>(settings.http);
  }
  if (settings.type == "s3") {
    return fail(
        fmt::format("destination '{}': type s3 is not available in this build yet", settings.name));
  }
  return fail(fmt::format("destination '{}': unknown type '{}' (file, s3 or http)", settings.name,
                          settings.type));
}

}  // namespace siprecd::storage
