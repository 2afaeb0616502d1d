#!/usr/bin/env bash
# Builds bench/go-reference (a Go CSI controller doing the driver's CreateVolume and
# DeleteVolume file work) with Debian's Go, protoc and gRPC packages, into $1
# (default /tmp/go-reference/go-reference). Then:
#   BENCH_GO_REFERENCE=/tmp/go-reference/go-reference npm run bench -- --only rpc
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-/tmp/go-reference/go-reference}"
work="$(dirname "$out")/build"
pkgs=(golang-go protobuf-compiler golang-goprotobuf-dev golang-google-grpc-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
rm -rf "$work"
mkdir -p "$work/bin" "$work/gopath/src/csiref/csi" "$work/gopath/src/csiref/cmd"
export GO111MODULE=off GOCACHE="$work/cache" GOPATH="$work/gopath:/usr/share/gocode"
# protoc-gen-go of github.com/golang/protobuf, whose messages Debian's gRPC codec reads, with
# its gRPC plugin for the service stubs.
go build -o "$work/bin/protoc-gen-go" github.com/golang/protobuf/protoc-gen-go
PATH="$work/bin:$PATH" protoc -I "$here/../../proto" -I /usr/include \
  --go_out="plugins=grpc,paths=source_relative,Mcsi.proto=csiref/csi:$work/gopath/src/csiref/csi" \
  csi.proto
cp "$here/main.go" "$work/gopath/src/csiref/cmd/"
(cd "$work/gopath/src/csiref/cmd" && go build -o "$out" .)
echo "built $out"
