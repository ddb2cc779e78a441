"""Running `stdp-mnist` in the tests: in-process through click's runner, or as a real
process, and checking that a failure is the one-line error the house standard asks for."""

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from stdp_mnist import cli

# The console script installed beside this Python (the virtual environment's).
CLI = Path(sys.executable).with_name("stdp-mnist")


def invoke(*args) -> Result:
    """`stdp-mnist ARGS` in this process (stdout and stderr kept apart)."""
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def error_line(result: Result, *needles) -> str:
    """The command failed with exactly one 'stdp-mnist: error:' line (the last line of
    stderr) that mentions every needle, and no traceback."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in lines if line.startswith("stdp-mnist: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def only_error_line(result: Result, *needles) -> str:
    """As error_line, and stderr is that one line."""
    line = error_line(result, *needles)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return line


def run_cli(*args, env_data: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`stdp-mnist ARGS` as a real process (up to 300 s), in ``env`` (default: this
    process's environment), reading MNIST from ``env_data`` when given."""
    env = dict(os.environ if env is None else env)
    if env_data is not None:
        env["STDP_MNIST_DATA"] = str(env_data)
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300, env=env)


def cli_process(*args, **popen) -> subprocess.Popen:
    """`stdp-mnist ARGS` started as a real process that the test talks to (text pipes)."""
    return subprocess.Popen(
        [str(CLI), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )


def one_line_failure(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """A real process failed with one 'stdp-mnist: error:' line, its last, naming every
    needle, and no traceback."""
    assert proc.returncode != 0, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("stdp-mnist: error:"), proc.stderr
    for needle in needles:
        assert needle in last, last
    return last


def parse_predictions(stdout: str) -> dict[str, int]:
    """{file name: class} from predict's output ("PATH: CLASS  spikes: ...")."""
    found = {}
    for line in stdout.splitlines():
        if not line.startswith(" ") and ": " in line and "spikes:" in line:
            path, rest = line.split(": ", 1)
            found[Path(path).name] = int(rest.split()[0])
    return found
