"""The documented offline install: `python3 -m venv` and `pip install
--no-build-isolation --no-index` of a copy of python/ bundles the built
libflywheel into the package, and a process started elsewhere, without
FLYWHEEL_LIBRARY or LD_LIBRARY_PATH, loads that copy and delivers a
generation to the dev broker.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support

CHECK = r"""
import flywheel, os
assert flywheel.init(topic="fwt_py_install", strict=True)
with flywheel.generation(model="installed", input="hi") as g:
    g.set_output("hello")
assert flywheel.flush(30), flywheel.stats()
s = flywheel.stats()
assert s["delivered"] == 1, s
maps = open("/proc/self/maps").read()
lib = [l.split()[-1] for l in maps.splitlines() if "libflywheel" in l][0]
print(flywheel.__file__)
print(lib)
"""


class InstallTest(unittest.TestCase):
    def test_pip_install_offline(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            shutil.copytree(support.PKG, src, ignore=shutil.ignore_patterns(
                "build", "build-lib", "*.egg-info", "__pycache__", "tests"))
            venv = os.path.join(tmp, "venv")
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv],
                           check=True)
            env = dict(os.environ, FLYWHEEL_BUILD_DIR=support.build_dir(),
                       PIP_DISABLE_PIP_VERSION_CHECK="1")
            env.pop("FLYWHEEL_LIBRARY", None)
            p = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q",
                                "--no-build-isolation", "--no-index", src],
                               env=env, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            env = {k: v for k, v in os.environ.items()
                   if k not in ("FLYWHEEL_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
            env["FLYWHEEL_KAFKA_BOOTSTRAP"] = support.bootstrap()
            p = subprocess.run([os.path.join(venv, "bin", "python"), "-X", "dev", "-W", "error",
                                "-c", CHECK], cwd=tmp, env=env, capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            pkg, lib = p.stdout.split()
            self.assertTrue(pkg.startswith(venv), pkg)
            self.assertTrue(lib.startswith(os.path.join(venv, "lib")), lib)


if __name__ == "__main__":
    unittest.main()
