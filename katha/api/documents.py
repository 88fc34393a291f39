"""YAML documents read safely: a few hundred bytes of anchors and aliases cannot expand into
gigabytes of data (a "billion laughs" bomb) or recurse without end.

PyYAML shares an aliased node instead of copying it, so the bomb is small in memory but
exponential for anything that walks it (validation, error messages). The expanded size of
each document is counted on the composed node graph before it is constructed.
"""

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

# Far above any real Business (5,000 FAQ entries are about 20,000 nodes).
MAX_EXPANDED_NODES = 250_000


class UnsafeYamlError(ValueError):
    """A document that is not YAML, or one whose aliases expand past what a resource needs."""


def _expanded_size(root: Node, limit: int) -> int:
    """Nodes in `root` with every alias expanded; raises once past `limit` or on a cycle."""
    sizes: dict[int, int] = {}
    # Iterative post-order walk: a deeply nested document must not exhaust Python's stack.
    stack: list[tuple[Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            size = 1 + sum(sizes[id(child)] for child in children)
            if size > limit:
                raise UnsafeYamlError(
                    f"expands to more than {limit:,} values through anchors and aliases; "
                    "write the values out instead"
                )
            sizes[key] = size
            continue
        if key in open_nodes:
            raise UnsafeYamlError("an alias refers to the node that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def iter_documents(text: str, *, limit: int = MAX_EXPANDED_NODES) -> Iterator[Any]:
    """Each document of a YAML stream, as `yaml.safe_load_all` gives it, checked first."""
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                _expanded_size(node, limit)
            yield loader.construct_document(node)
    except RecursionError:
        raise UnsafeYamlError("is nested too deeply to be a resource") from None
    finally:
        loader.dispose()


def load_documents(text: str, *, limit: int = MAX_EXPANDED_NODES) -> list[Any]:
    """Every non-empty document of a YAML stream; raises yaml.YAMLError or UnsafeYamlError."""
    return [document for document in iter_documents(text, limit=limit) if document is not None]
