"""Start-up: the quick commands load neither the numba kernels nor simpy (issue 13).

``accelsim list``, ``accelsim check`` and ``accelsim --help`` answer from the config and the
mapping alone; numba (about 0.3 s to import) and simpy load only with the machine or the
datapath. Measured with ``python -X importtime -m accelsim.cli list``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

QUICK = [["list"], ["list", "fields"], ["--help"], ["check", "vgg16", "--hw", "zedboard-gen2"]]


def test_quick_commands_import_neither_numba_nor_simpy() -> None:
    probe = textwrap.dedent(
        f"""
        import contextlib, io, sys
        from accelsim.cli import main
        for argv in {QUICK!r}:
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    main(argv)
                except SystemExit:
                    pass
        print(sorted(m for m in ("numba", "simpy") if m in sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_run_loads_the_machine() -> None:
    """The probe can fail: a simulation does import both."""
    probe = (
        "import sys, accelsim; accelsim.simulate('tiny', 'zedboard'); "
        "print(sorted(m for m in ('numba', 'simpy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "['numba', 'simpy']"
