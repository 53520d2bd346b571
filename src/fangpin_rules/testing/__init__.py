"""Policy test files: cases as data (household, date, expected decision), run by `fangpin test`
and by the project's pytest suite, with rule coverage read from the cases' traces."""

from fangpin_rules.testing.coverage import PolicyCoverage, RuleCoverage, coverage
from fangpin_rules.testing.format import TestCase, TestFile, read_test_file
from fangpin_rules.testing.runner import CaseResult, Mismatch, TestRun, discover, run_tests

__all__ = ["CaseResult", "Mismatch", "PolicyCoverage", "RuleCoverage", "TestCase", "TestFile",
           "TestRun", "coverage", "discover", "read_test_file", "run_tests"]
