"""Declared settings: each field of a config dataclass with its default, bounds, choices
and a one-line meaning, written once beside the field and checked by one function.

The API derives its request schema from these declarations (``app/schemas.py``) and
the page reads them from ``GET /api/spec``, so no default or bound is written twice::

    @dataclass(frozen=True)
    class ScheduleConfig:
        gamma: float = setting(0.5, gt=0, le=1, doc="step, exponential: decay factor")

        def __post_init__(self):
            check_fields(self)
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import MISSING, dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Rule:
    """What a field may hold, beyond its type. Bounds are inclusive (ge, le) or strict (gt, lt)."""

    doc: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple | None = None
    min_items: int | None = None

    def bounds(self) -> dict[str, float]:
        return {k: v for k in ("ge", "gt", "le", "lt") if (v := getattr(self, k)) is not None}


def setting(default: Any = MISSING, *, doc: str, default_factory: Any = MISSING, **rule: Any) -> Any:
    """A dataclass field with its :class:`Rule` (``doc`` and bounds, choices, min_items)."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={"rule": Rule(doc, **rule)})


def same_as(cls: type, name: str) -> Any:
    """A field declared like ``cls``'s field ``name``: the same default and rule, for a
    dataclass that gathers fields of others (the run spec gathers the trainer's)."""
    source = {f.name: f for f in dataclasses.fields(cls)}[name]
    return dataclasses.field(default=source.default, default_factory=source.default_factory,
                             metadata=source.metadata)


def rule_of(f: dataclasses.Field) -> Rule | None:
    return f.metadata.get("rule")


def field_types(cls: type) -> dict[str, Any]:
    """The resolved annotation of each field of ``cls`` (they are strings under
    ``from __future__ import annotations``)."""
    return typing.get_type_hints(cls)


def split_optional(annotation: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed) of ``X | None``."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else annotation), type(None) in args
    return annotation, False


@cache
def declared(cls: type) -> tuple[tuple[dataclasses.Field, Rule, Any, bool], ...]:
    """Each declared field of the dataclass ``cls``: (the field, its rule, its type, whether
    it may be None). Cached: resolving the annotations is most of a config's check."""
    types_ = field_types(cls)
    return tuple((f, rule, *split_optional(types_[f.name]))
                 for f in dataclasses.fields(cls) if (rule := rule_of(f)) is not None)


def check_fields(obj: Any, prefix: str = "") -> None:
    """Raise ValueError, naming the field (``optimizer.lr must be > 0, got -1``), unless
    every declared field of the dataclass ``obj`` holds a value its type and rule allow."""
    for f, rule, kind, optional in declared(type(obj)):
        _check_value(prefix + f.name, getattr(obj, f.name), kind, optional, rule)


def _check_value(name: str, value: Any, kind: Any, optional: bool, rule: Rule) -> None:
    if value is None:
        if optional:
            return
        raise ValueError(f"{name} must be set, got null")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if kind is str and not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {value!r}")
    if rule.choices is not None and value not in rule.choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, rule.choices))}, got {value!r}")
    if rule.min_items is not None and len(value) < rule.min_items:
        raise ValueError(f"{name} needs at least {rule.min_items} item(s)")
    _check_bounds(name, value, rule)


_TESTS = {"ge": (lambda v, b: v >= b, ">="), "gt": (lambda v, b: v > b, ">"),
          "le": (lambda v, b: v <= b, "<="), "lt": (lambda v, b: v < b, "<")}


def _check_bounds(name: str, value: Any, rule: Rule) -> None:
    bounds = rule.bounds()
    if all(_TESTS[k][0](value, b) for k, b in bounds.items()):
        return
    said = " and ".join(f"{_TESTS[k][1]} {b:g}" for k, b in bounds.items())
    raise ValueError(f"{name} must be {said}, got {value!r}")


def describe(cls: type) -> dict[str, dict]:
    """Every declared field of ``cls``: ``{"default", "doc", bounds, "choices", "nullable",
    "fields" (a nested config's)}``, JSON-able, for the page's form."""
    out = {}
    for f, rule, kind, optional in declared(cls):
        entry: dict[str, Any] = {"doc": rule.doc, "nullable": optional, **rule.bounds()}
        if f.default is not MISSING:
            entry["default"] = jsonable(f.default)
        elif f.default_factory is not MISSING:
            entry["default"] = jsonable(f.default_factory())
        if rule.choices is not None:
            entry["choices"] = list(rule.choices)
        nested = _nested_config(kind)
        if nested is not None:
            entry["fields"] = describe(nested)
        out[f.name] = entry
    return out


def _nested_config(kind: Any) -> type | None:
    """The config dataclass a field holds (itself, or as the items of a tuple), if any."""
    if dataclasses.is_dataclass(kind):
        return kind
    args = typing.get_args(kind)
    if typing.get_origin(kind) is tuple and args and dataclasses.is_dataclass(args[0]):
        return args[0]
    return None


def jsonable(value: Any) -> Any:
    """A default as JSON-like data: a config as a dict, a tuple of layers as a list of dicts."""
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    return value
