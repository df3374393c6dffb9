"""libflywheel through ctypes: finding the library, and every C function of
flywheel/flywheel.h declared with its argument and result types.

The library is looked up in this order, and the first that loads wins:

1. the ``lib_path`` argument of :func:`flywheel.init`, else the
   ``FLYWHEEL_LIBRARY`` environment variable (a file path): when either is
   given it is the only place tried;
2. ``libflywheel.so.0`` next to this file (bundled by ``pip install`` from a
   checkout, see python/setup.py);
3. ``libflywheel.so.0`` through the dynamic loader's normal search (an
   installed library: ``cmake --install``).

No step needs ``LD_LIBRARY_PATH``. Calls go through ``ctypes.CDLL``, which
releases the GIL around every call: fw_agent_flush() and fw_agent_destroy()
block, and flywheel.h asks a binding to release its interpreter lock there.
"""
from __future__ import annotations

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, c_char, c_char_p, c_double, c_int,
                    c_int64, c_size_t, c_ubyte, c_uint64, c_void_p)

# The oldest library this package works with: fw_agent_stats(),
# fw_version_num() and FW_ERR_FORKED arrived in 0.2.0.
MIN_VERSION_NUM = 2000
SONAME = "libflywheel.so.0"


class LibraryError(Exception):
    """libflywheel could not be found or is too old."""


# ---- constants (flywheel.h; values never change) ---------------------------

OK = 0
ERR_QUEUE_FULL = 3
ERR_FORKED = 13

GEN_CONVERSATION_ID = 1
GEN_SESSION_ID = 2
GEN_USER_ID = 3
GEN_OPERATION_NAME = 4
GEN_PROVIDER_NAME = 5
GEN_REQUEST_MODEL = 6
GEN_RESPONSE_MODEL = 7
GEN_RESPONSE_ID = 8
GEN_TOOL_DEFINITIONS_JSON = 9
GEN_ERROR_TYPE = 10
GEN_ERROR_MESSAGE = 11
GEN_SYSTEM_INSTRUCTIONS = 12
GEN_PROMPT_NAME = 13
GEN_PROMPT_VERSION = 14
GEN_REQUEST_EXTRA_JSON = 15
GEN_REQUEST_TOP_K = 32
GEN_REQUEST_MAX_TOKENS = 33
GEN_REQUEST_SEED = 34
GEN_REQUEST_CHOICE_COUNT = 35
GEN_REQUEST_STREAM = 36
GEN_USAGE_INPUT_TOKENS = 37
GEN_USAGE_OUTPUT_TOKENS = 38
GEN_USAGE_CACHE_READ_INPUT_TOKENS = 39
GEN_USAGE_CACHE_CREATION_INPUT_TOKENS = 40
GEN_USAGE_REASONING_OUTPUT_TOKENS = 41
GEN_COST_MICRO_USD = 42
GEN_START_TIME_UNIX_NANO = 43
GEN_END_TIME_UNIX_NANO = 44
GEN_TIME_TO_FIRST_TOKEN_NANOS = 45
GEN_STATUS = 46
GEN_REQUEST_TEMPERATURE = 64
GEN_REQUEST_TOP_P = 65
GEN_REQUEST_FREQUENCY_PENALTY = 66
GEN_REQUEST_PRESENCE_PENALTY = 67

STATUS_UNSET = 0
STATUS_OK = 1
STATUS_ERROR = 2

ROLES = {"system": 1, "user": 2, "assistant": 3, "tool": 4, "developer": 5}

INPUT = 0
OUTPUT = 1

FEEDBACK_TARGET_RESPONSE_ID = 1
FEEDBACK_NAME = 2
FEEDBACK_COMMENT = 3
FEEDBACK_AUTHOR_ID = 4

SOURCES = {"unspecified": 0, "end_user": 1, "automated": 2, "model_judge": 3,
           "reviewer": 4}

STATK_DROP = 2


class EventId(ctypes.Structure):
    """fw_event_id_t: 16 bytes and the 36-character text form."""
    _fields_ = [("bytes", c_ubyte * 16), ("str", c_char * 37)]


LOG_CB = CFUNCTYPE(None, c_void_p, c_int, c_char_p)
REDACT_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_void_p)

_p = c_void_p          # opaque handles: fw_conf_t*, fw_agent_t*, fw_gen_t*, ...
_s = c_char_p          # const char * (UTF-8, NUL-terminated)
_e = c_int             # fw_err_t and the other enums
_id16 = POINTER(c_ubyte)

