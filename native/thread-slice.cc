// A shorter scheduler slice for the calling thread (Linux 6.12+, EEVDF): sched_setattr with
// SCHED_OTHER and sched_runtime. A task's virtual deadline is its eligible time plus its slice,
// so a thread that asks for a short one is picked sooner when it wakes on a busy machine, and
// runs for less at a time; nothing else changes (policy and nice stay, no privilege needed).
// The speaker's network thread asks for one: an ARP request should not wait for a core behind
// other tasks' default slices. Kernels before 6.12 ignore the field.
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

}  // namespace

void InitThreadSlice(Napi::Env env, Napi::Object exports) {
  exports.Set("setThreadSlice", Napi::Function::New(env, SetThreadSlice, "setThreadSlice"));
}

}  // namespace metalbeacon
