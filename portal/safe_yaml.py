"""The one YAML loader for files people hand the portal (Backstage catalogs, OpenSLO).

PyYAML's safe loader builds only plain data, but it trusts the shape of what it reads:
nesting 100,000 levels deep ran its recursive composer into a RecursionError, a mapping
that names a key twice silently kept the last value, a ``"\\0"`` escape put a NUL into text
that PostgreSQL cannot store, and aliases can make a small file stand for billions of values.
This loader refuses each of those with a ``yaml.MarkedYAMLError`` that says where, so callers
keep reporting "file, document, line: problem" as for any malformed YAML.
"""

from collections.abc import Iterator

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

MAX_NESTING = 64
# Values once every alias is expanded: far above any real catalog (a few per entity field),
# far below what would exhaust memory when the data is walked or serialised.
MAX_VALUES = 1_000_000
MERGE_TAG = "tag:yaml.org,2002:merge"


class SafeLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._values = 0
        self._open_anchors: set[str] = set()
        self._anchored_sizes: dict[int, int] = {}

    def _count(self, values: int, mark) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            raise ComposerError(
                None, None, f"more than {MAX_VALUES:,} values once aliases are expanded", mark
            )

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise ComposerError(
                    None, None, f"alias *{event.anchor} refers to itself", event.start_mark
                )
            node = super().compose_node(parent, index)
            self._count(self._anchored_sizes.get(id(node), 1), event.start_mark)
            return node
        if self._depth >= MAX_NESTING:
            raise ComposerError(
                None, None, f"nested deeper than {MAX_NESTING} levels", event.start_mark
            )
        anchor = getattr(event, "anchor", None)
        before = self._values
        self._count(1, event.start_mark)
        self._depth += 1
        if anchor:
            self._open_anchors.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open_anchors.discard(anchor)
        if anchor:
            self._anchored_sizes[id(node)] = self._values - before
        return node

    def construct_mapping(self, node, deep=False):
        # Checked on the mapping's own keys, before merge keys (<<) are flattened into it:
        # a key that overrides a merged one is what merging is for.
        seen = set()
        for key_node, _ in node.value if isinstance(node, yaml.MappingNode) else ():
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if duplicate:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key “{key}”",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        if isinstance(value, str) and "\x00" in value:
            raise ConstructorError(None, None, "NUL characters are not allowed", node.start_mark)
        return value


def load_all(text: str) -> Iterator[object]:
    """The documents of a YAML text, one at a time (as ``yaml.safe_load_all``)."""
    loader = SafeLoader(text)
    try:
        while loader.check_data():
            yield loader.get_data()
    finally:
        loader.dispose()


def load(text: str) -> object:
    """The single document of a YAML text (as ``yaml.safe_load``)."""
    loader = SafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
