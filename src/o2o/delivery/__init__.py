"""Delivery: couriers and the dispatch engine.

``dispatch`` and the modules it uses (``model``, ``travel``, ``routes``, ``bundles``) are pure:
a round takes a snapshot and returns a plan, so the simulator (``simulate``) and the live
system run the very same code.
"""
