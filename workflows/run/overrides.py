"""``--set key.path=value`` overrides of a raw run config (before validation).

The value is parsed as YAML; a list item is addressed by its index (``preprocess.0.mode``).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply ``key.path=value`` (value parsed as YAML) to a raw config mapping in place."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set expects key.path=value; got {item!r}")
    value = _value(key, text)
    parts = key.split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: i + 1]), create=True, following=parts[i + 1])
    last = parts[-1]
    if isinstance(node, list):
        node[_index(node, last, key)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:  # `train.lr.x=3`: a TypeError traceback
        raise ConfigError(f"--set {key}: {key.rsplit('.', 1)[0]} is not a mapping")


def _value(key: str, text: str) -> Any:
    """The YAML value of ``--set key=text``; refused with advice fitting the fault: the
    loader's own for a mapping key (``{0:0}``, a key written twice), else to quote it for a
    string, with the key and value given. A ``12:30`` that YAML 1.1 reads as a base-60
    number (750) is refused too: it is a time or a range far more often than a number."""
    quoted = shlex.quote(f"{key}={json.dumps(text)}")
    try:
        value = load_yaml(text, _OverrideLoader) if text else None
    except yaml.constructor.ConstructorError as err:
        raise ConfigError(f"--set {key}={text}: {yaml_problem(err)}") from None
    except yaml.YAMLError as err:
        raise ConfigError(
            f"--set {key}={text}: the value is not valid YAML ({yaml_problem(err)}); for a "
            f"string, quote it: --set {quoted}"
        ) from None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and ":" in text:
        raise ConfigError(
            f"--set {key}={text}: YAML 1.1 reads {text} as the base-60 number {value}; for a "
            f"string, quote it: --set {quoted} (or give the number)"
        )
    return value


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping key written twice (PyYAML keeps the last: a
    second ``train:`` section would silently drop every setting of the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merge keys may be overridden: that is their purpose
            if _colon_key(key_node, value_node):  # `{0:0, 255:1}`: keys without values
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key_node.value!r} is read as one key without a value (a "
                    "colon in a mapping needs a space after it: write "
                    f"'{key_node.value.replace(':', ': ', 1)}')", key_node.start_mark,
                )  # fmt: skip
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in first:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is written again (first on line "
                    f"{first[key] + 1}); YAML would keep only the last: merge them into one",
                    key_node.start_mark,
                )  # fmt: skip
            first.setdefault(key, key_node.start_mark.line)
        return super().construct_mapping(node, deep=deep)


def _refuse_base_60(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A plain ``1:30`` that YAML 1.1 reads as a base-60 number (90): a time or a range far
    more often than a number, so it is refused, naming the number it would be."""
    number = (yaml.SafeLoader.construct_yaml_int if node.tag.endswith(":int")
              else yaml.SafeLoader.construct_yaml_float)(loader, node)  # fmt: skip
    if ":" in node.value and not getattr(loader, "base_60", False):
        raise yaml.constructor.ConstructorError(
            None, None, f"YAML 1.1 reads {node.value} as the base-60 number {number}; for a "
            f"string, quote it ('{node.value}'), or give the number", node.start_mark,
        )  # fmt: skip
    return number


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _refuse_base_60)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _refuse_base_60)


class _OverrideLoader(_UniqueKeyLoader):
    """The loader of a ``--set`` value: its base-60 number is refused by :func:`_value`,
    with the override's own quoting advice."""

    base_60 = True


def read_config(path: Path) -> Any:
    """A config file's YAML, loaded by :func:`load_yaml`; ``ConfigError`` names the file."""
    try:
        return load_yaml(read_config_text(path))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {yaml_problem(err)}") from None


