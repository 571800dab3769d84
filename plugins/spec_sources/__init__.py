"""Built-in spec sources plugins."""
