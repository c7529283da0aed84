// Readability of a socket, watched on the event loop of the thread that opened it, so that a
// socket opened in a worker_threads Worker (the speaker's network thread) is served there: what
// PacketSocket and UdpSocket share.
#pragma once
#include <napi.h>
#include <uv.h>

#include "uv-close.h"

namespace metalbeacon {

class LoopPoll {
 public:
  using OnReadable = void (*)(void* owner);

  // Starts watching `fd`; `onReadable(owner)` runs on this thread's loop whenever it is
  // readable. On failure throws a JS error starting with `who` and returns false.
  bool Start(Napi::Env env, int fd, const char* who, void* owner, OnReadable onReadable) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, std::string(who) + ": no event loop for this thread").ThrowAsJavaScriptException();
      return false;
    }
    auto* poll = NewUvHandle<uv_poll_t>();
    if (poll == nullptr) {
      Napi::Error::New(env, std::string(who) + ": out of memory").ThrowAsJavaScriptException();
      return false;
    }
    if (int rc = uv_poll_init(loop, poll, fd); rc != 0) {
      std::free(poll);
      Napi::Error::New(env, std::string(who) + ": uv_poll_init: " + uv_strerror(rc)).ThrowAsJavaScriptException();
      return false;
    }
    owner_ = owner;
    onReadable_ = onReadable;
    poll->data = this;
    uv_poll_start(poll, UV_READABLE, [](uv_poll_t* handle, int status, int /*events*/) {
      auto* self = static_cast<LoopPoll*>(handle->data);
      // status < 0: spurious; the next readable event retries.
      if (self != nullptr && status >= 0) self->onReadable_(self->owner_);
    });
    poll_ = poll;
    return true;
  }

  // Stops watching; the handle is freed on the loop. Safe to call more than once, and from an
  // env cleanup hook (no JS is touched).
  void Stop() {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    CloseAndFree(poll_);
    poll_ = nullptr;
  }

 private:
  uv_poll_t* poll_ = nullptr;
  void* owner_ = nullptr;
  OnReadable onReadable_ = nullptr;
};

}  // namespace metalbeacon
