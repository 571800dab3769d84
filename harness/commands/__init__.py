"""Built-in sub-commands, one module each; every module has ``register(group)``."""

COMMAND_MODULES: tuple[str, ...] = (
    "harness.commands.run",
    "harness.commands.listing",
    "harness.commands.specs",
    "harness.commands.report",
    "harness.commands.cache",
    "harness.commands.new_plugin",
)
