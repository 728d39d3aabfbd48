#pragma once

#include <memory>
#include <vector>

#include "app/config.hpp"
#include "sip/message.hpp"
#include "sip/sip_stack.hpp"
#include "siprec/domain_policy.hpp"

namespace siprecd::app {

/// Maps an out-of-dialog INVITE to its domain (tenant): the first configured domain whose
/// hosts contain the Request-URI host or the To host, or whose CIDRs contain the source
/// address; otherwise the domain named `default` when it exists; otherwise none (404).
/// A domain with an allow-list refuses sources outside it (none). Immutable; any thread.
class DomainRouter {
 public:
  explicit DomainRouter(const std::vector<DomainConfig>& domains);
  std::shared_ptr<const siprec::DomainPolicy> select(const sip::Message& request,
                                                     const sip::PeerAddress& peer) const;

 private:
  struct Entry {
    DomainConfig config;
    std::shared_ptr<const siprec::DomainPolicy> policy;
  };
  bool matches(const Entry& entry, std::string_view request_host, std::string_view to_host,
               std::string_view source) const;
  std::vector<Entry> entries_;
  const Entry* fallback_ = nullptr;
};

}  // namespace siprecd::app
