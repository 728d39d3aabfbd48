#pragma once

// Every asio header the SIP stack's transports use, included in one place. asio is
// header-only: its implementation (asio/detail/impl/*.ipp) is compiled into each including
// file, and once GCC 12 inlines it at -O2 it reports -Wnull-dereference inside
// scheduler.ipp, which -Werror would turn into a build failure. The warning concerns asio,
// not our code, so it is silenced for these includes only. Include this before any other
// asio header. Internal to src/sip (the public headers stay free of asio).

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#pragma GCC diagnostic pop
