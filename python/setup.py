"""Installs the flywheel package and bundles libflywheel next to it.

At build time the library is taken from, in order: $FLYWHEEL_LIBRARY (a
path to libflywheel.so.0), $FLYWHEEL_BUILD_DIR/agent/, the checkout's
build/agent/ (this file's ../build), or a fresh build of the `flywheel`
CMake target into python/build-lib/ (needs cmake and the -dev packages of
scripts/bootstrap). The file is copied into the package as
flywheel/libflywheel.so.0, which the package loads first, so no
LD_LIBRARY_PATH is needed. When none of these works the package is
installed without it and loads libflywheel.so.0 from the system (an
installed library) at init().

Offline install into a venv (no PyPI; setuptools from Debian's
python3-setuptools):
    python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation --no-index ./python
"""
import os
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SONAME = "libflywheel.so.0"


def find_library():
    env = os.environ.get("FLYWHEEL_LIBRARY")
    if env:
        if not os.path.exists(env):
            sys.exit(f"FLYWHEEL_LIBRARY={env}: no such file")
        return env
    dirs = []
    if os.environ.get("FLYWHEEL_BUILD_DIR"):
        dirs.append(os.environ["FLYWHEEL_BUILD_DIR"])
    dirs += [os.path.join(ROOT, "build"), os.path.join(HERE, "build-lib")]
    for d in dirs:
        p = os.path.join(d, "agent", SONAME)
        if os.path.exists(p):
            return p
    if not os.path.exists(os.path.join(ROOT, "agent", "include", "flywheel", "flywheel.h")):
        return None
    out = os.path.join(HERE, "build-lib")
    try:
        subprocess.run(["cmake", "-S", ROOT, "-B", out, "-DCMAKE_BUILD_TYPE=Release",
                        "-DFW_BUILD_TESTS=OFF"], check=True, stdout=sys.stderr)
        subprocess.run(["cmake", "--build", out, "--target", "flywheel", "-j2"],
                       check=True, stdout=sys.stderr)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"flywheel: could not build libflywheel ({e}); installing without it",
              file=sys.stderr)
        return None
    p = os.path.join(out, "agent", SONAME)
    return p if os.path.exists(p) else None


class BuildPy(build_py):
    def run(self):
        super().run()
        lib = find_library()
        dest = os.path.join(self.build_lib, "flywheel")
        os.makedirs(dest, exist_ok=True)
        if lib:
            shutil.copyfile(os.path.realpath(lib), os.path.join(dest, SONAME))
            print(f"flywheel: bundled {os.path.realpath(lib)}", file=sys.stderr)
        else:
            print("flywheel: libflywheel not bundled; init() will look for the "
                  "installed libflywheel.so.0", file=sys.stderr)


class BinaryDistribution(Distribution):
    """The wheel carries a shared library: tag it for the platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPy}, distclass=BinaryDistribution,
      package_data={"flywheel": [SONAME]})
