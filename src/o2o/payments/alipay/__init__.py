"""Alipay face-to-face payment (当面付): the provider, and the protocol pieces it is made of."""

from o2o.payments.alipay.provider import NAME, AlipayProvider

__all__ = ["NAME", "AlipayProvider"]
