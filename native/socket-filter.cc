// A classic BPF program on any socket by its descriptor (speaker/membership: the UDP
// membership socket, which Node's dgram opens). SO_ATTACH_FILTER replaces the program
// atomically on a live socket; unprivileged (the socket is ours).
#include "addon.h"

#include <errno.h>
#include <linux/filter.h>
#include <sys/socket.h>

namespace metalbeacon {

int AttachBpf(int fd, const Napi::Buffer<uint8_t>& code) {
  sock_fprog program;
  program.len = static_cast<unsigned short>(code.Length() / sizeof(sock_filter));
  program.filter = reinterpret_cast<sock_filter*>(code.Data());
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program));
}

// attachSocketFilter(fd: number, program: Buffer): void — throws a system error (with code).
static Napi::Value AttachSocketFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer() ||
      info[1].As<Napi::Buffer<uint8_t>>().Length() == 0 ||
      info[1].As<Napi::Buffer<uint8_t>>().Length() % sizeof(sock_filter) != 0) {
    Napi::TypeError::New(env, "attachSocketFilter: expected (fd, Buffer of 8-byte BPF instructions)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (AttachBpf(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Buffer<uint8_t>>()) < 0) {
    ThrowErrno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
  }
  return env.Undefined();
}

void InitSocketFilter(Napi::Env env, Napi::Object exports) {
  exports.Set("attachSocketFilter", Napi::Function::New(env, AttachSocketFilter, "attachSocketFilter"));
}

}  // namespace metalbeacon
