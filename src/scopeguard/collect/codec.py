"""JSON-ready data for the model's frozen dataclasses, and back, checked value by value.

The cache stores facts and findings as plain JSON values (lists, strings, numbers, null), never as
pickles: decoding builds only the classes named here from the type annotations of the model, so a
cache file can hold data and nothing else. Every value is checked against its annotation (exact
types: a bool is not an int, a list of the wrong length is not a dataclass, an unknown enum value
is refused); a value that does not fit raises `Invalid`, and the caller drops the entry.

A dataclass is encoded as the list of its field values in declaration order; an enum as its value;
a tuple or frozenset as a list; `X | None` as null or X. The codec of each class is built once from
its annotations, so a field added to the model is covered without touching this module (an
annotation it cannot encode fails when the codec is built, in the test suite).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import types
import typing
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..base.model import CMakeFacts, FileFacts, PackagingFacts

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


class Invalid(ValueError):
    """A stored value that does not have the shape its annotation requires."""


def encoder(tp: Any) -> Encoder:
    return _codec(tp)[0]


def decoder(tp: Any) -> Decoder:
    return _codec(tp)[1]


@lru_cache(maxsize=None)
def _codec(tp: Any) -> tuple[Encoder, Decoder]:
    if tp is str or tp is int or tp is bool:
        return _identity, _exact(tp)
    if tp is type(None) or tp is None:
        return _identity, _none
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_codec(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_codec(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            enc, dec = _codec(rest[0])
            return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
        raise TypeError(f"cannot encode the union {tp!r}")
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence_codec(args[0], tuple)
        return _fixed_tuple_codec(args)
    if origin is frozenset:
        return _sequence_codec(args[0], frozenset)
    raise TypeError(f"cannot encode values of type {tp!r}")


def _identity(value):
    return value


def _none(value):
    if value is not None:
        raise Invalid("expected null")
    return None


def _exact(tp: type) -> Decoder:
    def decode(value):
        if type(value) is not tp:
            raise Invalid(f"expected {tp.__name__}, got {type(value).__name__}")
        return value

    return decode


def _enum_codec(cls: type[enum.Enum]) -> tuple[Encoder, Decoder]:
    by_value = {member.value: member for member in cls}
    if not all(type(v) in (str, int) for v in by_value):
        raise TypeError(f"cannot encode {cls.__name__}: values must be str or int")

    def decode(value):
        if type(value) not in (str, int):
            raise Invalid(f"expected a {cls.__name__} value")
        try:
            return by_value[value]
        except KeyError:
            raise Invalid(f"{value!r} is not a {cls.__name__}") from None

    return (lambda member: member.value), decode


def _sequence_codec(item: Any, kind: type) -> tuple[Encoder, Decoder]:
    enc, dec = _codec(item)
    if item is str:  # the common case, without a call per item
        def decode_str(value):
            if type(value) is not list or not all(type(x) is str for x in value):
                raise Invalid("expected a list of strings")
            return kind(value)

        encode = list if kind is tuple else sorted
        return encode, decode_str

    def encode(value):
        items = [enc(x) for x in value]
        if kind is frozenset:
            items.sort(key=repr)  # the same set gives the same bytes
        return items

    empty = kind()
    args = typing.get_args(item)
    if typing.get_origin(item) is tuple and args and Ellipsis not in args and all(a in (str, int, bool) for a in args):
        # A sequence of plain fixed tuples (a Term's (kind, text) pairs): no call per item.
        check = _plain_tuple_decoder(args)
        size = len(args)
        tests = " or ".join(f"type(v[{i}]) is not {tp.__name__}" for i, tp in enumerate(args))
        source = "\n".join([
            "def decode(value):",
            "    if type(value) is not list:",
            "        raise Invalid('expected a list')",
            "    if not value:",
            "        return empty",
            "    out = []",
            "    for v in value:",
            f"        if type(v) is not list or len(v) != {size} or {tests}:",
            "            check(v)  # raises, saying what is wrong",
            "        out.append(tuple(v))",
            "    return kind(out)",
        ])
        env: dict[str, Any] = {"Invalid": Invalid, "empty": empty, "kind": kind, "check": check,
                               "str": str, "int": int, "bool": bool, "list": list, "len": len, "tuple": tuple}
        exec(source, env)  # noqa: S102 - our own source text, built from the annotation
        return encode, env["decode"]

    def decode(value):
        if type(value) is not list:
            raise Invalid("expected a list")
        if not value:  # most fields of most facts are empty
            return empty
        return kind([dec(x) for x in value])

    return encode, decode


def _fixed_tuple_codec(args: tuple) -> tuple[Encoder, Decoder]:
    codecs = [_codec(a) for a in args]
    size = len(codecs)
    if all(a in (str, int, bool) for a in args):  # (kind, text) pairs of a Term, (line, column)...
        return (lambda value: list(value)), _plain_tuple_decoder(args)

    def encode(value):
        return [enc(x) for (enc, _), x in zip(codecs, value, strict=True)]

    def decode(value):
        if type(value) is not list or len(value) != size:
            raise Invalid(f"expected a list of {size}")
        return tuple(dec(x) for (_, dec), x in zip(codecs, value))

    return encode, decode


def _dataclass_codec(cls: type) -> tuple[Encoder, Decoder]:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    if len(names) != len(dataclasses.fields(cls)):
        raise TypeError(f"cannot encode {cls.__name__}: every field must be an __init__ argument")
    pairs = [(name, *_codec(hints[name])) for name in names]
    size = len(names)
    # Fields of a plain type are only type-checked in place; the others are decoded by their codec.
    plain = [(i, hints[name]) for i, name in enumerate(names) if hints[name] in (str, int, bool)]
    nested = [(i, dec) for i, (name, _, dec) in enumerate(pairs) if hints[name] not in (str, int, bool)]

    def encode(obj):
        return [enc(getattr(obj, name)) for name, enc, _ in pairs]

    decode = _generated_decoder(cls, names, plain, nested)

    if getattr(cls, "__scopeguard_interned__", False):
        return encode, _interned(decode)
    return encode, decode


def _plain_tuple_decoder(args: tuple) -> Decoder:
    """A fixed tuple of plain values (str, int, bool), checked and built without a call per item."""
    size = len(args)
    names = ", ".join(f"a{i}" for i in range(size))
    checks = " or ".join(f"type(a{i}) is not {tp.__name__}" for i, tp in enumerate(args))
    message = f"expected a list of {size} ({', '.join(tp.__name__ for tp in args)})"
    source = "\n".join([
        "def decode(value):",
        f"    if type(value) is not list or len(value) != {size}:",
        f"        raise Invalid({message!r})",
        f"    {names}{',' if size == 1 else ''} = value",
        f"    if {checks}:",
        f"        raise Invalid({message!r})",
        f"    return ({names}{',' if size == 1 else ''})",
    ])
    env: dict[str, Any] = {"Invalid": Invalid, "str": str, "int": int, "bool": bool, "list": list}
    exec(source, env)  # noqa: S102 - our own source text, built from the annotation
    return env["decode"]


def _generated_decoder(cls: type, names: list[str], plain: list[tuple[int, type]],
                       nested: list[tuple[int, Decoder]]) -> Decoder:
    """The decoder of one dataclass as straight-line code (no loop over its fields per value: the
    fact store holds some hundred thousand of them). Generated from the class's own field list,
    never from stored data."""
    size = len(names)
    args = ", ".join(f"a{i}" for i in range(size))
    env: dict[str, Any] = {"Invalid": Invalid, "cls": cls, "str": str, "int": int, "bool": bool, "list": list}
    body = [
        "def decode(value):",
        f"    if type(value) is not list or len(value) != {size}:",
        f"        raise Invalid({f'expected {cls.__name__} as a list of {size}'!r})",
        f"    {args}{',' if size == 1 else ''} = value",
    ]
    for i, tp in plain:
        body += [f"    if type(a{i}) is not {tp.__name__}:",
                 f"        raise Invalid({f'{cls.__name__}.{names[i]}: expected {tp.__name__}'!r})"]
    for i, dec in nested:
        env[f"d{i}"] = dec
        body.append(f"    a{i} = d{i}(a{i})")
    body.append(f"    return cls({args})")
    exec("\n".join(body), env)  # noqa: S102 - our own source text, built from field indexes
    return env["decode"]


def _interned(decode: Decoder) -> Decoder:
    """The same stored value decodes to one shared (frozen) object: a guard such as `def load`
    stands around every call in that function (TVM 0.27: 18,934 guards, 5,225 distinct). Keyed by
    the value's repr, which is exact for JSON values (lists, str, int, bool, None)."""
    memo: dict[str, Any] = {}

    def decode_once(value):
        key = repr(value)
        found = memo.get(key)
        if found is None:
            found = decode(value)
            if len(memo) >= 1 << 16:
                memo.clear()
            memo[key] = found
        return found

    return decode_once


