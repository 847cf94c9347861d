"""The ``faultline`` console script: the Rust command line, run in this
process (it is compiled into the extension module, so ``pip install`` gives
the command without a Rust toolchain)."""

import signal
import sys

from . import _native


def main() -> None:
    # The CLI runs inside the interpreter: Ctrl-C should end it as it ends
    # the standalone binary, not wait for Python's KeyboardInterrupt. SIGPIPE
    # stays ignored (Python's default, and Rust's): the CLI then sees EPIPE
    # and ends quietly with its own exit status, as the binary does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.exit(_native.run(["faultline", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
