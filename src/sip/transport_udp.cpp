#include "sip/transport_udp.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "sip/asio_headers.hpp"

namespace siprecd::sip {
namespace {

constexpr int kSocketBufferBytes = 4 * 1024 * 1024;
constexpr int kMaxDatagramsPerWakeup = 64;

std::string addressText(const void* binary, int family) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(family, binary, text.data(), text.size()) == nullptr) {
    return {};
  }
  return std::string(text.data());
}

/// A sockaddr for `address`:`port`; false when `address` is not of the socket's family.
bool makeSockaddr(const std::string& address, uint16_t port, bool ipv6, sockaddr_storage& out,
                  socklen_t& length) {
  std::memset(&out, 0, sizeof(out));
  if (ipv6) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) != 1) {
      return false;
    }
    std::memcpy(&out, &v6, sizeof(v6));
    length = sizeof(v6);
    return true;
  }
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &v4.sin_addr) != 1) {
    return false;
  }
  std::memcpy(&out, &v4, sizeof(v4));
  length = sizeof(v4);
  return true;
}

}  // namespace

UdpTransport::UdpTransport(asio::io_context& io, TransportUser& user) : user_(user), socket_(io) {}

UdpTransport::~UdpTransport() {
  close();
}

Result<void> UdpTransport::open(const ListenSpec& spec) {
  std::error_code error;
  const auto address = asio::ip::make_address(spec.address, error);
  if (error) {
    return fail("address '" + spec.address + "': " + error.message());
  }
  const asio::ip::udp::endpoint endpoint(address, spec.port);
  socket_.open(endpoint.protocol(), error);
  if (error) {
    return fail("socket: " + error.message());
  }
  ipv6_ = address.is_v6();
  wildcard_ = address.is_unspecified();
  if (ipv6_) {
    socket_.set_option(asio::ip::v6_only(true), error);
  }
  socket_.set_option(asio::socket_base::reuse_address(true), error);
  // Large buffers absorb bursts (many INVITEs at once); the kernel caps them at rmem_max.
  socket_.set_option(asio::socket_base::receive_buffer_size(kSocketBufferBytes), error);
  socket_.set_option(asio::socket_base::send_buffer_size(kSocketBufferBytes), error);
  const int on = 1;
  const int fd = socket_.native_handle();
  if (wildcard_) {
    const int rc = ipv6_ ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on))
                         : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
    if (rc != 0) {
      return fail(std::string("packet info option: ") + std::strerror(errno));
    }
  }
  socket_.bind(endpoint, error);
  if (error) {
    socket_.close(error);
    return fail("bind " + toString(spec) + ": " + error.message());
  }
  socket_.non_blocking(true, error);
  if (error) {
    return fail("non-blocking mode: " + error.message());
  }
  bound_ = spec;
  bound_.port = socket_.local_endpoint(error).port();
  return {};
}

void UdpTransport::start() {
  waitReadable();
}

void UdpTransport::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  std::error_code ignored;
  socket_.close(ignored);
}

void UdpTransport::waitReadable() {
  if (closed_) {
    return;
  }
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](const std::error_code& error) {
                       if (self->closed_ || error == asio::error::operation_aborted) {
                         return;
                       }
                       self->drain();
                       self->waitReadable();
                     });
}

