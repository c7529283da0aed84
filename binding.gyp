{
  # Built by `npm ci` (npm runs `node-gyp rebuild` for a package with a binding.gyp and no
  # install script). One target for all native code: add sources here, see native/addon.h.
  "targets": [
    {
      "target_name": "metalbeacon_native",
      "sources": ["native/addon.cc", "native/packet-socket.cc", "native/tcp-md5.cc", "native/tcp-liveness.cc", "native/memory.cc", "native/udp-socket.cc", "native/socket-filter.cc", "native/loop-meter.cc", "native/thread-slice.cc"],
      "include_dirs": ["node_modules/node-addon-api"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
