// Closing a libuv handle that this addon allocated, from any path: a JS close(), an object's
// finalizer or an env cleanup hook at thread exit.
//
// The close callback is libc's free(), not a function of this addon: when a worker_threads
// Worker ends, Node may unload the addon before the thread's loop runs the callbacks of the
// handles closed during its cleanup, and a callback in the unloaded code crashed the process
// (SIGSEGV in uv__finish_close; test/speaker/network-thread.test.ts, a network thread dying
// with the loop meter running). libc stays loaded, and free() takes the handle's own pointer.
#pragma once
#include <uv.h>

#include <cstdlib>

namespace metalbeacon {

// A handle of type T on the C heap, so that CloseAndFree may release it with free(); nullptr
// when out of memory.
template <typename T>
T* NewUvHandle() {
  return static_cast<T*>(std::calloc(1, sizeof(T)));
}

template <typename T>
void CloseAndFree(T* handle) {
  uv_close(reinterpret_cast<uv_handle_t*>(handle), reinterpret_cast<uv_close_cb>(&std::free));
}

}  // namespace metalbeacon
