"""Simulators of the other companies O2O talks to (payment providers), for tests and the demo.

Each one plays the other side faithfully from its own reading of the public protocol: it makes
its own keys, signs and encrypts as the provider does, and never imports our client code, so
the platform's verification is exercised for real. Nothing here runs in production.
"""
