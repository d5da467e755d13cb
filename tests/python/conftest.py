"""Shared fixtures. The whole session runs with Vulkan validation layers on (the Makefile sets
RWKV_GPU_VALIDATION=1) and fails if they reported anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import rwkv_gpu
from rwkv_gpu import _core

REPO = Path(__file__).resolve().parents[2]
SHARED_MODELS = Path(os.environ.get("RWKV_SHARED_MODELS", REPO.parent / "shared" / "models"))
TINY_GGUF = SHARED_MODELS / "tiny-rwkv7-834K-F32.gguf"


@pytest.fixture(scope="session")
def tiny_gguf() -> Path:
    assert TINY_GGUF.exists(), f"test data missing: {TINY_GGUF} (../shared/models beside the checkout)"
    return TINY_GGUF


def pytest_sessionfinish(session, exitstatus):
    count = _core.validation_message_count()
    if count:
        session.exitstatus = 1
        print(f"\nVulkan validation layers reported {count} message(s); see stderr above.")


def pytest_report_header(config):
    validation = "on" if _core.validation_requested() else "OFF (set RWKV_GPU_VALIDATION=1)"
    return f"rwkv_gpu {rwkv_gpu.__version__}, Vulkan validation {validation}"
