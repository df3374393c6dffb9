#!/usr/bin/env bash
# The install tree is usable: `cmake --install` into a temporary prefix gives
# the programs, libflywheel (shared and static), its header and a pkg-config
# file with which a program outside the tree compiles, links and runs,
# against the shared and the static library (static libflywheel with the
# shared system libraries it depends on, the usual way to link it).
#
# In a sanitizer build (FW_SANITIZE, read from the build's CMake cache) the
# installed library needs the sanitizer runtime, which must come first in
# the program's library list: the program is built with the same
# -fsanitize flags, as any program linking a sanitized library must be.
set -euo pipefail
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cmake --install "$FW_BUILD_DIR" --prefix "$TMP/prefix" >/dev/null
for p in flywheel flywheel-collector flywheel-devbroker; do
    [ -x "$TMP/prefix/bin/$p" ] || { echo "FAIL: $p not installed"; exit 1; }
done
[ -f "$TMP/prefix/include/flywheel/flywheel.h" ] || { echo "FAIL: header not installed"; exit 1; }
pc="$(find "$TMP/prefix" -name flywheel.pc | head -n1)"
[ -n "$pc" ] || { echo "FAIL: flywheel.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
san="$(sed -n 's/^FW_SANITIZE:[A-Z]*=//p' "$FW_BUILD_DIR/CMakeCache.txt")"
SANFLAGS=()
if [ -n "$san" ]; then
    SANFLAGS=(-fsanitize="${san//;/,}" -fno-omit-frame-pointer)
fi
cat > "$TMP/app.c" <<'C'
#include <flywheel/flywheel.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    const char *v = fw_version();
    if (!v || !strchr(v, '.'))
        return 1;
    printf("%s\n", v);
    return 0;
}
C
cc -std=c11 -Wall -Werror "${SANFLAGS[@]}" -o "$TMP/app" "$TMP/app.c" $(pkg-config --cflags --libs flywheel)
libdir="$(pkg-config --variable=libdir flywheel)"
LD_LIBRARY_PATH="$libdir" "$TMP/app" >/dev/null || { echo "FAIL: shared-linked program"; exit 1; }
cc -std=c11 "${SANFLAGS[@]}" -o "$TMP/app_static" "$TMP/app.c" $(pkg-config --cflags flywheel) \
    "$libdir/libflywheel.a" $(pkg-config --libs rdkafka libprotobuf-c libzstd) -lpthread
"$TMP/app_static" >/dev/null || { echo "FAIL: static-linked program"; exit 1; }
echo "ok: installed tree builds and links a program (shared and static)"
