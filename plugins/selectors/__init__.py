"""Built-in selectors plugins."""
