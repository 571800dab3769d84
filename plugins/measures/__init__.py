"""Built-in difficulty measures plugins (PVI, dataset cartography) and ``harness analyse``."""