# name: (restype, argtypes). Every FW_API function of flywheel.h; the test
# python/tests/test_native.py checks this table against the header.
SIGNATURES: dict[str, tuple] = {
    "fw_version": (_s, []),
    "fw_version_num": (c_int, []),
    "fw_err_name": (_s, [_e]),
    "fw_strerror": (_s, [_e]),
    "fw_conf_new": (_p, []),
    "fw_conf_set": (_e, [_p, _s, _s, c_char_p, c_size_t]),
    "fw_conf_from_env": (_e, [_p, c_char_p, c_size_t]),
    "fw_conf_get": (_s, [_p, _s]),
    "fw_conf_set_log_cb": (None, [_p, LOG_CB, c_void_p]),
    "fw_conf_set_redact_cb": (None, [_p, REDACT_CB, c_void_p]),
    "fw_redact_match": (_e, [_p, c_size_t, c_size_t, _s]),
    "fw_conf_destroy": (None, [_p]),
    "fw_agent_new": (_p, [_p, c_char_p, c_size_t]),
    "fw_agent_flush": (_e, [_p, c_int]),
    "fw_agent_destroy": (None, [_p]),
    "fw_agent_stat": (c_uint64, [_p, _e]),
    "fw_agent_stats": (c_size_t, [_p, POINTER(c_uint64), c_size_t]),
    "fw_stat_name": (_s, [_e]),
    "fw_stat_kind": (c_int, [_e]),
    "fw_event_id_parse": (_e, [_s, _id16]),
    "fw_gen_new": (_p, [_p]),
    "fw_gen_set_str": (_e, [_p, _e, _s]),
    "fw_gen_set_str_n": (_e, [_p, _e, c_char_p, c_size_t]),
    "fw_gen_set_int": (_e, [_p, _e, c_int64]),
    "fw_gen_set_double": (_e, [_p, _e, c_double]),
    "fw_gen_set_trace": (_e, [_p, c_char_p, c_char_p, c_char_p]),
    "fw_gen_add_stop_sequence": (_e, [_p, _s]),
    "fw_gen_add_finish_reason": (_e, [_p, _s]),
    "fw_gen_add_tag": (_e, [_p, _s]),
    "fw_gen_set_attribute": (_e, [_p, _s, _s]),
    "fw_gen_set_prompt_variable": (_e, [_p, _s, _s]),
    "fw_gen_add_message": (_e, [_p, _e, _e, _s]),
    "fw_gen_msg_set_finish_reason": (_e, [_p, _s]),
    "fw_gen_msg_add_text": (_e, [_p, _s]),
    "fw_gen_msg_add_text_n": (_e, [_p, c_char_p, c_size_t]),
    "fw_gen_msg_add_reasoning": (_e, [_p, _s]),
    "fw_gen_msg_add_tool_call": (_e, [_p, _s, _s, _s]),
    "fw_gen_msg_add_tool_response": (_e, [_p, _s, _s]),
    "fw_gen_record": (_e, [_p, POINTER(EventId)]),
    "fw_gen_discard": (None, [_p]),
    "fw_feedback_new": (_p, [_p]),
    "fw_feedback_set_str": (_e, [_p, _e, _s]),
    "fw_feedback_set_target_event": (_e, [_p, c_char_p]),
    "fw_feedback_set_target_trace": (_e, [_p, c_char_p]),
    "fw_feedback_set_bool": (_e, [_p, c_int]),
    "fw_feedback_set_number": (_e, [_p, c_double]),
    "fw_feedback_set_category": (_e, [_p, _s]),
    "fw_feedback_set_source": (_e, [_p, _e]),
    "fw_feedback_add_correction": (_e, [_p, _e, _s]),
    "fw_feedback_msg_add_text": (_e, [_p, _s]),
    "fw_feedback_msg_add_tool_call": (_e, [_p, _s, _s, _s]),
    "fw_feedback_record": (_e, [_p, POINTER(EventId)]),
    "fw_feedback_discard": (None, [_p]),
}


def _candidates(lib_path: str | None) -> list[str]:
    """An explicit lib_path, else $FLYWHEEL_LIBRARY, is the only candidate:
    asking for a file and silently getting another would hide a mistake."""
    if lib_path:
        return [lib_path]
    env = os.environ.get("FLYWHEEL_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, SONAME), SONAME]


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Sets restype and argtypes of every function in SIGNATURES."""
    for name, (res, args) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


def load(lib_path: str | None = None) -> ctypes.CDLL:
    """Loads and declares libflywheel; raises LibraryError naming every place
    tried when none works, or when the library is older than this package
    needs."""
    tried = []
    for cand in _candidates(lib_path):
        if os.sep in cand and not os.path.exists(cand):
            tried.append(f"{cand}: no such file")
            continue
        try:
            lib = ctypes.CDLL(cand)
        except OSError as e:
            tried.append(f"{cand}: {e}")
            continue
        if not hasattr(lib, "fw_version_num"):
            tried.append(f"{cand}: too old (no fw_version_num; need "
                         f"{MIN_VERSION_NUM} or later)")
            continue
        lib.fw_version_num.restype = c_int
        lib.fw_version_num.argtypes = []
        if lib.fw_version_num() < MIN_VERSION_NUM:
            tried.append(f"{cand}: version {lib.fw_version_num()} is older "
                         f"than {MIN_VERSION_NUM}")
            continue
        try:
            return declare(lib)
        except AttributeError as e:
            tried.append(f"{cand}: {e}")
    raise LibraryError("could not load libflywheel: " + "; ".join(tried)
                       + ". Hint: build it (cmake --build build) and pass "
                       "lib_path=..., set FLYWHEEL_LIBRARY, or reinstall the "
                       "package from a checkout that has a build.")