void UdpTransport::drain() {
  const int fd = socket_.native_handle();
  std::array<char, 256> control{};
  for (int i = 0; i < kMaxDatagramsPerWakeup && !closed_; ++i) {
    sockaddr_storage source{};
    iovec vector{buffer_.data(), buffer_.size()};
    msghdr header{};
    header.msg_name = &source;
    header.msg_namelen = sizeof(source);
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    header.msg_control = control.data();
    header.msg_controllen = control.size();
    const ssize_t received = recvmsg(fd, &header, MSG_DONTWAIT);
    if (received < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // EAGAIN (drained) or an ICMP error reported on the socket: wait again
    }
    PeerAddress peer;
    peer.transport = TransportKind::Udp;
    peer.local_port = bound_.port;
    if (source.ss_family == AF_INET6) {
      sockaddr_in6 v6{};
      std::memcpy(&v6, &source, sizeof(v6));
      peer.remote_address = addressText(&v6.sin6_addr, AF_INET6);
      peer.remote_port = ntohs(v6.sin6_port);
    } else if (source.ss_family == AF_INET) {
      sockaddr_in v4{};
      std::memcpy(&v4, &source, sizeof(v4));
      peer.remote_address = addressText(&v4.sin_addr, AF_INET);
      peer.remote_port = ntohs(v4.sin_port);
    } else {
      continue;
    }
    if (wildcard_) {
      for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr;
           cmsg = CMSG_NXTHDR(&header, cmsg)) {
        if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO) {
          in_pktinfo info{};
          std::memcpy(&info, CMSG_DATA(cmsg), sizeof(info));
          peer.local_address = addressText(&info.ipi_addr, AF_INET);
        } else if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo info{};
          std::memcpy(&info, CMSG_DATA(cmsg), sizeof(info));
          peer.local_address = addressText(&info.ipi6_addr, AF_INET6);
        }
      }
    }
    if (peer.local_address.empty()) {
      peer.local_address = bound_.address;
    }
    user_.transportDatagram(std::string_view(buffer_.data(), static_cast<std::size_t>(received)),
                            peer);
  }
}

Result<void> UdpTransport::send(std::string_view bytes, const PeerAddress& destination) {
  if (closed_) {
    return fail("udp " + toString(bound_) + " is closed");
  }
  sockaddr_storage target{};
  socklen_t target_length = 0;
  if (!makeSockaddr(destination.remote_address, destination.remote_port, ipv6_, target,
                    target_length)) {
    return fail("udp " + toString(bound_) + " cannot reach '" + destination.remote_address + "'");
  }
  iovec vector{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr header{};
  header.msg_name = &target;
  header.msg_namelen = target_length;
  header.msg_iov = &vector;
  header.msg_iovlen = 1;
  // On a wildcard socket, answer from the address the request arrived on (the peer sent
  // to it; another source address would break its matching and its NAT binding).
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
  if (wildcard_ && !destination.local_address.empty()) {
    header.msg_control = control.data();
    if (ipv6_) {
      in6_pktinfo info{};
      if (inet_pton(AF_INET6, destination.local_address.c_str(), &info.ipi6_addr) == 1) {
        header.msg_controllen = CMSG_SPACE(sizeof(info));
        cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
        cmsg->cmsg_level = IPPROTO_IPV6;
        cmsg->cmsg_type = IPV6_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof(info));
        std::memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
      }
    } else {
      in_pktinfo info{};
      if (inet_pton(AF_INET, destination.local_address.c_str(), &info.ipi_spec_dst) == 1) {
        header.msg_controllen = CMSG_SPACE(sizeof(info));
        cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
        cmsg->cmsg_level = IPPROTO_IP;
        cmsg->cmsg_type = IP_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof(info));
        std::memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
      }
    }
    if (header.msg_controllen == 0) {
      header.msg_control = nullptr;
    }
  }
  ssize_t sent = -1;
  do {
    sent = sendmsg(socket_.native_handle(), &header, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    return fail("udp send to " + hostPort(destination.remote_address, destination.remote_port) +
                ": " + std::strerror(errno));
  }
  return {};
}

std::optional<std::string> UdpTransport::sourceAddressFor(asio::io_context& io,
                                                          const std::string& remote_address) {
  std::error_code error;
  const auto remote = asio::ip::make_address(remote_address, error);
  if (error) {
    return std::nullopt;
  }
  // Connecting a UDP socket sends nothing; it only asks the routing table.
  asio::ip::udp::socket probe(io);
  probe.open(remote.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), error);
  if (error) {
    return std::nullopt;
  }
  probe.connect(asio::ip::udp::endpoint(remote, 9), error);
  if (error) {
    return std::nullopt;
  }
  const auto local = probe.local_endpoint(error);
  if (error) {
    return std::nullopt;
  }
  return local.address().to_string();
}

}  // namespace siprecd::sip
