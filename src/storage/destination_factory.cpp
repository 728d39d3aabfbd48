#include "storage/destination_factory.hpp"

#include <fmt/format.h>

#include "storage/file_destination.hpp"
#include "storage/s3_destination.hpp"

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
    S3DestinationSettings s3;
    s3.name = settings.name;
    s3.bucket = settings.bucket;
    s3.region = settings.region;
    s3.endpoint = settings.endpoint;
    s3.path_style = settings.path_style;
    s3.credentials = {settings.access_key_id, settings.secret_access_key, settings.session_token,
                      settings.profile};
    s3.sse = settings.sse;
    s3.kms_key_id = settings.kms_key_id;
    s3.storage_class = settings.storage_class;
    s3.multipart_threshold_bytes = settings.multipart_threshold_bytes;
    s3.part_size_bytes = settings.part_size_bytes;
    auto destination = S3Destination::make(std::move(s3));
    if (!destination) {
      return tl::unexpected(destination.error());
    }
    return std::shared_ptr<Destination>(std::move(*destination));
  }
  return fail(fmt::format("destination '{}': unknown type '{}' (file, s3 or http)", settings.name,
                          settings.type));
}

}  // namespace siprecd::storage
