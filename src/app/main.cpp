// siprecd: SIPREC session recording server. See README.md and docs/.
#include <cstdio>
#include <map>
#include <string>

#include <unistd.h>

#include "app/config.hpp"
#include "app/server.hpp"
#include "base/log.hpp"

extern char** environ;

namespace {

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    auto equals = text.find('=');
    if (equals != std::string::npos) {
      variables.emplace(text.substr(0, equals), text.substr(equals + 1));
    }
  }
  return variables;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace siprecd;
  app::blockShutdownSignals();
  auto loaded = app::loadConfig(argc, argv, environment());
  if (!loaded) {
    std::fprintf(stderr, "siprecd: %s\n", loaded.error().message.c_str());
    return 2;
  }
  switch (loaded->action) {
    case app::CliAction::Help:
      std::fputs(app::helpText().c_str(), stdout);
      return 0;
    case app::CliAction::Version:
      std::printf("siprecd %s\n", app::versionText().c_str());
      return 0;
    case app::CliAction::CheckConfig:
      std::printf("configuration OK\n%s", app::describeConfig(loaded->config).c_str());
      return 0;
    case app::CliAction::Run:
      break;
  }
  auto level = log::parseLevel(loaded->config.log_level);
  log::init(level ? *level : log::Level::Info);
  app::Server server(std::move(loaded->config));
  if (auto started = server.start(); !started) {
    log::critical("app", "cannot start: {}", started.error().message);
    return 1;
  }
  return server.run();
}
