// The lifecycle PacketSocket and UdpSocket share: a non-blocking descriptor, read in batches on
// the loop of the thread that opened it, each read handed to a JS callback inside one callback
// scope per batch; the JS object kept alive while it receives; the descriptor closed by close(),
// the destructor or the env cleanup hook (worker exit), whichever comes first.
#pragma once
#include <napi.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "loop-poll.h"

namespace metalbeacon {

class PolledSocket {
 public:
  // Reads one datagram into buffer() and delivers it with Deliver(); false when the socket is
  // drained (the batch ends).
  using ReadOne = bool (*)(void* owner);

  // Reads handed to the callback per wakeup before yielding back to the loop, so a flood cannot
  // hold the thread; the kernel queue keeps the rest.
  static constexpr int kBatch = 64;

  PolledSocket() = default;
  PolledSocket(const PolledSocket&) = delete;
  PolledSocket& operator=(const PolledSocket&) = delete;
  ~PolledSocket() { Shutdown(); }

  int fd() const { return fd_; }
  bool IsOpen() const { return fd_ >= 0; }
  void Adopt(int fd) { fd_ = fd; }

  // Throws the failed system call (see ThrowErrno) and closes the descriptor.
  void Fail(Napi::Env env, const char* syscall, const char* hint = nullptr) {
    ThrowErrno(env, syscall, errno, hint);
    CloseFd();
  }

  void CloseFd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Starts receiving: `readOne(owner)` runs up to kBatch times per readable wakeup, `callback`
  // receives what it delivers, and `wrapper` (the JS object) stays alive until Close(), even if
  // JS drops its reference. On failure throws a JS error starting with `who`, closes the
  // descriptor and returns false.
  bool StartReceiving(Napi::Env env, const char* who, Napi::Reference<Napi::Object>* wrapper, void* owner, ReadOne readOne,
                      Napi::Function callback, size_t bufferBytes) {
    if (!poll_.Start(env, fd_, who, this, OnReadable)) {
      CloseFd();
      return false;
    }
    env_ = env;
    owner_ = owner;
    readOne_ = readOne;
    wrapper_ = wrapper;
    callback_ = Napi::Persistent(callback);
    context_ = std::make_unique<Napi::AsyncContext>(env, (std::string("MetalBeacon") + who).c_str());
    buffer_.resize(bufferBytes);
    wrapper_->Ref();
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    cleanupHookActive_ = true;
    return true;
  }

  std::vector<uint8_t>& buffer() { return buffer_; }
  Napi::Env env() const { return env_; }

  // Calls the JS callback; false when it threw (the exception then goes to the process's
  // 'uncaughtException', as any callback's would, and the batch ends).
  bool Deliver(const std::initializer_list<napi_value>& args) {
    callback_.Call(env_.Global(), args);
    if (!env_.IsExceptionPending()) return true;
    Napi::Error error = env_.GetAndClearPendingException();
    napi_fatal_exception(env_, error.Value());
    return false;
  }

  // JS close(): stops receiving, closes the descriptor and lets the JS object go. Safe to call
  // more than once.
  void Close() {
    Shutdown();
    if (cleanupHookActive_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      cleanupHookActive_ = false;
    }
    if (wrapper_ != nullptr) {
      callback_.Reset();
      wrapper_->Unref();
      wrapper_ = nullptr;
    }
  }

 private:
  // Stops polling and closes the descriptor; touches no JS, so the env cleanup hook may call it.
  void Shutdown() {
    poll_.Stop();
    CloseFd();
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PolledSocket*>(arg);
    self->cleanupHookActive_ = false;
    self->Shutdown();
  }

  static void OnReadable(void* arg) {
    auto* self = static_cast<PolledSocket*>(arg);
    if (self->fd_ < 0) return;
    Napi::HandleScope scope(self->env_);
    // One callback scope per batch: microtasks run once per wakeup, not once per read.
    Napi::CallbackScope callbackScope(self->env_, *self->context_);
    for (int i = 0; i < kBatch && self->fd_ >= 0; i++) {
      if (!self->readOne_(self->owner_)) break;
    }
  }

  int fd_ = -1;
  LoopPoll poll_;
  Napi::Env env_ = Napi::Env(nullptr);
  void* owner_ = nullptr;
  ReadOne readOne_ = nullptr;
  Napi::Reference<Napi::Object>* wrapper_ = nullptr;
  bool cleanupHookActive_ = false;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<uint8_t> buffer_;
};

}  // namespace metalbeacon
