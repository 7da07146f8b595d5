"""The package's layers point one way (issue 14): the import-linter
contract in setup.cfg holds, and nothing in astf_mm reaches outside it."""
import ast
import configparser
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
LINT_IMPORTS = osp.join(osp.dirname(sys.executable), 'lint-imports')


def _lint_imports(*config: str) -> subprocess.CompletedProcess:
    # --no-cache: the check writes nothing into the checkout
    return subprocess.run([LINT_IMPORTS, '--no-cache', '--no-logo', *config],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_layers_contract_is_kept():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Contracts: 1 kept, 0 broken.' in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    # The same contract with apis moved below models: apis imports models
    # today, so the checker must report that import as a broken layer.
    cfg = configparser.ConfigParser()
    cfg.read(osp.join(ROOT, 'setup.cfg'))
    layers = [
        line.strip() for line in cfg['importlinter:contract:layers']
        ['layers'].splitlines() if line.strip()
    ]
    assert layers[:2] == ['cli', 'apis']
    layers.remove('apis')
    layers.insert(layers.index('models') + 1, 'apis')
    swapped = tmp_path / 'swapped.ini'
    swapped.write_text(
        '[importlinter]\nroot_package = astf_mm\n'
        '[importlinter:contract:swapped]\nname = swapped\ntype = layers\n'
        'containers = astf_mm\nlayers =\n' +
        ''.join(f'    {layer}\n' for layer in layers))
    result = _lint_imports(str(swapped))
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'astf_mm.apis is not allowed to import astf_mm.models' in (
        result.stdout)
    assert 'Contracts: 0 kept, 1 broken.' in result.stdout


def _package_files():
    for folder, _, names in os.walk(osp.join(ROOT, 'astf_mm')):
        for name in sorted(names):
            if name.endswith('.py'):
                yield osp.join(folder, name)


def test_package_does_not_reach_outside_itself():
    """No import of tools/benchmarks/tests, no ``sys.path`` edits."""
    found = []
    for path in _package_files():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        rel = osp.relpath(path, ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                modules = [node.module or '']
            else:
                modules = []
            found += [
                f'{rel}:{node.lineno} imports {m}' for m in modules
                if m.split('.')[0] in ('tools', 'benchmarks', 'tests')
            ]
            if (isinstance(node, ast.Attribute) and node.attr == 'path'
                    and isinstance(node.value, ast.Name)
                    and node.value.id == 'sys'):
                found.append(f'{rel}:{node.lineno} uses sys.path')
    assert found == []
