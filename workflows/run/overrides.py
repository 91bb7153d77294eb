"""``--set key.path=value`` overrides of a raw run config (before validation).

The value is parsed as YAML; a list item is addressed by its index (``preprocess.0.mode``).
"""

from __future__ import annotations

from typing import Any

import yaml

from pipeline.errors import ConfigError


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply ``key.path=value`` (value parsed as YAML) to a raw config mapping in place."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set expects key.path=value; got {item!r}")
    try:
        value = load_yaml(text) if text else None
    except yaml.YAMLError as err:
        raise ConfigError(
            f"--set {item}: the value is not valid YAML ({yaml_problem(err)}); "
            "quote it for a string: --set 'key=\"...\"'"
        ) from None
    parts = key.split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: i + 1]), create=True)
    last = parts[-1]
    if isinstance(node, list):
        node[_index(node, last, key)] = value
    else:
        node[last] = value


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


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, refusing a mapping key written twice."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects


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


def _child(node: Any, part: str, path: str, create: bool) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, path)]
    if not isinstance(node, dict):
        raise ConfigError(f"--set {path}: {path.rsplit('.', 1)[0]} is not a mapping")
    if part not in node and create:
        node[part] = {}
    return node[part]


def _index(node: list[Any], part: str, path: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"--set {path}: expected a list index below {len(node)}")
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