# -- store records ------------------------------------------------------------------------------
# What the fact store (collect/cache.py) keeps per file, made here so that a parse worker
# (collect/parsing.py) can encode the entry where the facts are made.

# Fields of FileFacts that only reachability (analysis/reachability.py) reads: a record keeps them
# apart, so a run that has reachability's stored result never decodes them.
REACH_ONLY = ("functions", "calls", "dynamic", "tables", "stores", "effects")
# Every field reachability reads (tests/test_incremental.py checks the module against this list):
# a record's reach digest covers them, and the stored reachability result is keyed by those digests.
REACH_INPUTS = ("path", "module", "is_package", "extra", "sites", "unresolved", "dunder_all", *REACH_ONLY,
                "lazy", "defined")


RECORD_KINDS: dict[type, str] = {FileFacts: "py", PackagingFacts: "packaging", CMakeFacts: "cmake"}


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    """One stored entry, undecoded: JSON of the facts without the REACH_ONLY fields (`core`, where
    they are empty lists), JSON of each of those fields, tab-separated in REACH_ONLY's order
    (`reach`, b"" for packaging and CMake facts: JSON as written here holds no tab), and a digest of
    every REACH_INPUTS value (`reach_digest`, "" for packaging and CMake facts)."""

    kind: str
    core: bytes
    reach: bytes
    reach_digest: str


