#include "app/domain_router.hpp"

#include "sip/header_fields.hpp"

namespace siprecd::app {
namespace {

std::string hostOf(std::string_view uri_text) {
  auto uri = sip::parseUri(uri_text);
  return uri ? uri->host : std::string();
}

std::string toHostOf(const sip::Message& request) {
  auto to = request.header("To");
  if (!to) {
    return {};
  }
  auto address = sip::parseNameAddr(*to);
  return address ? address->uri.host : std::string();
}

std::shared_ptr<const siprec::DomainPolicy> policyFor(const DomainConfig& domain) {
  auto policy = std::make_shared<siprec::DomainPolicy>();
  policy->name = domain.name;
  policy->require_siprec = domain.require_siprec;
  policy->codecs = domain.codecs;
  policy->callback_base = domain.callback_base;
  policy->decision_delay = std::chrono::milliseconds(domain.decision_delay_ms);
  policy->srtp = domain.srtp;
  return policy;
}

}  // namespace

DomainRouter::DomainRouter(Config config) : config_(std::move(config)) {
  for (const auto& domain : config_.domains) {
    policies_.emplace(domain.name, policyFor(domain));
  }
}

std::shared_ptr<const siprec::DomainPolicy> DomainRouter::select(
    const sip::Message& request, const sip::PeerAddress& peer) const {
  const DomainConfig* domain =
      matchDomain(config_, hostOf(request.requestUri()), toHostOf(request), peer.remote_address);
  if (domain == nullptr || !sourceAllowed(*domain, peer.remote_address)) {
    return nullptr;
  }
  return policies_.at(domain->name);
}

}  // namespace siprecd::app
