// A listening TCP socket with SO_REUSEPORT, for Node `net` servers in worker threads.
#pragma once
#include <cstdint>
#include <string>

namespace evmesh {

struct SocketError {
  int err;            // errno value (0: no error)
  const char* syscall;  // which call failed
};

// Creates a non-blocking, close-on-exec TCP socket for the IPv4 or IPv6 literal `host` with
// SO_REUSEADDR and SO_REUSEPORT, binds it to host:port and listens. Returns the fd, or -1 and
// fills `error`.
int ListenReusePort(const std::string& host, int port, int backlog, SocketError* error);

// The local port a socket is bound to (getsockname), or -1 and fills `error`.
int BoundPort(int fd, SocketError* error);

}  // namespace evmesh
