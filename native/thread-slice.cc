// A shorter scheduler slice for the calling thread (Linux 6.12+, EEVDF): sched_setattr with
// SCHED_OTHER and sched_runtime. A task's virtual deadline is its eligible time plus its slice,
// so a thread that asks for a short one is picked sooner when it wakes on a busy machine, and
// runs for less at a time; nothing else changes (policy and nice stay, no privilege needed).
// The speaker's network thread asks for one: an ARP request should not wait for a core behind
// other tasks' default slices. Kernels before 6.12 ignore the field. With CAP_SYS_NICE it
// may instead run under SCHED_FIFO (setThreadRealtime): no wait for a core at all.
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "addon.h"

namespace metalbeacon {
namespace {

// struct sched_attr, version 0 (include/uapi/linux/sched/types.h).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

// setThreadSlice(microseconds): the calling thread's slice (the kernel clamps it to
// 0.1..100 ms). Throws a system error (with `code`) when the kernel refuses.
Napi::Value SetThreadSlice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 1) {
    Napi::TypeError::New(env, "setThreadSlice: expected a number of microseconds >= 1").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  if (nice == -1 && errno != 0) {
    ThrowErrno(env, "getpriority", errno);
    return env.Undefined();
  }
  SchedAttr attr{};
  attr.size = sizeof(attr);
  attr.sched_policy = SCHED_OTHER;
  attr.sched_nice = nice;
  attr.sched_runtime = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue() * 1000.0);
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    ThrowErrno(env, "sched_setattr", errno);
    return env.Undefined();
  }
  return env.Undefined();
}

// SCHED_FLAG_RESET_ON_FORK (include/uapi/linux/sched.h): threads and processes the caller
// creates start under SCHED_OTHER, not its real-time policy.
constexpr uint64_t kResetOnFork = 0x01;

// setThreadRealtime(priority): the calling thread runs under SCHED_FIFO at `priority`
// (1..99), so that when it wakes it preempts every SCHED_OTHER task on its core instead of
// waiting for one. Threads it creates later (a lazily started libuv pool, a nested Worker)
// do not inherit the policy (reset on fork). Needs CAP_SYS_NICE or an RLIMIT_RTPRIO at least
// `priority`; throws a system error (with `code`, EPERM) when refused. The kernel's RT
// throttling (sched_rt_runtime_us) still bounds what the thread can take of a core.
Napi::Value SetThreadRealtime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double priority = info.Length() < 1 || !info[0].IsNumber() ? 0 : info[0].As<Napi::Number>().DoubleValue();
  if (!(priority >= 1 && priority <= 99) || priority != static_cast<double>(static_cast<uint32_t>(priority))) {
    Napi::TypeError::New(env, "setThreadRealtime: expected an integer priority from 1 to 99").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  SchedAttr attr{};
  attr.size = sizeof(attr);
  attr.sched_policy = SCHED_FIFO;
  attr.sched_flags = kResetOnFork;
  attr.sched_priority = static_cast<uint32_t>(priority);
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    ThrowErrno(env, "sched_setattr", errno);
    return env.Undefined();
  }
  return env.Undefined();
}

}  // namespace

void InitThreadSlice(Napi::Env env, Napi::Object exports) {
  exports.Set("setThreadSlice", Napi::Function::New(env, SetThreadSlice, "setThreadSlice"));
  exports.Set("setThreadRealtime", Napi::Function::New(env, SetThreadRealtime, "setThreadRealtime"));
}

}  // namespace metalbeacon
