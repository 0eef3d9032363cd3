"""Build hook for the one optional compiled part: the 835 reader's driver (edi/_x835c.c).

Everything else is declared in pyproject.toml. The extension is optional: without a C compiler
(or Python headers) the build goes on and the pure-Python driver in edi/x835.py runs.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("edi._x835c", ["edi/_x835c.c"], optional=True,
                             extra_compile_args=["-O2"])])
