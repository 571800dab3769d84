"""What every registered plugin item declares: :class:`Item` (a name and a description) and
:class:`ConfiguredItem` (an item built from validated arguments)."""

from __future__ import annotations

from typing import ClassVar, Generic

from pydantic import BaseModel

from harness.api.arguments import ArgsT, NoArgs


class Item:
    """A registered plugin item: spec sources and reporters directly, models, selectors and
    interventions through :class:`ConfiguredItem`."""

    name: ClassVar[str] = ""
    """The name users give (``--model``, ``selection:``, ``--format``...; ``plugin/name`` when
    two plugins share it)."""
    description: ClassVar[str] = ""
    """One line for ``harness list``."""


class ConfiguredItem(Item, Generic[ArgsT]):
    """An item built from its validated arguments: subclass ``Model[MyArgs]``,
    ``Selector[MyArgs]`` or ``Intervention[MyArgs]`` with ``Args = MyArgs`` and ``self.args``
    is typed ``MyArgs``."""

    Args: ClassVar[type[BaseModel]] = NoArgs
    """The pydantic model (:class:`~harness.api.StrictModel`) that validates its arguments;
    ``self.args`` holds the validated instance."""

    def __init__(self, args: ArgsT) -> None:
        """Keep the validated arguments as ``self.args``."""
        self.args: ArgsT = args
