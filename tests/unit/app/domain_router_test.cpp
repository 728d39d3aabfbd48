#include "app/domain_router.hpp"

#include <gtest/gtest.h>

namespace siprecd::app {
namespace {

sip::Message inviteTo(std::string request_uri, std::string to) {
  auto message = sip::Message::request("INVITE", std::move(request_uri));
  message.addHeader("To", std::move(to));
  return message;
}

sip::PeerAddress from(std::string address) {
  sip::PeerAddress peer{};
  peer.transport = sip::TransportKind::Udp;
  peer.remote_address = std::move(address);
  peer.remote_port = 5060;
  return peer;
}

Config twoDomains() {
  Config config;
  DomainConfig acme;
  acme.name = "acme";
  acme.match_hosts = {"rec.acme.example"};
  acme.codecs = {"PCMA", "PCMU"};
  acme.require_siprec = true;
  acme.decision_delay_ms = 250;
  DomainConfig lab;
  lab.name = "lab";
  lab.match_cidrs = {"10.9.0.0/16"};
  lab.allow_sources = {"10.9.1.0/24"};
  DomainConfig fallback;
  fallback.name = "default";
  config.domains = {acme, lab, fallback};
  return config;
}

TEST(DomainRouter, MatchesRequestUriHostAndCarriesThePolicy) {
  DomainRouter router(twoDomains());
  auto policy =
      router.select(inviteTo("sip:srs@rec.acme.example", "<sip:srs@other>"), from("192.0.2.1"));
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->name, "acme");
  EXPECT_TRUE(policy->require_siprec);
  EXPECT_EQ(policy->codecs, (std::vector<std::string>{"PCMA", "PCMU"}));
  EXPECT_EQ(policy->decision_delay, std::chrono::milliseconds(250));
}

TEST(DomainRouter, MatchesToHostThenSourceThenFallsBackToDefault) {
  DomainRouter router(twoDomains());
  EXPECT_EQ(
      router.select(inviteTo("sip:srs@1.2.3.4", "<sip:srs@rec.acme.example>"), from("192.0.2.1"))
          ->name,
      "acme");
  EXPECT_EQ(router.select(inviteTo("sip:srs@1.2.3.4", "<sip:srs@1.2.3.4>"), from("10.9.1.7"))->name,
            "lab");
  EXPECT_EQ(
      router.select(inviteTo("sip:srs@1.2.3.4", "<sip:srs@1.2.3.4>"), from("192.0.2.1"))->name,
      "default");
}

TEST(DomainRouter, RefusesSourcesOutsideTheAllowList) {
  DomainRouter router(twoDomains());
  EXPECT_EQ(router.select(inviteTo("sip:srs@1.2.3.4", "<sip:srs@1.2.3.4>"), from("10.9.2.7")),
            nullptr);
}

TEST(DomainRouter, WithoutDefaultUnmatchedCallsAreRefused) {
  Config config = twoDomains();
  config.domains.pop_back();
  DomainRouter router(config);
  EXPECT_EQ(router.select(inviteTo("sip:srs@1.2.3.4", "<sip:srs@1.2.3.4>"), from("192.0.2.1")),
            nullptr);
}

}  // namespace
}  // namespace siprecd::app
