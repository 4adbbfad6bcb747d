// evmesh_native: the JavaScript bindings. src/native.ts loads this and falls back to
// TypeScript when it is missing. Stateless, so it loads in any number of worker threads.
#include <napi.h>
#include <uv.h>

#include <string>

#include "crc32c.h"
#include "reuseport.h"

namespace {

// crc32c(data: ArrayBufferView, initial?: number): number — reads the view's backing store
// in place (no copy). Written against the C API: the per-call cost (~80 ns through the
// Napi:: wrappers, measured) decides the size below which src/native.ts stays in JS.
// The callback data is the implementation (Crc32c, or Crc32cPortable for tests).
using Crc32cFn = uint32_t (*)(const uint8_t*, size_t, uint32_t);

napi_value Crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void* impl;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &impl) != napi_ok) return nullptr;
  const uint8_t* data = nullptr;
  size_t len = 0;
  void* ptr = nullptr;
  napi_typedarray_type type;
  size_t count;
  if (argc >= 1 && napi_get_typedarray_info(env, argv[0], &type, &count, &ptr, nullptr, nullptr) == napi_ok) {
    static const size_t kElementSize[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};  // napi_typedarray_type order
    len = count * (type < sizeof kElementSize / sizeof kElementSize[0] ? kElementSize[type] : 1);
  } else if (argc < 1 || napi_get_dataview_info(env, argv[0], &len, &ptr, nullptr, nullptr) != napi_ok) {
    napi_throw_type_error(env, nullptr, "crc32c: data must be a Uint8Array, Buffer or other ArrayBufferView");
    return nullptr;
  }
  data = static_cast<const uint8_t*>(ptr);
  uint32_t initial = 0;
  if (argc >= 2) {
    napi_valuetype vt;
    napi_typeof(env, argv[1], &vt);
    if (vt == napi_number) {
      napi_get_value_uint32(env, argv[1], &initial);
    } else if (vt != napi_undefined) {
      napi_throw_type_error(env, nullptr, "crc32c: initial must be a number");
      return nullptr;
    }
  }
  napi_value result;
  napi_create_uint32(env, reinterpret_cast<Crc32cFn>(impl)(data, len, initial), &result);
  return result;
}

// Throws an Error shaped like Node's own socket errors: code (errno name), errno (negative,
// as libuv reports it), syscall, address, port.
void ThrowSocketError(Napi::Env env, const evmesh::SocketError& e, const std::string& host, int port) {
  const char* code = uv_err_name(-e.err);
  std::string where = port >= 0 ? (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                      std::to_string(port)
                                : "fd";
  Napi::Error error = Napi::Error::New(
      env, std::string(e.syscall) + " " + code + " " + where + ": " + uv_strerror(-e.err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -e.err));
  error.Set("syscall", Napi::String::New(env, e.syscall));
  if (port >= 0) {
    error.Set("address", Napi::String::New(env, host));
    error.Set("port", Napi::Number::New(env, port));
  }
  error.ThrowAsJavaScriptException();
}

bool IsInt(const Napi::Value& v) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return d == static_cast<double>(static_cast<int64_t>(d));
}

// listenReusePort(host: string, port: number, backlog: number): number (the listening fd)
Napi::Value ListenReusePort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !IsInt(info[1]) || !IsInt(info[2])) {
    Napi::TypeError::New(env, "listenReusePort(host: string, port: integer, backlog: integer)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string host = info[0].As<Napi::String>().Utf8Value();
  int port = info[1].As<Napi::Number>().Int32Value();
  int backlog = info[2].As<Napi::Number>().Int32Value();
  evmesh::SocketError error{0, ""};
  int fd = evmesh::ListenReusePort(host, port, backlog, &error);
  if (fd < 0) {
    ThrowSocketError(env, error, host, port);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// boundPort(fd: number): number
Napi::Value BoundPort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !IsInt(info[0])) {
    Napi::TypeError::New(env, "boundPort(fd: integer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  evmesh::SocketError error{0, ""};
  int port = evmesh::BoundPort(info[0].As<Napi::Number>().Int32Value(), &error);
  if (port < 0) {
    ThrowSocketError(env, error, "", -1);
    return env.Undefined();
  }
  return Napi::Number::New(env, port);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_value crc, portable;
  napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, Crc32c, reinterpret_cast<void*>(&evmesh::Crc32c), &crc);
  napi_create_function(env, "crc32cPortable", NAPI_AUTO_LENGTH, Crc32c,
                       reinterpret_cast<void*>(&evmesh::Crc32cPortable), &portable);
  exports.Set("crc32c", crc);
  exports.Set("crc32cPortable", portable);  // for tests: the table path even on SSE4.2 CPUs
  exports.Set("crc32cImpl", Napi::String::New(env, evmesh::Crc32cImpl()));
  exports.Set("listenReusePort", Napi::Function::New(env, ListenReusePort, "listenReusePort"));
  exports.Set("boundPort", Napi::Function::New(env, BoundPort, "boundPort"));
  return exports;
}

}  // namespace

NODE_API_MODULE(evmesh_native, Init)
