"""Fixtures of the simulator tests: a platform wired to the WeChat Pay simulator."""

from tests.payments.wechat_scene import wechat, wechat_keys  # noqa: F401 (fixtures)
