"""Simulators of the other companies O2O talks to (payment providers), for tests and the demo.

Each is written from the other company's public documentation, on its own: a sandbox never
imports the platform's client of the same service, so the platform's signing and checking
meet an independent implementation of the protocol.
"""
