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
#include "loop-poll.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace metalbeacon {
namespace {

constexpr const char* kCapHint = "opening packet sockets needs the CAP_NET_RAW capability";
constexpr size_t kMaxFrame = 65536;
// Frames delivered per poll wakeup before yielding back to the loop (a flood cannot
// monopolise the thread; the kernel queue holds the rest).
constexpr int kBatch = 64;

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
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info), env_(info.Env()) {
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
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      int err = errno;
      ThrowErrno(env, "socket(AF_PACKET)", err, (err == EPERM || err == EACCES) ? kCapHint : nullptr);
      return;
    }
    if (filter.IsBuffer()) {
      Napi::Buffer<uint8_t> code = filter.As<Napi::Buffer<uint8_t>>();
      sock_fprog program;
      program.len = static_cast<unsigned short>(code.Length() / sizeof(sock_filter));
      program.filter = reinterpret_cast<sock_filter*>(code.Data());
      if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) < 0) {
        Fail(env, "setsockopt(SO_ATTACH_FILTER)");
        return;
      }
    }
    // Our own transmissions are not looped back to us (Linux >= 4.20).
    int one = 1;
    if (setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
      Fail(env, "setsockopt(PACKET_IGNORE_OUTGOING)");
      return;
    }
    // Kernel receive timestamps (SO_TIMESTAMPNS), passed to onFrame as a second argument.
    timestamps_ = options.Get("timestamps").ToBoolean().Value();
    if (timestamps_ && setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
      Fail(env, "setsockopt(SO_TIMESTAMPNS)");
      return;
    }
    if (rcvbuf.IsNumber()) {
      int bytes = rcvbuf.As<Napi::Number>().Int32Value();
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));  // best effort
    }
    sockaddr_ll address;
    memset(&address, 0, sizeof(address));
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(static_cast<uint16_t>(proto));
    address.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
      Fail(env, "bind(AF_PACKET)");
      return;
    }

    if (!poll_.Start(env, fd_, "PacketSocket", this, OnReadable)) {
      CloseFd();
      return;
    }
    onFrame_ = Napi::Persistent(onFrame.As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "MetalBeaconPacketSocket");
    buffer_.resize(kMaxFrame);
    // Stay alive while polling even if JS drops its reference; close() releases it.
    Ref();
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
  }

  ~PacketSocket() override { Shutdown(); }

 private:
  void Fail(Napi::Env env, const char* syscall) {
    int err = errno;
    ThrowErrno(env, syscall, err, (err == EPERM || err == EACCES) ? kCapHint : nullptr);
    CloseFd();
  }

  void CloseFd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Stops polling and closes the socket; safe to call more than once and from the env
  // cleanup hook (no JS is touched).
  void Shutdown() {
    poll_.Stop();
    CloseFd();
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PacketSocket*>(arg);
    self->cleanupHookActive_ = false;
    self->Shutdown();
  }

  static void OnReadable(void* owner) {
    auto* self = static_cast<PacketSocket*>(owner);
    if (self->fd_ < 0) return;
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    // One callback scope per batch: microtasks run once per wakeup, not once per frame.
    Napi::CallbackScope callbackScope(env, *self->context_);
    for (int i = 0; i < kBatch && self->fd_ >= 0; i++) {
      iovec io = {self->buffer_.data(), self->buffer_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
      msghdr message;
      memset(&message, 0, sizeof(message));
      message.msg_iov = &io;
      message.msg_iovlen = 1;
      if (self->timestamps_) {
        message.msg_control = control;
        message.msg_controllen = sizeof(control);
      }
      ssize_t n = recvmsg(self->fd_, &message, MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) break;  // EAGAIN: drained; other errors (ENETDOWN) clear on their own
      size_t length = static_cast<size_t>(n) < self->buffer_.size() ? static_cast<size_t>(n) : self->buffer_.size();
      Napi::Buffer<uint8_t> frame = Napi::Buffer<uint8_t>::Copy(env, self->buffer_.data(), length);
      if (!self->timestamps_) {
        self->onFrame_.Call(env.Global(), {frame});
      } else {
        double micros = -1;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            micros = static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
          }
        }
        self->onFrame_.Call(env.Global(), {frame, Napi::Number::New(env, micros)});
      }
      if (env.IsExceptionPending()) {
        // Route the callback's exception to process 'uncaughtException' like any callback.
        Napi::Error error = env.GetAndClearPendingException();
        napi_fatal_exception(env, error.Value());
        break;
      }
    }
  }

  // Replaces the BPF program (SO_ATTACH_FILTER swaps it atomically on a live socket).
  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) {
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
    Napi::Buffer<uint8_t> code = info[0].As<Napi::Buffer<uint8_t>>();
    sock_fprog program;
    program.len = static_cast<unsigned short>(code.Length() / sizeof(sock_filter));
    program.filter = reinterpret_cast<sock_filter*>(code.Data());
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) < 0) {
      ThrowErrno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
    }
    return env.Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) {
      Napi::Error::New(env, "PacketSocket.send: socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "PacketSocket.send: expected a Uint8Array frame").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::TypedArray array = info[0].As<Napi::TypedArray>();
    auto* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    ssize_t n = send(fd_, data, array.ByteLength(), MSG_DONTWAIT);
    if (n < 0) {
      ThrowErrno(env, "send(AF_PACKET)", errno);
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option, const char* name) {
    Napi::Env env = info.Env();
    if (fd_ < 0) {
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
    if (setsockopt(fd_, SOL_PACKET, option, &request, sizeof(request)) < 0) {
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
    if (fd_ >= 0 && getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &length) < 0) {
      ThrowErrno(env, "getsockopt(PACKET_STATISTICS)", errno);
      return env.Undefined();
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("packets", Napi::Number::New(env, stats.tp_packets));
    result.Set("drops", Napi::Number::New(env, stats.tp_drops));
    return result;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasOpen = fd_ >= 0;
    Shutdown();
    if (cleanupHookActive_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      cleanupHookActive_ = false;
    }
    if (wasOpen) {
      onFrame_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Env env_;
  int fd_ = -1;
  int ifindex_ = 0;
  LoopPoll poll_;
  bool cleanupHookActive_ = true;
  bool timestamps_ = false;
  Napi::FunctionReference onFrame_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<uint8_t> buffer_;
};

}  // namespace

void InitPacketSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
}

}  // namespace metalbeacon
