"""Imports point one way, read from the source: faces never import the app they are mounted in, the domain no face."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from cds_hooks.settings import CdsSettings
from launch.settings import LaunchSettings
from smart_app.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions too), as dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            if any(module == name or module.startswith(name + ".") for name in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


@pytest.mark.parametrize("face", ["cds_hooks", "launch"])
def test_faces_do_not_import_the_app_package(face):
    assert offenders(face, ("smart_app",)) == []


def test_the_launch_face_imports_no_cds_hooks_module():
    # The two faces point one way (cds_hooks → launch): the EHR JWT check reads a JWK Set with the launch's own
    # reader (launch.key_sets), and the launch imports nothing from the hooks.
    assert offenders("launch", ("cds_hooks",)) == []


def test_the_domain_imports_no_face_and_no_web_library():
    assert offenders("guideline", ("cds_hooks", "launch", "smart_app", "flask", "werkzeug", "requests")) == []


def test_the_app_settings_import_no_write_back_code():
    # The defaults a site's settings start from (goal_due_years, follow_up_years) live with the settings' own
    # modules: loading the settings (every command, every worker) never loads the forms that write to the chart.
    found = [name for name in imported_modules(ROOT / "smart_app" / "config.py") if name.startswith("smart_app.write")]
    assert found == []


def _module_of(path: Path) -> str:
    """A source file's dotted module name ("smart_app.write.blueprint")."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def reaches_itself(module: str, package: str) -> list[str]:
    """The modules of `package` through which `module` imports itself again (at any depth, inside functions too); an
    empty list when it does not. A cycle hidden inside a function is still a cycle: it only fails later."""
    known = {_module_of(path): path for path in (ROOT / package).rglob("*.py")}

    def imports_of(name: str) -> set[str]:
        found = set()
        for target in imported_modules(known[name]):
            while target and target not in known:  # "smart_app.write.forms.X" is the module smart_app.write.forms
                target = target.rpartition(".")[0]
            if target and target != name and target != package:  # the package's app factory mounts everything
                found.add(target)
        return found

    seen: dict[str, str | None] = {module: None}
    todo = [module]
    while todo:
        current = todo.pop()
        for target in imports_of(current):
            if target == module:
                path = [current]
                while seen[path[-1]] is not None:
                    path.append(seen[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            if target not in seen:
                seen[target] = current
                todo.append(target)
    return []


@pytest.mark.parametrize("module", ["smart_app.plan_view", "smart_app.write.blueprint"])
def test_the_plan_page_and_the_write_back_import_each_other_one_way(module):
    # The write-back imports the page it answers with; the page's panel comes from smart_app.write.page_panel,
    # which imports no page.
    assert reaches_itself(module, "smart_app") == []


@pytest.mark.parametrize("module", ["guideline.config", "guideline.config_rules", "guideline.searches"])
def test_the_clinical_settings_and_the_searches_import_each_other_one_way(module):
    # The settings' rules check a site's urine drug test search with guideline.searches; the searches read the
    # settings through any table that answers config["prefetch"], not by importing them.
    assert reaches_itself(module, "guideline") == []


@pytest.mark.parametrize("module", ["smart_app.config", "smart_app.settings_rules"])
def test_the_app_settings_and_their_rules_import_each_other_one_way(module):
    # The settings check themselves with smart_app.settings_rules; the rules read the values they check from
    # smart_app.settings_fields, which imports neither.
    assert reaches_itself(module, "smart_app") == []


def test_the_analysis_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from smart_app.db import make_engine\n    import flask.json\n")
    assert imported_modules(module) == {"smart_app.db", "flask.json"}


def test_the_app_settings_carry_every_face_setting():
    app_fields = {f.name for f in fields(Settings)}
    assert {f.name for f in fields(CdsSettings)} <= app_fields
    # The launch settings made from the clinical settings: extra_read_types (prefetch.medication_statements) and
    # user_read_types (the Locations the hospice exclusion reads).
    assert {f.name for f in fields(LaunchSettings)} - {"extra_read_types", "user_read_types"} <= app_fields
    on = load_settings(guideline={"prefetch": {"medication_statements": True}})
    assert on.launch.extra_read_types == ("MedicationStatement",) and load_settings().launch.extra_read_types == ()
    off = load_settings(guideline={"exclusions": {"hospice_palliative": {"enabled": False}}})
    assert off.launch.user_read_types == () and load_settings().launch.user_read_types == ("Location",)


def test_each_face_gets_the_loaded_values():
    settings = load_settings(
        env={"PAINPLAN_PUBLIC_URL": "https://pp.example", "PAINPLAN_SMART_DEFAULT_ISS": "https://ehr.example/fhir"},
        today="2026-06-15",
    )
    assert settings.cds.public_url == settings.launch.public_url == "https://pp.example"
    assert settings.cds.today.isoformat() == "2026-06-15"
    assert settings.launch.smart_default_iss == "https://ehr.example/fhir"
    assert settings.cds.guideline is settings.guideline


@pytest.mark.parametrize(
    "module",
    [
        "guideline.terminology",
        "guideline.recognition",
        "guideline.recognition.classify",
        "guideline.recognition.diagnoses",
    ],
)
def test_the_code_sets_and_recognition_import_each_other_one_way(module):
    # The code sets ask recognition where a medication no set's code places belongs; recognition reads the sets'
    # names from guideline.set_names and asks the sets only through the calls it names (recognition.code_sets).
    assert reaches_itself(module, "guideline") == []


def test_recognition_imports_no_terminology():
    assert offenders("guideline/recognition", ("guideline.terminology",)) == []


def factory_importers(package: str) -> set[str]:
    """The modules of `package` that import a name of its own __init__ (the app factory), not one of its modules:
    `from smart_app import create_app` does, `from smart_app import svg_charts` does not."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == package and node.level == 0:
                names = [alias.name for alias in node.names]
                if any(not (ROOT / package / f"{n}.py").exists() and not (ROOT / package / n).is_dir() for n in names):
                    found.add(_module_of(path))
            elif isinstance(node, ast.Import) and any(alias.name == package for alias in node.names):
                found.add(_module_of(path))
    return found


def mounted_by_the_factory(package: str) -> set[str]:
    """Every module of `package` the app factory imports, at any depth (inside functions too)."""
    known = {_module_of(path): path for path in (ROOT / package).rglob("*.py")}
    seen: set[str] = set()
    todo = [package]
    while todo:
        for target in imported_modules(known[todo.pop()]):
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target not in seen and target != package:
                seen.add(target)
                todo.append(target)
    return seen


def test_no_module_the_app_factory_mounts_imports_the_factory():
    # The demo's blueprint is mounted by the factory; the command that serves the demo (smart_app.demo_command), like
    # `painplan serve`, builds the app with the factory and is mounted by nothing.
    assert factory_importers("smart_app") & mounted_by_the_factory("smart_app") == set()
    assert factory_importers("smart_app") == {"smart_app.server", "smart_app.demo_command"}
