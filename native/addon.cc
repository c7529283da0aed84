#include "addon.h"

#include <errno.h>
#include <string.h>

#include <string>

namespace metalbeacon {

static const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EINVAL: return "EINVAL";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case ENETDOWN: return "ENETDOWN";
    case EBADF: return "EBADF";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return "EUNKNOWN";
  }
}

void ThrowErrno(Napi::Env env, const char* syscall, int err, const char* hint) {
  std::string message = std::string(syscall) + ": " + strerror(err);
  if (hint != nullptr) message += std::string(": ") + hint;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
}

}  // namespace metalbeacon

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  metalbeacon::InitPacketSocket(env, exports);
  metalbeacon::InitTcpMd5(env, exports);
  metalbeacon::InitTcpLiveness(env, exports);
  metalbeacon::InitMemory(env, exports);
  metalbeacon::InitUdpSocket(env, exports);
  metalbeacon::InitSocketFilter(env, exports);
  metalbeacon::InitLoopMeter(env, exports);
  metalbeacon::InitThreadSlice(env, exports);
  return exports;
}

NODE_API_MODULE(metalbeacon_native, InitAll)
