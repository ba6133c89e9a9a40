#!/bin/sh
# runtime-deps.sh -- print the Debian packages that hold the shared libraries the given binaries
# load (ldd), one per line, sorted. The Dockerfile's build stage runs it on the installed dadns
# binaries so the runtime stage installs exactly those libraries and no -dev package or compiler.
#
# usage: runtime-deps.sh BINARY...   (exit 1 when a library is missing or belongs to no package)
set -eu

[ "$#" -gt 0 ] || { echo "usage: runtime-deps.sh BINARY..." >&2; exit 2; }

libs="$(for b in "$@"; do
    ldd "$b" || exit 1
done)"
if printf '%s\n' "$libs" | grep -q 'not found'; then
    printf '%s\n' "$libs" | grep 'not found' >&2
    echo "runtime-deps: a library is missing" >&2
    exit 1
fi

# owner PATH - the package that ships PATH; with merged /usr the dpkg database may list the
# file under /lib or under /usr/lib, and the path ldd prints may be a symlink.
owner() {
    for p in "$1" "/usr$1" "$(readlink -f "$1")" "/usr$(readlink -f "$1")"; do
        pkg="$(dpkg-query -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1)" || true
        if [ -n "$pkg" ]; then
            echo "$pkg"
            return 0
        fi
    done
    echo "runtime-deps: no package ships $1" >&2
    return 1
}

pkgs=""
for lib in $(printf '%s\n' "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
    pkg="$(owner "$lib")" || exit 1
    pkgs="$pkgs $pkg"
done
# shellcheck disable=SC2086 # one package name per word
printf '%s\n' $pkgs | sort -u
