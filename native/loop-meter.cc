// How long the thread that makes a LoopMeter works between two waits for I/O, in the thread's
// own CPU time (CLOCK_THREAD_CPUTIME_ID): an ARP request that arrives while the speaker's network
// thread works waits for the end of that loop iteration, and CPU time, unlike the wall clock,
// does not count the time the thread waited for a core on a busy machine. A uv_prepare handle
// runs just before the loop blocks for I/O; from one to the next is one iteration.
#include <time.h>
#include <uv.h>

#include <cstdint>

#include "addon.h"
#include "uv-close.h"

namespace metalbeacon {
namespace {

// Iterations longer than these (ns) are counted, each threshold on its own.
constexpr uint64_t kOverNs[] = {500'000, 1'000'000, 2'000'000};
constexpr size_t kOver = sizeof(kOverNs) / sizeof(kOverNs[0]);

uint64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

class LoopMeter : public Napi::ObjectWrap<LoopMeter> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LoopMeter",
                       {
                           InstanceMethod<&LoopMeter::Take>("take"),
                           InstanceMethod<&LoopMeter::Close>("close"),
                       });
  }

  // new LoopMeter(): starts measuring the loop of the calling thread.
  explicit LoopMeter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LoopMeter>(info), env_(info.Env()) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env_, "LoopMeter: no event loop for this thread").ThrowAsJavaScriptException();
      return;
    }
    prepare_ = NewUvHandle<uv_prepare_t>();
    if (prepare_ == nullptr) {
      Napi::Error::New(env_, "LoopMeter: out of memory").ThrowAsJavaScriptException();
      return;
    }
    uv_prepare_init(loop, prepare_);
    prepare_->data = this;
    uv_prepare_start(prepare_, [](uv_prepare_t* handle) {
      auto* self = static_cast<LoopMeter*>(handle->data);
      if (self != nullptr) self->Tick();
    });
    // Measuring must not keep the thread's loop alive.
    uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));
    last_ = ThreadCpuNs();
    napi_add_env_cleanup_hook(env_, OnEnvCleanup, this);
  }

  ~LoopMeter() override {
    if (prepare_ != nullptr) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    StopHandle();
  }

 private:
  static void OnEnvCleanup(void* arg) { static_cast<LoopMeter*>(arg)->StopHandle(); }

  void Tick() {
    const uint64_t now = ThreadCpuNs();
    const uint64_t work = now - last_;
    last_ = now;
    iterations_++;
    if (work > longest_) longest_ = work;
    for (size_t i = 0; i < kOver; i++) {
      if (work > kOverNs[i]) over_[i]++;
    }
  }

  // take(): { iterations, over500us, over1ms, over2ms } since start, and longestUs since the
  // previous take().
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("iterations", Napi::Number::New(env, static_cast<double>(iterations_)));
    out.Set("longestUs", Napi::Number::New(env, static_cast<double>(longest_) / 1000.0));
    out.Set("over500us", Napi::Number::New(env, static_cast<double>(over_[0])));
    out.Set("over1ms", Napi::Number::New(env, static_cast<double>(over_[1])));
    out.Set("over2ms", Napi::Number::New(env, static_cast<double>(over_[2])));
    longest_ = 0;
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (prepare_ != nullptr) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    StopHandle();
    return info.Env().Undefined();
  }

  void StopHandle() {
    if (prepare_ == nullptr) return;
    uv_prepare_stop(prepare_);
    prepare_->data = nullptr;
    CloseAndFree(prepare_);
    prepare_ = nullptr;
  }

  Napi::Env env_;
  uv_prepare_t* prepare_ = nullptr;
  uint64_t last_ = 0;
  uint64_t iterations_ = 0;
  uint64_t longest_ = 0;
  uint64_t over_[kOver] = {};
};

}  // namespace

void InitLoopMeter(Napi::Env env, Napi::Object exports) { exports.Set("LoopMeter", LoopMeter::Define(env)); }

}  // namespace metalbeacon
