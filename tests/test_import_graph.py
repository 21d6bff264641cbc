"""The project's import graph, read from the source with ``ast``: no cycles, and the
command line wired one way (commands -> programs -> ``__main__``).

Every ``import`` of a project module counts, those inside functions too.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("common", "genmnist", "genface", "benchmarks")
PROGRAMS = ("genmnist.cli", "genface.cli")


def project_modules(root=ROOT):
    """{module name: source path} of every module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for folder, _, files in os.walk(os.path.join(root, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    parts = os.path.relpath(path, root)[:-3].split(os.sep)
                    modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_modules(path, name, modules):
    """The project modules the source at ``path`` (module ``name``) imports."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # ``from package import module`` imports the module; ``from module import name`` the module.
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names)
    return {module for module in found if module in modules}


def import_graph(root=ROOT):
    modules = project_modules(root)
    return {name: imported_modules(path, name, modules) for name, path in modules.items()}


def find_cycle(graph):
    """One cycle of ``graph`` as [a, b, ..., a], or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def importers(graph, module):
    return sorted(name for name, targets in graph.items() if module in targets)


def test_the_graph_is_read():
    graph = import_graph()
    assert {"common.cli", "common.export"} <= graph["genmnist.cli"]
    assert "common.legacy_tf1.checkpoints" in graph["common.legacy_tf1.commands"]  # relative, in a function


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_only_the_programs_import_the_command_line_plumbing():
    assert importers(import_graph(), "common.cli") == sorted(PROGRAMS)


def test_only_main_and_benchmarks_import_the_programs():
    graph = import_graph()
    for program in PROGRAMS:
        package = program.partition(".")[0]
        assert [name for name in importers(graph, program) if not name.startswith("benchmarks.")] \
            == [f"{package}.__main__"]


def test_common_never_imports_a_program():
    """``common`` is shared by both programs: they register their recipes with it and hand it
    their data (``Family``), so nothing in it reaches up into ``genmnist`` or ``genface``."""
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith("common"):
            assert not {t for t in targets if t.startswith(("genmnist", "genface"))}, name


def dynamic_imports(path):
    """Lines of the source at ``path`` that import by a computed name, which ``ast`` cannot follow."""
    found = []
    for node in ast.walk(ast.parse(open(path).read(), path)):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name in ("import_module", "__import__"):
            found.append(node.lineno)
    return found


def test_no_package_imports_by_a_computed_name():
    """A dynamic import is an arrow no reader (nor this file's graph) can see."""
    found = {name: lines for name, path in project_modules().items() if (lines := dynamic_imports(path))}
    assert found == {}


def test_a_dynamic_import_is_caught(tmp_path):
    source = tmp_path / "sneaky.py"
    source.write_text("import importlib\nmodels = importlib.import_module('genmnist.models')\n"
                      "other = __import__('genface')\n")
    assert dynamic_imports(str(source)) == [2, 3]
