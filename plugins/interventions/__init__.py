"""Built-in interventions plugins."""
