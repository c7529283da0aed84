// UDP sockets for BFD (speaker/bfd/io): what node:dgram cannot do. RFC 5881 §5 and RFC 5883 §5
// make the receiver check each packet's TTL / hop limit (GTSM), so received datagrams come with
// it (IP_RECVTTL / IPV6_RECVHOPLIMIT ancillary data); packets go out with a fixed unicast TTL /
// hop limit (255). The socket may be bound to a port of the caller's choosing (the source-port
// range 49152-65535) and connected to the peer, which fixes the source address by the route.
// Receiving uses a uv_poll on the loop of the thread that opened the socket, as PacketSocket
// does, so it works inside the speaker's network thread.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "polled-socket.h"

namespace metalbeacon {
namespace {

// A BFD control packet is at most 255 bytes (its Length field is one byte); datagrams longer
// than this are read cut to it (MSG_TRUNC), never grown into.
constexpr size_t kReadBytes = 2048;

bool ParseAddress(const std::string& text, int family, sockaddr_storage* out, socklen_t* len, int port) {
  memset(out, 0, sizeof(*out));
  if (family == AF_INET) {
    auto* sa = reinterpret_cast<sockaddr_in*>(out);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<uint16_t>(port));
    if (!text.empty() && inet_pton(AF_INET, text.c_str(), &sa->sin_addr) != 1) return false;
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* sa = reinterpret_cast<sockaddr_in6*>(out);
  sa->sin6_family = AF_INET6;
  sa->sin6_port = htons(static_cast<uint16_t>(port));
  if (!text.empty() && inet_pton(AF_INET6, text.c_str(), &sa->sin6_addr) != 1) return false;
  *len = sizeof(sockaddr_in6);
  return true;
}

// Address and port of a sockaddr as text and number.
void FormatAddress(const sockaddr_storage& sa, std::string* address, int* port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    *port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    *port = ntohs(in6->sin6_port);
  } else {
    *port = 0;
  }
  *address = text;
}

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpSocket",
                       {
                           InstanceMethod<&UdpSocket::Send>("send"),
                           InstanceMethod<&UdpSocket::Local>("local"),
                           InstanceMethod<&UdpSocket::Close>("close"),
                       });
  }

  // new UdpSocket({ family: 4 | 6, address?, port, connect?: { address, port }, ttl?,
  //                 receiveBufferBytes?, onMessage?(payload, ttl, address, port) })
  explicit UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "UdpSocket: expected an options object").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object options = info[0].As<Napi::Object>();
    Napi::Value family = options.Get("family");
    Napi::Value port = options.Get("port");
    Napi::Value address = options.Get("address");
    Napi::Value connectTo = options.Get("connect");
    Napi::Value ttl = options.Get("ttl");
    Napi::Value rcvbuf = options.Get("receiveBufferBytes");
    Napi::Value onMessage = options.Get("onMessage");
    if (!family.IsNumber() || (family.As<Napi::Number>().Int32Value() != 4 &&
                               family.As<Napi::Number>().Int32Value() != 6)) {
      Napi::TypeError::New(env, "UdpSocket: options.family must be 4 or 6").ThrowAsJavaScriptException();
      return;
    }
    if (!port.IsNumber() || port.As<Napi::Number>().Int32Value() < 0 ||
        port.As<Napi::Number>().Int32Value() > 65535) {
      Napi::TypeError::New(env, "UdpSocket: options.port must be 0..65535").ThrowAsJavaScriptException();
      return;
    }
    if (!onMessage.IsUndefined() && !onMessage.IsFunction()) {
      Napi::TypeError::New(env, "UdpSocket: options.onMessage must be a function").ThrowAsJavaScriptException();
      return;
    }
    family_ = family.As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
    std::string local = address.IsString() ? address.As<Napi::String>().Utf8Value() : "";
    sockaddr_storage bindTo;
    socklen_t bindLen;
    if (!ParseAddress(local, family_, &bindTo, &bindLen, port.As<Napi::Number>().Int32Value())) {
      ThrowErrno(env, "bind", EINVAL, "address is not an address of the socket's family");
      return;
    }

    socket_.Adopt(socket(family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket_.IsOpen()) {
      ThrowErrno(env, "socket(AF_INET, SOCK_DGRAM)", errno);
      return;
    }
    const int fd = socket_.fd();
    int one = 1;
    if (family_ == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
      Fail(env, "setsockopt(IPV6_V6ONLY)");
      return;
    }
    if (ttl.IsNumber()) {
      int hops = ttl.As<Napi::Number>().Int32Value();
      if (hops < 1 || hops > 255) {
        ThrowErrno(env, "setsockopt(IP_TTL)", EINVAL, "TTL must be 1..255");
        socket_.CloseFd();
        return;
      }
      int rc = family_ == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops))
                                   : setsockopt(fd, IPPROTO_IP, IP_TTL, &hops, sizeof(hops));
      if (rc != 0) {
        Fail(env, family_ == AF_INET6 ? "setsockopt(IPV6_UNICAST_HOPS)" : "setsockopt(IP_TTL)");
        return;
      }
    }
    const bool receiving = onMessage.IsFunction();
    if (receiving) {
      int rc = family_ == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one))
                                   : setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
      if (rc != 0) {
        Fail(env, family_ == AF_INET6 ? "setsockopt(IPV6_RECVHOPLIMIT)" : "setsockopt(IP_RECVTTL)");
        return;
      }
      if (rcvbuf.IsNumber()) {
        int bytes = rcvbuf.As<Napi::Number>().Int32Value();
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));  // best effort
      }
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&bindTo), bindLen) != 0) {
      Fail(env, "bind");
      return;
    }
    if (connectTo.IsObject()) {
      Napi::Object to = connectTo.As<Napi::Object>();
      Napi::Value toAddress = to.Get("address");
      Napi::Value toPort = to.Get("port");
      sockaddr_storage peer;
      socklen_t peerLen;
      if (!toAddress.IsString() || !toPort.IsNumber() ||
          !ParseAddress(toAddress.As<Napi::String>().Utf8Value(), family_, &peer, &peerLen,
                        toPort.As<Napi::Number>().Int32Value())) {
        ThrowErrno(env, "connect", EINVAL, "connect.address is not an address of the socket's family");
        socket_.CloseFd();
        return;
      }
      if (connect(fd, reinterpret_cast<sockaddr*>(&peer), peerLen) != 0) {
        Fail(env, "connect");
        return;
      }
      connected_ = true;
    }
    if (!receiving) return;
    socket_.StartReceiving(env, "UdpSocket", this, this, ReadDatagram, onMessage.As<Napi::Function>(), kReadBytes);
  }

 private:
  void Fail(Napi::Env env, const char* syscall) { socket_.Fail(env, syscall); }

  static bool ReadDatagram(void* owner) {
    auto* self = static_cast<UdpSocket*>(owner);
    std::vector<uint8_t>& buffer = self->socket_.buffer();
    Napi::Env env = self->socket_.env();
    iovec io = {buffer.data(), buffer.size()};
    sockaddr_storage from;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) * 2];
    msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_name = &from;
    message.msg_namelen = sizeof(from);
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(self->socket_.fd(), &message, MSG_DONTWAIT);
    if (n < 0) {
      // EAGAIN: drained. ECONNREFUSED and the like (an ICMP error queued on the socket) are
      // consumed by this read; go on with the next datagram.
      return errno != EAGAIN && errno != EWOULDBLOCK;
    }
    int ttl = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
          (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
        memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
      }
    }
    std::string address;
    int port = 0;
    FormatAddress(from, &address, &port);
    Napi::Buffer<uint8_t> payload = Napi::Buffer<uint8_t>::Copy(env, buffer.data(), static_cast<size_t>(n));
    return self->socket_.Deliver(
        {payload, Napi::Number::New(env, ttl), Napi::String::New(env, address), Napi::Number::New(env, port)});
  }

  // send(bytes[, address, port]): number of bytes sent; a connected socket takes no address.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!socket_.IsOpen()) {
      Napi::Error::New(env, "UdpSocket.send: socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "UdpSocket.send: expected a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::TypedArray array = info[0].As<Napi::TypedArray>();
    auto* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    ssize_t n;
    if (info.Length() >= 3 && info[1].IsString() && info[2].IsNumber()) {
      sockaddr_storage to;
      socklen_t len;
      if (!ParseAddress(info[1].As<Napi::String>().Utf8Value(), family_, &to, &len,
                        info[2].As<Napi::Number>().Int32Value())) {
        ThrowErrno(env, "sendto", EINVAL, "address is not an address of the socket's family");
        return env.Undefined();
      }
      n = sendto(socket_.fd(), data, array.ByteLength(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), len);
    } else if (connected_) {
      n = send(socket_.fd(), data, array.ByteLength(), MSG_DONTWAIT);
    } else {
      Napi::TypeError::New(env, "UdpSocket.send: an unconnected socket needs an address and port")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (n < 0) {
      ThrowErrno(env, "send", errno);
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // local(): { address, port } the socket is bound to (after connect: the source address the
  // route chose).
  Napi::Value Local(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    if (!socket_.IsOpen() || getsockname(socket_.fd(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      ThrowErrno(env, "getsockname", !socket_.IsOpen() ? EBADF : errno);
      return env.Undefined();
    }
    std::string address;
    int port = 0;
    FormatAddress(sa, &address, &port);
    Napi::Object result = Napi::Object::New(env);
    result.Set("address", Napi::String::New(env, address));
    result.Set("port", Napi::Number::New(env, port));
    return result;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    socket_.Close();
    return info.Env().Undefined();
  }

  PolledSocket socket_;
  int family_ = AF_INET;
  bool connected_ = false;
};

}  // namespace

void InitUdpSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("UdpSocket", UdpSocket::Define(env));
}

}  // namespace metalbeacon
