"""Import-linter contract types of our own (registered in ``pyproject.toml``'s ``contract_types``).

import-linter keeps an external package as one node (``nameko``), so its ``forbidden`` contract cannot
forbid ``nameko.rpc`` while allowing ``nameko.extensions``. ``forbidden_external_submodules`` parses the
import statements of every source module that imports the package instead: one breaks it when a statement
binds a name inside a forbidden submodule (``from nameko.rpc import rpc``, ``import nameko.events``,
``from nameko import rpc``) that is not explicitly allowed.
"""

from __future__ import annotations

import ast
import importlib.util

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """Return the dotted names an import statement binds (``from a.b import c`` gives ``a.b.c``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level or not node.module:
        return []  # a relative import stays inside our own packages
    return [f"{node.module}.{alias.name}" for alias in node.names]


def _within(name: str, module: str) -> bool:
    return name == module or name.startswith(f"{module}.")


class ForbiddenExternalSubmodulesContract(Contract):
    """Source modules (and their descendants) never import the named submodules of an external package.

    Options: ``source_modules`` (module expressions, wildcards allowed: ``services.*`` covers a service
    added later), ``forbidden_modules`` (dotted names inside external packages, e.g. ``nameko.rpc``) and
    ``allowed_names`` (names inside them that may still be imported, e.g. ``nameko.rpc.RpcProxy``).
    """

    type_name = "forbidden_external_submodules"

    source_modules = fields.SetField(subfield=fields.ModuleExpressionField())
    forbidden_modules = fields.SetField(subfield=fields.StringField())
    allowed_names = fields.SetField(subfield=fields.StringField(), required=False, default=set())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        """Return the source modules' import statements that bind a forbidden name."""
        sources = set()
        for module in module_expressions_to_modules(graph, self.source_modules):
            sources.add(module.name)
            sources.update(graph.find_descendants(module.name))
        roots = {forbidden.split(".")[0] for forbidden in self.forbidden_modules} & graph.modules
        importers = set().union(*(graph.find_modules_that_directly_import(root) for root in roots)) & sources
        violations = []
        for importer in sorted(importers):
            origin = importlib.util.find_spec(importer).origin
            with open(origin, encoding="utf-8") as source:
                tree = ast.parse(source.read(), filename=origin)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for name in _imported_names(node):
                    if name in self.allowed_names:
                        continue
                    hit = next((f for f in sorted(self.forbidden_modules) if _within(name, f)), None)
                    if hit:
                        violations.append({"importer": importer, "line_number": node.lineno, "name": name,
                                           "forbidden": hit})
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Print each offending import line."""
        for violation in check.metadata["violations"]:
            output.print_error(
                f"{violation['importer']}:{violation['line_number']} imports {violation['name']} "
                f"({violation['forbidden']} is forbidden here)"
            )
            output.new_line()