def read_config_text(path: Path) -> str:
    """The text of a config file, UTF-8 (YAML's encoding; a byte-order mark is allowed).

    A config saved in a Windows code page (``# lésion`` in a comment) was a
    ``UnicodeDecodeError`` traceback, and a folder given as the config an ``IsADirectoryError``.

    Raises
    ------
    ConfigError
        Naming the file: not found, a folder, or not UTF-8 (the byte, its line and column).
    """
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a YAML config file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{data[err.start]:02X} at line {line}, column "
            f"{column}, e.g. an accented letter saved in a Windows code page); save it as "
            "UTF-8 and run again"
        ) from None


def load_yaml(text: str, loader: type[yaml.SafeLoader] = _UniqueKeyLoader) -> Any:
    """``yaml.safe_load``, refusing a mapping key written twice and (in a config file) a
    base-60 number (``epochs: 1:30``, 90 to YAML 1.1)."""
    return yaml.load(text, Loader=loader)  # a SafeLoader: no arbitrary objects


def _colon_key(key: yaml.Node, value: yaml.Node) -> bool:
    """``255:1`` as a key with no value: YAML takes it as one scalar (1.1 even as the
    sexagesimal number 15301), so ``mask_values: {0:0, 255:1}`` was refused naming a key
    ``15301``."""
    plain = isinstance(key, yaml.ScalarNode) and key.style is None and ":" in key.value
    empty = (
        isinstance(value, yaml.ScalarNode)
        and value.tag.endswith(":null")
        and value.value in ("", "~", "null")
    )
    return plain and empty


def yaml_problem(err: yaml.YAMLError) -> str:
    """PyYAML's message without its ``in "<unicode string>"`` lines: what is wrong, at which
    line and column (1-based), and what was open there (``while parsing a flow sequence``)."""
    if not isinstance(err, yaml.MarkedYAMLError):
        return str(err)
    text = err.problem or "not valid YAML"
    if err.problem_mark is not None:
        mark = err.problem_mark
        text = f"line {mark.line + 1}, column {mark.column + 1}: {text}"
    if err.context:
        start = err.context_mark
        text += f" ({err.context}" + (f" from line {start.line + 1})" if start else ")")
    return text


def _child(node: Any, part: str, path: str, create: bool, following: str = "") -> Any:
    """``node[part]``; a missing key becomes ``{}``, or is refused when ``following`` (the
    next key part) is a list index: an item of a list the config does not hold."""
    if isinstance(node, list):
        return node[_index(node, part, path)]
    if not isinstance(node, dict):
        raise ConfigError(f"--set {path}: {path.rsplit('.', 1)[0]} is not a mapping")
    if part not in node and create:
        if following.isdigit():  # `augment.0.p` without an `augment:` list in the config
            raise ConfigError(
                f"--set {path}.{following}: index {following} is past the end of the list "
                f"{path} (not in the config: empty); set the whole list instead: "
                f"--set '{path}=[...]'"
            )
        node[part] = {}
    return node[part]


def _index(node: list[Any], part: str, path: str) -> int:
    """The list index ``part`` of ``node`` (``path``: the key up to it), refused when it is
    none or past the list's end."""
    parent = path.rpartition(".")[0] or path
    n = len(node)
    held = f"{n} {'item' if n == 1 else 'items'}, 0 to {n - 1}" if n else "empty"
    if not part.isdigit():
        raise ConfigError(f"--set {path}: {parent} is a list ({held}): address an item by "
                          "its index")  # fmt: skip
    if int(part) >= n:
        raise ConfigError(
            f"--set {path}: index {part} is past the end of the list {parent} ({held}); set "
            f"the whole list instead: --set '{parent}=[...]'"
        )
    return int(part)


def override_for(loc: tuple[Any, ...], overrides: list[str]) -> str | None:
    """The last ``--set`` item whose key is ``loc`` or lies inside it (or contains it)."""
    path = [str(p) for p in loc]
    for item in reversed(overrides):
        key = item.partition("=")[0].split(".")
        n = min(len(key), len(path))
        if n and key[:n] == path[:n]:
            return item
    return None
