#!/usr/bin/env bash
# Builds the Debian package target/debian/aima_VERSION_amd64.deb with dpkg-deb from a staged
# tree (no cargo-deb): the release binary (LTO, stripped), the systemd unit, completions for
# bash, zsh and fish, one man page per command (gzipped), and the maintainer scripts of
# aima/packaging/debian (system user and group aima, /var/lib/aima 0750). Its Depends are read
# from the binary: libc6 at the newest glibc symbol version it uses, and libgcc-s1 if linked.
# AIMA_PACKAGE_BINARY=PATH packages that binary instead of building the release one (a quick
# try of the packaging with a debug build; never for a package you ship).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in dpkg-deb objdump gzip; do
  command -v "$tool" >/dev/null || { echo "package: $tool is missing (apt-get install dpkg-dev binutils gzip)" >&2; exit 1; }
done

version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "aima"))')
arch=amd64
[[ "$(uname -m)" == x86_64 ]] || { echo "package: builds amd64 only, this machine is $(uname -m)" >&2; exit 1; }

binary=${AIMA_PACKAGE_BINARY:-}
if [[ -z "$binary" ]]; then
  echo "package: building aima $version (release: LTO, stripped)"
  began=$(date +%s)
  cargo build --release --locked -p aima
  echo "package: release build took $(($(date +%s) - began)) s"
  binary=target/release/aima
fi

out=target/debian
stage=$out/aima_${version}_${arch}
rm -rf "$stage"
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" \
  "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
  "$stage/usr/share/fish/vendor_completions.d" "$stage/usr/share/man/man1" "$stage/usr/share/doc/aima"

install -m 0755 "$binary" "$stage/usr/bin/aima"
install -m 0644 aima/systemd/aima.service "$stage/lib/systemd/system/aima.service"
"$binary" completions bash >"$stage/usr/share/bash-completion/completions/aima"
"$binary" completions zsh >"$stage/usr/share/zsh/vendor-completions/_aima"
"$binary" completions fish >"$stage/usr/share/fish/vendor_completions.d/aima.fish"
"$binary" man --out-dir "$stage/usr/share/man/man1" >/dev/null
gzip -9n "$stage"/usr/share/man/man1/*.1
install -m 0644 aima/packaging/debian/copyright "$stage/usr/share/doc/aima/copyright"
install -m 0644 README.md "$stage/usr/share/doc/aima/README.md"
printf 'aima (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- aima maintainers <aima@localhost>  %s\n' \
  "$version" "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" "$(date -R)" |
  gzip -9n >"$stage/usr/share/doc/aima/changelog.Debian.gz"
find "$stage" -type d -exec chmod 0755 {} +
find "$stage/usr/share" "$stage/lib" -type f -exec chmod 0644 {} +
for script in postinst prerm postrm; do
  install -m 0755 "aima/packaging/debian/$script" "$stage/DEBIAN/$script"
done

# Depends from what the binary links and the newest glibc symbol version it needs.
glibc=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
depends="libc6 (>= $glibc)"
if objdump -p "$binary" | grep -q 'NEEDED *libgcc_s'; then
  depends="$depends, libgcc-s1"
fi
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@DEPENDS@/$depends/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
  aima/packaging/debian/control.in >"$stage/DEBIAN/control"

deb=$out/aima_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "package: $deb ($(du -h "$deb" | cut -f1); binary $(du -h "$binary" | cut -f1), needs glibc $glibc)"
echo "package: depends: $depends"
