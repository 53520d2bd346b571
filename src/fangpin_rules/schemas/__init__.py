"""JSON Schemas of the YAML files people write (policy, county file, policy tests, region
table, ledger format), generated from the pydantic models that read them, for editors
(yaml-language-server completes keys and flags misspelt ones) and shipped in the package as
`*.schema.json`.

    fangpin schema policy                          # print one
    fangpin schema --write src/fangpin_rules/schemas   # write them all (a test keeps the
                                                   # committed files equal to the models)
"""

from fangpin_rules.schemas.build import (
    SCHEMA_DIR,
    YAML_SCHEMAS,
    file_name,
    render,
    write_schemas,
    yaml_schema,
)

__all__ = ["SCHEMA_DIR", "YAML_SCHEMAS", "file_name", "render", "write_schemas", "yaml_schema"]
