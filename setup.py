"""Build hook for the one optional compiled part: the 835 reader's driver (edi/x835/_accel.c).

Everything else is declared in pyproject.toml. The extension is optional: without a C compiler
(or Python headers) the build goes on and the pure-Python driver in edi/x835/reader.py runs.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("edi.x835._accel", ["edi/x835/_accel.c"], optional=True, extra_compile_args=["-O2"])])
