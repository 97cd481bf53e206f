#!/usr/bin/env bash
# Builds Debian's own Abseil (the very version libabsl-dev installs, from its source package) as shared
# libraries instrumented for ThreadSanitizer, and prints the directory holding them. Run the TSan
# tests with LD_LIBRARY_PATH set to it: Debian's Abseil is not instrumented, so TSan would not see
# absl::Mutex's locking and would report every access it orders as a race. Same version, same
# options, same library names: gRPC and the tests load these instead. Cached; a second run only
# prints the directory.
#
#   scripts/build-tsan-abseil.sh    -> /var/cache/opctl/absl-tsan-<version>/lib
set -euo pipefail
version=$(dpkg-query -W -f='${Version}' libabsl-dev)
cache=${OPCTL_ABSL_TSAN_CACHE:-/var/cache/opctl}/absl-tsan-$version
lib=$cache/lib
if [[ -f $lib/.complete ]]; then
  echo "$lib"
  exit 0
fi
rm -rf "$cache"
mkdir -p "$cache/apt/lists/partial" "$lib"
# Source packages come from the same archive as the host's packages: its sources file, as deb-src.
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list
if [[ $sources == *.sources ]]; then
  sed 's/^Types:.*/Types: deb-src/' "$sources" >"$cache/apt/src.sources"
  list_option=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$cache/apt/parts")
  mkdir -p "$cache/apt/parts"
  mv "$cache/apt/src.sources" "$cache/apt/parts/"
else
  sed -n 's/^deb /deb-src /p' "$sources" >"$cache/apt/src.list"
  list_option=(-o Dir::Etc::SourceList="$cache/apt/src.list" -o Dir::Etc::SourceParts=/dev/null)
fi
apt_options=("${list_option[@]}" -o Dir::State::Lists="$cache/apt/lists" -o APT::Sandbox::User=root)
command -v dpkg-source >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >/dev/null
apt-get "${apt_options[@]}" update -qq >/dev/null
(cd "$cache" && apt-get "${apt_options[@]}" source -qq --download-only "abseil=$version" >/dev/null)
dpkg-source -x "$cache"/abseil_*.dsc "$cache/src" >/dev/null  # applies Debian's patches
# As debian/rules configures its shared build (C++17, shared), plus TSan.
cmake -S "$cache/src" -B "$cache/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_STANDARD=17 \
  -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF -DCMAKE_CXX_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
# All of it: with only the locking instrumented, TSan missed the ordering of an absl::call_once that an
# uninstrumented library's copy ran, and reported Abseil's own arena set-up as a race.
cmake --build "$cache/build" -j "$(nproc)" >/dev/null
find "$cache/build" -name 'libabsl_*.so*' -exec cp -P {} "$lib/" \;
# Same library names as Debian's, or the dynamic loader would still pick those.
for installed in /usr/lib/"$(gcc -print-multiarch)"/libabsl_*.so.*; do
  name=$(basename "$installed")
  [[ -e $lib/$name ]] || { echo "build-tsan-abseil: built no $name" >&2; exit 1; }
done
rm -rf "$cache/src" "$cache/build" "$cache"/abseil_*
touch "$lib/.complete"
echo "$lib"
