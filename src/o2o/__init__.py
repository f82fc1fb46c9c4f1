"""O2O: online shoppers, physical stores and local services on one platform."""

__version__ = "0.1.0"