def _field_indexes() -> tuple[tuple[int, ...], tuple[int, ...], tuple]:
    names = [f.name for f in dataclasses.fields(FileFacts)]
    hints = typing.get_type_hints(FileFacts)
    only = tuple(names.index(n) for n in REACH_ONLY)
    inputs = tuple(names.index(n) for n in REACH_INPUTS if n not in REACH_ONLY)
    decoders = tuple((n, _codec(hints[n])[1]) for n in REACH_ONLY)
    return only, inputs, decoders


_FIELDS = None


def reach_fields():
    """(indexes of REACH_ONLY among FileFacts' fields, indexes of the other REACH_INPUTS, decoders
    of the REACH_ONLY fields by name)."""
    global _FIELDS
    if _FIELDS is None:
        _FIELDS = _field_indexes()
    return _FIELDS


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def encode_record(item) -> Record:
    """Facts as a store record (what a parse worker sends back along with the facts)."""
    kind = RECORD_KINDS[type(item)]
    fields = encoder(type(item))(item)
    if kind != "py":
        return Record(kind, _dumps(fields), b"", "")
    only, inputs, _ = reach_fields()
    reach = b"\t".join(_dumps(fields[i]) for i in only)
    for i in only:
        fields[i] = []
    digest = hashlib.sha256(_dumps([fields[i] for i in inputs]) + b"\n" + reach).hexdigest()
    return Record(kind, _dumps(fields), reach, digest)


# -- facts decoded on first read -------------------------------------------------------------------
# A FileFacts from the store is built with its REACH_ONLY fields unset; the first read of one of
# them decodes that field (base/model.py FileFacts.__getattr__ calls _complete). Whoever reads a
# field gets exactly what a full decode gives; a run that reads none (reachability's result, the
# unknown dynamic imports and the declarations are stored with their inputs' digests) decodes none.
# A part that does not decode raises StaleRecord: the caller runs again with every record decoded
# in full (an authenticated store written by this very code does not get there).


class StaleRecord(RuntimeError):
    """A field left to decode on first read did not decode."""


_EMPTY = b"[]"
_PENDING: dict[int, tuple[Any, list[bytes]]] = {}


def lazy_file_facts(item: FileFacts, parts: list[bytes]) -> FileFacts:
    """`item` (decoded with empty REACH_ONLY fields) with each non-empty REACH_ONLY field unset, to
    be decoded from its JSON part (`parts`, in REACH_ONLY's order) when first read."""
    from ..base import model

    if model._complete_field is None:
        model._complete_field = _complete
    pending = False
    for name, part in zip(REACH_ONLY, parts, strict=True):
        if part != _EMPTY:
            object.__delattr__(item, name)
            pending = True
    if pending:
        _PENDING[id(item)] = (item, parts)  # holds the object: its id is not reused meanwhile
    return item


def _complete(item, name: str):
    entry = _PENDING.get(id(item))
    if entry is None or entry[0] is not item or name not in REACH_ONLY:
        raise AttributeError(name)
    index = REACH_ONLY.index(name)
    decoders = reach_fields()[2]
    try:
        value = decoders[index][1](json.loads(entry[1][index]))
    except (Invalid, TypeError, ValueError, RecursionError) as error:
        raise StaleRecord(f"{item.path}: stored {name} do not decode ({error})") from None
    object.__setattr__(item, name, value)
    if all(_is_set(item, n) for n in REACH_ONLY):
        del _PENDING[id(item)]
    return value


def _is_set(item, name: str) -> bool:
    try:
        object.__getattribute__(item, name)
    except AttributeError:
        return False
    return True


def forget_pending() -> None:
    """Drop what is still undecoded (the objects stay usable: a field read later is an error)."""
    _PENDING.clear()
