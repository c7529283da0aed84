// TCP sockets with what node:net cannot set (speaker/bgp): the TCP MD5 signature option of
// RFC 2385 (setsockopt TCP_MD5SIG, needed before connect and on the listener) and the TTL /
// hop limit for eBGP (1 for direct peers, N for multihop). The socket is created here,
// configured, and handed to node:net by fd, which connects it.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "addon.h"

namespace metalbeacon {
namespace {

// Parses a textual address into a sockaddr of the socket's family; an IPv4 address on an
// IPv6 socket becomes IPv4-mapped (a dual-stack listener sees IPv4 peers that way).
bool ToSockaddr(const std::string& text, int domain, sockaddr_storage* out, socklen_t* len) {
  memset(out, 0, sizeof(*out));
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    if (domain == AF_INET6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(out);
      sa->sin6_family = AF_INET6;
      sa->sin6_addr.s6_addr[10] = 0xff;
      sa->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&sa->sin6_addr.s6_addr[12], &v4, 4);
      *len = sizeof(sockaddr_in6);
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(out);
      sa->sin_family = AF_INET;
      sa->sin_addr = v4;
      *len = sizeof(sockaddr_in);
    }
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1 && domain == AF_INET6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(out);
    sa->sin6_family = AF_INET6;
    sa->sin6_addr = v6;
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

int SocketDomain(int fd) {
  int domain = 0;
  socklen_t len = sizeof(domain);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return -1;
  return domain;
}

bool Args(const Napi::CallbackInfo& info, size_t count, const char* usage) {
  if (info.Length() < count) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// tcpSocket(family: 4 | 6): number
Napi::Value TcpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, 1, "tcpSocket(family: 4 | 6)")) return env.Undefined();
  int family = info[0].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, "socket", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// tcpBind(fd, address): bind to a local address, any port.
Napi::Value TcpBind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, 2, "tcpBind(fd, address)")) return env.Undefined();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string address = info[1].As<Napi::String>().Utf8Value();
  sockaddr_storage sa;
  socklen_t len;
  if (!ToSockaddr(address, SocketDomain(fd), &sa, &len)) {
    ThrowErrno(env, "bind", EINVAL, "source address is not an address of the socket's family");
    return env.Undefined();
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) ThrowErrno(env, "bind", errno);
  return env.Undefined();
}

// tcpMd5(fd, peer, key): TCP_MD5SIG for the peer; an empty key deletes it (RFC 2385).
Napi::Value TcpMd5(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, 3, "tcpMd5(fd, peer, key)")) return env.Undefined();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string peer = info[1].As<Napi::String>().Utf8Value();
  std::string key = info[2].As<Napi::String>().Utf8Value();
  if (key.size() > TCP_MD5SIG_MAXKEYLEN) {
    ThrowErrno(env, "setsockopt(TCP_MD5SIG)", EINVAL, "the password is longer than 80 bytes");
    return env.Undefined();
  }
  tcp_md5sig sig;
  memset(&sig, 0, sizeof(sig));
  socklen_t len;
  if (!ToSockaddr(peer, SocketDomain(fd), &sig.tcpm_addr, &len)) {
    ThrowErrno(env, "setsockopt(TCP_MD5SIG)", EINVAL, "peer is not an address of the socket's family");
    return env.Undefined();
  }
  sig.tcpm_keylen = static_cast<uint16_t>(key.size());
  memcpy(sig.tcpm_key, key.data(), key.size());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
    int err = errno;
    // Deleting a key that is not there is not an error for us.
    if (!(key.empty() && err == ENOENT)) ThrowErrno(env, "setsockopt(TCP_MD5SIG)", err);
  }
  return env.Undefined();
}

// tcpTtl(fd, family, ttl): IP_TTL, and IPV6_UNICAST_HOPS on IPv6 sockets (IPv4-mapped
// connections on a dual-stack socket use IP_TTL, so both are set there).
Napi::Value TcpTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Args(info, 3, "tcpTtl(fd, family, ttl)")) return env.Undefined();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ttl = info[2].As<Napi::Number>().Int32Value();
  if (ttl < 1 || ttl > 255) {
    ThrowErrno(env, "setsockopt(IP_TTL)", EINVAL, "TTL must be 1..255");
    return env.Undefined();
  }
  int domain = SocketDomain(fd);
  if (domain == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) != 0) {
      ThrowErrno(env, "setsockopt(IPV6_UNICAST_HOPS)", errno);
      return env.Undefined();
    }
    setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));  // best effort for mapped IPv4
  } else if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) != 0) {
    ThrowErrno(env, "setsockopt(IP_TTL)", errno);
  }
  return env.Undefined();
}

// closeFd(fd): for a socket that never reached node:net.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1) close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

void InitTcpMd5(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpSocket", Napi::Function::New(env, TcpSocket, "tcpSocket"));
  exports.Set("tcpBind", Napi::Function::New(env, TcpBind, "tcpBind"));
  exports.Set("tcpMd5", Napi::Function::New(env, TcpMd5, "tcpMd5"));
  exports.Set("tcpTtl", Napi::Function::New(env, TcpTtl, "tcpTtl"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
}

}  // namespace metalbeacon
