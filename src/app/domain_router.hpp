#pragma once

#include <map>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "sip/message.hpp"
#include "sip/sip_stack.hpp"
#include "siprec/domain_policy.hpp"

namespace siprecd::app {

/// Maps an out-of-dialog INVITE to its domain's policy (matchDomain() rules: Request-URI
/// host, To host, source CIDRs, else `default`), refusing sources outside the domain's
/// allow-list. nullptr: no domain takes the call. Immutable after construction; any thread.
class DomainRouter {
 public:
  explicit DomainRouter(Config config);
  std::shared_ptr<const siprec::DomainPolicy> select(const sip::Message& request,
                                                     const sip::PeerAddress& peer) const;

 private:
  Config config_;
  std::map<std::string, std::shared_ptr<const siprec::DomainPolicy>> policies_;
};

}  // namespace siprecd::app
