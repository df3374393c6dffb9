"""The ctypes layer: every FW_API function of flywheel.h is declared with
its argument and result types, the constants match the header, the loader
takes an explicit path, refuses what it cannot use with a message that says
why, and strings reach C as bytes only.
"""
import ctypes
import os
import re
import unittest

import support

from flywheel import _native as N

HEADER = os.path.join(support.PKG, "..", "agent", "include", "flywheel", "flywheel.h")


def header():
    with open(HEADER, encoding="utf-8") as f:
        return f.read()


class NativeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lib = N.load(support.library())

    def test_every_function_declared(self):
        declared = set(re.findall(r"^FW_API [^(]*?\b(fw_[a-z0-9_]+)\(", header(), re.M))
        self.assertGreater(len(declared), 50)
        self.assertEqual(declared, set(N.SIGNATURES))
        for name, (res, args) in N.SIGNATURES.items():
            fn = getattr(self.lib, name)
            self.assertEqual(fn.argtypes, args, name)
            self.assertIs(fn.restype, res, name)
            self.assertIsNotNone(fn.argtypes, name)

    def test_argument_counts_match_the_header(self):
        h = re.sub(r"/\*.*?\*/", "", header(), flags=re.S)
        for m in re.finditer(r"^FW_API [^(]*?\b(fw_[a-z0-9_]+)\(([^)]*)\);", h, re.M | re.S):
            params = m.group(2).strip()
            n = 0 if params in ("void", "") else params.count(",") + 1
            self.assertEqual(len(N.SIGNATURES[m.group(1)][1]), n, m.group(1))

    def test_constants_match_the_header(self):
        h = header()
        enum = dict((k, int(v)) for k, v in re.findall(r"\b(FW_GEN_[A-Z_]+) = (\d+)", h))
        for k, v in enum.items():
            self.assertEqual(getattr(N, k[3:]), v, k)
        errs = dict((k, int(v)) for k, v in re.findall(r"X\(([A-Z_]+), (\d+), \"", h))
        self.assertEqual(errs["FORKED"], N.ERR_FORKED)
        self.assertEqual(errs["QUEUE_FULL"], N.ERR_QUEUE_FULL)
        self.assertEqual(self.lib.fw_err_name(N.ERR_FORKED), b"FORKED")

    def test_version(self):
        v = self.lib.fw_version_num()
        self.assertGreaterEqual(v, N.MIN_VERSION_NUM)
        major, minor, patch = (int(x) for x in self.lib.fw_version().decode().split("."))
        self.assertEqual(v, major * 1000000 + minor * 1000 + patch)

    def test_stat_names_and_kinds(self):
        names = []
        while (n := self.lib.fw_stat_name(len(names))) is not None:
            names.append(n.decode())
        self.assertIn("dropped_forked", names)
        drops = [x for i, x in enumerate(names) if self.lib.fw_stat_kind(i) == N.STATK_DROP]
        self.assertEqual(drops, [x for x in names if x.startswith("dropped_")])

    def test_loader_errors(self):
        with self.assertRaises(N.LibraryError) as cm:
            N.load("/nonexistent/libflywheel.so.0")
        self.assertIn("/nonexistent/libflywheel.so.0: no such file", str(cm.exception))
        with self.assertRaises(N.LibraryError) as cm:
            N.load(ctypes.util.find_library("c") or "libc.so.6")
        self.assertIn("too old", str(cm.exception))

    def test_strings_are_bytes(self):
        with self.assertRaises(ctypes.ArgumentError):
            self.lib.fw_conf_get(None, "topic")
        self.assertIsNone(self.lib.fw_conf_get(None, b"topic"))
        out = (ctypes.c_ubyte * 16)()
        self.assertEqual(self.lib.fw_event_id_parse(b"0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b",
                                                    out), 0)
        self.assertEqual(out[0], 0x01)


import ctypes.util  # noqa: E402  (used above; kept with the test that needs it)

if __name__ == "__main__":
    unittest.main()
