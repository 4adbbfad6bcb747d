# evmesh native addon (src/native.ts loads it; every function has a TypeScript fallback).
# Built by scripts/build.mjs with node-gyp against the running node's headers (--nodedir):
# it never downloads anything.
{
  "targets": [
    {
      "target_name": "evmesh_native",
      "sources": ["src/addon.cc", "src/crc32c.cc", "src/reuseport.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags": ["-O2"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "2",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
