"""The billing tests' issuer and clock."""

from __future__ import annotations

from datetime import UTC, datetime

ISSUER_NAME = "会津若松市 スマートシティ推進室"
ISSUER_NUMBER = "T7000012050002"
NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)  # Monday 10:00 in Tokyo
