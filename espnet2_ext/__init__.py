"""espnet2_ext: entropy-based compression of discrete speech units for ESPnet.

Importing the package registers its frontends (``entropy_compress``, ``fixed_pool``)
in ESPnet's MT-task frontend choices. Importing the MT task (``espnet2.tasks.mt``, named
in :mod:`espnet2_ext.compat`) costs seconds, so when it is not loaded yet the
registration is attached to its import instead: the frontends are in
``frontend_choices`` from the moment any code can see it, and tools that never touch
the MT task (feature extraction, k-means) start fast.
"""

import importlib.abc
import importlib.util
import sys

from espnet2_ext.compat import MT_TASK_MODULE

__version__ = "0.1.0"

_TARGET = MT_TASK_MODULE  # the MT task, named by espnet2_ext.compat


def _register() -> None:
    import espnet2_ext.tasks.mt  # noqa: F401  (adds the classes to frontend_choices)


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Runs :func:`_register` right after the MT task module is executed."""

    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(
            self
        )  # one-shot; find the real spec with the other finders
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_register(module):
            exec_module(module)
            sys.modules[fullname] = module
            _register()

        loader.exec_module = exec_and_register
        return spec


if _TARGET in sys.modules:
    _register()
elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterImport())
