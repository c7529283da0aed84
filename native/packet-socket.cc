// AF_PACKET socket for ARP and NDP (packet(7)): the one thing Node and raw-socket cannot do.
// Frames are built and parsed in TypeScript; this file only moves bytes. Receiving uses a
// uv_poll on the loop of the thread that opened the socket, so it works inside a
// worker_threads Worker (the speaker runs its responder there, away from a busy main thread).
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "addon.h"
#include "polled-socket.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace metalbeacon {
namespace {

constexpr const char* kCapHint = "opening packet sockets needs the CAP_NET_RAW capability";
constexpr size_t kMaxFrame = 65536;

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod<&PacketSocket::Send>("send"),
                           InstanceMethod<&PacketSocket::AddMembership>("addMembership"),
                           InstanceMethod<&PacketSocket::DropMembership>("dropMembership"),
                           InstanceMethod<&PacketSocket::Statistics>("statistics"),
                           InstanceMethod<&PacketSocket::SetFilter>("setFilter"),
                           InstanceMethod<&PacketSocket::Close>("close"),
                       });
  }

  // new PacketSocket({ ifindex, protocol, filter?: Buffer, receiveBufferBytes?, onFrame })
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "PacketSocket: expected an options object").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object options = info[0].As<Napi::Object>();
    Napi::Value ifindex = options.Get("ifindex");
    Napi::Value protocol = options.Get("protocol");
    Napi::Value onFrame = options.Get("onFrame");
    Napi::Value filter = options.Get("filter");
    Napi::Value rcvbuf = options.Get("receiveBufferBytes");
    if (!ifindex.IsNumber() || ifindex.As<Napi::Number>().Int32Value() <= 0) {
      Napi::TypeError::New(env, "PacketSocket: options.ifindex must be a positive interface index")
          .ThrowAsJavaScriptException();
      return;
    }
    if (!protocol.IsNumber()) {
      Napi::TypeError::New(env, "PacketSocket: options.protocol must be an EtherType number")
          .ThrowAsJavaScriptException();
      return;
    }
    if (!onFrame.IsFunction()) {
      Napi::TypeError::New(env, "PacketSocket: options.onFrame must be a function").ThrowAsJavaScriptException();
      return;
    }
    if (!filter.IsUndefined() && !filter.IsNull() &&
        (!filter.IsBuffer() || filter.As<Napi::Buffer<uint8_t>>().Length() % sizeof(sock_filter) != 0)) {
      Napi::TypeError::New(env, "PacketSocket: options.filter must be a Buffer of 8-byte BPF instructions")
          .ThrowAsJavaScriptException();
      return;
    }
    ifindex_ = ifindex.As<Napi::Number>().Int32Value();
    int proto = protocol.As<Napi::Number>().Int32Value();

    // Protocol 0 at socket(): nothing is queued until bind, so the filter is in place
    // before the first frame arrives (attach before bind).
    socket_.Adopt(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket_.IsOpen()) {
      Fail(env, "socket(AF_PACKET)");
      return;
    }
    const int fd = socket_.fd();
    if (filter.IsBuffer() && AttachBpf(fd, filter.As<Napi::Buffer<uint8_t>>()) < 0) {
      Fail(env, "setsockopt(SO_ATTACH_FILTER)");
      return;
    }
    // Our own transmissions are not looped back to us (Linux >= 4.20).
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
      Fail(env, "setsockopt(PACKET_IGNORE_OUTGOING)");
      return;
    }
    // Kernel receive timestamps (SO_TIMESTAMPNS), passed to onFrame as a second argument.
    timestamps_ = options.Get("timestamps").ToBoolean().Value();
    if (timestamps_ && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
      Fail(env, "setsockopt(SO_TIMESTAMPNS)");
      return;
    }
    if (rcvbuf.IsNumber()) {
      int bytes = rcvbuf.As<Napi::Number>().Int32Value();
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));  // best effort
    }
    sockaddr_ll address;
    memset(&address, 0, sizeof(address));
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(static_cast<uint16_t>(proto));
    address.sll_ifindex = ifindex_;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
      Fail(env, "bind(AF_PACKET)");
      return;
    }

    socket_.StartReceiving(env, "PacketSocket", this, this, ReadFrame, onFrame.As<Napi::Function>(), kMaxFrame);
  }

 private:
  void Fail(Napi::Env env, const char* syscall) {
    socket_.Fail(env, syscall, (errno == EPERM || errno == EACCES) ? kCapHint : nullptr);
  }

  static bool ReadFrame(void* owner) {
    auto* self = static_cast<PacketSocket*>(owner);
    std::vector<uint8_t>& buffer = self->socket_.buffer();
    Napi::Env env = self->socket_.env();
    iovec io = {buffer.data(), buffer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    if (self->timestamps_) {
      message.msg_control = control;
      message.msg_controllen = sizeof(control);
    }
    ssize_t n = recvmsg(self->socket_.fd(), &message, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) return false;  // EAGAIN: drained; other errors (ENETDOWN) clear on their own
    size_t length = static_cast<size_t>(n) < buffer.size() ? static_cast<size_t>(n) : buffer.size();
    Napi::Buffer<uint8_t> frame = Napi::Buffer<uint8_t>::Copy(env, buffer.data(), length);
    if (!self->timestamps_) return self->socket_.Deliver({frame});
    double micros = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        micros = static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
      }
    }
    return self->socket_.Deliver({frame, Napi::Number::New(env, micros)});
  }

  // Replaces the BPF program (SO_ATTACH_FILTER swaps it atomically on a live socket).
  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!socket_.IsOpen()) {
      Napi::Error::New(env, "PacketSocket.setFilter: socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsBuffer() ||
        info[0].As<Napi::Buffer<uint8_t>>().Length() % sizeof(sock_filter) != 0 ||
        info[0].As<Napi::Buffer<uint8_t>>().Length() == 0) {
      Napi::TypeError::New(env, "PacketSocket.setFilter: expected a Buffer of 8-byte BPF instructions")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (AttachBpf(socket_.fd(), info[0].As<Napi::Buffer<uint8_t>>()) < 0) {
      ThrowErrno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
    }
    return env.Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!socket_.IsOpen()) {
      Napi::Error::New(env, "PacketSocket.send: socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "PacketSocket.send: expected a Uint8Array frame").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::TypedArray array = info[0].As<Napi::TypedArray>();
    auto* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    ssize_t n = send(socket_.fd(), data, array.ByteLength(), MSG_DONTWAIT);
    if (n < 0) {
      ThrowErrno(env, "send(AF_PACKET)", errno);
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option, const char* name) {
    Napi::Env env = info.Env();
    if (!socket_.IsOpen()) {
      Napi::Error::New(env, "PacketSocket: socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != 6) {
      Napi::TypeError::New(env, "PacketSocket: expected a 6-byte multicast MAC Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    packet_mreq request;
    memset(&request, 0, sizeof(request));
    request.mr_ifindex = ifindex_;
    request.mr_type = PACKET_MR_MULTICAST;
    request.mr_alen = 6;
    memcpy(request.mr_address, info[0].As<Napi::Buffer<uint8_t>>().Data(), 6);
    if (setsockopt(socket_.fd(), SOL_PACKET, option, &request, sizeof(request)) < 0) {
      ThrowErrno(env, name, errno);
    }
    return env.Undefined();
  }

  Napi::Value AddMembership(const Napi::CallbackInfo& info) {
    return Membership(info, PACKET_ADD_MEMBERSHIP, "setsockopt(PACKET_ADD_MEMBERSHIP)");
  }

  Napi::Value DropMembership(const Napi::CallbackInfo& info) {
    return Membership(info, PACKET_DROP_MEMBERSHIP, "setsockopt(PACKET_DROP_MEMBERSHIP)");
  }

  // Kernel counters since the previous call (PACKET_STATISTICS resets on read).
  Napi::Value Statistics(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    tpacket_stats stats;
    memset(&stats, 0, sizeof(stats));
    socklen_t length = sizeof(stats);
    if (socket_.IsOpen() && getsockopt(socket_.fd(), SOL_PACKET, PACKET_STATISTICS, &stats, &length) < 0) {
      ThrowErrno(env, "getsockopt(PACKET_STATISTICS)", errno);
      return env.Undefined();
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("packets", Napi::Number::New(env, stats.tp_packets));
    result.Set("drops", Napi::Number::New(env, stats.tp_drops));
    return result;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    socket_.Close();
    return info.Env().Undefined();
  }

  PolledSocket socket_;
  int ifindex_ = 0;
  bool timestamps_ = false;
};

}  // namespace

void InitPacketSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
}

}  // namespace metalbeacon
