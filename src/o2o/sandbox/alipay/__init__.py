"""A simulator of Alipay's open platform for face-to-face payment (当面付)."""

from o2o.sandbox.alipay.keys import SANDBOX_DIR, KeyFiles, ensure_keys, sandbox_settings
from o2o.sandbox.alipay.notifier import ALIPAY_SCHEDULE, COMPRESSED_SCHEDULE, Delivery
from o2o.sandbox.alipay.sandbox import SANDBOX_APP_ID, AlipaySandbox

__all__ = [
    "ALIPAY_SCHEDULE",
    "COMPRESSED_SCHEDULE",
    "SANDBOX_APP_ID",
    "SANDBOX_DIR",
    "AlipaySandbox",
    "Delivery",
    "KeyFiles",
    "ensure_keys",
    "sandbox_settings",
]
