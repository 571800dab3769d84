"""The public types plugins implement or receive: tasks, specs, models, selectors,
interventions, difficulty measures, reporters, and the argument types and markers they declare.
Import them from here (``from harness.api import Model, Register, ...``): the submodules (one
per concept) are an implementation detail. Heavy libraries (torch) are imported lazily, so
importing this package stays fast."""

from __future__ import annotations

from harness.api.arguments import (
    PATH_RESOLVER,
    REGISTRIES,
    ArgsT,
    ClassWeight,
    ItemT,
    LabelWeightsArg,
    LocalPath,
    LocalPathOrName,
    NoArgs,
    PathArg,
    Register,
    StrictModel,
    parse_class_weight,
    registries_in,
)
from harness.api.data import (
    DI_SOURCE,
    UNNAMED_SOURCE,
    Split,
    Task,
    TaskDefinition,
    Texts,
)
from harness.api.executors import (
    Executor,
    UnitJob,
)
from harness.api.interventions import (
    ComparisonRole,
    DeriveModel,
    Intervention,
    InterventionContext,
    InterventionOutcome,
)
from harness.api.items import (
    ConfiguredItem,
    Item,
)
from harness.api.measures import (
    DifficultyMeasure,
    ExampleScores,
    ModelFamily,
    fit_recording_epochs,
)
from harness.api.models import (
    EpochCallback,
    EpochTrainable,
    Model,
    TorchModel,
    UnitResources,
)
from harness.api.reporters import (
    Reporter,
)
from harness.api.selectors import (
    QueryGroups,
    Rankings,
    Selector,
)
from harness.api.specifications import (
    Spec,
    SpecCase,
    SpecSource,
    SpecSuite,
)

__all__ = [
    "ArgsT",
    "ClassWeight",
    "ComparisonRole",
    "ConfiguredItem",
    "DI_SOURCE",
    "DeriveModel",
    "Executor",
    "DifficultyMeasure",
    "EpochCallback",
    "EpochTrainable",
    "ExampleScores",
    "Intervention",
    "InterventionContext",
    "InterventionOutcome",
    "Item",
    "ItemT",
    "LabelWeightsArg",
    "LocalPath",
    "LocalPathOrName",
    "Model",
    "ModelFamily",
    "NoArgs",
    "PATH_RESOLVER",
    "PathArg",
    "QueryGroups",
    "REGISTRIES",
    "Rankings",
    "Register",
    "Reporter",
    "Selector",
    "Spec",
    "SpecCase",
    "SpecSource",
    "SpecSuite",
    "Split",
    "StrictModel",
    "Task",
    "TaskDefinition",
    "Texts",
    "TorchModel",
    "UnitJob",
    "UnitResources",
    "UNNAMED_SOURCE",
    "parse_class_weight",
    "fit_recording_epochs",
    "registries_in",
]
