"""Stage 4: checked policy -> Python code, compiled once.

Evaluating a record then does no parsing and no tree walking: the policy is straight-line
Python in which every definition is a local variable computed once.
"""

from fangpin_rules.compiler.codegen import CompiledPolicy, compile_policy

__all__ = ["CompiledPolicy", "compile_policy"]
