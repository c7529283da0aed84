// Liveness of BGP sockets (speaker/bgp): TCP keepalive with its three timers and
// TCP_USER_TIMEOUT, which node:net cannot set (it sets SO_KEEPALIVE and TCP_KEEPIDLE only).
// With them the kernel ends a connection whose peer vanished without FIN or RST. The getter
// reads the options back with getsockopt, so tests check what the kernel holds. The send queue
// size (SIOCOUTQ) lets the send hold timer (RFC 9687) see whether the peer acknowledges what
// the kernel holds for it.
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>

#include "addon.h"

namespace metalbeacon {
namespace {

bool SetInt(Napi::Env env, int fd, int level, int option, int value, const char* name) {
  if (setsockopt(fd, level, option, &value, sizeof(value)) != 0) {
    ThrowErrno(env, name, errno);
    return false;
  }
  return true;
}

bool GetInt(Napi::Env env, int fd, int level, int option, const char* name, int* out) {
  socklen_t len = sizeof(*out);
  if (getsockopt(fd, level, option, out, &len) != 0) {
    ThrowErrno(env, name, errno);
    return false;
  }
  return true;
}

// tcpLiveness(fd, idleSec, intervalSec, count, userTimeoutMs): SO_KEEPALIVE on, TCP_KEEPIDLE,
// TCP_KEEPINTVL, TCP_KEEPCNT and TCP_USER_TIMEOUT.
Napi::Value TcpLiveness(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5) {
    Napi::TypeError::New(env, "tcpLiveness(fd, idleSec, intervalSec, count, userTimeoutMs)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int idle = info[1].As<Napi::Number>().Int32Value();
  int interval = info[2].As<Napi::Number>().Int32Value();
  int count = info[3].As<Napi::Number>().Int32Value();
  int userTimeout = info[4].As<Napi::Number>().Int32Value();
  if (idle < 1 || interval < 1 || count < 1 || userTimeout < 0) {
    ThrowErrno(env, "setsockopt(SO_KEEPALIVE)", EINVAL, "keepalive timers must be positive");
    return env.Undefined();
  }
  if (SetInt(env, fd, SOL_SOCKET, SO_KEEPALIVE, 1, "setsockopt(SO_KEEPALIVE)") &&
      SetInt(env, fd, IPPROTO_TCP, TCP_KEEPIDLE, idle, "setsockopt(TCP_KEEPIDLE)") &&
      SetInt(env, fd, IPPROTO_TCP, TCP_KEEPINTVL, interval, "setsockopt(TCP_KEEPINTVL)") &&
      SetInt(env, fd, IPPROTO_TCP, TCP_KEEPCNT, count, "setsockopt(TCP_KEEPCNT)")) {
    SetInt(env, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, userTimeout, "setsockopt(TCP_USER_TIMEOUT)");
  }
  return env.Undefined();
}

// tcpLivenessOf(fd): { keepalive, keepaliveIdleSec, keepaliveIntervalSec, keepaliveCount,
// userTimeoutMs } as getsockopt reports them.
Napi::Value TcpLivenessOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) {
    Napi::TypeError::New(env, "tcpLivenessOf(fd)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int keepalive, idle, interval, count, userTimeout;
  if (!GetInt(env, fd, SOL_SOCKET, SO_KEEPALIVE, "getsockopt(SO_KEEPALIVE)", &keepalive) ||
      !GetInt(env, fd, IPPROTO_TCP, TCP_KEEPIDLE, "getsockopt(TCP_KEEPIDLE)", &idle) ||
      !GetInt(env, fd, IPPROTO_TCP, TCP_KEEPINTVL, "getsockopt(TCP_KEEPINTVL)", &interval) ||
      !GetInt(env, fd, IPPROTO_TCP, TCP_KEEPCNT, "getsockopt(TCP_KEEPCNT)", &count) ||
      !GetInt(env, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "getsockopt(TCP_USER_TIMEOUT)", &userTimeout)) {
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("keepalive", Napi::Boolean::New(env, keepalive != 0));
  out.Set("keepaliveIdleSec", Napi::Number::New(env, idle));
  out.Set("keepaliveIntervalSec", Napi::Number::New(env, interval));
  out.Set("keepaliveCount", Napi::Number::New(env, count));
  out.Set("userTimeoutMs", Napi::Number::New(env, userTimeout));
  return out;
}

// tcpQueuedBytes(fd): octets in the socket's send queue not yet acknowledged (SIOCOUTQ).
Napi::Value TcpQueuedBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) {
    Napi::TypeError::New(env, "tcpQueuedBytes(fd)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int queued = 0;
  if (ioctl(fd, SIOCOUTQ, &queued) != 0) {
    ThrowErrno(env, "ioctl(SIOCOUTQ)", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, queued);
}

}  // namespace

void InitTcpLiveness(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpLiveness", Napi::Function::New(env, TcpLiveness, "tcpLiveness"));
  exports.Set("tcpLivenessOf", Napi::Function::New(env, TcpLivenessOf, "tcpLivenessOf"));
  exports.Set("tcpQueuedBytes", Napi::Function::New(env, TcpQueuedBytes, "tcpQueuedBytes"));
}

}  // namespace metalbeacon
