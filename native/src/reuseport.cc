#include "reuseport.h"

#include <cerrno>
#include <cstring>

#ifndef _WIN32
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace evmesh {

#ifdef _WIN32

int ListenReusePort(const std::string&, int, int, SocketError* error) {
  *error = {ENOSYS, "socket"};
  return -1;
}

int BoundPort(int, SocketError* error) {
  *error = {ENOSYS, "getsockname"};
  return -1;
}

#else

namespace {

int Fail(int fd, const char* syscall, SocketError* error) {
  *error = {errno, syscall};
  if (fd >= 0) close(fd);
  return -1;
}

int SetFlag(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

}  // namespace

int ListenReusePort(const std::string& host, int port, int backlog, SocketError* error) {
  sockaddr_storage addr;
  std::memset(&addr, 0, sizeof addr);
  socklen_t addrlen;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (port < 0 || port > 65535) {
    *error = {EINVAL, "bind"};
    return -1;
  }
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    addrlen = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    addrlen = sizeof(sockaddr_in6);
  } else {
    *error = {EINVAL, "inet_pton"};  // not an IP literal: resolve names before calling
    return -1;
  }

#ifdef SOCK_NONBLOCK
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(-1, "socket", error);
#else
  int fd = socket(addr.ss_family, SOCK_STREAM, 0);
  if (fd < 0) return Fail(-1, "socket", error);
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return Fail(fd, "fcntl", error);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return Fail(fd, "fcntl", error);
#endif
  if (SetFlag(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) return Fail(fd, "setsockopt", error);
  if (SetFlag(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0) return Fail(fd, "setsockopt", error);
  // '::' accepts IPv4 too, as Node's own listen does (ipv6Only: false).
  if (addr.ss_family == AF_INET6 && SetFlag(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) != 0)
    return Fail(fd, "setsockopt", error);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), addrlen) != 0) return Fail(fd, "bind", error);
  if (listen(fd, backlog) != 0) return Fail(fd, "listen", error);
  return fd;
}

int BoundPort(int fd, SocketError* error) {
  sockaddr_storage addr;
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return Fail(-1, "getsockname", error);
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  *error = {EAFNOSUPPORT, "getsockname"};
  return -1;
}

#endif

}  // namespace evmesh
