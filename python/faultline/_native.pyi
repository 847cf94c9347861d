from typing import List, Union
import os

__version__: str

def run(argv: List[Union[str, os.PathLike[str]]]) -> int:
    """Runs the faultline command line on argv (argv[0] is the program name) in
    this process, without the GIL; returns its exit status."""

def mask(text: str) -> str:
    """text with the secrets faultline recognises masked."""
