// One N-API module for all of MetalBeacon's native code (target metalbeacon_native in
// binding.gyp). Each source file exports an Init function declared here and called from
// addon.cc; add a new file by adding it to binding.gyp "sources", declaring its Init here
// and calling it in addon.cc.
#pragma once
#include <napi.h>

namespace metalbeacon {

// native/packet-socket.cc: AF_PACKET sockets for ARP/NDP (speaker/l2).
void InitPacketSocket(Napi::Env env, Napi::Object exports);

// native/tcp-md5.cc: TCP MD5 signatures (RFC 2385) and TTL for BGP sockets (speaker/bgp).
void InitTcpMd5(Napi::Env env, Napi::Object exports);

// native/tcp-liveness.cc: TCP keepalive timers and TCP_USER_TIMEOUT for BGP sockets (speaker/bgp).
void InitTcpLiveness(Napi::Env env, Napi::Object exports);

// native/memory.cc: malloc_trim, so freed heap memory leaves the resident set (speaker/shell).
void InitMemory(Napi::Env env, Napi::Object exports);

// native/udp-socket.cc: UDP sockets with a fixed TTL and the received TTL (speaker/bfd, GTSM).
void InitUdpSocket(Napi::Env env, Napi::Object exports);

// native/socket-filter.cc: a BPF program on a socket by descriptor (speaker/membership).
void InitSocketFilter(Napi::Env env, Napi::Object exports);

// native/loop-meter.cc: the CPU time of each loop iteration of a thread (the speaker's network thread).
void InitLoopMeter(Napi::Env env, Napi::Object exports);

// native/thread-slice.cc: a shorter scheduler slice, or SCHED_FIFO, for the calling thread (the network thread).
void InitThreadSlice(Napi::Env env, Napi::Object exports);

// Attaches (or atomically replaces) the classic BPF program `code` (8-byte sock_filter
// instructions) on socket `fd` with SO_ATTACH_FILTER; defined in socket-filter.cc. Returns
// setsockopt's result (errno set on -1).
int AttachBpf(int fd, const Napi::Buffer<uint8_t>& code);

// Throws a JS Error for a failed system call: message "<syscall>: <strerror>[: <hint>]",
// with .code (e.g. "EPERM"), .errno and .syscall set, as Node's own errors do.
void ThrowErrno(Napi::Env env, const char* syscall, int err, const char* hint = nullptr);

}  // namespace metalbeacon
