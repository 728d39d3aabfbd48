#include "app/domain_router.hpp"

#include <algorithm>

#include "app/cidr.hpp"
#include "base/strings.hpp"
#include "sip/header_fields.hpp"

namespace siprecd::app {
namespace {

std::string hostOf(std::string_view uri_text) {
  auto uri = sip::parseUri(uri_text);
  if (!uri) {
    return {};
  }
  std::string host = uri->host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return toLower(host);
}

std::string toHostOf(const sip::Message& request) {
  auto to = request.header("To");
  if (!to) {
    return {};
  }
  auto address = sip::parseNameAddr(*to);
  return address ? hostOf(address->uri.toString()) : std::string();
}

bool anyCidrContains(const std::vector<std::string>& cidrs, std::string_view address) {
  return std::any_of(cidrs.begin(), cidrs.end(),
                     [&](const std::string& cidr) { return cidrContains(cidr, address); });
}

}  // namespace

DomainRouter::DomainRouter(const std::vector<DomainConfig>& domains) {
  entries_.reserve(domains.size());
  for (const auto& domain : domains) {
    auto policy = std::make_shared<siprec::DomainPolicy>();
    policy->name = domain.name;
    policy->require_siprec = domain.require_siprec;
    policy->codecs = domain.codecs;
    policy->callback_base = domain.callback_base;
    policy->decision_delay = std::chrono::milliseconds(domain.decision_delay_ms);
    entries_.push_back(Entry{domain, std::move(policy)});
  }
  for (const auto& entry : entries_) {
    if (entry.config.name == "default") {
      fallback_ = &entry;
    }
  }
}

bool DomainRouter::matches(const Entry& entry, std::string_view request_host,
                           std::string_view to_host, std::string_view source) const {
  for (const auto& host : entry.config.match_hosts) {
    if (iequals(host, request_host) || iequals(host, to_host)) {
      return true;
    }
  }
  return anyCidrContains(entry.config.match_cidrs, source);
}

std::shared_ptr<const siprec::DomainPolicy> DomainRouter::select(
    const sip::Message& request, const sip::PeerAddress& peer) const {
  std::string request_host = hostOf(request.requestUri());
  std::string to_host = toHostOf(request);
  const Entry* chosen = fallback_;
  for (const auto& entry : entries_) {
    if (matches(entry, request_host, to_host, peer.remote_address)) {
      chosen = &entry;
      break;
    }
  }
  if (chosen == nullptr) {
    return nullptr;
  }
  const auto& allowed = chosen->config.allow_sources;
  if (!allowed.empty() && !anyCidrContains(allowed, peer.remote_address)) {
    return nullptr;
  }
  return chosen->policy;
}

}  // namespace siprecd::app
