"""The build step pyproject.toml cannot say: the wheel carries the repository's policies/ folder
(the province's policy, example county files, region tables, policy test files) as the package
data folder fangpin_rules/policies/, so that an installed package finds its policies by id.
The YAML stays in one place, policies/; from a checkout the package reads it there
(fangpin_rules/policy/bundled.py)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

POLICIES = Path(__file__).parent / "policies"
SHIPPED = ("*.yaml", "*.yml", "*.csv")


class BuildWithPolicies(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads policies/ in the checkout
        for pattern in SHIPPED:
            for source in sorted(POLICIES.rglob(pattern)):
                target = Path(self.build_lib, "fangpin_rules", "policies",
                              source.relative_to(POLICIES))
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildWithPolicies})
