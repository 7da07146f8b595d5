"""The ``astf_mm`` registry scope: children of mmagic's registries.

astf_mm registers its modules into mmagic's registries (configs use
``default_scope = 'mmagic'``). A user's config that inherits ours by
``_base_ = 'astf_mm::...'`` gets ``_scope_='astf_mm'`` on every built
dict, and mmengine then imports this module and builds from the registry
of that scope: one empty child per mmagic registry, so every lookup falls
through to mmagic's (our modules included). ``locations`` imports the
package on the first lookup, so the scope works before ``astf_mm`` is
imported.
"""
from mmagic import registry as mmagic_registry
from mmengine.registry import Registry

SCOPE = 'astf_mm'


def _children() -> dict:
    children = {}
    for name in mmagic_registry.__all__:
        parent = getattr(mmagic_registry, name)
        if isinstance(parent, Registry):
            children[name] = Registry(
                parent.name, parent=parent, scope=SCOPE, locations=[SCOPE])
    return children


# mmengine finds them from its root registries by scope; nothing else
# needs to name them
REGISTRIES = _children()

__all__ = ['SCOPE', 'REGISTRIES']
