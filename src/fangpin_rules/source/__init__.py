"""Stage 1: YAML source -> located tree (values that remember their file, line and column)."""

from fangpin_rules.source.located import (
    LMap,
    LNode,
    LScalar,
    LSeq,
    key_location,
    load_located,
    locate,
    parse_located,
    plain,
)

__all__ = ["LMap", "LNode", "LScalar", "LSeq", "key_location", "load_located", "locate",
           "parse_located", "plain"]
