"""Built-in plugins of spec-harness (installed as ``harness_plugins``).

The core never imports these modules directly: the plugin manager loads them by name from
``harness.plugins.DEFAULT_PLUGINS`` and calls their hooks like any third-party plugin's.
"""
