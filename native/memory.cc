// Giving freed heap memory back to the kernel (shared/daemon/malloc-trim.ts).
//
// glibc keeps what the program frees in its arenas for reuse and returns to the kernel only
// the free top of the main arena. A daemon that parses a burst of API lists at start, then
// idles, keeps several MB of freed chunks resident for good; malloc_trim(0) releases the free
// pages of every arena (madvise MADV_DONTNEED), so the resident size follows what is in use.
#include "addon.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace metalbeacon {

// trimMalloc(): boolean — true when memory went back to the kernel; always false on a C
// library without malloc_trim (musl), where there is nothing to do.
static Napi::Value TrimMalloc(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("trimMalloc", Napi::Function::New(env, TrimMalloc, "trimMalloc"));
}

}  // namespace metalbeacon
